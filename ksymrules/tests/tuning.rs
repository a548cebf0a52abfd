//! Tuning statements (`drop`, `opaque`, `omit`, `when unit...`) and the
//! cookbook in `rules/examples/`, checked on real objects against the
//! default rules' output: each changes exactly what it says.
//!
//! The objects are a golden-ko module (x_tables.ko, C) and Linux 7.3's
//! `rust/core.o` from `../shared` (`$KSYMRULES_SHARED`); under `CI` they
//! must be there, elsewhere the tests say loudly that they skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A case directory of the shared golden data (`input.o`, `symbols`).
fn shared(case: &str) -> Option<PathBuf> {
    let base = std::env::var_os("KSYMRULES_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    let dir = base.join(case);
    if dir.join("input.o").is_file() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} is missing, and CI is set", dir.display());
    }
    eprintln!("!!! SKIPPING: {} is missing", dir.display());
    None
}

/// What a run printed: the #SYMVER lines and the symtypes file.
#[derive(PartialEq)]
struct Out {
    symvers: String,
    symtypes: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whole outputs are too long to read in a failure.
        write!(
            f,
            "Out {{ {} symvers lines, {} symtypes lines }}",
            self.symvers.lines().count(),
            self.symtypes.lines().count()
        )
    }
}

fn run(dir: &Path, args: &[&str]) -> Out {
    let tmp = tempfile::tempdir().unwrap();
    let symtypes = tmp.path().join("symtypes");
    let o = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .args(args)
        .arg("-T")
        .arg(&symtypes)
        .arg(dir.join("input.o"))
        .stdin(std::fs::File::open(dir.join("symbols")).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("KSYMRULES_RULES")
        .env_remove("KSYMRULES_KABI")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    Out {
        symvers: String::from_utf8(o.stdout).unwrap(),
        symtypes: std::fs::read_to_string(&symtypes).unwrap(),
    }
}

/// A run with rules written on the spot (layered on the default).
fn with_rules(dir: &Path, statements: &str) -> Out {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("tune.rules");
    std::fs::write(
        &file,
        format!("ksymrules 1\ninclude \"default\"\n{statements}\n"),
    )
    .unwrap();
    run(dir, &["--rules", file.to_str().unwrap()])
}

fn example(name: &str) -> String {
    root()
        .join("rules/examples")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// `text` without every ` ATTR(...)`.
fn strip_attr(text: &str, attr: &str) -> String {
    let pat = format!(" {attr}(");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&pat) {
        out.push_str(&rest[..i]);
        let after = &rest[i + pat.len()..];
        let close = after.find(')').expect("a closing parenthesis");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The symtypes lines that differ: (default, tuned), in order.
fn changed_lines<'a>(a: &'a Out, b: &'a Out) -> Vec<(&'a str, &'a str)> {
    assert_eq!(a.symtypes.lines().count(), b.symtypes.lines().count());
    a.symtypes
        .lines()
        .zip(b.symtypes.lines())
        .filter(|(x, y)| x != y)
        .collect()
}

/// Every CRC that changed belongs to a symbol; the rest are equal.
fn crcs_changed(a: &Out, b: &Out) -> usize {
    a.symvers
        .lines()
        .zip(b.symvers.lines())
        .filter(|(x, y)| x != y)
        .count()
}

#[test]
fn drop_alignment_everywhere() {
    let Some(dir) = shared("golden-ko/x_tables") else {
        return;
    };
    let default = run(&dir, &[]);
    assert!(default.symtypes.contains(" alignment("));
    let tuned = run(&dir, &["--rules", &example("no-alignment.rules")]);
    assert_eq!(tuned.symtypes, strip_attr(&default.symtypes, "alignment"));
    assert!(crcs_changed(&default, &tuned) > 0);
    // The same statement from a kABI-style file.
    let tmp = tempfile::tempdir().unwrap();
    let kabi = tmp.path().join("tune.kabi");
    std::fs::write(&kabi, "ksymrules 1\ndrop alignment\n").unwrap();
    assert_eq!(run(&dir, &["--kabi", kabi.to_str().unwrap()]), tuned);
}

#[test]
fn drop_an_attribute_of_some_tags_in_types_named_by_a_glob() {
    let Some(dir) = shared("golden-ko/x_tables") else {
        return;
    };
    let default = run(&dir, &[]);
    let tuned = with_rules(&dir, "drop data_member_location from member in \"xt_*\"");
    let changed = changed_lines(&default, &tuned);
    assert!(!changed.is_empty());
    for (old, new) in &changed {
        // Only xt_* types change, and only by losing member offsets,
        // in their own members and those of their unnamed nested types.
        assert!(old.starts_with("s#xt_"), "{old}");
        assert_eq!(*new, strip_attr(old, "data_member_location"));
    }
    // Every xt_* type with offsets lost them all.
    for line in tuned.symtypes.lines().filter(|l| l.starts_with("s#xt_")) {
        assert!(!line.contains("data_member_location"), "{line}");
    }
    assert!(crcs_changed(&default, &tuned) > 0);
}

#[test]
fn drop_only_in_units_of_one_language() {
    let (Some(c), Some(rust)) = (
        shared("golden-ko/x_tables"),
        shared("golden-rust/rust_core"),
    ) else {
        return;
    };
    let file = example("rust-no-offsets.rules");
    // A C module: nothing changes.
    assert_eq!(run(&c, &["--rules", &file]), run(&c, &[]));
    // Rust's core: every member offset is gone, nothing else.
    let default = run(&rust, &[]);
    assert!(default.symtypes.contains(" data_member_location("));
    let tuned = run(&rust, &["--rules", &file]);
    assert_eq!(
        tuned.symtypes,
        strip_attr(&default.symtypes, "data_member_location")
    );
    assert!(crcs_changed(&default, &tuned) > 0);
    // The producer and the unit's name can be tested too.
    assert_eq!(
        with_rules(
            &rust,
            "drop data_member_location when unit.producer ~ \"*(rustc version *\""
        ),
        tuned
    );
    assert_eq!(
        with_rules(&c, "drop data_member_location when unit.name ~ \"*.rs\""),
        run(&c, &[])
    );
}

#[test]
fn opaque_types_by_glob() {
    let Some(dir) = shared("golden-ko/x_tables") else {
        return;
    };
    let default = run(&dir, &[]);
    let tuned = run(&dir, &["--rules", &example("opaque-type.rules")]);
    let changed = changed_lines(&default, &tuned);
    assert_eq!(
        changed.len(),
        1,
        "only list_head's own string changes: {changed:?}"
    );
    assert!(changed[0]
        .0
        .starts_with("s#list_head structure_type list_head { member"));
    assert_eq!(changed[0].1, "s#list_head structure_type list_head { }");
    assert!(crcs_changed(&default, &tuned) > 0);
}

#[test]
fn omit_members_by_glob_in_types_by_glob() {
    let Some(dir) = shared("golden-ko/x_tables") else {
        return;
    };
    let default = run(&dir, &[]);
    let tuned = run(&dir, &["--rules", &example("omit-members.rules")]);
    let changed = changed_lines(&default, &tuned);
    assert_eq!(changed.len(), 1, "{changed:?}");
    let (old, new) = changed[0];
    assert!(old.starts_with("s#list_head "));
    // The member `next` is gone, with the separator after it.
    let next = "member pointer_type { s#list_head } byte_size(8) next data_member_location(0) , ";
    assert!(old.contains(next), "{old}");
    assert_eq!(new, old.replace(next, ""));
    // Enumerators, everywhere: each enumeration loses exactly its NF*
    // enumerators.
    let tuned = with_rules(&dir, "omit enumerator \"NF*\"");
    let changed = changed_lines(&default, &tuned);
    assert!(!changed.is_empty());
    for (old, new) in changed {
        assert!(old.starts_with("e#"), "{old}");
        let open = old.find("{ ").unwrap() + 2;
        let close = old.rfind(" }").unwrap();
        let kept: Vec<&str> = old[open..close]
            .split(" , ")
            .filter(|item| !item.starts_with("enumerator NF"))
            .collect();
        let expected = if kept.is_empty() {
            // An empty list prints as `{ }`.
            format!("{}{}", &old[..open], &old[close + 1..])
        } else {
            format!("{}{}{}", &old[..open], kept.join(" , "), &old[close..])
        };
        assert_eq!(new, expected);
    }
}

#[test]
fn the_distribution_example_combines_them() {
    let (Some(c), Some(rust)) = (
        shared("golden-ko/x_tables"),
        shared("golden-rust/rust_core"),
    ) else {
        return;
    };
    let file = example("distribution.rules");
    // On C: alignment gone from what opaque + omit give.
    let partial = with_rules(&c, "opaque \"list_head\"\nomit enumerator \"NF*\"");
    assert_eq!(
        run(&c, &["--rules", &file]).symtypes,
        strip_attr(&partial.symtypes, "alignment")
    );
    // On Rust: alignment and member offsets gone.
    let default = run(&rust, &[]);
    assert_eq!(
        run(&rust, &["--rules", &file]).symtypes,
        strip_attr(
            &strip_attr(&default.symtypes, "alignment"),
            "data_member_location"
        )
    );
}

#[test]
fn every_example_loads_and_says_what_it_does() {
    let dir = root().join("rules/examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# "),
            "{} starts with a comment saying what it does",
            path.display()
        );
        ksymrules_grammar::load_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n >= 5);
}

