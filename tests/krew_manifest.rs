//! krew manifest validation, without Go or krew.
//!
//! `validate-krew-manifest` (krew's own checker) needs Go ≥ 1.22 and downloads every archive, so
//! this test re-implements its rules (krew `internal/index/validation/validate.go` plus the
//! platform and LICENSE checks of `cmd/validate-krew-manifest`) and the review rules krew-index
//! asks for, and applies them to:
//! * `plugin.yaml` (the manifest submitted to krew-index),
//! * `krew/.krew.yaml` (the krew-release-bot template) rendered with test values, and checks that
//!   `plugin.yaml` is exactly that template rendered for this version,
//! * a manifest rendered by `scripts/release.sh` for an archive it packs from the test binary,
//!   with the archive's sha256 and a simulated krew install (files, bin, LICENSE),
//! * `dist/acmecheck.yaml` and its archives as `scripts/release.sh` produced them (an ignored
//!   test: the release workflow runs it with `--include-ignored`; see below).
//!
//! Every rule also has a negative test: a manifest broken in exactly that way is rejected.

use flate2::read::GzDecoder;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const NAME: &str = "acmecheck";
const BIN: &str = "kubectl-acmecheck";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

// ---------------------------------------------------------------------------------------------
// The manifest types (krew `pkg/index/types.go`), strict so a misspelt field is an error.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Plugin {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    version: String,
    #[serde(default)]
    homepage: String,
    #[serde(default)]
    short_description: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    caveats: String,
    #[serde(default)]
    platforms: Vec<Platform>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Platform {
    selector: Option<Selector>,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    bin: String,
    files: Option<Vec<FileOp>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Selector {
    match_labels: Option<BTreeMap<String, String>>,
    match_expressions: Option<Vec<Requirement>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    key: String,
    operator: String,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOp {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

// ---------------------------------------------------------------------------------------------
// The rules.

/// One broken rule. The first group is krew's validator (install fails), the second krew-index
/// review practice and this project's release conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    ApiVersion,
    Kind,
    NameUnsafe,
    NameMismatch,
    ShortDescriptionMissing,
    ShortDescriptionMultiline,
    NoPlatforms,
    VersionNotSemver,
    UriMissing,
    Sha256Invalid,
    BinMissing,
    FilesInvalid,
    SelectorInvalid,
    PlatformUnknown,
    PlatformOverlap,
    // review practice / release conventions
    ShortDescriptionTooLong,
    DescriptionMissing,
    DescriptionTooWide,
    UriNotArchive,
    UriNotRelease,
    HomepageNotRepository,
    VersionNotCargo,
    PlatformsIncomplete,
    InstallFilesUnmatched,
    InstallNoBin,
    InstallNoLicense,
}

/// The platforms `validate-krew-manifest` knows (`allPlatforms()`).
const KNOWN_PLATFORMS: &[(&str, &str)] = &[
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

/// The platforms every release of this plugin ships.
const RELEASE_PLATFORMS: &[(&str, &str)] = &[
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// What a platform's archive holds: file name -> content. Used to simulate krew's install.
type ArchiveListing = Vec<String>;

/// How to look up the content of a platform's archive for the install simulation.
enum Archives<'a> {
    /// The layout every release archive has (binary and LICENSE at the root); the archives
    /// themselves are not available (not yet released, or CI without network).
    Expected,
    /// Real archives: uri file name -> entries.
    Real(&'a BTreeMap<String, ArchiveListing>),
}

/// Semver as krew's `semver.Parse` accepts it: a leading `v`, then MAJOR.MINOR.PATCH without
/// leading zeros, optional `-prerelease` and `+build` (dot-separated, [0-9A-Za-z-]).
fn is_krew_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && pre.is_none_or(|p| {
            p.split('.')
                .all(|i| ident(i) && (!i.bytes().all(|b| b.is_ascii_digit()) || numeric(i)))
        })
        && build.is_none_or(|b| b.split('.').all(ident))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Does a Kubernetes label selector match the labels {os, arch}?
fn selector_matches(sel: &Selector, os: &str, arch: &str) -> bool {
    let label = |k: &str| match k {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| label(k) == Some(v.as_str()));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|r| {
        let value = label(&r.key);
        match r.operator.as_str() {
            "In" => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
            "NotIn" => value.is_none_or(|v| r.values.iter().all(|x| x != v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

fn selector_valid(sel: Option<&Selector>) -> bool {
    let Some(sel) = sel else { return false };
    if sel.match_labels.is_none() && sel.match_expressions.as_ref().is_none_or(Vec::is_empty) {
        return false;
    }
    let keys_ok = sel
        .match_labels
        .iter()
        .flat_map(|m| m.keys())
        .chain(sel.match_expressions.iter().flatten().map(|r| &r.key))
        .all(|k| k == "os" || k == "arch");
    let ops_ok = sel.match_expressions.iter().flatten().all(|r| {
        matches!(
            r.operator.as_str(),
            "In" | "NotIn" | "Exists" | "DoesNotExist"
        )
    });
    keys_ok
        && ops_ok
        && sel.match_labels.as_ref().is_none_or(|m| !m.is_empty())
        && sel.match_expressions.as_ref().is_none_or(|e| !e.is_empty())
}

/// `filepath.Match` for the patterns krew `files[].from` uses: `*` and `?` within one path
/// component, everything else literal.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn m(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                m(&p[1..], n) || (n.first().is_some_and(|&c| c != b'/') && m(p, &n[1..]))
            }
            (Some(b'?'), Some(&c)) if c != b'/' => m(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &n[1..]),
            _ => false,
        }
    }
    m(pattern.as_bytes(), name.as_bytes())
}

/// `filepath.Clean` for the relative paths of `files` (no `.`/`..` segments, no `//`, no `/` at
/// the end), the check krew makes on `to`.
fn is_clean(path: &str) -> bool {
    path == "."
        || (!path.is_empty()
            && !path.ends_with('/')
            && path
                .split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != ".."))
}

/// krew's install (`internal/installation/move.go`): extract the archive, then each `files`
/// operation in turn (default: `from: "*"`, `to: "."`). A `from` naming an existing file moves
/// it to `to` (`.` keeps its name); otherwise `from` is a glob whose matches go into the `to`
/// directory, and no match is an install error. Then `bin` must exist in the install directory
/// and a license file must have been installed (`validate-krew-manifest`).
fn simulate_install(p: &Platform, entries: &[String]) -> Vec<Rule> {
    let default_ops = [FileOp {
        from: "*".into(),
        to: ".".into(),
    }];
    let ops: &[FileOp] = p.files.as_deref().unwrap_or(&default_ops);
    let mut source: Vec<String> = entries.to_vec();
    let mut installed: Vec<String> = Vec::new();
    let mut broken = Vec::new();
    for op in ops {
        let from = op.from.trim_start_matches("./");
        if !is_clean(&op.to) {
            broken.push(Rule::InstallFilesUnmatched);
            continue;
        }
        let join = |dir: &str, base: &str| {
            if dir == "." {
                base.to_string()
            } else {
                format!("{dir}/{base}")
            }
        };
        if let Some(i) = source.iter().position(|e| e == from) {
            let file = source.remove(i);
            let base = file.rsplit('/').next().unwrap_or(&file).to_string();
            installed.push(if op.to == "." { base } else { op.to.clone() });
            continue;
        }
        let (matched, rest): (Vec<String>, Vec<String>) =
            source.into_iter().partition(|e| glob_match(from, e));
        source = rest;
        if matched.is_empty() {
            broken.push(Rule::InstallFilesUnmatched);
        }
        for file in matched {
            installed.push(join(&op.to, file.rsplit('/').next().unwrap_or(&file)));
        }
    }
    if !installed
        .iter()
        .any(|f| f == p.bin.trim_start_matches("./"))
    {
        broken.push(Rule::InstallNoBin);
    }
    let is_license = |f: &str| {
        let f = f.to_ascii_lowercase();
        matches!(
            f.as_str(),
            "license" | "license.txt" | "license.md" | "copying" | "copying.txt"
        ) || f.starts_with("licenses")
    };
    if !installed
        .iter()
        .any(|f| is_license(f.rsplit('/').next().unwrap_or(f)))
    {
        broken.push(Rule::InstallNoLicense);
    }
    broken
}

/// The archive name a release uses for a platform.
fn archive_name(version: &str, os: &str, arch: &str) -> String {
    format!("{BIN}_{version}_{os}_{arch}.tar.gz")
}

/// Every rule, for a manifest file named `<file_stem>.yaml`.
fn validate(file_stem: &str, m: &Plugin, archives: &Archives) -> Vec<Rule> {
    validate_with(file_stem, m, archives, true)
}

/// [`validate`]; `all_platforms: false` for a manifest rendered for only the archives built
/// locally (krew accepts any non-empty platform list; a release must have all four).
fn validate_with(
    file_stem: &str,
    m: &Plugin,
    archives: &Archives,
    all_platforms: bool,
) -> Vec<Rule> {
    let mut broken = Vec::new();
    let mut fail = |r: Rule| {
        if !broken.contains(&r) {
            broken.push(r)
        }
    };
    // krew validate.go, in its order
    if m.api_version != "krew.googlecontainertools.github.com/v1alpha2" {
        fail(Rule::ApiVersion);
    }
    if m.kind != "Plugin" {
        fail(Rule::Kind);
    }
    let name = &m.metadata.name;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        || WINDOWS_RESERVED
            .iter()
            .any(|w| w.eq_ignore_ascii_case(name))
    {
        fail(Rule::NameUnsafe);
    }
    if name != file_stem {
        fail(Rule::NameMismatch);
    }
    let s = &m.spec;
    if s.short_description.is_empty() {
        fail(Rule::ShortDescriptionMissing);
    }
    if s.short_description.contains(['\r', '\n']) {
        fail(Rule::ShortDescriptionMultiline);
    }
    if s.platforms.is_empty() {
        fail(Rule::NoPlatforms);
    }
    if !is_krew_semver(&s.version) {
        fail(Rule::VersionNotSemver);
    }
    for p in &s.platforms {
        if p.uri.is_empty() {
            fail(Rule::UriMissing);
        }
        if !is_sha256(&p.sha256) {
            fail(Rule::Sha256Invalid);
        }
        if p.bin.is_empty() {
            fail(Rule::BinMissing);
        }
        if let Some(files) = &p.files
            && (files.is_empty() || files.iter().any(|f| f.from.is_empty() || f.to.is_empty()))
        {
            fail(Rule::FilesInvalid);
        }
        if !selector_valid(p.selector.as_ref()) {
            fail(Rule::SelectorInvalid);
        }
    }
    // validate-krew-manifest: each entry matches a known platform, no platform twice
    for p in s.platforms.iter().filter_map(|p| p.selector.as_ref()) {
        if !KNOWN_PLATFORMS
            .iter()
            .any(|(os, arch)| selector_matches(p, os, arch))
        {
            fail(Rule::PlatformUnknown);
        }
    }
    for (os, arch) in KNOWN_PLATFORMS {
        let n = s
            .platforms
            .iter()
            .filter_map(|p| p.selector.as_ref())
            .filter(|sel| selector_matches(sel, os, arch))
            .count();
        if n > 1 {
            fail(Rule::PlatformOverlap);
        }
    }
    // review practice: short description ≤ 50, description present and wrapped at 80
    if s.short_description.chars().count() > 50 {
        fail(Rule::ShortDescriptionTooLong);
    }
    if s.description.trim().is_empty() {
        fail(Rule::DescriptionMissing);
    }
    if s.description
        .lines()
        .chain(s.caveats.lines())
        .any(|l| l.chars().count() > 80)
    {
        fail(Rule::DescriptionTooWide);
    }
    // release conventions: homepage, version = Cargo.toml, archives of this release
    if s.homepage != REPOSITORY {
        fail(Rule::HomepageNotRepository);
    }
    if s.version != format!("v{VERSION}") {
        fail(Rule::VersionNotCargo);
    }
    for p in &s.platforms {
        if !(p.uri.ends_with(".tar.gz") || p.uri.ends_with(".zip")) {
            fail(Rule::UriNotArchive);
        }
        let Some(sel) = &p.selector else { continue };
        let expected = RELEASE_PLATFORMS
            .iter()
            .find(|(os, arch)| selector_matches(sel, os, arch))
            .map(|(os, arch)| {
                format!(
                    "{REPOSITORY}/releases/download/{v}/{}",
                    archive_name(&s.version, os, arch),
                    v = s.version
                )
            });
        if expected.as_deref() != Some(p.uri.as_str()) {
            fail(Rule::UriNotRelease);
        }
        let file = p.uri.rsplit('/').next().unwrap_or_default();
        let entries = match archives {
            Archives::Expected => Some(vec![BIN.to_string(), "LICENSE".to_string()]),
            Archives::Real(listing) => listing.get(file).cloned(),
        };
        if let Some(entries) = entries {
            for r in simulate_install(p, &entries) {
                fail(r);
            }
        }
    }
    if all_platforms
        && !RELEASE_PLATFORMS.iter().all(|(os, arch)| {
            s.platforms
                .iter()
                .filter_map(|p| p.selector.as_ref())
                .any(|sel| selector_matches(sel, os, arch))
        })
    {
        fail(Rule::PlatformsIncomplete);
    }
    broken
}

fn parse(yaml: &str) -> Plugin {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("manifest does not parse: {e}\n{yaml}"))
}

// ---------------------------------------------------------------------------------------------
// The krew-release-bot template engine (rajatjindal/krew-release-bot pkg/source/template.go),
// for the two functions our template uses.

/// Render `krew/.krew.yaml`: drop `{{- /* … */ -}}` comments (and the whitespace `-` trims),
/// expand `{{ addURIAndSha "<url>" .TagName }}` to `uri: <url>` + `    sha256: <sha(url)>`
/// (the bot hard-codes four spaces), then `{{ .TagName }}`. Any other action is an error.
fn render_template(template: &str, tag: &str, sha_of: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let (before, action) = rest.split_at(start);
        if let Some(comment) = action.strip_prefix("{{- /*") {
            let end = comment
                .find("*/ -}}")
                .expect("unterminated template comment");
            out.push_str(before.trim_end());
            rest = comment[end + "*/ -}}".len()..].trim_start();
            continue;
        }
        out.push_str(before);
        // the action ends at the first `}}` outside a quoted string
        let bytes = action.as_bytes();
        let (mut i, mut quoted) = (2, false);
        while i + 1 < bytes.len() && (quoted || &bytes[i..i + 2] != b"}}") {
            if bytes[i] == b'"' {
                quoted = !quoted;
            }
            i += 1;
        }
        assert!(i + 1 < bytes.len(), "unterminated action in template");
        let inner = action[2..i].trim();
        rest = &action[i + 2..];
        if inner == ".TagName" {
            out.push_str(tag);
        } else if let Some(args) = inner.strip_prefix("addURIAndSha ") {
            let (url, last) = args
                .trim()
                .strip_prefix('"')
                .and_then(|a| a.rsplit_once('"'))
                .expect("addURIAndSha needs a quoted url");
            assert_eq!(last.trim(), ".TagName", "addURIAndSha's second argument");
            let url = url.replace("{{ .TagName }}", tag);
            out.push_str(&format!("uri: {url}\n    sha256: {}", sha_of(&url)));
        } else {
            panic!("template action the bot would not expand like this: {{{{{inner}}}}}");
        }
    }
    out.push_str(rest);
    out
}

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// tar.gz reading (ustar/GNU headers as GNU tar writes them), enough to list and extract.

struct TarEntry {
    name: String,
    mode: u32,
    data: Vec<u8>,
}

fn read_tar_gz(bytes: &[u8]) -> Vec<TarEntry> {
    let mut tar = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut tar)
        .expect("archive is not gzip");
    let octal = |field: &[u8]| {
        let s = std::str::from_utf8(field)
            .expect("tar header field")
            .trim_matches(['\0', ' ']);
        u64::from_str_radix(s, 8).unwrap_or(0)
    };
    let cstr = |field: &[u8]| {
        String::from_utf8_lossy(field.split(|&b| b == 0).next().unwrap_or_default()).into_owned()
    };
    let mut entries = Vec::new();
    let mut off = 0;
    while off + 512 <= tar.len() && tar[off..off + 512].iter().any(|&b| b != 0) {
        let h = &tar[off..off + 512];
        let size = octal(&h[124..136]) as usize;
        let prefix = cstr(&h[345..500]);
        let name = cstr(&h[0..100]);
        let name = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let data = tar[off + 512..off + 512 + size].to_vec();
        if h[156] == b'0' || h[156] == 0 {
            entries.push(TarEntry {
                name,
                mode: octal(&h[100..108]) as u32,
                data,
            });
        }
        off += 512 + size.div_ceil(512) * 512;
    }
    entries
}

/// Whether an ELF executable is statically linked (no PT_INTERP program header).
fn elf_is_static(bin: &[u8]) -> bool {
    assert_eq!(&bin[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bin[4], 2, "not a 64-bit ELF");
    let u16_at = |o: usize| u16::from_le_bytes([bin[o], bin[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bin[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(bin[o..o + 4].try_into().unwrap()) != 3 // PT_INTERP
    })
}

/// Check a rendered manifest against the archives next to it (in `dir`): each present archive's
/// sha256 equals the manifest's, its entries are the binary (0755) and LICENSE at the root, and
/// the install simulation succeeds with the real entries. Returns the archives checked.
fn check_manifest_and_archives(dir: &Path, manifest: &Plugin) -> Vec<PathBuf> {
    let mut listing = BTreeMap::new();
    let mut checked = Vec::new();
    for p in &manifest.spec.platforms {
        let file = p.uri.rsplit('/').next().unwrap();
        let path = dir.join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            sha256_hex(&bytes),
            p.sha256,
            "sha256 of {file} differs from the manifest"
        );
        let entries = read_tar_gz(&bytes);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [BIN, "LICENSE"],
            "{file}: binary and LICENSE at the archive root"
        );
        assert_eq!(
            entries[0].mode & 0o777,
            0o755,
            "{file}: the binary must be executable"
        );
        assert_eq!(
            entries[1].data,
            repo_file("LICENSE").as_bytes(),
            "{file}: LICENSE differs"
        );
        listing.insert(
            file.to_string(),
            names.iter().map(|s| s.to_string()).collect(),
        );
        checked.push(path);
    }
    let all = manifest.spec.platforms.len() == RELEASE_PLATFORMS.len();
    assert_eq!(
        validate_with(NAME, manifest, &Archives::Real(&listing), all),
        [],
        "with real archives"
    );
    checked
}

// ---------------------------------------------------------------------------------------------
// The manifests of this repository.

#[test]
fn plugin_yaml_passes_krew_validation() {
    let m = parse(&repo_file("plugin.yaml"));
    assert_eq!(validate(NAME, &m, &Archives::Expected), []);
    assert_eq!(m.spec.platforms.len(), RELEASE_PLATFORMS.len());
}

#[test]
fn plugin_yaml_is_the_template_rendered_for_this_version() {
    let plugin_yaml = repo_file("plugin.yaml");
    let m = parse(&plugin_yaml);
    let sums: BTreeMap<String, String> = m
        .spec
        .platforms
        .iter()
        .map(|p| (p.uri.clone(), p.sha256.clone()))
        .collect();
    let rendered = render_template(
        &repo_file("krew/.krew.yaml"),
        &format!("v{VERSION}"),
        &|u| {
            sums.get(u)
                .cloned()
                .unwrap_or_else(|| panic!("plugin.yaml has no platform for {u}"))
        },
    );
    assert_eq!(
        rendered, plugin_yaml,
        "re-render plugin.yaml: scripts/release.sh manifest --plugin-yaml"
    );
}

#[test]
fn template_rendered_with_test_values_passes_krew_validation() {
    let tag = format!("v{VERSION}");
    let rendered = render_template(&repo_file("krew/.krew.yaml"), &tag, &|u| {
        sha256_hex(u.as_bytes())
    });
    assert!(
        !rendered.contains("{{"),
        "unrendered action left:\n{rendered}"
    );
    assert!(
        !rendered.contains("/*"),
        "template comment would reach krew-index"
    );
    let m = parse(&rendered);
    assert_eq!(validate(NAME, &m, &Archives::Expected), []);
    for p in &m.spec.platforms {
        assert_eq!(
            p.sha256,
            sha256_hex(p.uri.as_bytes()),
            "sha256 line belongs to its uri"
        );
    }
    // A tag that does not match Cargo.toml is caught.
    let other = parse(&render_template(
        &repo_file("krew/.krew.yaml"),
        "v9.9.9",
        &|u| sha256_hex(u.as_bytes()),
    ));
    assert_eq!(
        validate(NAME, &other, &Archives::Expected),
        [Rule::VersionNotCargo]
    );
}

#[test]
fn the_repository_url_and_probe_image_agree_everywhere() {
    let org = REPOSITORY
        .strip_prefix("https://github.com/")
        .and_then(|r| r.split('/').next())
        .expect("Cargo.toml repository is a GitHub URL");
    let image_repo = kubectl_acmecheck::image::PROBE_IMAGE_REPOSITORY;
    assert_eq!(image_repo, format!("ghcr.io/{org}/acmecheck-probe"));
    assert_eq!(
        kubectl_acmecheck::image::DEFAULT_PROBE_IMAGE,
        format!("{image_repo}:v{VERSION}")
    );
    // The install guide names the image users must be able to pull (or mirror).
    assert!(
        repo_file("docs/install.md").contains(image_repo),
        "docs/install.md names the probe image"
    );
    let workflow = repo_file(".github/workflows/release.yml");
    assert!(
        workflow.contains("acmecheck-probe"),
        "the workflow publishes the probe image"
    );
    assert!(workflow.contains("krew_template_file: krew/.krew.yaml"));
}

// ---------------------------------------------------------------------------------------------
// Archives built here.

/// Pack the test's own binary with the real `scripts/release.sh pack` + `manifest` into a temp
/// dist dir, then validate the rendered manifest against the archive (sha256, layout, install).
#[test]
fn release_script_packs_and_renders_a_valid_manifest() {
    let dist = tempfile::tempdir().unwrap();
    let target = if cfg!(target_arch = "aarch64") {
        "aarch64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-musl"
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release.sh");
    for args in [
        vec!["pack", target, env!("CARGO_BIN_EXE_kubectl-acmecheck")],
        vec!["manifest"],
    ] {
        let out = Command::new("bash")
            .arg(&script)
            .args(&args)
            .env("DIST", dist.path())
            .env_remove("GITHUB_REF_TYPE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "release.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let manifest_text = std::fs::read_to_string(dist.path().join("acmecheck.yaml")).unwrap();
    let m = parse(&manifest_text);
    assert_eq!(
        m.spec.platforms.len(),
        1,
        "only the packed platform is rendered"
    );
    let checked = check_manifest_and_archives(dist.path(), &m);
    assert_eq!(checked.len(), 1);
    // The script's renderer and the bot-equivalent renderer agree on the platform they share.
    let full = render_template(
        &repo_file("krew/.krew.yaml"),
        &format!("v{VERSION}"),
        &|u| {
            m.spec
                .platforms
                .iter()
                .find(|p| p.uri == u)
                .map_or("0".repeat(64), |p| p.sha256.clone())
        },
    );
    let osarch = if target.starts_with("aarch64") {
        "linux_arm64"
    } else {
        "linux_amd64"
    };
    assert!(manifest_text.contains(&format!("_{osarch}.tar.gz")));
    assert!(full.starts_with(manifest_text.split("  platforms:\n").next().unwrap()));
    let platform_block = manifest_text.split("  platforms:\n").nth(1).unwrap();
    assert!(
        full.contains(platform_block),
        "script and bot render the same platform block"
    );
    // SHA256SUMS is in `sha256sum -c` format and verifies.
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(dist.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// What `scripts/release.sh` left in dist/ (the local musl path, or the release workflow's
/// four platforms): validated the same way, plus a static binary and the size target.
///
/// dist/ is git-ignored, so a clean checkout (CI's `scripts/test`) has nothing to check: the test
/// is `#[ignore]`d there, and the release workflow, which packs dist/ first, runs it with
/// `--include-ignored`. Run by hand without a dist/ it fails; it never passes having checked
/// nothing.
#[test]
#[ignore = "needs dist/ from scripts/release.sh; the release workflow runs it with --include-ignored"]
fn local_release_in_dist_is_valid() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    let text = std::fs::read_to_string(dist.join("acmecheck.yaml")).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/release.sh (it builds the release archives and renders the manifest) first",
            dist.join("acmecheck.yaml").display()
        )
    });
    let m = parse(&text);
    let archives = check_manifest_and_archives(&dist, &m);
    assert!(!archives.is_empty(), "dist/acmecheck.yaml lists no archive");
    for archive in archives {
        let entries = read_tar_gz(&std::fs::read(&archive).unwrap());
        let bin = &entries[0].data;
        if archive.to_string_lossy().contains("_linux_") {
            assert!(
                elf_is_static(bin),
                "{}: binary is dynamically linked",
                archive.display()
            );
        }
        assert!(
            bin.len() <= 15 * 1024 * 1024,
            "{}: binary is {} bytes (> 15 MiB)",
            archive.display(),
            bin.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Negative tests: every rule rejects a manifest broken in exactly its way.

fn good() -> String {
    repo_file("plugin.yaml")
}

/// Replace `from` (must occur) in the good manifest and return the broken rules.
fn broken_by(from: &str, to: &str) -> Vec<Rule> {
    broken_by_in(NAME, from, to)
}

fn broken_by_in(file_stem: &str, from: &str, to: &str) -> Vec<Rule> {
    broken_by_all(file_stem, &[(from, to)])
}

/// Apply each replacement once (the first occurrence: the linux/amd64 entry for platform
/// fields), then validate as `<file_stem>.yaml`.
fn broken_by_all(file_stem: &str, replacements: &[(&str, &str)]) -> Vec<Rule> {
    let mut text = good();
    for (from, to) in replacements {
        assert!(
            text.contains(from),
            "test mutation {from:?} not found in plugin.yaml"
        );
        text = text.replacen(from, to, 1);
    }
    validate(file_stem, &parse(&text), &Archives::Expected)
}

const LINUX_AMD64: &str = "        os: linux\n        arch: amd64\n";

#[test]
fn rejects_wrong_api_version_and_kind() {
    assert_eq!(broken_by("/v1alpha2", "/v1alpha1"), [Rule::ApiVersion]);
    assert_eq!(broken_by("kind: Plugin", "kind: Plugins"), [Rule::Kind]);
}

#[test]
fn rejects_unsafe_or_mismatched_names() {
    assert_eq!(
        broken_by_in("acme check", "name: acmecheck", "name: acme check"),
        [Rule::NameUnsafe]
    );
    assert_eq!(
        broken_by_in("NUL", "name: acmecheck", "name: NUL"),
        [Rule::NameUnsafe]
    );
    assert_eq!(
        broken_by("name: acmecheck", "name: acme-check"),
        [Rule::NameMismatch]
    );
    assert!(validate("acmecheck", &parse(&good()), &Archives::Expected).is_empty());
}

#[test]
fn rejects_bad_short_descriptions() {
    assert_eq!(
        broken_by(
            "shortDescription: Diagnose stuck cert-manager HTTP-01 challenges",
            "shortDescription: \"\""
        ),
        [Rule::ShortDescriptionMissing]
    );
    assert_eq!(
        broken_by(
            "shortDescription: Diagnose stuck cert-manager HTTP-01 challenges",
            "shortDescription: \"Diagnose stuck\\ncert-manager challenges\""
        ),
        [Rule::ShortDescriptionMultiline]
    );
    assert_eq!(
        broken_by(
            "shortDescription: Diagnose stuck cert-manager HTTP-01 challenges",
            "shortDescription: Diagnose stuck cert-manager HTTP-01 challenges and more"
        ),
        [Rule::ShortDescriptionTooLong]
    );
}

#[test]
fn rejects_bad_versions() {
    for bad in ["0.1.0", "v0.1", "v01.1.0", "v0.1.0-", "v0.1.0+", "latest"] {
        let broken = broken_by(&format!("version: v{VERSION}"), &format!("version: {bad}"));
        assert!(
            broken.contains(&Rule::VersionNotSemver),
            "{bad}: {broken:?}"
        );
    }
    for good in [
        "v1.2.3",
        "v0.1.0-rc.1",
        "v1.0.0+build.5",
        "v10.20.30-alpha-1",
    ] {
        assert!(is_krew_semver(good), "{good}");
    }
    // valid semver, but not the version in Cargo.toml
    // (and the uris, still of this version, no longer match the manifest's version)
    let broken = broken_by(&format!("version: v{VERSION}"), "version: v9.9.9");
    assert_eq!(broken, [Rule::VersionNotCargo, Rule::UriNotRelease]);
}

#[test]
fn rejects_bad_sha256() {
    let zero = "0".repeat(64);
    assert_eq!(
        broken_by(&zero, &"A".repeat(64)),
        [Rule::Sha256Invalid],
        "uppercase"
    );
    assert_eq!(
        broken_by(&zero, &"0".repeat(63)),
        [Rule::Sha256Invalid],
        "too short"
    );
    assert_eq!(
        broken_by(&format!("sha256: {zero}"), "sha256: \"\""),
        [Rule::Sha256Invalid]
    );
}

#[test]
fn rejects_missing_uri_bin_and_bad_files() {
    let uri_line = format!(
        "    uri: {REPOSITORY}/releases/download/v{VERSION}/{}\n",
        archive_name(&format!("v{VERSION}"), "linux", "amd64")
    );
    let broken = broken_by(&uri_line, "");
    assert!(broken.contains(&Rule::UriMissing), "{broken:?}");
    assert!(broken_by("    bin: kubectl-acmecheck\n", "").contains(&Rule::BinMissing));
    let files = "    files:\n    - from: kubectl-acmecheck\n      to: .\n    - from: LICENSE\n      to: .\n";
    assert_eq!(
        broken_by(files, "    files: []\n"),
        [
            Rule::FilesInvalid,
            Rule::InstallNoBin,
            Rule::InstallNoLicense
        ]
    );
    assert_eq!(
        broken_by(
            "    - from: LICENSE\n      to: .\n",
            "    - from: LICENSE\n      to: \"\"\n"
        ),
        [
            Rule::FilesInvalid,
            Rule::InstallFilesUnmatched,
            Rule::InstallNoLicense
        ]
    );
}

#[test]
fn rejects_files_and_bin_that_do_not_install() {
    // bin names a file the files list does not install
    assert_eq!(
        broken_by("    bin: kubectl-acmecheck\n", "    bin: acmecheck\n"),
        [Rule::InstallNoBin]
    );
    // LICENSE is in the archive but not installed (and README.md is not in the archive)
    assert_eq!(
        broken_by(
            "    - from: LICENSE\n      to: .\n",
            "    - from: README.md\n      to: .\n"
        ),
        [Rule::InstallFilesUnmatched, Rule::InstallNoLicense]
    );
    // installed under another name / into a directory: bin must follow
    assert_eq!(
        broken_by(
            "    - from: kubectl-acmecheck\n      to: .\n",
            "    - from: kubectl-acmecheck\n      to: bin\n"
        ),
        [Rule::InstallNoBin]
    );
    assert_eq!(
        broken_by(
            "    - from: kubectl-acmecheck\n      to: .\n",
            "    - from: kubectl-*\n      to: bin\n"
        ),
        [Rule::InstallNoBin]
    );
    // ... and both together install fine
    assert_eq!(
        broken_by_all(
            NAME,
            &[
                (
                    "    - from: kubectl-acmecheck\n      to: .\n",
                    "    - from: kubectl-*\n      to: bin\n"
                ),
                (
                    "    bin: kubectl-acmecheck\n",
                    "    bin: bin/kubectl-acmecheck\n"
                ),
            ]
        ),
        []
    );
    assert_eq!(
        broken_by(
            "    - from: LICENSE\n      to: .\n",
            "    - from: LICENSE\n      to: ./docs/\n"
        ),
        [Rule::InstallFilesUnmatched, Rule::InstallNoLicense],
        "krew refuses a `to` that is not a clean path"
    );
    // no files list: krew extracts everything, which is fine
    let files = "    files:\n    - from: kubectl-acmecheck\n      to: .\n    - from: LICENSE\n      to: .\n";
    assert_eq!(broken_by(files, ""), []);
    // an archive without LICENSE is rejected even when files installs everything
    let m = parse(&good());
    let no_license: BTreeMap<String, ArchiveListing> = m
        .spec
        .platforms
        .iter()
        .map(|p| {
            (
                p.uri.rsplit('/').next().unwrap().to_string(),
                vec![BIN.to_string()],
            )
        })
        .collect();
    assert_eq!(
        validate(NAME, &m, &Archives::Real(&no_license)),
        [Rule::InstallFilesUnmatched, Rule::InstallNoLicense]
    );
}

#[test]
fn rejects_bad_selectors_and_platforms() {
    let with = |labels: &str| broken_by(LINUX_AMD64, labels);
    assert!(
        with("        os: linux\n        arch: amd64\n        libc: musl\n")
            .contains(&Rule::SelectorInvalid)
    );
    // an empty selector selects everything: it overlaps the other entries
    let broken = broken_by(
        &format!("  - selector:\n      matchLabels:\n{LINUX_AMD64}"),
        "  - selector: {}\n",
    );
    assert!(broken.contains(&Rule::SelectorInvalid), "{broken:?}");
    let broken = broken_by(&format!("matchLabels:\n{LINUX_AMD64}"), "matchLabels: {}\n");
    assert!(broken.contains(&Rule::SelectorInvalid), "{broken:?}");
    // a platform krew does not know
    assert!(with("        os: linux\n        arch: riscv64\n").contains(&Rule::PlatformUnknown));
    // two entries for linux/amd64 (and none for linux/arm64)
    let broken = broken_by("        os: linux\n        arch: arm64\n", LINUX_AMD64);
    assert!(broken.contains(&Rule::PlatformOverlap), "{broken:?}");
    assert!(broken.contains(&Rule::PlatformsIncomplete), "{broken:?}");
    // matchExpressions are understood: `os In [linux, darwin]` + arch overlaps the others
    let broken = broken_by(
        &format!("      matchLabels:\n{LINUX_AMD64}"),
        "      matchExpressions:\n      - {key: os, operator: In, values: [linux, darwin]}\n      - {key: arch, operator: In, values: [amd64]}\n",
    );
    assert_eq!(broken, [Rule::PlatformOverlap]);
    let no_platforms =
        good().split("  platforms:\n").next().unwrap().to_string() + "  platforms: []\n";
    let broken = validate(NAME, &parse(&no_platforms), &Archives::Expected);
    assert!(broken.contains(&Rule::NoPlatforms) && broken.contains(&Rule::PlatformsIncomplete));
}

#[test]
fn rejects_uris_that_are_not_this_release() {
    let file = archive_name(&format!("v{VERSION}"), "linux", "amd64");
    assert_eq!(
        broken_by(&file, &file.replace(".tar.gz", ".tgz")),
        [Rule::UriNotArchive, Rule::UriNotRelease]
    );
    // the linux/amd64 entry points at the arm64 archive
    assert_eq!(
        broken_by(&file, &file.replace("amd64", "arm64")),
        [Rule::UriNotRelease]
    );
    assert_eq!(
        broken_by("releases/download/v", "releases/download/latest/v"),
        [Rule::UriNotRelease]
    );
    assert_eq!(
        broken_by(
            &format!("homepage: {REPOSITORY}"),
            "homepage: https://example.org/"
        ),
        [Rule::HomepageNotRepository]
    );
}

#[test]
fn rejects_descriptions_not_wrapped_at_80() {
    let first = "    Finds out why";
    assert_eq!(
        broken_by(first, &format!("    {}Finds out why", "x".repeat(80))),
        [Rule::DescriptionTooWide]
    );
    let text = good();
    let start = text.find("  description: |\n").unwrap();
    let end = text.find("  caveats:").unwrap();
    let broken = validate(
        NAME,
        &parse(&(text[..start].to_string() + &text[end..])),
        &Archives::Expected,
    );
    assert_eq!(broken, [Rule::DescriptionMissing]);
}

#[test]
fn rejects_misspelt_fields() {
    let text = good().replacen("shortDescription:", "shortdescription:", 1);
    assert!(serde_saphyr::from_str::<Plugin>(&text).is_err());
}

#[test]
fn glob_and_selector_helpers() {
    assert!(glob_match("*", "LICENSE"));
    assert!(glob_match("kubectl-*", "kubectl-acmecheck"));
    assert!(!glob_match("*", "dir/LICENSE"));
    assert!(glob_match("dir/*", "dir/LICENSE"));
    assert!(!glob_match("LICENSE", "LICENSE.txt"));
    let sel: Selector = serde_saphyr::from_str(
        "matchExpressions:\n- {key: os, operator: NotIn, values: [windows]}\n",
    )
    .unwrap();
    assert!(selector_matches(&sel, "linux", "arm64"));
    assert!(!selector_matches(&sel, "windows", "amd64"));
}
