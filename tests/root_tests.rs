//! Every test that needs root carries the attribute that makes a skip visible, and no other test
//! does.
//!
//! With `ACMECHECK_SKIP_ROOT_TESTS=1`, build.rs sets `--cfg acmecheck_skip_root_tests`, and a test
//! marked `#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]` shows up as *ignored* in
//! cargo's summary line. An unmarked root test would instead run and fail on its root check
//! (`testkit::lab::require_root`) — loud, but only on a machine without root. This test finds the
//! unmarked ones on any machine, CI included: it reads every Rust file of the workspace, takes
//! each function's body, and calls a function root-needing when its body reaches one of the root
//! entry points below, directly or through functions of the same file (a fixed point over the
//! file's call graph). A test is then checked both ways: root-needing ⇔ marked.
//!
//! It reads source text, not a syntax tree (no parser crate for one test): strings, char
//! literals and comments are masked before braces are matched, and a call is `name(` not
//! preceded by `.` or a letter (methods are not followed; no root helper is a method).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const MARK: &str = "#[cfg_attr(acmecheck_skip_root_tests, ignore";

/// Calls that need root: the lab's root check and everything that creates a network namespace.
const ROOT_ENTRY_POINTS: &[&str] = &[
    "skip_without_root",
    "require_root",
    "is_root",
    "Lab::new",
    "lab::scenario",
    "Netns::create",
    // testkit/src/lab/cli.rs: builds the lab scenario (for_test also does the root check).
    "LabCli::start",
    "LabCli::for_test",
];

