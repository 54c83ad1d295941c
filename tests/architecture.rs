//! The shape of `src/diagnose/` and of `src/run.rs`, checked from the source text:
//!
//! * no rule module refers to another rule module: rules import only the shared modules
//!   (`finding`, `view`, `util`, `testdata` at the root, and their own folder's `util` and
//!   `testdata`) and the root's re-exported finding types; their tests may also call the walks
//!   (the folders' `mod.rs`, `certificate`, `merge`, ...);
//! * the shared modules import no rule and no walk;
//! * `src/run.rs` names nothing in `diagnose::` but the entry point (`diagnose`, `Evidence`,
//!   `Diagnosis`), and calls it;
//! * no file under `src/diagnose/` is longer than [`MAX_LINES`].
//!
//! The checks are plain functions over file contents, so the self-tests at the bottom show that
//! each one fails on a bad tree, not only that the real tree passes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines a reader can hold: the limit for every file under `src/diagnose/`, tests included.
const MAX_LINES: usize = 500;

/// Modules at the root of `diagnose` that run or finish the walk: not rules.
const ROOT_WALKS: &[&str] = &["certificate", "merge", "rank", "wanted"];

/// Names of shared modules (at the root, or a folder's own).
const SHARED: &[&str] = &["finding", "view", "util", "testdata"];

/// Items of the root module a rule may name: the re-exported finding types.
const ROOT_ITEMS: &[&str] = &["Code", "Finding", "Proof", "Severity", "DOCS_BASE"];

/// What `src/run.rs` may name in `diagnose::`.
const ENTRY: &[&str] = &["diagnose", "Evidence", "Diagnosis", "self"];

type Module = Vec<String>;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Kind {
    /// The root `mod.rs`, a folder's `mod.rs`, or one of [`ROOT_WALKS`].
    Walk,
    /// finding, view, util, testdata (root or a folder's).
    Shared,
    Rule,
}

/// The source tree of `diagnose`: module path -> file text. `[]` is `diagnose/mod.rs`,
/// `["probe"]` is `diagnose/probe/mod.rs`, `["probe", "dns"]` is `diagnose/probe/dns.rs`.
type Tree = BTreeMap<Module, String>;

fn kind(tree: &Tree, m: &Module) -> Kind {
    let is_folder = tree.keys().any(|k| k.len() > m.len() && k.starts_with(m));
    match m.as_slice() {
        [] => Kind::Walk,
        _ if is_folder => Kind::Walk,
        [one] if ROOT_WALKS.contains(&one.as_str()) => Kind::Walk,
        [.., last] if SHARED.contains(&last.as_str()) => Kind::Shared,
        _ => Kind::Rule,
    }
}

fn display(m: &[String]) -> String {
    if m.is_empty() {
        "diagnose".to_owned()
    } else {
        format!("diagnose::{}", m.join("::"))
    }
}

