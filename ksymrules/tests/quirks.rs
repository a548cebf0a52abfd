//! `--report-quirks`: each kind on its minimal object (`corpus/quirks/<kind>/`)
//! and nowhere else there; versions and symtypes unchanged by the report;
//! and `docs/gendwarfksyms-semantics.md`, generated from these objects and
//! from what the golden objects report (`UPDATE_SEMANTICS_DOC=1` rewrites
//! it; the test fails when it is stale).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

const DOC: &str = "docs/gendwarfksyms-semantics.md";

/// The kinds, as the report names them, and what each means.
const KINDS: &[(&str, &str)] = &[
    (
        "re-entrance",
        "A DIE is reached again while its string is being built (a `subroutine_type` \
         whose parameters lead back to it through a structure expanded for the first \
         time). gendwarfksyms builds a second string and uses it, and that one lacks \
         the list separator before the parameter the recursion went through. Which \
         DIE is reached first depends on the exports listed, so an export's CRC can \
         change when another export is added or removed.",
    ),
    (
        "type-map-tie",
        "Two strings of one length for one type name (two units defining `struct conf` \
         differently). gendwarfksyms keeps the longest string per name and, between \
         equals, the one its hash table meets first: an order of memory addresses, not \
         reproducible. ksymrules keeps the first one met in DIE order.",
    ),
    (
        "shared-address",
        "Exports at one address are aliases: the first one's DIE describes them all and \
         they get one CRC, even when their own DIEs have different types (a zero-sized \
         object placed at the next object's address; identical functions folded into \
         one).",
    ),
    (
        "type-units",
        "With `-fdebug-types-section`, types live in type units and are referred to by \
         signature (`DW_FORM_ref_sig8`); gendwarfksyms prints such a reference as \
         `base_type void`, so those types never change a version. ksymrules says so \
         with a warning even without `--report-quirks`.",
    ),
    (
        "declaration-first",
        "The first DIE whose name matches describes the export, declarations included: \
         a unit that only calls a function (a declaration without parameter names), \
         linked before the unit that defines it, decides the function's CRC.",
    ),
    (
        "symbol-pointer",
        "An export with no DIE of its own (defined in assembly) is described from the \
         `__gendwarfksyms_ptr_<name>` pointer the export macro leaves: a function as a \
         `subprogram` whose parameters have no names.",
    ),
    (
        "wrong-die",
        "First DIE wins by name alone: a `static` variable of an earlier unit that \
         shares an exported function's name describes the function (Debian's 6.1 \
         vmlinux: the export `kern_path` is described by `static struct ctl_path \
         kern_path[]` of `kernel/pid_namespace.c`).",
    ),
    (
        "ignored-attribute",
        "The compiler emitted a layout attribute the rules never read for that tag, so \
         a change there changes no version (clang's DWARF 4 bit-fields are placed with \
         `DW_AT_bit_offset`, which gendwarfksyms does not print; gcc puts \
         `DW_AT_alignment` on members with an `aligned` attribute).",
    ),
];

struct Run {
    stdout: String,
    stderr: String,
    symtypes: String,
}

fn run(object: &Path, symbols: &Path, quirks: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("out.symtypes");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ksymrules"));
    if quirks {
        cmd.arg("--report-quirks");
    }
    let out = cmd
        .arg("-T")
        .arg(&t)
        .arg(object)
        .env_remove("KSYMRULES_RULES")
        .env_remove("KSYMRULES_KABI")
        .stdin(Stdio::from(std::fs::File::open(symbols).unwrap()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", object.display());
    Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        symtypes: std::fs::read_to_string(&t).unwrap_or_default(),
    }
}

/// The kinds a run reported, with their lines (the file name left out).
fn quirks(r: &Run) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in r.stderr.lines() {
        let Some(rest) = l.strip_prefix("quirk: ") else {
            continue;
        };
        // quirk: FILE: KIND: what
        let mut parts = rest.splitn(3, ": ");
        let (_, kind, what) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        out.entry(kind.to_string())
            .or_default()
            .push(what.to_string());
    }
    out
}

