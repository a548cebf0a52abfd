//! Differential tests: ksymrules against the real gendwarfksyms (the
//! "oracle", the kernel's own tool built by `tests/oracle/build.sh`).
//!
//! - `random_programs`: random C programs shaped like kernel objects
//!   (`differential/cprog.rs`), each built with one sampled combination of
//!   gcc/clang, DWARF 4/5, -O0/-O2 and -ffunction-sections (one in 10 also
//!   with -fdebug-types-section, one in 10 with -gz=zlib, one in 10 with
//!   -fcommon); both tools run on the object(s) with and without
//!   `--stable`, and everything is compared: the
//!   exit status, the `#SYMVER` lines (as a set: the oracle prints them in
//!   hash-table order, ksymrules in input order), the symbols warned `no
//!   information for symbol`, the `-T` symtypes byte for byte,
//!   `--dump-versions` and `--dump-dies` as they are (their order is the
//!   oracle's visiting order, which ksymrules reproduces). proptest shrinks a
//!   difference to a minimal program; it is printed with the diff and left in
//!   `target/tmp/differential-failure/` (sources, `build.txt`, `symbols`).
//! - `kernel_examples`: the kernel's `scripts/gendwarfksyms/examples/*.c`
//!   (copied into the oracle's cache by build.sh), built with gcc and clang
//!   at DWARF 4/5 and -O0/-O2, their whole symbol table listed, compared the
//!   same way.
//! - `known_differences`: the minimal programs of `corpus/differential/`, run
//!   by ksymrules and compared with the oracle's stored outputs: a case named
//!   in `corpus/differential/known-differences.txt` must still differ (remove
//!   it from the list once it matches), any other must match.
//! - `oracle_findings`: `corpus/gendwarfksyms-findings/`, objects on which the
//!   oracle crashes or hangs (`docs/gendwarfksyms-findings.md`); ksymrules
//!   must fail cleanly there (exit 1, an `error: ` line), and agree with the
//!   oracle's stored outputs where it did not crash.
//! - `generator_coverage`: every construct of the generator shows up in 256
//!   of its programs (no tools needed; `DIFF_SHOW_PROGRAMS=N` prints some).
//! - `save_case` (ignored): stores the oracle's outputs for a kept case
//!   (`DIFF_SAVE_CASE=corpus/differential/NAME`).
//!
//! Where the oracle crashes or hangs (`DIFF_TIMEOUT_SECS`, default 60) on a
//! random program, that is a finding, not a failure: it is reported loudly
//! and left in `target/tmp/differential-findings/`, to be kept in
//! `corpus/gendwarfksyms-findings/` (`DIFF_FINDINGS_FAIL=1` makes it a
//! failure, so that proptest shrinks it).
//!
//! A difference in a program where ksymrules warned that a type has
//! different strings of the same, longest length is not a failure either:
//! gendwarfksyms keeps one of them by memory addresses (§7 of the spec), so
//! it is reported and left in `target/tmp/differential-ties/`
//! (`DIFF_TIES_FAIL=1` makes it a failure). The generator avoids making them.
//!
//! Nor is the known difference `stale-die-symtypes` (several objects, the
//! oracle's symtypes has extra lines for symbols of an earlier object; see
//! `corpus/differential/known-differences.txt`), which depends on where
//! memory is mapped and so can't be avoided by the generator.
//!
//! Finding the oracle: `KSYMRULES_ORACLE=/path/to/gendwarfksyms`, else
//! `tests/oracle/build.sh` (it builds it once into its cache). When the
//! oracle, gcc, clang or ld is missing the tests print SKIPPING and pass,
//! unless `CI` is set: then they fail.
//!
//! The CI run compares 256 programs (30–40 s on 2 cores). More:
//!
//!     DIFF_CASES=2000 cargo test --release -p ksymrules --test differential random_programs -- --nocapture
//!
//! The random sequence is the same every run (seed 0) unless
//! `DIFF_SEED=<number>` or `DIFF_SEED=random` says otherwise (a failure
//! prints the seed to rerun it with). `DIFF_SHRINK_ITERS` (default 1024)
//! bounds the shrinking. `--nocapture` shows how many programs took
//! ksymrules' rare paths (re-entrance, missing symbols).