/// `text` with comments and string/char literals blanked (line structure kept).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
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
        if b[i..].starts_with(b"//") {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            blank(&mut out, i, end);
            i = end;
        } else if let Some(hashes) = raw_string_at(b, i) {
            let close = format!("\"{}", "#".repeat(hashes));
            let from = i + 2 + hashes;
            let end = text[from..]
                .find(&close)
                .map_or(b.len(), |p| from + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, (j + 1).min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '{'), not a lifetime ('a).
            let len = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..].iter().position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(ch_len + 2)
            };
            match len {
                Some(n) => {
                    blank(&mut out, i, i + n);
                    i += n;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A raw string literal (`r"…"`, `r#"…"#`) starts at `i`: how many `#` it uses.
fn raw_string_at(b: &[u8], i: usize) -> Option<usize> {
    if b[i] != b'r' || (i > 0 && is_ident(b[i - 1])) {
        return None;
    }
    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
    (b.get(i + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// `(code, tests)`: the text before and after the `#[cfg(test)] mod tests {` block.
fn split_tests(text: &str) -> (&str, &str) {
    let mut at = 0;
    while let Some(p) = text[at..].find("#[cfg(test)]") {
        let start = at + p;
        let rest = text[start + "#[cfg(test)]".len()..].trim_start();
        let rest = rest
            .strip_prefix("pub(crate) ")
            .or_else(|| rest.strip_prefix("pub(super) "))
            .or_else(|| rest.strip_prefix("pub "))
            .unwrap_or(rest);
        if rest.starts_with("mod tests {") || rest.starts_with("mod tests{") {
            return (&text[..start], &text[start..]);
        }
        at = start + 1;
    }
    (text, "")
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Parse the path starting at `i` (`a::b::{c, d::e}`); returns the expanded paths and the end.
fn parse_path(s: &[u8], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && s[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let mut prefix: Vec<String> = Vec::new();
    loop {
        skip_ws(&mut i);
        if i < s.len() && s[i] == b'{' {
            i += 1;
            let mut all = Vec::new();
            loop {
                skip_ws(&mut i);
                if i >= s.len() || s[i] == b'}' {
                    break;
                }
                let before = i;
                let (paths, end) = parse_path(s, i);
                if end == before {
                    i += 1; // not a path: step over it
                    continue;
                }
                for p in paths {
                    let mut full = prefix.clone();
                    full.extend(p);
                    all.push(full);
                }
                i = end;
                skip_ws(&mut i);
                if i < s.len() && s[i] == b',' {
                    i += 1;
                }
            }
            return (all, (i + 1).min(s.len()));
        }
        let start = i;
        if i < s.len() && s[i] == b'*' {
            i += 1;
        } else {
            while i < s.len() && is_ident(s[i]) {
                i += 1;
            }
        }
        if start == i {
            return (vec![prefix], i);
        }
        prefix.push(String::from_utf8_lossy(&s[start..i]).into_owned());
        let mut j = i;
        skip_ws(&mut j);
        if s[j..].starts_with(b"::") {
            i = j + 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// Every path in `code` that starts with `crate::diagnose`, `super` or `self`.
fn diagnose_paths(code: &str) -> Vec<Vec<String>> {
    let s = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let word_start = i == 0 || !is_ident(s[i - 1]) && s[i - 1] != b':';
        let rest = &s[i..];
        let starts = ["crate", "super", "self"].iter().any(|w| {
            rest.starts_with(w.as_bytes())
                && rest.get(w.len()).is_some_and(|&c| !is_ident(c))
                && code[i + w.len()..].trim_start().starts_with("::")
        });
        if word_start && starts {
            let (paths, end) = parse_path(s, i);
            out.extend(paths.into_iter().filter(|p| {
                p.first().map(String::as_str) != Some("crate")
                    || p.get(1).map(String::as_str) == Some("diagnose")
            }));
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The module a path names (the deepest module it walks into) and the item after it.
fn resolve(tree: &Tree, base: &Module, path: &[String]) -> (Module, Option<String>) {
    let mut m = base.clone();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            m = Vec::new();
            rest = &rest[2.min(rest.len())..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while let Some(first) = rest.first() {
        if first == "super" {
            m.pop();
        } else if first == "self" {
        } else {
            let mut next = m.clone();
            next.push(first.clone());
            if !tree.contains_key(&next) {
                break;
            }
            m = next;
        }
        rest = &rest[1..];
    }
    (m, rest.first().cloned())
}

/// May module `from` (of kind `k`, in its tests or not) refer to `to` (item `item`)?
fn allowed(tree: &Tree, from: &Module, in_tests: bool, to: &Module, item: Option<&str>) -> bool {
    let from_kind = kind(tree, from);
    if from_kind == Kind::Walk || to == from {
        return true;
    }
    let folder = &from[..from.len() - 1];
    let shared_ok = match to.as_slice() {
        [one] => SHARED.contains(&one.as_str()),
        [.., last] => SHARED.contains(&last.as_str()) && &to[..to.len() - 1] == folder,
        [] => item.is_some_and(|i| ROOT_ITEMS.contains(&i)),
    };
    if shared_ok {
        return true;
    }
    // A rule's tests may run the walks (never another rule).
    from_kind == Kind::Rule && in_tests && kind(tree, to) == Kind::Walk
}

/// Every reference in the tree that breaks the layering, as `from -> to (item)`.
fn layering_problems(tree: &Tree) -> Vec<String> {
    let mut problems = Vec::new();
    for (m, text) in tree {
        let (code, tests) = split_tests(text);
        // At the top of the file `super` is the parent of the file's module (a folder's
        // `mod.rs` is the folder's module); inside `mod tests` it is the file's own module.
        let mut tests_base = m.clone();
        tests_base.push("tests".to_owned());
        for (part, base, in_tests) in [(code, m.clone(), false), (tests, tests_base, true)] {
            for path in diagnose_paths(&strip(part)) {
                let (to, item) = resolve(tree, &base, &path);
                if !allowed(tree, m, in_tests, &to, item.as_deref()) {
                    problems.push(format!(
                        "{} ({:?}{}) refers to {} ({:?}): `{}`",
                        display(m),
                        kind(tree, m),
                        if in_tests { ", tests" } else { "" },
                        display(&to),
                        kind(tree, &to),
                        path.join("::")
                    ));
                }
            }
        }
    }
    problems
}

/// What `run.rs` names in `diagnose::` besides the entry point, and whether it calls it.
fn run_problems(run: &str) -> Vec<String> {
    let code = strip(run);
    let s = code.as_bytes();
    let mut problems = Vec::new();
    let mut calls_entry = false;
    let mut i = 0;
    while let Some(p) = code[i..].find("diagnose") {
        let at = i + p;
        let before_ok = at == 0 || !is_ident(s[at - 1]);
        let after = &code[at + "diagnose".len()..];
        if before_ok && after.trim_start().starts_with("::") {
            let (paths, end) = parse_path(s, at);
            for path in paths {
                let name = path.get(1).map_or("", String::as_str);
                if !ENTRY.contains(&name) {
                    problems.push(format!(
                        "src/run.rs names diagnose::{} (only the entry point: {})",
                        path[1..].join("::"),
                        ENTRY[..3].join(", ")
                    ));
                }
                if name == "diagnose" && code[end..].trim_start().starts_with('(') {
                    calls_entry = true;
                }
            }
            i = end.max(at + 1);
        } else {
            i = at + 1;
        }
    }
    if !calls_entry {
        problems.push("src/run.rs does not call diagnose::diagnose".to_owned());
    }
    problems
}

fn diagnose_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnose")
}

fn read_tree(dir: &Path, prefix: &Module, tree: &mut Tree) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/diagnose exists")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            let mut m = prefix.clone();
            m.push(name);
            read_tree(&path, &m, tree);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut m = prefix.clone();
            if stem != "mod" {
                m.push(stem.to_owned());
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            tree.insert(m, text);
        }
    }
}

fn real_tree() -> Tree {
    let mut tree = Tree::new();
    read_tree(&diagnose_dir(), &Vec::new(), &mut tree);
    tree
}

#[test]
fn no_rule_module_uses_another() {
    let tree = real_tree();
    let rules: BTreeSet<String> = tree
        .keys()
        .filter(|m| kind(&tree, m) == Kind::Rule)
        .map(|m| display(m))
        .collect();
    assert!(rules.len() >= 40, "rule modules found: {rules:?}");
    let problems = layering_problems(&tree);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn run_calls_only_the_entry_point() {
    let run = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/run.rs"))
        .expect("src/run.rs");
    let problems = run_problems(&run);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn diagnose_files_stay_small() {
    let long: Vec<String> = real_tree()
        .iter()
        .map(|(m, text)| (display(m), text.lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(m, n)| format!("{m}: {n} lines (at most {MAX_LINES})"))
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}

// Self-tests: each check reports a bad tree.

fn tree(files: &[(&str, &str)]) -> Tree {
    files
        .iter()
        .map(|(m, text)| {
            let m: Module = if m.is_empty() {
                Vec::new()
            } else {
                m.split("::").map(str::to_owned).collect()
            };
            (m, (*text).to_owned())
        })
        .collect()
}

const GOOD: &[(&str, &str)] = &[
    (
        "",
        "pub mod finding;\npub mod probe;\npub mod util;\npub use finding::Code;\n",
    ),
    ("finding", "pub enum Code {}\n"),
    ("util", "use crate::diagnose::finding::Code;\n"),
    (
        "probe",
        "pub mod a;\npub mod b;\npub mod util;\nconst R: &[()] = &[a::a(), b::b()];\n",
    ),
    ("probe::util", "use crate::diagnose::util::x;\n"),
    (
        "probe::a",
        "use super::util::y;\nuse crate::diagnose::{Code, util::x};\nuse super::super::finding::Finding;\n// super::b::b() in a comment\nfn a() { let s = \"super::b\"; }\n\
         #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::diagnose::probe::findings;\n}\n",
    ),
    ("probe::b", "use super::util::{self, y};\nfn b() {}\n"),
];

fn with(files: &[(&str, &str)], module: &str, text: &str) -> Tree {
    let mut t = tree(files);
    let m: Module = module.split("::").map(str::to_owned).collect();
    t.insert(m, text.to_owned());
    t
}

#[test]
fn checks_accept_a_good_tree() {
    assert_eq!(layering_problems(&tree(GOOD)), Vec::<String>::new());
    let t = tree(GOOD);
    assert_eq!(kind(&t, &vec!["probe".to_owned()]), Kind::Walk);
    assert_eq!(kind(&t, &vec!["probe".into(), "util".into()]), Kind::Shared);
    assert_eq!(kind(&t, &vec!["probe".into(), "a".into()]), Kind::Rule);
}

#[test]
fn checks_catch_a_rule_that_uses_another_rule() {
    for bad in [
        "use super::b::b;\n",
        "fn a() { super::b::b(); }\n",
        "use crate::diagnose::probe::{util::y, b};\n",
        "use super::super::probe::b::b;\n",
        "#[cfg(test)]\nmod tests {\n    use super::super::b::b;\n}\n",
    ] {
        let p = layering_problems(&with(GOOD, "probe::a", bad));
        assert_eq!(p.len(), 1, "{bad}: {p:?}");
        assert!(p[0].starts_with("diagnose::probe::a (Rule"), "{p:?}");
        assert!(
            p[0].contains("refers to diagnose::probe::b (Rule)"),
            "{p:?}"
        );
    }
}

#[test]
fn checks_catch_a_rule_that_calls_a_walk_and_a_util_that_uses_a_rule() {
    let p = layering_problems(&with(GOOD, "probe::a", "fn a() { super::R; }\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("refers to diagnose::probe (Walk)"), "{p:?}");
    let p = layering_problems(&with(GOOD, "util", "use crate::diagnose::probe::a;\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    // Another folder's util is not this rule's.
    let mut files = GOOD.to_vec();
    files.push(("joint", "pub mod util;\n"));
    files.push(("joint::util", "\n"));
    let p = layering_problems(&with(
        &files,
        "probe::a",
        "use crate::diagnose::joint::util::z;\n",
    ));
    assert_eq!(p.len(), 1, "{p:?}");
}

#[test]
fn checks_catch_run_naming_more_than_the_entry_point() {
    let good = "use crate::diagnose::{self, Diagnosis, Evidence};\n\
                fn f() { let d: Diagnosis = diagnose::diagnose(&Evidence {}); } // diagnose::rank\n";
    assert_eq!(run_problems(good), Vec::<String>::new());
    let bad = format!("{good}fn g() {{ diagnose::rank::rank(&mut v); }}\n");
    assert_eq!(run_problems(&bad).len(), 1, "{:?}", run_problems(&bad));
    let bad = good.replace(
        "{self, Diagnosis, Evidence}",
        "{self, merge, Diagnosis, Evidence}",
    );
    assert_eq!(run_problems(&bad).len(), 1, "{:?}", run_problems(&bad));
    let uncalled = "use crate::diagnose::Evidence;\n";
    assert_eq!(
        run_problems(uncalled),
        ["src/run.rs does not call diagnose::diagnose"]
    );
}

#[test]
fn strip_blanks_comments_and_strings_only() {
    let s =
        strip("a // super::x\nb \"super::y\" 'c' '\\n' r#\"super::z\"# fn f<'a>(x: &'a u8) {}\n");
    assert!(!s.contains("super"), "{s}");
    assert!(s.contains("fn f<'a>(x: &'a u8) {}"), "{s}");
    assert_eq!(s.lines().count(), 2);
    assert_eq!(
        diagnose_paths(
            "use crate::diagnose::{self, a::{b, c}};\nuse crate::evidence::X;\nsuper :: d::e();"
        ),
        vec![
            vec!["crate", "diagnose", "self"],
            vec!["crate", "diagnose", "a", "b"],
            vec!["crate", "diagnose", "a", "c"],
            vec!["super", "d", "e"],
        ]
    );
}
