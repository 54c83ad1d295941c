//! The probe image the plugin starts in the cluster by default.
//!
//! The image is built from the same static binary as the plugin (see `Containerfile`) and is
//! published by the release workflow with the plugin's own version as its tag, so a plugin
//! binary always starts a probe that speaks its own plan/report format. `--probe-image` (or the
//! environment) overrides it for air-gapped or private-registry clusters.

/// The one literal both constants are built from (`concat!` only takes literals).
macro_rules! probe_image_repository {
    () => {
        "ghcr.io/kubectl-acmecheck/acmecheck-probe"
    };
}

/// Where the probe image is published (without a tag). The organisation must match the one in
/// `Cargo.toml`'s `repository` (checked by `tests/krew_manifest.rs`).
pub const PROBE_IMAGE_REPOSITORY: &str = probe_image_repository!();

/// The default probe image: [`PROBE_IMAGE_REPOSITORY`] tagged `v<this plugin's version>`.
pub const DEFAULT_PROBE_IMAGE: &str =
    concat!(probe_image_repository!(), ":v", env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_image_is_the_repository_tagged_with_this_version() {
        let (repo, tag) = DEFAULT_PROBE_IMAGE
            .rsplit_once(':')
            .expect("image reference has a tag");
        assert_eq!(repo, PROBE_IMAGE_REPOSITORY);
        assert_eq!(tag, format!("v{}", env!("CARGO_PKG_VERSION")));
    }
}