/// One `fn` of a file: its name, whether it is a test, whether it carries the mark, its body.
#[derive(Debug)]
struct Func {
    name: String,
    line: usize,
    is_test: bool,
    marked: bool,
    body: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text with string literals, char literals and comments replaced by spaces (same length,
/// newlines kept), so braces and names inside them do not count.
fn mask(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                blank(&mut out, i, end);
                i = end;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0
                    || !is_ident(b[i - 1])
                    || (b[i - 1] == b'b' && (i < 2 || !is_ident(b[i - 2])))) =>
            {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let start = i + 2 + hashes;
                let end = src[start..]
                    .find(&close)
                    .map_or(b.len(), |n| start + n + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                blank(&mut out, i, end);
                i = end;
            }
            // A char literal ('x', '\n', '{'); a lifetime ('a) has no closing quote after one char.
            b'\'' if b.get(i + 1) == Some(&b'\\') => {
                let end = src[i + 2..].find('\'').map_or(b.len(), |n| i + 2 + n + 1);
                blank(&mut out, i, end);
                i = end;
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') => {
                blank(&mut out, i, i + 3);
                i += 3;
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).unwrap()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every `fn` of a (masked) file with its attributes and body.
fn functions(original: &str) -> Vec<Func> {
    let masked = mask(original);
    let lines: Vec<&str> = masked.lines().collect();
    let orig_lines: Vec<&str> = original.lines().collect();
    let offsets: Vec<usize> = lines
        .iter()
        .scan(0, |off, l| {
            let at = *off;
            *off += l.len() + 1;
            Some(at)
        })
        .collect();
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
        let t = t.strip_prefix("pub ").unwrap_or(t);
        let t = t.strip_prefix("async ").unwrap_or(t);
        let Some(rest) = t.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .bytes()
            .take_while(|c| is_ident(*c))
            .map(char::from)
            .collect();
        // Attributes: the lines right above, up to a blank line or the end of another item.
        let mut attrs = String::new();
        for above in orig_lines[..n].iter().rev() {
            let a = above.trim();
            if a.is_empty() || a.ends_with('}') || a.ends_with(';') || a.ends_with('{') {
                break;
            }
            attrs.push_str(a);
        }
        // The body: from the first `{` after the name to its matching `}`.
        let start = offsets[n] + line.len() - t.len();
        let Some(open) = masked[start..].find('{').map(|i| start + i) else {
            continue;
        };
        let mut depth = 0;
        let mut end = masked.len();
        for (i, c) in masked[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push(Func {
            name,
            line: n + 1,
            is_test: attrs.contains("#[test]") || attrs.contains("#[tokio::test"),
            marked: attrs.contains(MARK),
            body: masked[open..end].to_owned(),
        });
    }
    out
}

/// `body` calls `name(` as a function (not as a method, not as part of a longer name).
fn calls(body: &str, name: &str) -> bool {
    let pat = format!("{name}(");
    body.match_indices(&pat).any(|(i, _)| {
        let before = body[..i].bytes().next_back();
        !before.is_some_and(|c| is_ident(c) || c == b'.')
    })
}

/// Names of the functions of one file that need root (fixed point over the file's calls).
fn root_needing(funcs: &[Func]) -> BTreeSet<String> {
    let mut root: BTreeSet<String> = funcs
        .iter()
        .filter(|f| ROOT_ENTRY_POINTS.iter().any(|p| calls(&f.body, p)))
        .map(|f| f.name.clone())
        .collect();
    loop {
        let more: Vec<String> = funcs
            .iter()
            // A macro's `fn $name()` has no name to call it by: only named functions spread.
            .filter(|f| {
                !root.contains(&f.name) && root.iter().any(|r| !r.is_empty() && calls(&f.body, r))
            })
            .map(|f| f.name.clone())
            .collect();
        if more.is_empty() {
            return root;
        }
        root.extend(more);
    }
}

#[test]
fn every_root_test_is_marked_and_no_other() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "testkit/src", "testkit/tests"] {
        rust_files(&Path::new(ROOT).join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 50, "found only {} Rust files", files.len());
    let mut unmarked = Vec::new();
    let mut overmarked = Vec::new();
    let mut per_file: BTreeMap<String, usize> = BTreeMap::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let rel = path.strip_prefix(ROOT).unwrap().display().to_string();
        let funcs = functions(&text);
        let root = root_needing(&funcs);
        for f in funcs.iter().filter(|f| f.is_test) {
            let needs = root.contains(&f.name);
            if needs {
                *per_file.entry(rel.clone()).or_default() += 1;
            }
            match (needs, f.marked) {
                (true, false) => unmarked.push(format!("{rel}:{} {}", f.line, f.name)),
                (false, true) => overmarked.push(format!("{rel}:{} {}", f.line, f.name)),
                _ => {}
            }
        }
    }
    let total: usize = per_file.values().sum();
    println!("{total} tests need root:");
    for (file, n) in &per_file {
        println!("  {file}: {n}");
    }
    assert!(
        unmarked.is_empty(),
        "tests that need root but lack `{MARK} = \"needs root\")]` (they would run and fail \
         under ACMECHECK_SKIP_ROOT_TESTS instead of showing as ignored):\n{}",
        unmarked.join("\n")
    );
    assert!(
        overmarked.is_empty(),
        "tests marked as needing root that reach no root entry point ({ROOT_ENTRY_POINTS:?}):\n{}",
        overmarked.join("\n")
    );
    // The lab, Pebble and kubelet-netns tests of today; fewer means the scan lost track of them.
    assert!(total >= 44, "only {total} root tests found");
}

/// The scanner itself: masking, bodies, the fixed point, both directions of the check.
#[test]
fn the_scanner_follows_calls_and_ignores_strings_and_comments() {
    let src = r#####"
fn helper() -> Option<()> {
    if lab::skip_without_root("x") { return None; }
    Some(())
}

fn indirect() { let _ = helper(); }

// fn commented() { helper(); }
fn only_mentions() { let _ = "helper() {"; let _c = '{'; }

fn method_only(x: &X) { x.helper(); }

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn marked_root() { indirect(); }

#[test]
fn unmarked_root() {
    let Some(()) = helper() else { return };
}

#[test]
fn plain() { only_mentions(); method_only(&X); }
"#####;
    let funcs = functions(src);
    let names: Vec<&str> = funcs.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "helper",
            "indirect",
            "only_mentions",
            "method_only",
            "marked_root",
            "unmarked_root",
            "plain"
        ]
    );
    let root = root_needing(&funcs);
    assert_eq!(
        root.iter().map(String::as_str).collect::<Vec<_>>(),
        ["helper", "indirect", "marked_root", "unmarked_root"]
    );
    let tests: Vec<(&str, bool)> = funcs
        .iter()
        .filter(|f| f.is_test)
        .map(|f| (f.name.as_str(), f.marked))
        .collect();
    assert_eq!(
        tests,
        [
            ("marked_root", true),
            ("unmarked_root", false),
            ("plain", false)
        ]
    );
}