#[test]
fn a_statement_that_changes_nothing_is_an_error() {
    for (text, message) in [
        (
            "drop alignment from subrange_type",
            "`drop alignment`: no rule of these tags uses it",
        ),
        (
            "omit parameter \"x\" in \"foo\"",
            "`omit`: no rule of a named type describes `formal_parameter` children",
        ),
        (
            "drop byte_size from lexical_block",
            "`drop ... from lexical_block`: no rule describes that tag",
        ),
    ] {
        let full = format!("ksymrules 1\ninclude \"default\"\n{text}\n");
        let err = ksymrules_grammar::load_str("t.rules", &full).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert_eq!(err.message, message);
    }
}

#[test]
fn check_rules_reports_what_finds_nothing_in_the_objects() {
    let (Some(a), Some(b)) = (shared("golden-ko/x_tables"), shared("golden-ko/vsock")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("tune.rules");
    std::fs::write(
        &rules,
        "ksymrules 1\ninclude \"default\"\n\
         drop alignment\n\
         opaque \"sk_bfu*\", \"list_head\"\n\
         omit member \"*next*\" in \"list_head\"\n\
         omit enumerator \"NO_SUCH_*\"\n\
         drop data_member_location from member in \"no_such_type\"\n",
    )
    .unwrap();
    let kabi = tmp.path().join("t.kabi");
    std::fs::write(
        &kabi,
        "ksymrules 1\nkabi declonly \"list_head\"\nkabi declonly \"hidden_def\"\n\
         kabi type_string \"nope_sym\" \"x\"\nkabi type_string \"s#list_head\" \"x\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .arg("check-rules")
        .arg("--kabi")
        .arg(&kabi)
        .arg("--objects")
        .arg(a.join("input.o"))
        .arg(b.join("input.o"))
        .arg("--")
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let stderr = String::from_utf8(o.stderr).unwrap();
    let (r, k) = (rules.display(), kabi.display());
    let expected = [
        format!("warning: {r}:4:8: glob \"sk_bfu*\" matched no type in 2 objects"),
        format!("warning: {r}:6:6: glob \"NO_SUCH_*\" matched no enumerator in 2 objects"),
        format!("warning: {r}:7:6: glob \"no_such_type\" matched no type in 2 objects"),
        format!("warning: {k}:3:6: kABI target \"hidden_def\" matched no type in 2 objects"),
        format!("warning: {k}:4:6: kABI target \"nope_sym\" matched no symbol in 2 objects"),
        format!(
            "check-rules: {r}: 5 tuning statements, 4 kABI rules, looked for in 2 objects: 5 warnings"
        ),
    ];
    assert_eq!(stderr.lines().collect::<Vec<_>>(), expected, "{stderr}");

    // A file with an error fails, with the error shown.
    std::fs::write(&rules, "ksymrules 1\nopaque list_head\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .args(["check-rules", rules.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr)
        .starts_with(&format!("error: {r}:2:8: expected a string")));
}

/// `--explain`: the pieces put together are the strings the symtypes
/// file holds, and each piece names a DIE and, where a rule printed it,
/// the rule's line.
#[test]
fn explained_pieces_make_the_symtypes_strings() {
    let vendored = root().join("corpus/golden/basic/gcc-dwarf5");
    let mut cases = vec![(vendored, "wire_buf".to_string())];
    if let Some(dir) = shared("golden-ko/x_tables") {
        cases.push((dir, "xt_register_match".to_string()));
    }
    for (dir, symbol) in cases {
        let tuned = run(&dir, &[]);
        let lines: std::collections::BTreeMap<&str, &str> = tuned
            .symtypes
            .lines()
            .filter_map(|l| l.split_once(' '))
            .collect();
        let o = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
            .args(["--explain", &symbol])
            .arg(dir.join("input.o"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8(o.stdout).unwrap();
        let crc = tuned
            .symvers
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#SYMVER {symbol} ")))
            .unwrap();
        assert!(text.starts_with(&format!("{symbol} {crc} in ")), "{text}");
        // Sections: a header line, then one line per piece: the piece as a
        // Rust string literal, the rule (or -), the DIE.
        let mut checked = 0;
        for section in text.split("\n\n").skip(1) {
            let mut it = section.lines();
            let name = it.next().unwrap().split(' ').next().unwrap();
            let mut joined = String::new();
            for line in it {
                let line = line.trim_start();
                // The literal ends at the first `"` not escaped.
                let mut end = 1;
                let b = line.as_bytes();
                while b[end] != b'"' {
                    end += if b[end] == b'\\' { 2 } else { 1 };
                }
                let literal = &line[1..end];
                joined.push_str(&literal.replace("\\\"", "\"").replace("\\\\", "\\"));
                let rest = line[end + 1..].trim_start();
                assert!(
                    rest.starts_with("- ")
                        || rest.contains(".rules")
                        || rest.starts_with("<default rules>:"),
                    "{line}"
                );
                assert!(rest.contains(" 0x"), "{line}");
            }
            assert_eq!(Some(&joined.as_str()), lines.get(name), "{name}");
            checked += 1;
        }
        assert!(checked >= 2, "{text}");
    }
}