#[path = "differential/cprog.rs"]
mod cprog;
#[path = "differential/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use harness::{Build, Compiler, Extra, Outputs, Tools};

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

// ---------------------------------------------------------------------------
// Random programs

/// One compile combination, shrinking toward gcc -gdwarf-4 -O0; one in 10
/// each with -fdebug-types-section, -gz=zlib, -fcommon.
fn build_strategy() -> impl Strategy<Value = Build> {
    (0..2u8, 0..2u8, 0..2u8, 0..2u8, 0..10u8).prop_map(|(cc, dw, opt, sec, extra)| Build {
        cc: if cc == 0 {
            Compiler::Gcc
        } else {
            Compiler::Clang
        },
        dwarf: 4 + dw,
        opt: 2 * opt,
        sections: sec == 1,
        extra: match extra {
            7 => Extra::TypesSection,
            8 => Extra::Compressed,
            9 => Extra::Common,
            _ => Extra::None,
        },
    })
}

/// How many programs made ksymrules warn of each kind (re-entrance, equal
/// lengths, missing symbols): printed at the end of `random_programs`, to
/// see that the rare paths are taken.
static WARNINGS: std::sync::Mutex<BTreeMap<&'static str, usize>> =
    std::sync::Mutex::new(BTreeMap::new());

fn count_warnings(stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    let mut w = WARNINGS.lock().unwrap();
    for (key, needle) in [
        (
            "re-entrance (reached again while being built)",
            "was reached again",
        ),
        ("equal longest strings of a type", TIE_WARNING),
        ("no information for a symbol", "no information for symbol"),
    ] {
        if text.contains(needle) {
            *w.entry(key).or_default() += 1;
        }
    }
}

/// What one program gave: the same, a difference, an oracle finding, or a
/// difference where ksymrules warned that a type has different strings of
/// the same, longest length (the oracle then keeps the one that memory
/// addresses decide: not reproducible, §7 of the spec).
enum Verdict {
    Same,
    Differs(String),
    Finding(String),
    Tie(String),
    /// Only the known difference `stale-die-symtypes` (corpus/differential/).
    StaleDie(String),
}

const TIE_WARNING: &str = "of the same, longest length";

