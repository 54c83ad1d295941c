//! Every finding code has a page in `docs/findings/`, every page has the required sections,
//! the index lists every code in declaration order with the one-line meaning declared next to
//! the code (`Code::meaning`), and links between pages point at pages that exist. The codes
//! come from `Code::ALL`, which is generated from the one declaration of `Code`.
//!
//! The checks are plain functions over file contents so the self-tests at the bottom can show
//! that each check fails on a broken page, not only that the shipped pages pass.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kubectl_acmecheck::diagnose::Code;

/// Section headings every finding page must have, in this order.
const REQUIRED_SECTIONS: &[&str] = &[
    "## What it means",
    "## How the tool proves it",
    "## How to confirm by hand",
    "## How to fix",
    "## Related codes",
];

fn findings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/findings")
}

/// Problems with one code's page: title, required sections (present and in order).
fn page_problems(code: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let title = format!("# {code}");
    if text.lines().next().map(str::trim_end) != Some(title.as_str()) {
        problems.push(format!("{code}.md: first line must be `{title}`"));
    }
    let headings: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| l.starts_with("## "))
        .collect();
    let mut last = None;
    for section in REQUIRED_SECTIONS {
        match headings.iter().position(|h| h == section) {
            None => problems.push(format!("{code}.md: missing section `{section}`")),
            Some(i) => {
                if last.is_some_and(|l| i < l) {
                    problems.push(format!("{code}.md: section `{section}` is out of order"));
                }
                last = Some(i);
            }
        }
    }
    let related = text
        .split("## Related codes")
        .nth(1)
        .map(|rest| local_links(rest).len())
        .unwrap_or(0);
    if related == 0 {
        problems.push(format!(
            "{code}.md: `## Related codes` links to no code page"
        ));
    }
    problems
}

/// Targets of relative Markdown links to `.md` files (`[text](TARGET.md)` or `(TARGET.md#x)`).
fn local_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("");
        if target.ends_with(".md") && !target.contains("://") && !target.contains('/') {
            out.push(target.to_owned());
        }
        rest = &rest[end..];
    }
    out
}

/// Links in `text` (a file named `from`) to pages that are not in `existing`.
fn dangling_links(from: &str, text: &str, existing: &BTreeSet<String>) -> Vec<String> {
    local_links(text)
        .into_iter()
        .filter(|t| !existing.contains(t))
        .map(|t| format!("{from}: links to {t}, which does not exist"))
        .collect()
}

/// Codes the index does not link, or does not give a table row.
fn index_problems(index: &str, codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .filter(|c| {
            let row = format!("| [{c}]({c}.md) |");
            !index.lines().any(|l| l.trim_start().starts_with(&row))
        })
        .map(|c| format!("README.md: no index row `| [{c}]({c}.md) | …`"))
        .collect()
}

/// The code and its last column (`One line`) of every index row, in table order.
fn index_rows(index: &str) -> Vec<(String, String)> {
    index
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("| ["))
        .filter_map(|l| {
            let name = l.strip_prefix("| [")?.split(']').next()?.to_owned();
            let last = l
                .trim_end_matches('|')
                .rsplit(" | ")
                .next()?
                .trim()
                .to_owned();
            Some((name, last))
        })
        .collect()
}

/// Index rows whose one line differs from the code's declared meaning, and an index whose rows
/// are not in the declaration's order. `codes` is `(code, meaning)` in declaration order.
fn meaning_problems(index: &str, codes: &[(String, String)]) -> Vec<String> {
    let rows = index_rows(index);
    let mut problems: Vec<String> = codes
        .iter()
        .filter_map(|(code, meaning)| {
            let (_, line) = rows.iter().find(|(c, _)| c == code)?;
            (line != meaning).then(|| {
                format!("README.md: {code}: the index says `{line}`, the declaration of Code says `{meaning}`")
            })
        })
        .collect();
    let listed: Vec<&String> = rows
        .iter()
        .map(|(c, _)| c)
        .filter(|c| codes.iter().any(|(k, _)| k == *c))
        .collect();
    let declared: Vec<&String> = codes
        .iter()
        .map(|(c, _)| c)
        .filter(|c| listed.contains(c))
        .collect();
    if let Some((i, (l, d))) = listed
        .iter()
        .zip(&declared)
        .enumerate()
        .find(|(_, (l, d))| l != d)
    {
        problems.push(format!(
            "README.md: row {} is {l}, but Code::ALL has {d} there (keep the table in declaration order)",
            i + 1
        ));
    }
    problems
}

fn all_meanings() -> Vec<(String, String)> {
    Code::ALL
        .iter()
        .map(|c| (c.as_str(), c.meaning().to_owned()))
        .collect()
}

fn all_codes() -> Vec<String> {
    Code::ALL.iter().map(|c| c.as_str()).collect()
}

