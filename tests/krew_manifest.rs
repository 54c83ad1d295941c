//! krew's manifest rules (krew `internal/index/validation/validate.go` and
//! `validate-krew-manifest`, as summarised in the reference notes) applied to plugin.yaml, to the
//! krew-release-bot template rendered like the bot does, and to a manifest for an archive built
//! here from the real binary.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
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
const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "lpt1", "lpt2", "lpt3",
];

fn is_semver_v(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// Every rule the validator applies; returns the violations.
fn validate(m: &Value, expected_name: &str) -> Vec<String> {
    let mut e = Vec::new();
    if m["apiVersion"] != "krew.googlecontainertools.github.com/v1alpha2" {
        e.push("apiVersion must be krew.googlecontainertools.github.com/v1alpha2".into());
    }
    if m["kind"] != "Plugin" {
        e.push("kind must be Plugin".into());
    }
    let name = m["metadata"]["name"].as_str().unwrap_or("");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || RESERVED.contains(&name.to_ascii_lowercase().as_str())
    {
        e.push(format!("invalid plugin name {name:?}"));
    }
    if name != expected_name {
        e.push(format!("name {name:?} does not match {expected_name:?}"));
    }
    let spec = &m["spec"];
    let short = spec["shortDescription"].as_str().unwrap_or("");
    if short.is_empty() || short.contains('\n') {
        e.push("shortDescription must be one non-empty line".into());
    }
    if short.len() > 50 {
        e.push(format!(
            "shortDescription is {} characters (review asks for at most 50)",
            short.len()
        ));
    }
    let desc = spec["description"].as_str().unwrap_or("");
    if desc.trim().is_empty() {
        e.push("description is required".into());
    }
    if let Some(l) = desc.lines().find(|l| l.chars().count() > 80) {
        e.push(format!("description line over 80 columns: {l:?}"));
    }
    if !is_semver_v(spec["version"].as_str().unwrap_or("")) {
        e.push(format!(
            "version {:?} is not semver with a leading v",
            spec["version"]
        ));
    }
    let platforms = spec["platforms"].as_array().cloned().unwrap_or_default();
    if platforms.is_empty() {
        e.push("at least one platform is required".into());
    }
    let mut covered: Vec<(String, String)> = Vec::new();
    for (i, p) in platforms.iter().enumerate() {
        let uri = p["uri"].as_str().unwrap_or("");
        if uri.is_empty() || !(uri.ends_with(".tar.gz") || uri.ends_with(".zip")) {
            e.push(format!("platform {i}: uri must be a .tar.gz or .zip"));
        }
        let sha = p["sha256"].as_str().unwrap_or("");
        if sha.len() != 64
            || !sha
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            e.push(format!("platform {i}: sha256 must match ^[a-f0-9]{{64}}$"));
        }
        if p["bin"].as_str().unwrap_or("").is_empty() {
            e.push(format!("platform {i}: bin is required"));
        }
        let labels = p["selector"]["matchLabels"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if labels.is_empty() && p["selector"]["matchExpressions"].is_null() {
            e.push(format!("platform {i}: selector must not be empty"));
        }
        if let Some(k) = labels.keys().find(|k| *k != "os" && *k != "arch") {
            e.push(format!(
                "platform {i}: selector key {k:?} (only os and arch)"
            ));
        }
        let matches: Vec<(String, String)> = KNOWN_PLATFORMS
            .iter()
            .filter(|(os, arch)| {
                labels.get("os").is_none_or(|v| v == os)
                    && labels.get("arch").is_none_or(|v| v == arch)
            })
            .map(|(o, a)| (o.to_string(), a.to_string()))
            .collect();
        if matches.is_empty() {
            e.push(format!(
                "platform {i}: selector matches no platform krew knows"
            ));
        }
        for m in matches {
            if covered.contains(&m) {
                e.push(format!(
                    "platform {i}: {}/{} is already selected by another entry",
                    m.0, m.1
                ));
            }
            covered.push(m);
        }
        if let Some(files) = p.get("files") {
            let ok = files.as_array().is_some_and(|f| {
                !f.is_empty()
                    && f.iter()
                        .all(|x| x["from"].is_string() && x["to"].is_string())
            });
            if !ok {
                e.push(format!(
                    "platform {i}: files must be non-empty with from and to"
                ));
            }
        }
    }
    e
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("valid YAML")
}

/// Render the krew-release-bot template like the bot: TagName, then addURIAndSha → uri + sha256.
fn render(template: &str, tag: &str, sha_for: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for line in template.lines() {
        if let Some(start) = line.find("{{addURIAndSha \"") {
            let indent = &line[..start];
            let rest = &line[start + "{{addURIAndSha \"".len()..];
            let uri = rest[..rest.find('"').unwrap()].replace("{{ .TagName }}", tag);
            out.push_str(&format!(
                "{indent}uri: {uri}\n{indent}sha256: \"{}\"\n",
                sha_for(&uri)
            ));
        } else {
            out.push_str(&line.replace("{{ .TagName }}", tag));
            out.push('\n');
        }
    }
    out
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()
}

#[test]
fn plugin_yaml_is_valid_and_matches_the_crate() {
    let m = yaml(&read("plugin.yaml"));
    assert_eq!(validate(&m, "acmecheck"), Vec::<String>::new());
    assert_eq!(
        m["spec"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    let platforms: Vec<String> = m["spec"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["selector"]["matchLabels"]["os"].as_str().unwrap(),
                p["selector"]["matchLabels"]["arch"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        platforms,
        ["linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"]
    );
    for p in m["spec"]["platforms"].as_array().unwrap() {
        assert_eq!(p["bin"], "kubectl-acmecheck");
        assert!(p["uri"].as_str().unwrap().contains(&format!(
            "/v{0}/kubectl-acmecheck_v{0}_",
            env!("CARGO_PKG_VERSION")
        )));
    }
    // The description says what this adds over the cert-manager plugin.
    let desc = m["spec"]["description"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        desc.contains("cert-manager plugin") && desc.contains("root cause"),
        "{desc}"
    );
}

#[test]
fn bot_template_renders_to_a_valid_manifest_equal_to_plugin_yaml() {
    let rendered = render(
        &read("krew/.krew.yaml"),
        &format!("v{}", env!("CARGO_PKG_VERSION")),
        |_| "0".repeat(64),
    );
    let m = yaml(&rendered);
    assert_eq!(validate(&m, "acmecheck"), Vec::<String>::new());
    // plugin.yaml is this rendering (comments aside): the two never drift apart.
    assert_eq!(m, yaml(&read("plugin.yaml")));
}

#[test]
fn manifest_for_a_locally_built_archive() {
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage");
    std::fs::create_dir(&stage).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_kubectl-acmecheck"),
        stage.join("kubectl-acmecheck"),
    )
    .unwrap();
    std::fs::copy(Path::new(ROOT).join("LICENSE"), stage.join("LICENSE")).unwrap();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let archive = dir
        .path()
        .join(format!("kubectl-acmecheck_{tag}_linux_amd64.tar.gz"));
    // gzip -1: the debug binary is large and the compression level does not matter here.
    let st = Command::new("tar")
        .args([
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--use-compress-program=gzip -1",
            "-C",
        ])
        .arg(&stage)
        .arg("-cf")
        .arg(&archive)
        .args(["kubectl-acmecheck", "LICENSE"])
        .status()
        .unwrap();
    assert!(st.success());
    // sha256sum, not the sha2 crate: this test binary is unoptimised and the archive is large.
    let out = Command::new("sha256sum").arg(&archive).output().unwrap();
    let sha = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let rendered = render(&read("krew/.krew.yaml"), &tag, |uri| {
        if uri.ends_with("linux_amd64.tar.gz") {
            sha.clone()
        } else {
            "0".repeat(64)
        }
    });
    let m = yaml(&rendered);
    assert_eq!(validate(&m, "acmecheck"), Vec::<String>::new());
    assert_eq!(m["spec"]["platforms"][0]["sha256"], sha.as_str());
    // The archive has the binary (executable) and LICENSE at its root, nothing else.
    let list = Command::new("tar")
        .arg("-tvzf")
        .arg(&archive)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    let entries: Vec<(&str, &str)> = list
        .lines()
        .map(|l| {
            (
                l.split_whitespace().next().unwrap(),
                l.split_whitespace().last().unwrap(),
            )
        })
        .collect();
    assert_eq!(entries.len(), 2, "{list}");
    assert!(
        entries
            .iter()
            .any(|(mode, name)| *name == "kubectl-acmecheck" && mode.starts_with("-rwx")),
        "{list}"
    );
    assert!(
        entries
            .iter()
            .any(|(_, name)| name.eq_ignore_ascii_case("LICENSE")),
        "{list}"
    );
}

#[test]
fn each_rule_rejects_a_bad_manifest() {
    let good = yaml(&read("plugin.yaml"));
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("apiVersion", Box::new(|m| m["apiVersion"] = "v1".into())),
        ("kind", Box::new(|m| m["kind"] = "Deployment".into())),
        (
            "invalid plugin name",
            Box::new(|m| m["metadata"]["name"] = "acme check".into()),
        ),
        (
            "does not match",
            Box::new(|m| m["metadata"]["name"] = "acme-check".into()),
        ),
        (
            "shortDescription must be one",
            Box::new(|m| m["spec"]["shortDescription"] = "two\nlines".into()),
        ),
        (
            "at most 50",
            Box::new(|m| m["spec"]["shortDescription"] = "x".repeat(51).into()),
        ),
        (
            "over 80 columns",
            Box::new(|m| m["spec"]["description"] = "y".repeat(81).into()),
        ),
        (
            "semver",
            Box::new(|m| m["spec"]["version"] = "0.1.0".into()),
        ),
        ("semver", Box::new(|m| m["spec"]["version"] = "v1.2".into())),
        (
            "uri must be",
            Box::new(|m| m["spec"]["platforms"][0]["uri"] = "https://x/a.exe".into()),
        ),
        (
            "sha256 must match",
            Box::new(|m| m["spec"]["platforms"][0]["sha256"] = "ABCDEF".repeat(10).into()),
        ),
        (
            "bin is required",
            Box::new(|m| m["spec"]["platforms"][0]["bin"] = "".into()),
        ),
        (
            "only os and arch",
            Box::new(|m| {
                m["spec"]["platforms"][0]["selector"]["matchLabels"]["distro"] = "debian".into()
            }),
        ),
        (
            "already selected",
            Box::new(|m| {
                m["spec"]["platforms"][1]["selector"]["matchLabels"]["arch"] = "amd64".into()
            }),
        ),
        (
            "no platform krew knows",
            Box::new(|m| {
                m["spec"]["platforms"][0]["selector"]["matchLabels"]["os"] = "plan9".into()
            }),
        ),
        (
            "files must be",
            Box::new(|m| m["spec"]["platforms"][0]["files"] = serde_json::json!([])),
        ),
        (
            "at least one platform",
            Box::new(|m| m["spec"]["platforms"] = serde_json::json!([])),
        ),
    ];
    for (want, mutate) in cases {
        let mut m = good.clone();
        mutate(&mut m);
        let errors = validate(&m, "acmecheck");
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "expected an error containing {want:?}, got {errors:?}"
        );
    }
}
