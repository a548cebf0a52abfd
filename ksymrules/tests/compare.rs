//! `ksymrules compare`, run as a user runs it.
//!
//! - `change_classes`: every class of `corpus/c/changes/` built by gcc and
//!   by clang. The exports compare reports as changed are exactly those
//!   whose CRCs the version run (the kbuild form) gives differently; the
//!   class's `[compare]` cause is named as a root cause with its summary;
//!   the suggested kABI file, checked by compare itself and again here by
//!   versioning NEW with it, gives every changed export its old CRC; and
//!   comparing the objects' `-T` outputs gives the same exports and causes.
//! - snapshots (reviewed) of the human report of a few classes, the JSON
//!   of one, and the report on a real module built against two Debian
//!   kernels' headers (`tests/pair/build.sh`, `KSYMRULES_PAIR`);
//! - exit status and errors; symtypes input of every form;
//! - `prop_random_changes_are_explained`: random programs and random changes
//!   (the genksyms tests' generator): the changed exports are those whose
//!   CRC differs, each has a cause, and the suggestion restores them all.
//!
//! Needs gcc and clang; the pair test needs `KSYMRULES_PAIR`. Missing ones
//! print SKIPPING and pass, unless `CI` is set: then they fail.

#[allow(dead_code)]
#[path = "genksyms/cgen.rs"]
mod cgen;

use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ksymrules() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ksymrules"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn skip_or_fail(test: &str, why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {why} (CI must provide it)"
    );
    eprintln!("!!! SKIPPING {test}: {why}");
}

fn have(prog: &str) -> bool {
    Command::new(prog)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `#SYMVER` lines of the kbuild form.
fn version(obj: &Path, symbols: &[String], extra: &[&str]) -> Vec<(String, String)> {
    use std::io::Write;
    let mut child = ksymrules()
        .args(extra)
        .arg(obj)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(symbols.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{}: {stderr}", obj.display());
    stdout
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[1].to_string(), w[2].to_string())
        })
        .collect()
}