fn md_files() -> BTreeSet<String> {
    std::fs::read_dir(findings_dir())
        .expect("docs/findings exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect()
}

#[test]
fn every_code_has_a_complete_page() {
    let mut problems = Vec::new();
    for code in all_codes() {
        assert!(!code.is_empty(), "a code has no string form");
        let path = findings_dir().join(format!("{code}.md"));
        match std::fs::read_to_string(&path) {
            Ok(text) => problems.extend(page_problems(&code, &text)),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn index_lists_every_code() {
    let index = std::fs::read_to_string(findings_dir().join("README.md")).expect("index");
    let problems = index_problems(&index, &all_codes());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn index_says_what_the_declaration_says_in_its_order() {
    let index = std::fs::read_to_string(findings_dir().join("README.md")).expect("index");
    assert_eq!(
        index_rows(&index).len(),
        Code::ALL.len(),
        "one row per code"
    );
    let problems = meaning_problems(&index, &all_meanings());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn links_point_at_existing_pages() {
    let existing = md_files();
    let mut problems = Vec::new();
    for name in &existing {
        let text = std::fs::read_to_string(findings_dir().join(name)).expect("read page");
        problems.extend(dangling_links(name, &text, &existing));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_page_for_an_unknown_code() {
    let codes: BTreeSet<String> = all_codes().into_iter().map(|c| c + ".md").collect();
    let orphans: Vec<_> = md_files()
        .into_iter()
        .filter(|n| n != "README.md" && !codes.contains(n))
        .collect();
    assert!(orphans.is_empty(), "pages without a code: {orphans:?}");
}

// Self-tests: each check reports a broken page.

const GOOD: &str = "# MIXED_BACKENDS\n\n## What it means\nx\n## How the tool proves it\nx\n\
## How to confirm by hand\nx\n## How to fix\nx\n## Related codes\n- [STALE_ADDRESS](STALE_ADDRESS.md)\n";

#[test]
fn checks_accept_a_good_page() {
    assert_eq!(page_problems("MIXED_BACKENDS", GOOD), Vec::<String>::new());
}

#[test]
fn checks_catch_a_missing_or_misplaced_section() {
    let missing = GOOD.replace("## How to fix\n", "");
    assert_eq!(page_problems("MIXED_BACKENDS", &missing).len(), 1);
    let swapped = GOOD
        .replace("## What it means", "## TMP")
        .replace("## How to fix", "## What it means")
        .replace("## TMP", "## How to fix");
    assert!(!page_problems("MIXED_BACKENDS", &swapped).is_empty());
    assert!(
        !page_problems("STALE_ADDRESS", GOOD).is_empty(),
        "wrong title"
    );
    let unlinked = GOOD.replace("[STALE_ADDRESS](STALE_ADDRESS.md)", "none");
    assert!(!page_problems("MIXED_BACKENDS", &unlinked).is_empty());
}

#[test]
fn checks_catch_dangling_links_and_index_gaps() {
    let existing: BTreeSet<String> = ["MIXED_BACKENDS.md".to_owned()].into();
    assert_eq!(
        dangling_links("MIXED_BACKENDS.md", GOOD, &existing),
        vec!["MIXED_BACKENDS.md: links to STALE_ADDRESS.md, which does not exist"]
    );
    assert_eq!(
        local_links("[a](A.md#x) [b](https://x.io/B.md) [c](../C.md) [d](D.md)"),
        vec!["A.md", "D.md"]
    );
    let index = "| [MIXED_BACKENDS](MIXED_BACKENDS.md) | error | x |\n";
    let codes = vec!["MIXED_BACKENDS".to_owned(), "STALE_ADDRESS".to_owned()];
    assert_eq!(index_problems(index, &codes).len(), 1);
}

#[test]
fn checks_catch_a_wrong_meaning_and_a_wrong_order() {
    let codes = vec![
        ("MIXED_BACKENDS".to_owned(), "two backends".to_owned()),
        ("STALE_ADDRESS".to_owned(), "an old address".to_owned()),
    ];
    let good = "| [MIXED_BACKENDS](MIXED_BACKENDS.md) | error | proves | probe | two backends |\n\
| [STALE_ADDRESS](STALE_ADDRESS.md) | error | proves | probe | an old address |\n";
    assert_eq!(meaning_problems(good, &codes), Vec::<String>::new());
    let wrong = good.replace("| an old address |", "| a new address |");
    assert_eq!(meaning_problems(&wrong, &codes).len(), 1);
    let lines: Vec<&str> = good.lines().collect();
    let swapped = format!("{}\n{}\n", lines[1], lines[0]);
    let p = meaning_problems(&swapped, &codes);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("row 1 is STALE_ADDRESS"), "{p:?}");
}