/// Whether `oracle`'s symtypes differs from `ours` only by extra symbol
/// lines (not `X#type` lines): what gendwarfksyms writes, given several
/// objects, for a symbol of an earlier object whose stale DIE address meets
/// a symbol DIE of the current one (known difference `stale-die-symtypes`).
fn stale_die_lines_only(oracle: &Outputs, ours: &Outputs) -> bool {
    let lines = |b: &Option<Vec<u8>>| -> Vec<String> {
        String::from_utf8_lossy(b.as_deref().unwrap_or_default())
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let (mut extra, mine) = (lines(&oracle.symtypes), lines(&ours.symtypes));
    for l in &mine {
        match extra.iter().position(|x| x == l) {
            Some(i) => {
                extra.remove(i);
            }
            None => return false,
        }
    }
    !extra.is_empty()
        && extra.iter().all(|l| {
            let name = l.split(' ').next().unwrap_or("");
            !name.contains('#') && !name.is_empty()
        })
}

/// Builds `prog` with `build` in `dir` and compares both tools on it.
fn check_program(
    tools: &Tools,
    r: &cprog::Rendered,
    build: Build,
    dir: &Path,
) -> Result<Verdict, String> {
    let units = r.write(dir)?;
    let (objs, commands) = harness::compile(tools, build, dir, &units, &[], r.link)?;
    std::fs::write(dir.join("build.txt"), commands.join("\n") + "\n")
        .map_err(|e| format!("build.txt: {e}"))?;
    std::fs::write(dir.join("symbols"), &r.symbols).map_err(|e| format!("symbols: {e}"))?;
    let mut report = String::new();
    let mut finding = String::new();
    let mut tie = false;
    let mut crashed = false;
    let mut stale = true;
    for stable in [false, true] {
        let label = if stable { "--stable" } else { "default" };
        let oracle = harness::outputs(&tools.oracle, &objs, r.symbols.as_bytes(), stable, dir)?;
        let ours = harness::outputs(
            &harness::ksymrules(),
            &objs,
            r.symbols.as_bytes(),
            stable,
            dir,
        )?;
        if !stable {
            count_warnings(&ours.stderr);
        }
        tie |= String::from_utf8_lossy(&ours.stderr).contains(TIE_WARNING);
        crashed |= ours.crashed();
        if ours.crashed() {
            writeln!(
                report,
                "=== {label}: ksymrules crashed or hung ({}{})\n{}",
                ours.status,
                ours.dump_status
                    .as_ref()
                    .map_or(String::new(), |s| format!(", dump runs: {s}")),
                String::from_utf8_lossy(&ours.stderr)
            )
            .unwrap();
            continue;
        }
        if oracle.crashed() {
            // What ksymrules said tells a known finding (docs/gendwarfksyms-findings.md).
            let said = String::from_utf8_lossy(&ours.stderr)
                .lines()
                .find(|l| l.starts_with("error: "))
                .map_or_else(|| format!("{}", ours.status), str::to_owned);
            writeln!(
                finding,
                "{label}: the oracle {}{}; ksymrules: {said}",
                oracle.status,
                oracle
                    .dump_status
                    .as_ref()
                    .map_or(String::new(), |s| format!(" (dump runs: {s})"))
            )
            .unwrap();
            // ksymrules must answer cleanly: a result, or an error.
            if ours.status != harness::Status::Exit(0)
                && !String::from_utf8_lossy(&ours.stderr).contains("error: ")
            {
                writeln!(
                    report,
                    "=== {label}: the oracle crashed; ksymrules gave {} without an error line",
                    ours.status
                )
                .unwrap();
            }
            continue;
        }
        let d = harness::compare(&oracle, &ours);
        if !d.is_empty() {
            stale &= objs.len() > 1
                && d.iter().all(|(check, _)| *check == "symtypes")
                && stale_die_lines_only(&oracle, &ours);
            writeln!(report, "=== {label}\n{}", harness::render_diffs(&d)).unwrap();
        }
    }
    Ok(if !report.is_empty() && stale && !crashed {
        Verdict::StaleDie(format!("build: {}\n{report}", commands.join(" && ")))
    } else if !report.is_empty() && tie && !crashed {
        Verdict::Tie(format!("build: {}\n{report}", commands.join(" && ")))
    } else if !report.is_empty() {
        Verdict::Differs(format!("build: {}\n{report}", commands.join(" && ")))
    } else if !finding.is_empty() {
        Verdict::Finding(format!("build: {}\n{finding}", commands.join(" && ")))
    } else {
        Verdict::Same
    })
}

/// Copies the files of `from` (not directories) into a fresh `to`.
fn keep_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    if std::fs::create_dir_all(to).is_err() {
        return;
    }
    for e in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_file() && p.extension().is_none_or(|x| x != "symtypes") {
            let _ = std::fs::copy(&p, to.join(e.file_name()));
        }
    }
}