/// Objects with their symbol lists: the corpus's golden cases, and the
/// shared golden sets when they are there.
fn golden() -> Vec<(String, PathBuf, PathBuf)> {
    let ws = workspace();
    let mut out = Vec::new();
    let mut add = |label: String, dir: PathBuf| {
        let (o, s) = (dir.join("input.o"), dir.join("symbols"));
        // Cases where gendwarfksyms stops with an error have no quirks.
        let fails =
            std::fs::read_to_string(dir.join("expected/exit")).is_ok_and(|e| e.trim() != "0");
        if o.exists() && s.exists() && !fails {
            out.push((label, o, s));
        }
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(ws.join("corpus/golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let mut variants: Vec<PathBuf> = std::fs::read_dir(&case)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        variants.sort();
        for v in variants {
            let label = format!(
                "corpus/golden/{}/{}",
                case.file_name().unwrap().to_string_lossy(),
                v.file_name().unwrap().to_string_lossy()
            );
            add(label, v);
        }
    }
    let shared = ws.join("../shared");
    for set in ["golden-kbuild", "golden-ko", "golden-rust"] {
        let Ok(entries) = std::fs::read_dir(shared.join(set)) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "../shared/{set} is missing"
            );
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        dirs.sort();
        for d in dirs {
            let label = format!("{set}/{}", d.file_name().unwrap().to_string_lossy());
            add(label, d);
        }
    }
    out
}

#[test]
fn each_kind_on_its_object_and_the_semantics_doc() {
    let ws = workspace();
    let mut doc = String::new();
    doc.push_str(
        "# What gendwarfksyms' versions depend on that you would not expect\n\n\
         <!-- Generated by ksymrules/tests/quirks.rs; do not edit.\n     \
         Regenerate: UPDATE_SEMANTICS_DOC=1 cargo test -p ksymrules --test quirks --release -->\n\n\
         `ksymrules --report-quirks` names, object by object, each place where the\n\
         version gendwarfksyms computes (and the default rules reproduce) depends on\n\
         something a user would not expect: one `quirk: <file>: <kind>: <what>` line\n\
         on stderr each. Versions and symtypes are the same with or without it.\n\
         `ksymrules compare --report-quirks` adds both sides' quirks to its report.\n\n\
         Each kind below has a minimal program in `corpus/quirks/<kind>/`\n\
         (`corpus/quirks/build.sh` builds it), the versions it gets, and what the\n\
         report says on it; the test checks that each object reports its own kind\n\
         and no other.\n\n",
    );
    let mut failures = Vec::new();
    for (kind, meaning) in KINDS {
        let dir = ws.join("corpus/quirks").join(kind);
        let (obj, syms) = (dir.join("input.o"), dir.join("symbols"));
        let with = run(&obj, &syms, true);
        let without = run(&obj, &syms, false);
        if with.stdout != without.stdout || with.symtypes != without.symtypes {
            failures.push(format!("{kind}: --report-quirks changed the output"));
        }
        let found = quirks(&with);
        let kinds: Vec<&String> = found.keys().collect();
        if kinds != [kind] {
            failures.push(format!("corpus/quirks/{kind}: reports {kinds:?}"));
        }
        let _ = writeln!(doc, "## `{kind}`\n\n{meaning}\n");
        let cc = std::fs::read_to_string(dir.join("cc"))
            .unwrap_or_else(|_| "gcc -g -gdwarf-5 -O0".into());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "c" || x == "h"))
            .collect();
        files.sort_by_key(|p| (p.extension().unwrap() == "c", p.clone()));
        let _ = writeln!(
            doc,
            "`corpus/quirks/{kind}/`, built with `{}`:\n",
            cc.trim()
        );
        for f in files {
            let _ = writeln!(
                doc,
                "```c\n/* {} */\n{}```\n",
                f.file_name().unwrap().to_string_lossy(),
                std::fs::read_to_string(&f).unwrap()
            );
        }
        let _ = writeln!(doc, "```\n{}", with.stdout);
        for what in found.values().flatten() {
            let _ = writeln!(doc, "quirk: input.o: {kind}: {what}");
        }
        let _ = writeln!(doc, "```\n");
    }

    // How often each kind occurs in the objects we hold.
    let mut seen: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut quiet = Vec::new();
    let golden = golden();
    for (label, obj, syms) in &golden {
        let r = run(obj, syms, true);
        let found = quirks(&r);
        if found.is_empty() {
            quiet.push(label.clone());
        }
        for (k, lines) in &found {
            let Some((kind, _)) = KINDS.iter().find(|(n, _)| n == k) else {
                failures.push(format!("{label}: unknown kind {k}"));
                continue;
            };
            seen.entry(kind)
                .or_default()
                .push(format!("{label} ({})", lines.len()));
        }
    }
    let _ = writeln!(
        doc,
        "## How often they occur\n\nIn the {} golden objects we hold (`corpus/golden/`, and \
         `../shared/golden-kbuild`, `golden-ko`, `golden-rust`: real kernel objects), the \
         number of quirk lines each object reports:\n",
        golden.len()
    );
    let _ = writeln!(doc, "| kind | objects | which |\n|---|---|---|");
    for (kind, _) in KINDS {
        let list = seen.get(kind).cloned().unwrap_or_default();
        let _ = writeln!(doc, "| `{kind}` | {} | {} |", list.len(), list.join(", "));
    }
    let _ = writeln!(
        doc,
        "\n{} objects report nothing: {}.\n",
        quiet.len(),
        quiet.join(", ")
    );
    let differences = std::fs::read_to_string(ws.join("corpus/differential/known-differences.txt"))
        .unwrap_or_default();
    let listed: BTreeSet<&str> = differences
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    let _ = writeln!(
        doc,
        "## Findings of the differential tests\n\n\
         Random programs are built and versioned by ksymrules and by the real\n\
         gendwarfksyms (`ksymrules/tests/differential.rs`). Where gendwarfksyms crashes,\n\
         the program is kept in `corpus/gendwarfksyms-findings/` and described in\n\
         [gendwarfksyms-findings.md](gendwarfksyms-findings.md); where the two differ\n\
         on purpose, `corpus/differential/known-differences.txt` lists it ({} entries).",
        listed.len()
    );
    let path = ws.join(DOC);
    if std::env::var_os("UPDATE_SEMANTICS_DOC").is_some() {
        std::fs::write(&path, &doc).unwrap();
    } else {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != doc {
            failures.push(format!(
                "{DOC} is stale: UPDATE_SEMANTICS_DOC=1 cargo test -p ksymrules --test quirks --release"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `compare --report-quirks` carries both sides' quirks in its JSON.
#[test]
fn compare_reports_quirks() {
    let dir = workspace().join("corpus/quirks/wrong-die");
    let out = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .args(["compare", "input.o", "input.o", "--symbols", "symbols"])
        .args(["--report-quirks", "--format", "json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let q = r["quirks"].as_array().unwrap();
    let sides: Vec<(&str, &str)> = q
        .iter()
        .map(|x| (x["side"].as_str().unwrap(), x["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(sides, [("old", "wrong-die"), ("new", "wrong-die")]);
    // Without the option: no quirks key.
    let out = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .args([
            "compare",
            "input.o",
            "input.o",
            "--symbols",
            "symbols",
            "--format",
            "json",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r.get("quirks").is_none());
}

/// The minimal objects get from the real gendwarfksyms the versions the
/// semantics document shows (`KSYMRULES_ORACLE`; required under CI). The
/// tie's object is left out: which string gendwarfksyms keeps there depends
/// on memory addresses.
#[test]
fn the_oracle_agrees_on_the_minimal_objects() {
    let Some(oracle) = std::env::var_os("KSYMRULES_ORACLE") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "KSYMRULES_ORACLE is not set under CI"
        );
        eprintln!("!!! SKIPPING: no KSYMRULES_ORACLE");
        return;
    };
    for (kind, _) in KINDS.iter().filter(|(k, _)| *k != "type-map-tie") {
        let dir = workspace().join("corpus/quirks").join(kind);
        let (obj, syms) = (dir.join("input.o"), dir.join("symbols"));
        let out = Command::new(&oracle)
            .arg(&obj)
            .stdin(Stdio::from(std::fs::File::open(&syms).unwrap()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{kind}: the oracle failed");
        let sorted = |s: &str| {
            let mut v: Vec<String> = s.lines().map(str::to_string).collect();
            v.sort();
            v
        };
        let theirs = sorted(&String::from_utf8_lossy(&out.stdout));
        let ours = sorted(&run(&obj, &syms, false).stdout);
        assert_eq!(ours, theirs, "{kind}");
    }
}
