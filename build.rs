//! Build script shared by the kubectl-acmecheck and acmecheck-testkit packages; it changes no
//! shipped code. With `ACMECHECK_SKIP_ROOT_TESTS` set (to anything but "" or "0") it sets
//! `--cfg acmecheck_skip_root_tests`, and every test that needs root (network namespaces) carries
//! `#[cfg_attr(acmecheck_skip_root_tests, ignore = "...")]`: cargo then lists those tests as
//! *ignored* in its summary line instead of running them, and never counts them as passed.
//! `scripts/test` refuses the variable (CI runs as root and runs every test).

fn main() {
    println!("cargo::rerun-if-env-changed=ACMECHECK_SKIP_ROOT_TESTS");
    println!("cargo::rustc-check-cfg=cfg(acmecheck_skip_root_tests)");
    let skip =
        std::env::var_os("ACMECHECK_SKIP_ROOT_TESTS").is_some_and(|v| !v.is_empty() && v != "0");
    if skip {
        println!("cargo::rustc-cfg=acmecheck_skip_root_tests");
    }
}