/// The class directories, sorted.
fn classes() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(workspace().join("corpus/c/changes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// `EXPORT(name)` of both programs.
fn exports(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for f in ["base.c", "changed.c"] {
        let src = std::fs::read_to_string(dir.join(f)).unwrap();
        for part in src.split("EXPORT(").skip(1) {
            if let Some(end) = part.find(')') {
                names.push(part[..end].to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// `EXPORT(name)` of a C text.
fn exports_of(src: &str) -> Vec<String> {
    src.split("EXPORT(")
        .skip(1)
        .filter_map(|p| p.find(')').map(|e| p[..e].to_string()))
        .collect()
}

fn compile(cc: &str, dir: &Path, which: &str, out: &Path) {
    let o = Command::new(cc)
        .args(["-g", "-c", "-Wall", "-Werror"])
        .arg("-I")
        .arg(workspace().join("corpus/c"))
        .arg("-I")
        .arg(dir)
        .arg(dir.join(format!("{which}.c")))
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{cc} {}: {}", dir.display(), text(&o).1);
}

/// A class built by `cc` in a scratch directory: base.o, changed.o, syms.
struct Built {
    dir: tempfile::TempDir,
    symbols: Vec<String>,
}

fn build(cc: &str, class: &Path) -> Built {
    let dir = tempfile::tempdir().unwrap();
    compile(cc, class, "base", &dir.path().join("base.o"));
    compile(cc, class, "changed", &dir.path().join("changed.o"));
    let symbols = exports(class);
    std::fs::write(dir.path().join("syms"), symbols.join("\n") + "\n").unwrap();
    Built { dir, symbols }
}

/// `compare` run in `dir`; (exit code, stdout, stderr).
fn compare_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = ksymrules()
        .arg("compare")
        .args(args)
        .current_dir(dir)
        .env_remove("KSYMRULES_RULES")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (o, e) = text(&out);
    (out.status.code().unwrap_or(-1), o, e)
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn changed_of(report: &Value) -> Vec<(String, String, String)> {
    report["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["symbol"].as_str().unwrap().to_string(),
                c["old_crc"].as_str().unwrap().to_string(),
                c["new_crc"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn causes_of(report: &Value) -> Vec<(String, Vec<String>)> {
    report["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["symbol"].as_str().unwrap().to_string(),
                c["causes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn compilers(test: &str) -> Vec<&'static str> {
    let cs: Vec<&str> = ["gcc", "clang"].into_iter().filter(|c| have(c)).collect();
    if cs.len() < 2 {
        skip_or_fail(test, "gcc or clang is missing");
    }
    cs
}

#[test]
fn change_classes() {
    let compilers = compilers("change_classes");
    let mut explained = 0;
    let mut restored = (0, 0);
    let mut failures = Vec::new();
    for class in classes() {
        let name = class.file_name().unwrap().to_string_lossy().into_owned();
        let toml: toml::Table = std::fs::read_to_string(class.join("class.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let expect = toml.get("compare").and_then(|v| v.as_table());
        for cc in &compilers {
            let b = build(cc, &class);
            let d = b.dir.path();
            let old = version(&d.join("base.o"), &b.symbols, &[]);
            let new = version(&d.join("changed.o"), &b.symbols, &[]);
            let truth: Vec<(String, String, String)> = old
                .iter()
                .zip(&new)
                .filter(|(a, b)| a.1 != b.1)
                .map(|(a, b)| (a.0.clone(), a.1.clone(), b.1.clone()))
                .collect();
            let (code, out, err) = compare_in(
                d,
                &[
                    "base.o",
                    "changed.o",
                    "--symbols",
                    "syms",
                    "--format",
                    "json",
                    "--suggest-kabi",
                    "suggested.kabi",
                ],
            );
            let what = format!("{name} ({cc})");
            let r = json(&out);
            let mut sorted_truth = truth.clone();
            sorted_truth.sort();
            if changed_of(&r) != sorted_truth {
                failures.push(format!(
                    "{what}: compare says {:?}, the versions say {sorted_truth:?}",
                    changed_of(&r)
                ));
                continue;
            }
            let want_code = if truth.is_empty() { 0 } else { 1 };
            if code != want_code {
                failures.push(format!("{what}: exit {code}, want {want_code}: {err}"));
            }
            if truth.is_empty() {
                continue;
            }
            // Every changed export has a cause; the class's is named, and
            // said.
            for (sym, causes) in causes_of(&r) {
                if causes.is_empty() {
                    failures.push(format!("{what}: {sym} has no cause"));
                }
            }
            let Some(expect) = expect else {
                failures.push(format!(
                    "{what}: CRCs change; add a [compare] cause and summary to its class.toml"
                ));
                continue;
            };
            let cause = expect["cause"].as_str().unwrap();
            let summary = expect["summary"].as_str().unwrap();
            match r["causes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == cause)
            {
                None => failures.push(format!("{what}: {cause} is not a cause: {out}")),
                Some(c) => {
                    let said = c["summary"].as_str().unwrap();
                    if !said.contains(summary) {
                        failures.push(format!(
                            "{what}: {cause}'s summary {said:?} does not say {summary:?}"
                        ));
                    } else {
                        explained += 1;
                    }
                    if c["diff"].as_array().unwrap().is_empty() {
                        failures.push(format!("{what}: {cause} has no diff"));
                    }
                    if c["provenance"].as_array().unwrap().is_empty() {
                        failures.push(format!("{what}: {cause} has no provenance"));
                    }
                }
            }
            // The suggestion: compare's check, and ours.
            let sg = &r["suggestion"];
            let back: Vec<String> = sg["restored"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            let kabi = d.join("suggested.kabi");
            let again = version(
                &d.join("changed.o"),
                &b.symbols,
                &["--stable", "--kabi", kabi.to_str().unwrap()],
            );
            let ours: Vec<String> = truth
                .iter()
                .filter(|t| again.iter().any(|a| a.0 == t.0 && a.1 == t.1))
                .map(|t| t.0.clone())
                .collect();
            restored.0 += ours.len();
            restored.1 += truth.len();
            if back != ours || ours.len() != truth.len() {
                failures.push(format!(
                    "{what}: the suggestion restores {ours:?} (compare says {back:?}) of {truth:?}:\n{}",
                    std::fs::read_to_string(&kabi).unwrap_or_default()
                ));
            }
            // The same from the objects' symtypes.
            for side in ["base", "changed"] {
                let o = ksymrules()
                    .arg("-T")
                    .arg(format!("{side}.symtypes"))
                    .arg(format!("{side}.o"))
                    .current_dir(d)
                    .stdin(std::fs::File::open(d.join("syms")).unwrap())
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{what}: -T: {}", text(&o).1);
            }
            let (_, sout, serr) = compare_in(
                d,
                &["base.symtypes", "changed.symtypes", "--format", "json"],
            );
            let s = json(&sout);
            if changed_of(&s) != changed_of(&r) || causes_of(&s) != causes_of(&r) {
                failures.push(format!(
                    "{what}: symtypes give {:?}, objects {:?} {serr}",
                    causes_of(&s),
                    causes_of(&r)
                ));
            }
        }
    }
    eprintln!(
        "change_classes: {explained} class builds explained; suggestions restored {}/{} exports",
        restored.0, restored.1
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    if compilers.len() == 2 {
        assert!(explained >= 80, "only {explained} class builds explained");
    }
}

/// The human reports of a few classes (gcc), and the JSON of one.
#[test]
fn class_report_snapshots() {
    if !have("gcc") {
        return skip_or_fail("class_report_snapshots", "gcc is missing");
    }
    for class in [
        "member-added-end",
        "enumerator-added-end",
        "param-added",
        "made-declaration-only",
        "typedef-target-changed",
    ] {
        let b = build("gcc", &workspace().join("corpus/c/changes").join(class));
        let (code, out, err) = compare_in(
            b.dir.path(),
            &[
                "base.o",
                "changed.o",
                "--symbols",
                "syms",
                "--suggest-kabi",
                "s.kabi",
            ],
        );
        assert_eq!(code, 1, "{class}: {err}");
        let kabi = std::fs::read_to_string(b.dir.path().join("s.kabi")).unwrap();
        insta::assert_snapshot!(
            format!("class_{class}"),
            format!("{out}\n--- s.kabi\n{kabi}")
        );
        if class == "member-added-end" {
            let (_, out, _) = compare_in(
                b.dir.path(),
                &[
                    "base.o",
                    "changed.o",
                    "--symbols",
                    "syms",
                    "--format",
                    "json",
                ],
            );
            insta::assert_snapshot!("class_member-added-end_json", out);
            let (_, out, _) = compare_in(
                b.dir.path(),
                &[
                    "base.o",
                    "changed.o",
                    "--symbols",
                    "syms",
                    "--format",
                    "short",
                ],
            );
            assert_eq!(out.lines().count(), 1, "one line per changed export: {out}");
            assert!(out.ends_with(": s#s\n"), "{out}");
        }
    }
}

/// A module of ours built by kbuild against Debian's 6.1 and 6.12 headers.
#[test]
fn real_module_pair() {
    let dir = match std::env::var_os("KSYMRULES_PAIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let d = PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/ksymrules-pair");
            if !d.join("new/pairmod.ko").exists() {
                return skip_or_fail(
                    "real_module_pair",
                    "no KSYMRULES_PAIR (run tests/pair/build.sh)",
                );
            }
            d
        }
    };
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        list.path(),
        "pairmod_add\npairmod_stats_reset\npairmod_timer_fn\n",
    )
    .unwrap();
    let syms = list.path().to_str().unwrap();
    let (code, human, err) = compare_in(
        &dir,
        &["old/pairmod.ko", "new/pairmod.ko", "--symbols", syms],
    );
    assert_eq!(code, 1, "{err}");
    insta::assert_snapshot!("pair_stats", human);
    // Every export: one line each, and a suggestion that restores them all.
    let kabi = tempfile::NamedTempFile::new().unwrap();
    let (code, out, err) = compare_in(
        &dir,
        &[
            "old/pairmod.ko",
            "new/pairmod.ko",
            "--format",
            "json",
            "--suggest-kabi",
            kabi.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{err}");
    let r = json(&out);
    let changed = changed_of(&r);
    assert_eq!(changed.len(), 6, "{changed:?}");
    assert_eq!(r["totals"]["common"], 8);
    assert_eq!(
        r["suggestion"]["restored"].as_array().unwrap().len(),
        6,
        "{}",
        r["suggestion"]
    );
    // The -funsigned-char of 6.12 is one cause, in many strings.
    let char_edit = r["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "base_type char byte_size(1) [encoding(6) → encoding(8)]")
        .expect("the char signedness edit is a cause");
    assert_eq!(char_edit["kind"], "edit");
    assert!(char_edit["occurrences"].as_array().unwrap().len() > 20);
    let (_, short, _) = compare_in(
        &dir,
        &["old/pairmod.ko", "new/pairmod.ko", "--format", "short"],
    );
    insta::assert_snapshot!("pair_short", short);
}

#[test]
fn exit_status_and_errors() {
    if !have("gcc") {
        return skip_or_fail("exit_status_and_errors", "gcc is missing");
    }
    let b = build(
        "gcc",
        &workspace().join("corpus/c/changes/member-added-end"),
    );
    let d = b.dir.path();
    let (code, out, _) = compare_in(d, &["base.o", "base.o", "--symbols", "syms"]);
    assert_eq!(code, 0);
    assert!(out.contains("No differences."), "{out}");
    // Errors: exit 2, `error: <file>: what`, no output file.
    std::fs::write(d.join("bad.symtypes"), "s#x structure_type x { }\nfoo\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["missing.o", "base.o"], "error: missing.o: cannot read"),
        (
            &["bad.symtypes", "base.o", "--suggest-kabi", "k.kabi"],
            "error: bad.symtypes: line 2: foo: no string after the name",
        ),
        (&["base.o"], "error: compare: no new side"),
        (
            &["base.o", "changed.o", "--symbols", "nowhere"],
            "error: nowhere: cannot read the symbol list",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = compare_in(d, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.starts_with(want), "{args:?}: {err}");
    }
    assert!(!d.join("k.kabi").exists());
    // A directory of symtypes, and a consolidated file, as inputs.
    for side in ["base", "changed"] {
        std::fs::create_dir(d.join(side)).unwrap();
        let o = ksymrules()
            .arg("-T")
            .arg(format!("{side}/x.symtypes"))
            .arg(format!("{side}.o"))
            .current_dir(d)
            .stdin(std::fs::File::open(d.join("syms")).unwrap())
            .output()
            .unwrap();
        assert!(o.status.success());
        let body = std::fs::read_to_string(d.join(side).join("x.symtypes")).unwrap();
        std::fs::write(
            d.join(format!("{side}.cons")),
            format!("/* x.symtypes */\n{body}"),
        )
        .unwrap();
    }
    let (code, dirs, _) = compare_in(d, &["base", "changed", "--format", "short"]);
    assert_eq!(code, 1);
    let (code, cons, _) = compare_in(d, &["base.cons", "changed.cons", "--format", "short"]);
    assert_eq!(code, 1);
    let (_, objs, _) = compare_in(
        d,
        &[
            "base.o",
            "changed.o",
            "--symbols",
            "syms",
            "--format",
            "short",
        ],
    );
    assert_eq!(dirs, objs);
    assert_eq!(cons, objs);
}

#[test]
fn prop_random_changes_are_explained() {
    if !have("gcc") {
        return skip_or_fail("prop_random_changes_are_explained", "gcc is missing");
    }
    let cases = std::env::var("COMPARE_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let config = Config {
        cases,
        // Never write proptest-regressions files into the source tree.
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // Cases whose change changed a CRC (the others check less).
    let with_changes = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&cgen::program_and_mutation(), |(p, m)| {
        let base = p.render();
        let (changed, class) = m.apply(&p);
        let changed = changed.render();
        let fail = |msg: String| {
            TestCaseError::fail(format!(
                "{class}: {msg}\n===== base\n{base}\n===== changed\n{changed}"
            ))
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut symbols = Vec::new();
        for (side, prog) in [("base", &base), ("changed", &changed)] {
            let src_dir = d.join(format!("{side}-src"));
            std::fs::create_dir(&src_dir).unwrap();
            let c = prog.write(&src_dir).map_err(&fail)?;
            let o = Command::new("gcc")
                .args(["-g", "-c", "-I"])
                .arg(workspace().join("corpus/c"))
                .arg("-I")
                .arg(&src_dir)
                .arg(&c)
                .arg("-o")
                .arg(d.join(format!("{side}.o")))
                .output()
                .unwrap();
            if !o.status.success() {
                return Err(fail(format!("gcc: {}", text(&o).1)));
            }
            symbols.extend(exports_of(&prog.source));
        }
        symbols.sort();
        symbols.dedup();
        std::fs::write(d.join("syms"), symbols.join("\n") + "\n").unwrap();
        let old = version(&d.join("base.o"), &symbols, &[]);
        let new = version(&d.join("changed.o"), &symbols, &[]);
        let mut truth: Vec<(String, String, String)> = old
            .iter()
            .zip(&new)
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, b)| (a.0.clone(), a.1.clone(), b.1.clone()))
            .collect();
        truth.sort();
        if !truth.is_empty() {
            with_changes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let (code, out, err) = compare_in(
            d,
            &[
                "base.o",
                "changed.o",
                "--symbols",
                "syms",
                "--format",
                "json",
                "--suggest-kabi",
                "s.kabi",
            ],
        );
        if code == 2 {
            return Err(fail(format!("compare failed: {err}")));
        }
        let r = json(&out);
        if changed_of(&r) != truth {
            return Err(fail(format!(
                "compare says {:?}, the versions {truth:?}",
                changed_of(&r)
            )));
        }
        if let Some((sym, _)) = causes_of(&r).into_iter().find(|(_, c)| c.is_empty()) {
            return Err(fail(format!("{sym} has no cause")));
        }
        let restored = r["suggestion"]["restored"].as_array().unwrap().len();
        if restored != truth.len() {
            return Err(fail(format!(
                "the suggestion restores {restored} of {}: {}\n{}",
                truth.len(),
                r["suggestion"],
                std::fs::read_to_string(d.join("s.kabi")).unwrap_or_default()
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("prop_random_changes_are_explained: {e}");
    }
    let n = with_changes.into_inner();
    eprintln!("prop_random_changes_are_explained: {n} of {cases} cases changed a CRC");
    assert!(
        n * 4 >= cases as usize,
        "only {n} of {cases} cases changed a CRC"
    );
}
