//! Builds the test-only Go programs under `testkit/go/<name>` (standard library only) with
//! Debian's `golang-go`, once per test process, into `<target>/go-bin/<name>`.
//!
//! Go programs are the ground truth where Go's own behaviour is the point: cert-manager's self
//! check is Go's `net/http` client, and the acmesolver is Go's `net/http` server. They are built
//! by the tests and never shipped. The build is offline (`GOPROXY=off`, no modules needed) and
//! safe to run from several test binaries at once: each writes a temporary file and renames it.

use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);

/// The source directory of a Go program: `testkit/go/<name>`.
pub fn source_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go").join(name)
}

/// Where built programs go: `$CARGO_TARGET_DIR/go-bin`, else `<workspace>/target/go-bin`.
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("go-bin")
}

/// Build `testkit/go/<name>` (once per process) and return the binary's path.
pub fn build(name: &str) -> Result<PathBuf> {
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(p) = built.get(name) {
        return Ok(p.clone());
    }
    let src = source_dir(name);
    if !src.join("main.go").exists() {
        bail!("no Go program at {}", src.display());
    }
    let go = which("go").context(
        "the Go toolchain is not on PATH: install Debian's golang-go (scripts/packages.sh does, as root)",
    )?;
    let out = out_dir();
    std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    let bin = out.join(name);
    let tmp = out.join(format!(".{name}.{}.tmp", std::process::id()));
    let status = Command::new(go)
        .current_dir(&src)
        .args(["build", "-trimpath", "-o"])
        .arg(&tmp)
        .arg(".")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .status()
        .with_context(|| format!("run go build for {name}"))?;
    if !status.success() {
        let _ = std::fs::remove_file(&tmp);
        bail!("go build of {} failed ({status})", src.display());
    }
    std::fs::rename(&tmp, &bin).with_context(|| format!("rename to {}", bin.display()))?;
    built.insert(name.to_owned(), bin.clone());
    Ok(bin)
}

/// The first `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_program_is_an_error_not_a_panic() {
        let e = super::build("no-such-program").unwrap_err();
        assert!(format!("{e:#}").starts_with("no Go program at "), "{e:#}");
    }
}
