//! The rules file is the only home of the type-string format: the same
//! binary, given an edited copy of the default rules, prints strings edited
//! the same way. Expected outputs are derived from gendwarfksyms' own output
//! (the vendored golden data) by the textual edit the rule change implies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ksymrules")
}

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/golden")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rules-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(args: &[&str], stdin_file: &Path) -> Output {
    let out = Command::new(bin())
        .args(args)
        .stdin(Stdio::from(std::fs::File::open(stdin_file).unwrap()))
        .output()
        .unwrap();
    out
}

/// Runs ksymrules on a golden case with `rules` and returns (symvers lines
/// sorted, symtypes, version lines sorted).
fn outputs(case_dir: &Path, rules: Option<&Path>, tag: &str) -> (Vec<String>, String, Vec<String>) {
    let symtypes = tmp(&format!("{tag}.symtypes"));
    let input = case_dir.join("input.o");
    let mut args = vec!["--dump-versions", "-T", symtypes.to_str().unwrap()];
    if let Some(r) = rules {
        args.push("--rules");
        args.push(r.to_str().unwrap());
    }
    args.push(input.to_str().unwrap());
    let out = run(&args, &case_dir.join("symbols"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let symvers = sorted_lines(&out.stdout);
    let mut versions: Vec<String> = String::from_utf8(out.stderr)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("warning: "))
        .map(String::from)
        .collect();
    versions.sort();
    (
        symvers,
        std::fs::read_to_string(&symtypes).unwrap(),
        versions,
    )
}

/// The lines of a command's output, sorted.
fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn read_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Removes every ` <attr>(<digits>)` from `s`.
fn strip_attr(s: &str, attr: &str) -> String {
    let pat = format!(" {attr}(");
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(&pat) {
        let after = &rest[i + pat.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after.as_bytes().get(digits) == Some(&b')') {
            out.push_str(&rest[..i]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..i + pat.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `#SYMVER` lines from version lines (`name string`), CRCs computed here.
fn symvers_from_versions(versions: &[String]) -> Vec<String> {
    let mut v: Vec<String> = versions
        .iter()
        .map(|l| {
            let (name, s) = l.split_once(' ').unwrap();
            format!("#SYMVER {name} 0x{:08x}", crc32fast::hash(s.as_bytes()))
        })
        .collect();
    v.sort();
    v
}

fn default_rules_text() -> String {
    let out = Command::new(bin()).arg("--print-rules").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Edits the default rules, runs them on `case_name`, and checks every
/// output against the golden one with `attr` stripped.
fn check_without_attr(case_name: &str, edit: impl Fn(&str) -> String, attr: &str) {
    let dir = case(case_name);
    let rules = tmp(&format!("no-{attr}-{}.rules", case_name.replace('/', "-")));
    let text = edit(&default_rules_text());
    std::fs::write(&rules, text).unwrap();
    let (symvers, symtypes, versions) = outputs(
        &dir,
        Some(&rules),
        &format!("no-{attr}-{}", case_name.replace('/', "-")),
    );

    let golden_versions: Vec<String> = read_lines(&dir.join("expected/versions"))
        .iter()
        .map(|l| strip_attr(l, attr))
        .collect();
    let mut golden_versions_sorted = golden_versions.clone();
    golden_versions_sorted.sort();
    assert_eq!(versions, golden_versions_sorted, "version strings");
    assert_eq!(symvers, symvers_from_versions(&golden_versions), "CRCs");
    let golden_symtypes = std::fs::read_to_string(dir.join("expected/symtypes")).unwrap();
    let mut expected: Vec<String> = golden_symtypes
        .lines()
        .map(|l| strip_attr(l, attr))
        .collect();
    expected.sort();
    let got: Vec<&str> = symtypes.lines().collect();
    assert_eq!(got, expected, "symtypes");
    // And the edit really changed something.
    let default_symvers = read_lines(&dir.join("expected/symvers"));
    assert_ne!(symvers, default_symvers, "the edit should change some CRCs");
}

#[test]
fn members_without_data_member_location() {
    for c in ["basic/gcc-dwarf5", "basic/clang-dwarf4", "rust/rustc-debug"] {
        check_without_attr(
            c,
            |t| {
                let edited = t.replace("\n    attr(data_member_location)\n", "\n");
                assert_ne!(
                    edited, t,
                    "the default rules changed shape; update this test"
                );
                edited
            },
            "data_member_location",
        );
    }
}

#[test]
fn no_alignment_anywhere() {
    for c in ["basic/gcc-dwarf5", "rust/rustc-opt"] {
        check_without_attr(
            c,
            |t| {
                let edited = t.replace(" attr(alignment)", "");
                assert_ne!(
                    edited, t,
                    "the default rules changed shape; update this test"
                );
                edited
            },
            "alignment",
        );
    }
}

#[test]
fn printed_rules_read_back_give_identical_results() {
    let rules = tmp("printed.rules");
    std::fs::write(&rules, default_rules_text()).unwrap();
    for c in [
        "basic/gcc-dwarf5",
        "multicu/aarch64",
        "rust/rustc-opt",
        "reentry-more/gcc-dwarf4",
        "symptr/clang-dwarf5",
    ] {
        let dir = case(c);
        let tag = c.replace('/', "-");
        let a = outputs(&dir, None, &format!("default-{tag}"));
        let b = outputs(&dir, Some(&rules), &format!("printed-{tag}"));
        assert_eq!(a, b, "{c}");
        let mut golden = read_lines(&dir.join("expected/symvers"));
        golden.sort();
        assert_eq!(a.0, golden, "{c} matches gendwarfksyms");
    }
}

#[test]
fn a_bad_rules_file_is_refused_with_its_position() {
    let rules = tmp("bad.rules");
    let text = default_rules_text().replace("attr(encoding)", "attr(encodnig)");
    std::fs::write(&rules, &text).unwrap();
    let line = text.lines().position(|l| l.contains("encodnig")).unwrap() + 1;
    let col = text
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("encodnig")
        .unwrap()
        + 1;
    let dir = case("basic/gcc-dwarf5");
    let out = run(
        &[
            "--rules",
            rules.to_str().unwrap(),
            dir.join("input.o").to_str().unwrap(),
        ],
        &dir.join("symbols"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    // The first line as editors parse it, then the source line with carets
    // under the name.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "error: {}:{line}:{col}: unknown DWARF attribute `encodnig` (did you mean `encoding`?)",
            rules.display()
        )
    );
    let shown = lines
        .iter()
        .position(|l| l.starts_with(&format!("{line} |")) && l.contains("encodnig"))
        .unwrap_or_else(|| panic!("no source line in {stderr}"));
    let carets = lines[shown + 1];
    let at = lines[shown].find("encodnig").unwrap();
    assert_eq!(&carets[at..at + 8], "^^^^^^^^", "{stderr}");
}

#[test]
fn a_missing_rules_file_is_an_error() {
    let dir = case("basic/gcc-dwarf5");
    let out = run(
        &[
            "--rules",
            "/nonexistent/x.rules",
            dir.join("input.o").to_str().unwrap(),
        ],
        &dir.join("symbols"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: /nonexistent/x.rules:"), "{err}");
}

#[test]
fn a_layered_rules_file_overrides_one_rule() {
    // A distribution's file: the default, with enumerator values left out.
    let rules = tmp("layered.rules");
    std::fs::write(
        &rules,
        "ksymrules 1\ninclude \"default\"\n\
         type enumerator {\n    separator { \" ,\" newline }\n    \"enumerator\" qualified()\n}\n",
    )
    .unwrap();
    let dir = case("enums/gcc-dwarf5");
    let (_, symtypes, _) = outputs(&dir, Some(&rules), "layered");
    let golden = std::fs::read_to_string(dir.join("expected/symtypes")).unwrap();
    // Every ` = <number>` after an enumerator name disappears.
    let strip = |l: &str| -> String {
        let mut out = String::new();
        let mut parts = l.split(" = ");
        out.push_str(parts.next().unwrap());
        for p in parts {
            let digits = p.bytes().take_while(u8::is_ascii_digit).count();
            out.push_str(&p[digits..]);
        }
        out
    };
    let mut expected: Vec<String> = golden.lines().map(strip).collect();
    expected.sort();
    assert_eq!(symtypes.lines().collect::<Vec<_>>(), expected);
    assert!(golden.contains(" = "), "the case has enumerator values");
}

#[test]
fn following_type_units_gives_the_crcs_of_a_build_without_them() {
    // gendwarfksyms does not follow type units, so `-fdebug-types-section`
    // changes its CRCs. With `follow_type_units`, ksymrules gives the CRCs
    // gendwarfksyms computes for the same program built without them.
    let rules = tmp("follow.rules");
    std::fs::write(
        &rules,
        "ksymrules 1\ninclude \"default\"\nset follow_type_units = true\n",
    )
    .unwrap();
    let mut changed = 0;
    for c in ["basic", "kabi", "multicu"] {
        for (types, plain) in [
            ("gcc-types4", "gcc-dwarf4"),
            ("gcc-types5", "gcc-dwarf5"),
            ("clang-types5", "clang-dwarf5"),
        ] {
            let dir = case(&format!("{c}/{types}"));
            let (symvers, symtypes, _) =
                outputs(&dir, Some(&rules), &format!("follow-{c}-{types}"));
            let plain_dir = case(&format!("{c}/{plain}"));
            let mut golden = read_lines(&plain_dir.join("expected/symvers"));
            golden.sort();
            assert_eq!(symvers, golden, "{c}/{types} vs {c}/{plain}");
            let golden_symtypes =
                std::fs::read_to_string(plain_dir.join("expected/symtypes")).unwrap();
            assert_eq!(symtypes, golden_symtypes, "{c}/{types} symtypes");
            // Without following, the CRCs differ (the gendwarfksyms quirk).
            let mut own = read_lines(&dir.join("expected/symvers"));
            own.sort();
            changed += usize::from(own != golden);
        }
    }
    assert!(
        changed > 0,
        "type units should change some CRCs without following"
    );
}

/// The first ```kabi block of docs/kabi.md: the documented example is the
/// one tested.
fn documented_kabi_file() -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/kabi.md"))
            .unwrap();
    let start = doc
        .find("```kabi\n")
        .expect("docs/kabi.md has a ```kabi block")
        + "```kabi\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

/// A copy of `obj` whose kABI rules section can no longer be found (its
/// name is changed in place, which works for every architecture).
fn without_kabi_section(obj: &Path, out: &Path) {
    let mut bytes = std::fs::read(obj).unwrap();
    let name = b".discard.gendwarfksyms.kabi_rules\0";
    let mut found = 0;
    let mut i = 0;
    while i + name.len() <= bytes.len() {
        if &bytes[i..i + name.len()] == name {
            bytes[i + name.len() - 2] = b'X';
            found += 1;
        }
        i += 1;
    }
    assert!(found > 0, "{} has no kABI rules section", obj.display());
    std::fs::write(out, bytes).unwrap();
}

#[test]
fn kabi_rules_from_a_file_equal_those_from_the_object() {
    let kabi = tmp("distro.kabi");
    std::fs::write(&kabi, documented_kabi_file()).unwrap();
    let mut cases = 0;
    for entry in std::fs::read_dir(case("kabi")).unwrap() {
        let dir = entry.unwrap().path();
        let variant = dir.file_name().unwrap().to_string_lossy().into_owned();
        let stripped = tmp(&format!("kabi-{variant}.o"));
        without_kabi_section(&dir.join("input.o"), &stripped);
        let symtypes = tmp(&format!("kabi-{variant}.symtypes"));
        let args = [
            "--stable",
            "--kabi",
            kabi.to_str().unwrap(),
            "-T",
            symtypes.to_str().unwrap(),
            stripped.to_str().unwrap(),
        ];
        let out = run(&args, &dir.join("symbols"));
        assert!(
            out.status.success(),
            "{variant}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let symvers = sorted_lines(&out.stdout);
        let golden = dir.join("expected/stable");
        assert_eq!(
            symvers,
            read_lines(&golden.join("symvers")),
            "{variant} CRCs"
        );
        assert_eq!(
            std::fs::read_to_string(&symtypes).unwrap(),
            std::fs::read_to_string(golden.join("symtypes")).unwrap(),
            "{variant} symtypes"
        );
        // Without the file, the stripped object versions like a plain run
        // but for the __kabi_ conventions, which need no rules: the CRCs
        // of symbols using the rules differ.
        let plain = run(
            &["--stable", stripped.to_str().unwrap()],
            &dir.join("symbols"),
        );
        let plain_symvers = sorted_lines(&plain.stdout);
        assert_ne!(plain_symvers, symvers, "{variant}: the rules matter");
        cases += 1;
    }
    assert!(cases >= 16, "{cases} kabi variants");
}

#[test]
fn kabi_files_hold_only_kabi_and_tuning_statements() {
    let kabi = tmp("bad.kabi");
    std::fs::write(
        &kabi,
        "ksymrules 1\nkabi declonly \"x\"\ntype base_type { \"b\" }\n",
    )
    .unwrap();
    let dir = case("kabi/gcc-dwarf5");
    let out = run(
        &[
            "--stable",
            "--kabi",
            kabi.to_str().unwrap(),
            dir.join("input.o").to_str().unwrap(),
        ],
        &dir.join("symbols"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        format!(
            "error: {}:3:6: a kABI file holds only `kabi`, `drop`, `opaque` and `omit` statements (use --rules for other rules)",
            kabi.display()
        )
    );
    std::fs::write(&kabi, "ksymrules 1\nkabi byte_size \"grown\" \"16\"\n").unwrap();
    let out = run(
        &[
            "--stable",
            "--kabi",
            kabi.to_str().unwrap(),
            dir.join("input.o").to_str().unwrap(),
        ],
        &dir.join("symbols"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(":2:6: kabi byte_size takes a type name and a size"),
        "{err}"
    );
}

#[test]
fn bad_kabi_rule_data_names_the_object_the_offset_and_the_problem() {
    let dir = case("kabi/gcc-dwarf5");
    let mut bytes = std::fs::read(dir.join("input.o")).unwrap();
    let rule = b"1\0declonly\0";
    let at = bytes
        .windows(rule.len())
        .position(|w| w == rule)
        .expect("a declonly record");
    bytes[at + 2 + "declonly".len() - 1] = b'x';
    let obj = tmp("bad-kabi.o");
    std::fs::write(&obj, &bytes).unwrap();
    let out = run(&["--stable", obj.to_str().unwrap()], &dir.join("symbols"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!(
            "error: {}: .discard.gendwarfksyms.kabi_rules: kABI rules at offset 0x",
            obj.display()
        )),
        "{err}"
    );
    assert!(err.ends_with(": unknown rule type \"declonlx\"\n"), "{err}");
    // Without --stable the section is not read, as in gendwarfksyms.
    let out = run(&[obj.to_str().unwrap()], &dir.join("symbols"));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_name_read_by_a_child_condition_does_not_name_the_parent() {
    // The members' names are read (by the condition) before the structure's
    // own: the structures must still be named after themselves.
    let rules = tmp("child-names.rules");
    std::fs::write(
        &rules,
        "ksymrules 1\ninclude \"default\"\n\
         type structure_type {\n\
         \x20   \"structure_type {\" indent\n\
         \x20   if expanded {\n\
         \x20       each child {\n\
         \x20           member if fqn == \"no such member\" => skip\n\
         \x20           member => describe\n\
         \x20           * => skip\n\
         \x20       }\n\
         \x20   }\n\
         \x20   dedent \"}\" qualified()\n\
         }\n",
    )
    .unwrap();
    let dir = case("basic/gcc-dwarf5");
    let (_, symtypes, _) = outputs(&dir, Some(&rules), "child-names");
    let golden = std::fs::read_to_string(dir.join("expected/symtypes")).unwrap();
    let names = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .lines()
            .filter_map(|l| l.split(' ').next())
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert!(golden.contains("s#"), "the case has structures");
    assert_eq!(names(&symtypes), names(&golden));
}