fn seed() -> (u64, [u8; 32]) {
    let n = match std::env::var("DIFF_SEED").ok().as_deref().map(str::trim) {
        None | Some("") => 0,
        Some("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        Some(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("DIFF_SEED={s:?}: {e} (a number, or `random`)")),
    };
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    bytes[8..16].copy_from_slice(b"ksymdiff");
    (n, bytes)
}

#[test]
fn random_programs() {
    let Some(tools) = harness::tools("random_programs") else {
        return;
    };
    let cases = env_number("DIFF_CASES")
        .or_else(|| env_number("PROPTEST_CASES"))
        .unwrap_or(256) as u32;
    let config = Config {
        cases,
        // Never write proptest-regressions files into the source tree.
        failure_persistence: None,
        max_shrink_iters: env_number("DIFF_SHRINK_ITERS").unwrap_or(1024) as u32,
        ..Config::default()
    };
    let (seed_n, seed) = seed();
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let failure_dir = tmp.join("differential-failure");
    let findings_dir = tmp.join("differential-findings");
    let findings_fail = std::env::var_os("DIFF_FINDINGS_FAIL").is_some_and(|v| v == "1");
    let ties_fail = std::env::var_os("DIFF_TIES_FAIL").is_some_and(|v| v == "1");
    let (ran, findings, ties, stale_dies) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let found: std::sync::Mutex<BTreeMap<String, String>> = Default::default();
    let start = Instant::now();
    let result = runner.run(&(cprog::program(), build_strategy()), |(prog, build)| {
        let r = prog.render();
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let verdict = check_program(tools, &r, build, dir.path()).map_err(|e| {
            keep_dir(dir.path(), &failure_dir);
            TestCaseError::fail(format!("harness: {e}"))
        })?;
        ran.fetch_add(1, Ordering::Relaxed);
        match verdict {
            Verdict::Same => Ok(()),
            Verdict::Differs(report) => {
                keep_dir(dir.path(), &failure_dir);
                Err(TestCaseError::fail(format!(
                    "ksymrules and gendwarfksyms differ\n{report}\n(kept in {})",
                    failure_dir.display()
                )))
            }
            Verdict::StaleDie(report) => {
                stale_dies.fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "random_programs: known difference stale-die-symtypes \
                     (corpus/differential/):\n{report}"
                );
                Ok(())
            }
            Verdict::Tie(report) => {
                let n = ties.fetch_add(1, Ordering::Relaxed);
                let keep = tmp.join(format!("differential-ties/{n}"));
                keep_dir(dir.path(), &keep);
                harness::loud(&format!(
                    "random_programs: a difference where ksymrules warned of equal longest \
                     strings (not reproducible, spec §7; DIFF_TIES_FAIL=1 fails it), kept in {}\n{report}",
                    keep.display()
                ));
                if ties_fail {
                    Err(TestCaseError::fail(format!("tie-dependent difference\n{report}")))
                } else {
                    Ok(())
                }
            }
            Verdict::Finding(what) => {
                let n = findings.fetch_add(1, Ordering::Relaxed);
                let keep = findings_dir.join(format!("{n}"));
                keep_dir(dir.path(), &keep);
                found
                    .lock()
                    .unwrap()
                    .insert(keep.display().to_string(), what.clone());
                if findings_fail {
                    Err(TestCaseError::fail(format!("oracle finding: {what}")))
                } else {
                    Ok(())
                }
            }
        }
    });
    let found = found.into_inner().unwrap();
    if !found.is_empty() {
        let mut s = format!(
            "random_programs: the oracle crashed or hung on {} program(s): findings, \
             not failures; keep them in corpus/gendwarfksyms-findings/ \
             (docs/gendwarfksyms-findings.md)\n",
            found.len()
        );
        for (dir, what) in &found {
            writeln!(s, "{dir}:\n{what}").unwrap();
        }
        harness::loud(&s);
    }
    eprintln!(
        "random_programs: {} programs compared in {:.1} s (seed {seed_n}); ksymrules warned of:",
        ran.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    for (what, n) in WARNINGS.lock().unwrap().iter() {
        eprintln!("  {what}: in {n} programs");
    }
    let (t, sd) = (
        ties.load(Ordering::Relaxed),
        stale_dies.load(Ordering::Relaxed),
    );
    if t + sd > 0 {
        eprintln!(
            "random_programs: not counted as failures: {t} tie-dependent, \
             {sd} stale-die-symtypes differences"
        );
    }
    if let Err(e) = result {
        panic!(
            "random_programs (DIFF_SEED={seed_n}): {e}\nThe minimal program is in {}",
            failure_dir.display()
        );
    }
}

// ---------------------------------------------------------------------------
// The kernel's examples

fn examples_dir(tools: &Tools) -> PathBuf {
    std::env::var_os("KSYMRULES_ORACLE_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let oracle = tools.oracle.canonicalize().unwrap_or(tools.oracle.clone());
            oracle
                .parent()
                .and_then(Path::parent)
                .map(|d| d.join("examples"))
                .unwrap_or_default()
        })
}

