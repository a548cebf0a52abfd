//! ksymrules (DWARF, default rules) checked against genksyms (the kernel's
//! source-based tool) on C code.
//!
//! - `corpus_snapshots`: every program of `corpus/c/programs/` through
//!   genksyms and through ksymrules on its gcc and clang objects; insta
//!   snapshots of the CRCs, genksyms' symtypes and ksymrules' versions.
//! - `change_classes_table`: every class of `corpus/c/changes/` (a base and
//!   a changed program) through both tools; the table of which tool saw the
//!   change must equal `docs/genksyms-vs-dwarf.md` (`UPDATE_GENKSYMS_TABLE=1`
//!   rewrites it).
//! - `prop_*`: random C programs and random changes drawn from the classes:
//!   both tools are deterministic, and every change genksyms sees is seen by
//!   ksymrules unless the table lists its class as a known disagreement.
//!
//! Needs gcc, clang and genksyms (Debian's linux-kbuild-6.1). When one is
//! missing the tests print SKIPPING and pass, unless `CI` is set: then they
//! fail.

#[path = "genksyms/cgen.rs"]
mod cgen;
#[path = "genksyms/table.rs"]
mod table;
#[path = "genksyms/tools.rs"]
mod tools;

use std::fmt::Write as _;
use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use tools::{Compiler, Tools};

// ---------------------------------------------------------------------------
// Snapshots of the corpus programs

fn programs_dir() -> PathBuf {
    tools::corpus_c().join("programs")
}

/// `corpus/c/programs/*.c`, sorted.
fn programs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(programs_dir())
        .expect("corpus/c/programs")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    v.sort();
    v
}

fn write_crcs(s: &mut String, crcs: &[(String, u32)]) {
    for (name, crc) in crcs {
        writeln!(s, "#SYMVER {name} 0x{crc:08x}").unwrap();
    }
}

/// The snapshot text of one program: genksyms' CRCs and symtypes, then
/// ksymrules' CRCs and versions for gcc, then for clang (or a line saying
/// clang gave the same).
fn snapshot_text(rel: &str, out: &tools::BothOut) -> String {
    let mut s = String::new();
    writeln!(s, "source: {rel}").unwrap();
    writeln!(s).unwrap();
    writeln!(s, "=== genksyms").unwrap();
    write_crcs(&mut s, &out.genksyms.crcs);
    writeln!(s, "--- symtypes").unwrap();
    s.push_str(&out.genksyms.symtypes);
    let gcc = out.dwarf_for(Compiler::Gcc);
    for cc in Compiler::ALL {
        let k = out.dwarf_for(cc);
        writeln!(s).unwrap();
        writeln!(s, "=== ksymrules ({cc} -g)").unwrap();
        if cc != Compiler::Gcc && k.crcs == gcc.crcs && k.versions == gcc.versions {
            writeln!(s, "(same as gcc)").unwrap();
            continue;
        }
        write_crcs(&mut s, &k.crcs);
        writeln!(s, "--- versions").unwrap();
        s.push_str(&k.versions);
    }
    s
}

