//! Programs the tests run from the PATH, found the way a shell finds them.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// The kubectl the fidelity tests run: `$KUBECTL` when set, else the first executable `kubectl`
/// on PATH. Panics with the install hint when there is none, so a test that needs the real
/// kubectl fails instead of passing without it.
pub fn kubectl() -> PathBuf {
    if let Some(p) = std::env::var_os("KUBECTL") {
        let p = PathBuf::from(p);
        assert!(
            is_executable(&p),
            "KUBECTL={} is not an executable file",
            p.display()
        );
        return p;
    }
    find_on_path("kubectl", &std::env::var_os("PATH").unwrap_or_default()).unwrap_or_else(|| {
        panic!(
            "kubectl is not on PATH: these tests drive the fake API server with the real kubectl. \
             Install it (as root: apt-get install kubectl; scripts/packages.sh tries this) or set \
             KUBECTL=/path/to/kubectl"
        )
    })
}

/// The first executable file named `name` in the directories of `path` (a PATH value).
pub fn find_on_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_executable_and_skips_the_rest() {
        let root = std::env::temp_dir().join(format!("tools-test-{}", std::process::id()));
        let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
        for d in [&a, &b, &c] {
            std::fs::create_dir_all(d).unwrap();
        }
        // a: not executable; b: a directory of that name; c: the one.
        std::fs::write(a.join("kubectl"), "").unwrap();
        std::fs::create_dir_all(b.join("kubectl")).unwrap();
        std::fs::write(c.join("kubectl"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(c.join("kubectl"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let path = std::env::join_paths([&a, &b, &c]).unwrap();
        assert_eq!(find_on_path("kubectl", &path), Some(c.join("kubectl")));
        let without = std::env::join_paths([&a, &b]).unwrap();
        assert_eq!(find_on_path("kubectl", &without), None);
        assert_eq!(find_on_path("kubectl", OsStr::new("")), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