/// The names of an object's symbols, as `nm | awk '{ print $NF }'` lists them
/// (the examples' own instructions).
fn symbol_names(obj: &Path) -> Result<String, String> {
    use object::{Object, ObjectSymbol, SymbolKind};
    let data = std::fs::read(obj).map_err(|e| format!("{}: {e}", obj.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", obj.display()))?;
    let mut s = String::new();
    for sym in file.symbols() {
        let name = sym.name().unwrap_or("");
        if name.is_empty() || matches!(sym.kind(), SymbolKind::Section | SymbolKind::File) {
            continue;
        }
        writeln!(s, "{name}").unwrap();
    }
    Ok(s)
}

#[test]
fn kernel_examples() {
    let Some(tools) = harness::tools("kernel_examples") else {
        return;
    };
    let dir = examples_dir(tools);
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "c"))
                .collect()
        })
        .unwrap_or_default();
    examples.sort();
    if examples.is_empty() {
        let msg = format!(
            "kernel_examples: no examples/*.c in {} (tests/oracle/build.sh copies them \
             into its cache; KSYMRULES_ORACLE_EXAMPLES names another directory)",
            dir.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        harness::loud(&format!("SKIPPING {msg}"));
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for ex in &examples {
        let name = ex.file_stem().unwrap().to_string_lossy().into_owned();
        for build in Build::all().into_iter().filter(|b| !b.sections) {
            let what = format!("{name}.c ({build})");
            let scratch = tempfile::tempdir().expect("tempdir");
            let r = (|| -> Result<Vec<String>, String> {
                let src = scratch.path().join(ex.file_name().unwrap());
                std::fs::copy(ex, &src).map_err(|e| format!("{e}"))?;
                let (objs, _) =
                    harness::compile(tools, build, scratch.path(), &[src], &[&dir], true)?;
                let symbols = symbol_names(&objs[0])?;
                let mut out = Vec::new();
                for stable in [false, true] {
                    let o = harness::outputs(
                        &tools.oracle,
                        &objs,
                        symbols.as_bytes(),
                        stable,
                        scratch.path(),
                    )?;
                    let k = harness::outputs(
                        &harness::ksymrules(),
                        &objs,
                        symbols.as_bytes(),
                        stable,
                        scratch.path(),
                    )?;
                    if o.status != harness::Status::Exit(0) {
                        out.push(format!(
                            "{}: the oracle gave {} (expected success)",
                            if stable { "--stable" } else { "default" },
                            o.status
                        ));
                    }
                    let d = harness::compare(&o, &k);
                    if !d.is_empty() {
                        out.push(format!(
                            "{}:\n{}",
                            if stable { "--stable" } else { "default" },
                            harness::render_diffs(&d)
                        ));
                    }
                }
                Ok(out)
            })();
            compared += 1;
            match r {
                Ok(v) if v.is_empty() => {}
                Ok(v) => failures.push(format!("{what}\n{}", v.join("\n"))),
                Err(e) => failures.push(format!("{what}: {e}")),
            }
        }
    }
    eprintln!(
        "kernel_examples: {} examples x {} builds compared, {} differ",
        examples.len(),
        compared / examples.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------
// Kept cases: known differences and oracle findings

/// A kept case's objects: `input.o`, else `unit0.o`, `unit1.o`... in order.
fn case_objects(dir: &Path) -> Vec<PathBuf> {
    let input = dir.join("input.o");
    if input.is_file() {
        return vec![input];
    }
    (0..)
        .map(|i| dir.join(format!("unit{i}.o")))
        .take_while(|p| p.is_file())
        .collect()
}

/// The case directories under `dir` (each holds `input.o` or `unit<i>.o`,
/// `symbols`, `expected/default/` and `expected/stable/`), sorted.
fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const MODES: [(&str, bool); 2] = [("default", false), ("stable", true)];

/// ksymrules on a kept case, in both modes, next to the oracle's stored
/// outputs.
fn kept_case(dir: &Path) -> Result<Vec<(&'static str, Outputs, Outputs)>, String> {
    let symbols = std::fs::read(dir.join("symbols"))
        .map_err(|e| format!("{}/symbols: {e}", dir.display()))?;
    let objs = case_objects(dir);
    if objs.is_empty() {
        return Err(format!("{}: no input.o nor unit0.o", dir.display()));
    }
    let scratch = tempfile::tempdir().map_err(|e| format!("{e}"))?;
    let mut v = Vec::new();
    for (mode, stable) in MODES {
        let expected = Outputs::load(&dir.join("expected").join(mode))?;
        let ours = harness::outputs(
            &harness::ksymrules(),
            &objs,
            &symbols,
            stable,
            scratch.path(),
        )?;
        v.push((mode, expected, ours));
    }
    Ok(v)
}

/// `name -> reason` from a list file (`name  # reason` lines).
fn parse_list(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut m = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once('#').unwrap_or((line, ""));
        let (name, reason) = (name.trim(), reason.trim());
        if name.contains(char::is_whitespace) || reason.is_empty() {
            return Err(format!(
                "{}:{}: expected `<case>  # <reason>`",
                path.display(),
                n + 1
            ));
        }
        if m.insert(name.to_string(), reason.to_string()).is_some() {
            return Err(format!("{}:{}: {name} listed twice", path.display(), n + 1));
        }
    }
    Ok(m)
}

/// `corpus/differential/`: each case differs from the oracle exactly when
/// `known-differences.txt` lists it.
#[test]
fn known_differences() {
    let root = harness::workspace().join("corpus/differential");
    let list_path = root.join("known-differences.txt");
    let known = parse_list(&list_path).unwrap_or_else(|e| panic!("{e}"));
    let cases = case_dirs(&root);
    let mut problems = Vec::new();
    for name in known.keys() {
        if !root.join(name).is_dir() {
            problems.push(format!(
                "{}: {name} names no case directory",
                list_path.display()
            ));
        }
    }
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let runs = match kept_case(dir) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let mut diffs = String::new();
        for (mode, expected, ours) in &runs {
            if ours.crashed() {
                problems.push(format!("{name} ({mode}): ksymrules {}", ours.status));
            }
            let d = harness::compare(expected, ours);
            if !d.is_empty() {
                writeln!(diffs, "=== {mode}\n{}", harness::render_diffs(&d)).unwrap();
            }
        }
        match (known.get(&name), diffs.is_empty()) {
            (Some(_), false) => eprintln!("known difference {name}:\n{diffs}"),
            (None, true) => {}
            (Some(reason), true) => problems.push(format!(
                "{name} matches the oracle now: remove it from {} (it was: {reason}) \
                 and keep it as a regression",
                list_path.display()
            )),
            (None, false) => problems.push(format!(
                "{name} differs from the oracle and is not listed in {}:\n{diffs}",
                list_path.display()
            )),
        }
    }
    eprintln!(
        "known_differences: {} cases, {} listed",
        cases.len(),
        known.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `corpus/gendwarfksyms-findings/`: objects on which the oracle crashed or
/// hung. Where it did, ksymrules must fail cleanly (exit 1 and an `error: `
/// line); where it did not (the other mode), it must agree with it.
#[test]
fn oracle_findings() {
    let root = harness::workspace().join("corpus/gendwarfksyms-findings");
    let doc = std::fs::read_to_string(harness::workspace().join("docs/gendwarfksyms-findings.md"))
        .expect("docs/gendwarfksyms-findings.md");
    let cases = case_dirs(&root);
    assert!(!cases.is_empty(), "no case in {}", root.display());
    let mut problems = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !doc.contains(&format!("`{name}`")) {
            problems.push(format!(
                "{name} is not described in docs/gendwarfksyms-findings.md"
            ));
        }
        let runs = match kept_case(dir) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let mut crashed = false;
        for (mode, expected, ours) in &runs {
            if expected.crashed() {
                crashed = true;
                let stderr = String::from_utf8_lossy(&ours.stderr);
                if ours.status != harness::Status::Exit(1)
                    || ours.dump_status.is_some()
                    || !stderr.contains("error: ")
                {
                    problems.push(format!(
                        "{name} ({mode}): the oracle {}; ksymrules must fail cleanly, it gave {} \
                         (dump runs: {:?}): {stderr}",
                        expected.status, ours.status, ours.dump_status
                    ));
                }
            } else {
                let d = harness::compare(expected, ours);
                if !d.is_empty() {
                    problems.push(format!("{name} ({mode}):\n{}", harness::render_diffs(&d)));
                }
            }
        }
        if !crashed {
            problems.push(format!(
                "{name}: the oracle's stored outputs show no crash or hang"
            ));
        }
    }
    eprintln!("oracle_findings: {} cases", cases.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Stores the oracle's outputs for a kept case:
///
///     DIFF_SAVE_CASE=corpus/differential/NAME cargo test --release -p ksymrules \
///         --test differential save_case -- --ignored
///
/// (the directory holds `input.o` or `unit0.o`, `unit1.o`..., and
/// `symbols`; `expected/default/` and `expected/stable/` are written).
#[test]
#[ignore]
fn save_case() {
    let dir = PathBuf::from(std::env::var_os("DIFF_SAVE_CASE").expect("DIFF_SAVE_CASE=<dir>"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        harness::workspace().join(dir)
    };
    let tools = harness::tools("save_case").expect("the oracle");
    let symbols = std::fs::read(dir.join("symbols")).expect("symbols");
    let scratch = tempfile::tempdir().expect("tempdir");
    for (mode, stable) in MODES {
        let o = harness::outputs(
            &tools.oracle,
            &case_objects(&dir),
            &symbols,
            stable,
            scratch.path(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let out = dir.join("expected").join(mode);
        let _ = std::fs::remove_dir_all(&out);
        o.save(&out).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("{}: {}", out.display(), o.status);
    }
}

// ---------------------------------------------------------------------------
// The generator itself

/// Every construct the generator is meant to make shows up among 256 of its
/// programs (a guard against a change that starves one). Needs no tools;
/// `DIFF_SHOW_PROGRAMS=N` prints the first N programs.
#[test]
fn generator_coverage() {
    use proptest::strategy::ValueTree;
    let mut runner = TestRunner::deterministic();
    let strategy = cprog::program();
    let show = env_number("DIFF_SHOW_PROGRAMS").unwrap_or(0) as usize;
    let n = 256;
    type Has = dyn Fn(&cprog::Program, &str) -> bool;
    let constructs: &[(&str, &Has)] = &[
        ("union", &|_, t| t.contains("union u")),
        ("enum", &|_, t| t.contains("enum e")),
        ("typedef", &|_, t| t.contains("typedef ")),
        ("typedef of an unnamed struct/union", &|_, t| {
            t.contains("typedef struct {") || t.contains("typedef union {")
        }),
        ("bit-field", &|_, t| t.contains(" : ")),
        ("zero-width bit-field", &|_, t| t.contains(" : 0;")),
        ("array", &|_, t| t.contains("];")),
        ("multi-dimensional array", &|_, t| t.contains("][")),
        ("zero-length array", &|_, t| t.contains("[0]")),
        ("flexible array member", &|_, t| t.contains("[];")),
        ("function pointer", &|_, t| t.contains("(*")),
        ("variadic", &|_, t| t.contains(", ...)")),
        ("const", &|_, t| t.contains("const ")),
        ("volatile", &|_, t| t.contains("volatile ")),
        ("restrict", &|_, t| t.contains("restrict ")),
        ("_Atomic", &|_, t| t.contains("_Atomic ")),
        ("anonymous member", &|_, t| {
            t.contains("{ struct {") || t.contains("{ union {") || t.contains("; union {")
        }),
        ("packed", &|_, t| t.contains("packed")),
        ("aligned", &|_, t| t.contains("aligned(")),
        ("private type (.c)", &|p, _| {
            p.decls
                .iter()
                .any(|d| d.placement == cprog::Placement::Source)
        }),
        ("declaration-only struct", &|p, _| {
            p.decls
                .iter()
                .any(|d| d.placement == cprog::Placement::DeclOnly)
        }),
        ("64-bit enumerator", &|_, t| t.contains("L,")),
        ("function", &|p, _| !p.funcs.is_empty()),
        ("variable", &|p, _| !p.vars.is_empty()),
        ("prototype in the header", &|_, t| t.contains("extern ")),
        ("function only declared", &|p, _| {
            p.funcs.iter().any(|f| !f.defined)
        }),
        ("alias", &|_, t| t.contains("alias(\"")),
        ("alias of another type", &|p, _| {
            p.aliases.iter().any(|a| a.other_type)
        }),
        ("symbol pointer", &|_, t| t.contains("__gendwarfksyms_ptr_")),
        ("two compilation units", &|p, _| p.units == 2),
        ("static function", &|p, _| !p.statics.is_empty()),
        ("static function of one name in both units", &|p, _| {
            p.statics.windows(2).any(|w| w[0].name == w[1].name)
        }),
        ("address taken in the other unit", &|_, t| {
            t.contains("__gen_uses")
        }),
        ("two objects (no ld -r)", &|p, _| p.separate),
        ("weak definition", &|p, _| !p.weak.is_empty()),
        ("names beyond ASCII", &|p, _| {
            p.symbols.iter().any(|s| !s.is_ascii())
        }),
        ("a name in an export's hash bucket", &|p, _| {
            p.vars.iter().any(|v| v.name.starts_with('c'))
        }),
        (
            "callback taking its own structure, as a parameter",
            &|p, _| {
                let cb = p.callbacks();
                p.funcs
                    .iter()
                    .any(|f| f.params.iter().any(|x| cb.contains(&x.ty)))
            },
        ),
        ("struct defined in the second unit only", &|p, _| {
            p.decls
                .iter()
                .any(|d| d.placement == cprog::Placement::Unit1)
        }),
        ("struct with more members in the second unit", &|_, t| {
            t.contains("{ GEN_UNIT1_ONLY(char")
        }),
        ("kABI rule declonly", &|_, t| t.contains("\"declonly\"")),
        ("two kABI rules for one target", &|p, _| {
            let mut k: Vec<_> = p.rules.iter().map(|r| (r.kind, &r.target)).collect();
            k.sort();
            k.windows(2).any(|w| w[0] == w[1])
        }),
        ("kABI rule enumerator_ignore", &|_, t| {
            t.contains("\"enumerator_ignore\"")
        }),
        ("kABI rule enumerator_value", &|_, t| {
            t.contains("\"enumerator_value\"")
        }),
        ("kABI rule byte_size", &|_, t| t.contains("\"byte_size\"")),
        ("kABI rule type_string", &|_, t| {
            t.contains("\"type_string\"")
        }),
        ("__kabi_reserved", &|_, t| t.contains("__kabi_reserved")),
        ("__kabi_renamed", &|_, t| t.contains("__kabi_renamed")),
        ("__kabi_ignored", &|_, t| t.contains("__kabi_ignored")),
        ("__kabi_ parameter", &|_, t| t.contains("__kabi_p")),
        ("unlisted export", &|p, _| {
            p.export_names().iter().any(|e| !p.symbols.contains(e))
        }),
        ("symbol that exists nowhere", &|_, t| t.contains("nosuch")),
        ("duplicate symbol", &|p, _| {
            let mut s = p.symbols.clone();
            s.sort();
            s.windows(2).any(|w| w[0] == w[1])
        }),
    ];
    let mut counts = vec![0usize; constructs.len()];
    for i in 0..n {
        let p = strategy.new_tree(&mut runner).expect("a program").current();
        let text = p.render().to_string();
        if i < show {
            eprintln!("===== program {i}\n{text}");
        }
        for (c, (_, has)) in counts.iter_mut().zip(constructs) {
            if has(&p, &text) {
                *c += 1;
            }
        }
    }
    let mut missing = Vec::new();
    for (c, (name, _)) in counts.iter().zip(constructs) {
        eprintln!("{c:4}/{n} {name}");
        if *c == 0 {
            missing.push(*name);
        }
    }
    assert!(
        missing.is_empty(),
        "never generated in {n} programs: {missing:?}"
    );
}