#[test]
fn corpus_snapshots() {
    let Some(tools) = tools::tools("corpus_snapshots") else {
        return;
    };
    let programs = programs();
    assert!(programs.len() >= 5, "corpus/c/programs is too small");
    let dir = programs_dir();
    let outs = tools::par_map(&programs, |p| {
        tools::run_both(tools, p, &[dir.as_path()], &Compiler::ALL)
    });
    let mut failures = Vec::new();
    for (path, out) in programs.iter().zip(outs) {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("corpus/c/programs/{name}.c");
        match out {
            Err(e) => failures.push(format!("{rel}: {e}")),
            Ok(out) => {
                let text = snapshot_text(&rel, &out);
                let r = std::panic::catch_unwind(|| {
                    insta::with_settings!({ omit_expression => true }, {
                        insta::assert_snapshot!(format!("program_{name}"), text);
                    });
                });
                if r.is_err() {
                    failures.push(format!("{rel}: snapshot differs (see above)"));
                }
            }
        }
    }
    // A snapshot whose program is gone is stale.
    let snapshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for entry in std::fs::read_dir(&snapshots).into_iter().flatten() {
        let file = entry.expect("dir entry").file_name();
        let file = file.to_string_lossy();
        if let Some(name) = file
            .strip_prefix("genksyms__program_")
            .and_then(|f| f.strip_suffix(".snap"))
        {
            if !programs
                .iter()
                .any(|p| p.file_stem().is_some_and(|s| s == name))
            {
                failures.push(format!(
                    "ksymrules/tests/snapshots/{file}: no corpus/c/programs/{name}.c (remove it)"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// Change classes and the agreement table

#[test]
fn change_classes_table() {
    let Some(tools) = tools::tools("change_classes_table") else {
        return;
    };
    let classes = table::load_classes().unwrap_or_else(|e| panic!("{e}"));
    let results = tools::par_map(&classes, |c| table::run_class(tools, c));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (class, r) in classes.iter().zip(results) {
        match r {
            Ok(row) => rows.push(row),
            Err(e) => errors.push(format!("{}: {e}", class.name)),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
    errors.extend(table::check_reasons(&rows));
    assert!(
        errors.is_empty(),
        "class.toml out of step with the runs:\n{}",
        errors.join("\n")
    );
    assert!(rows.len() >= 30, "only {} change classes", rows.len());

    let text = table::render(&rows);
    let path = tools::workspace().join(table::TABLE_PATH);
    if std::env::var_os("UPDATE_GENKSYMS_TABLE").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != text {
        let first = committed
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(text.lines().count()));
        panic!(
            "{} is stale (first difference at line {}); regenerate it with\n  \
             UPDATE_GENKSYMS_TABLE=1 cargo test -p ksymrules --test genksyms --release change_classes_table\n\
             --- committed: {:?}\n+++ computed:  {:?}",
            table::TABLE_PATH,
            first + 1,
            committed.lines().nth(first).unwrap_or(""),
            text.lines().nth(first).unwrap_or(""),
        );
    }
}

// ---------------------------------------------------------------------------
// Property tests

fn prop_config(cases: u32) -> Config {
    Config {
        cases: std::env::var("GENKSYMS_PROP_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        // Never write proptest-regressions files into the source tree.
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    }
}

/// Writes a generated program into a fresh directory and runs both tools.
fn run_generated(
    tools: &Tools,
    prog: &cgen::Rendered,
    compilers: &[Compiler],
) -> Result<(tools::BothOut, tempfile::TempDir), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let c_file = prog.write(dir.path())?;
    let out = tools::run_both(tools, &c_file, &[dir.path()], compilers)?;
    Ok((out, dir))
}

fn case_error(msg: String, progs: &[(&str, &cgen::Rendered)]) -> TestCaseError {
    let mut s = msg;
    for (label, p) in progs {
        write!(s, "\n\n===== {label}\n{p}").unwrap();
    }
    TestCaseError::fail(s)
}

fn run_prop<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(prop_config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
}

/// (a) The same program gives the same CRCs every time, in both tools, even
/// when it is compiled in another directory.
#[test]
fn prop_same_program_same_crcs() {
    let Some(tools) = tools::tools("prop_same_program_same_crcs") else {
        return;
    };
    run_prop("prop_same_program_same_crcs", 16, cgen::program(), |p| {
        let r = p.render();
        let (a, _d1) = run_generated(tools, &r, &Compiler::ALL)
            .map_err(|e| case_error(e, &[("program", &r)]))?;
        let (b, _d2) = run_generated(tools, &r, &Compiler::ALL)
            .map_err(|e| case_error(e, &[("program", &r)]))?;
        if a.genksyms.crcs != b.genksyms.crcs || a.genksyms.symtypes != b.genksyms.symtypes {
            return Err(case_error(
                format!(
                    "genksyms is not deterministic: {:?} vs {:?}",
                    a.genksyms.crcs, b.genksyms.crcs
                ),
                &[("program", &r)],
            ));
        }
        for cc in Compiler::ALL {
            let (x, y) = (a.dwarf_for(cc), b.dwarf_for(cc));
            if x.crcs != y.crcs || x.versions != y.versions {
                return Err(case_error(
                    format!(
                        "ksymrules ({cc}) is not deterministic: {:?} vs {:?}\n{}\n{}",
                        x.crcs, y.crcs, x.versions, y.versions
                    ),
                    &[("program", &r)],
                ));
            }
        }
        Ok(())
    });
}

/// (b) Every change genksyms detects, ksymrules detects, unless the change's
/// class is a known disagreement of the table.
#[test]
fn prop_genksyms_changes_are_seen() {
    let Some(tools) = tools::tools("prop_genksyms_changes_are_seen") else {
        return;
    };
    let table_text = std::fs::read_to_string(tools::workspace().join(table::TABLE_PATH))
        .expect("docs/genksyms-vs-dwarf.md");
    let table = table::parse(&table_text).unwrap_or_else(|e| panic!("{}: {e}", table::TABLE_PATH));
    for class in cgen::Mutation::CLASSES {
        assert!(
            table.iter().any(|r| r.class == *class),
            "mutation class {class} is not a row of {}",
            table::TABLE_PATH
        );
    }
    run_prop(
        "prop_genksyms_changes_are_seen",
        64,
        cgen::program_and_mutation(),
        |(p, m)| {
            let base = p.render();
            let (changed_prog, class) = m.apply(&p);
            let changed = changed_prog.render();
            let progs = [("base", &base), ("changed", &changed)];
            let desc = format!("mutation {m:?}: class {class}");
            let (a, _d1) = run_generated(tools, &base, &Compiler::ALL)
                .map_err(|e| case_error(format!("{desc}: base: {e}"), &progs))?;
            let (b, _d2) = run_generated(tools, &changed, &Compiler::ALL)
                .map_err(|e| case_error(format!("{desc}: changed: {e}"), &progs))?;
            let row = table
                .iter()
                .find(|r| r.class == class)
                .expect("checked above");
            if std::env::var_os("GENKSYMS_PROP_VERBOSE").is_some() {
                let seen = |x: &[(String, u32)], y: &[(String, u32)]| {
                    if x == y {
                        "same"
                    } else {
                        "changed"
                    }
                };
                eprintln!(
                    "{class}: genksyms {}, gcc {}, clang {} ({m:?})",
                    seen(&a.genksyms.crcs, &b.genksyms.crcs),
                    seen(
                        &a.dwarf_for(Compiler::Gcc).crcs,
                        &b.dwarf_for(Compiler::Gcc).crcs
                    ),
                    seen(
                        &a.dwarf_for(Compiler::Clang).crcs,
                        &b.dwarf_for(Compiler::Clang).crcs
                    ),
                );
            }
            for cc in Compiler::ALL {
                if row.genksyms && !row.dwarf(cc) {
                    // Known disagreement for this compiler.
                    continue;
                }
                let kb = b.dwarf_for(cc);
                for (name, crc) in &a.genksyms.crcs {
                    let Some(crc2) = lookup(&b.genksyms.crcs, name) else {
                        continue;
                    };
                    if *crc == crc2 {
                        continue;
                    }
                    let k1 = lookup(&a.dwarf_for(cc).crcs, name);
                    let k2 = lookup(&kb.crcs, name);
                    if k1 == k2 {
                        return Err(case_error(
                            format!(
                                "{desc}: genksyms' CRC of {name} changed but ksymrules' ({cc}) did not\n\
                                 genksyms symtypes before:\n{}\ngenksyms symtypes after:\n{}\n\
                                 ksymrules versions:\n{}",
                                a.genksyms.symtypes,
                                b.genksyms.symtypes,
                                kb.versions
                            ),
                            &progs,
                        ));
                    }
                }
            }
            Ok(())
        },
    );
}

fn lookup(crcs: &[(String, u32)], name: &str) -> Option<u32> {
    crcs.iter().find(|(n, _)| n == name).map(|(_, c)| *c)
}

/// The table reads back as it was written (the property test reads it).
#[test]
fn table_round_trip() {
    let rows = vec![
        table::Row {
            class: "a-class".into(),
            description: "a change".into(),
            genksyms: true,
            gcc: false,
            clang: true,
            reason: Some("because".into()),
        },
        table::Row {
            class: "b-class".into(),
            description: "`int a, b;` written another way".into(),
            genksyms: false,
            gcc: false,
            clang: false,
            reason: None,
        },
    ];
    assert_eq!(table::parse(&table::render(&rows)).unwrap(), rows);
}

/// Every mutation changes the C text (none is a no-op). Needs no tools.
#[test]
fn mutations_change_the_source() {
    run_prop(
        "mutations_change_the_source",
        256,
        cgen::program_and_mutation(),
        |(p, m)| {
            let base = p.render();
            let (q, class) = m.apply(&p);
            let changed = q.render();
            prop_assert!(
                base.header != changed.header || base.source != changed.source,
                "{class} left the program as it was:\n{base}"
            );
            Ok(())
        },
    );
}
