//! Golden tests: run the `ksymrules` binary on every case of the golden corpus
//! and compare with what the reference gendwarfksyms produced.
//!
//! Case families and ids:
//! - `golden/<case>/<variant>`: the vendored corpus in `corpus/golden/` (never skipped);
//! - `golden-ko/<module>`, `golden-kbuild/<object>`, `golden-rust/<object>`
//!   (Linux 7.3's Rust objects as kbuild built them): in the shared directory
//!   (`$KSYMRULES_SHARED`, else `<workspace>/../shared`); skipped with a loud
//!   message when absent, unless `CI` is set, where their absence is a failure;
//! - any of the above with `:stable` appended, for cases that have `expected/stable/`
//!   (run with `--stable`, compared with `expected/stable/`, falling back to
//!   `expected/` for files missing there).
//!
//! Each case runs up to four invocations (plain, `-T FILE`, `--dump-versions`,
//! `--dump-dies`) and checks exit code, symvers, missing-symbol warnings, the
//! `error:` line, symtypes, the versions dump and the dies dump.
//!
//! `corpus/known-failures.txt` lists the case ids allowed to fail. The test fails
//! if an unlisted case fails, if a listed case passes (remove it from the list),
//! or if a listed id names no case.
//!
//! Environment knobs (all optional):
//! - `GOLDEN_FILTER=SUBSTR`: run only the cases whose id contains SUBSTR;
//! - `GOLDEN_VERBOSE=1`: print the details of known failures too;
//! - `GOLDEN_JOBS=N`: number of worker threads (default: available parallelism);
//! - `GOLDEN_TIMEOUT_SECS=N`: limit for one invocation (default 300).
//!
//! Run with `cargo test -p ksymrules --test golden -- --nocapture` to see the report
//! when everything passes; on failure it is shown anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KNOWN_FAILURES: &str = "corpus/known-failures.txt";
const SHARED_FAMILIES: [&str; 3] = ["golden-ko", "golden-kbuild", "golden-rust"];
/// How many characters of a line a diff hint shows.
const SHOW: usize = 300;
const MISSING_SYMBOL: &str = "no information for symbol ";

// ---------------------------------------------------------------------------
// Cases

struct Case {
    id: String,
    /// Directory holding `input.o` and `symbols`.
    dir: PathBuf,
    /// `expected/` or `expected/stable/`.
    expected: PathBuf,
    /// `expected/` for a stable case, consulted for files missing in `expected`.
    fallback: Option<PathBuf>,
    stable: bool,
    /// Size of `input.o`, to start the big ones first.
    size: u64,
}

impl Case {
    fn expected_path(&self, name: &str) -> Option<PathBuf> {
        std::iter::once(&self.expected)
            .chain(self.fallback.as_ref())
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }

    fn read_expected(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match self.expected_path(name) {
            None => Ok(None),
            Some(p) => read(&p).map(Some),
        }
    }

    /// `versions`, or `versions.xz` decompressed, from the first directory having either.
    fn read_versions(&self) -> Result<Option<Vec<u8>>, String> {
        for d in std::iter::once(&self.expected).chain(self.fallback.as_ref()) {
            let plain = d.join("versions");
            if plain.is_file() {
                return read(&plain).map(Some);
            }
            let xz = d.join("versions.xz");
            if xz.is_file() {
                let f = fs::File::open(&xz).map_err(|e| format!("{}: {e}", xz.display()))?;
                let mut out = Vec::new();
                lzma_rs::xz_decompress(&mut BufReader::new(f), &mut out)
                    .map_err(|e| format!("{}: xz: {e:?}", xz.display()))?;
                return Ok(Some(out));
            }
        }
        Ok(None)
    }
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Adds the case in `dir` (and its `:stable` twin) under `id`.
fn add_case(cases: &mut Vec<Case>, problems: &mut Vec<String>, id: String, dir: &Path) {
    let input = dir.join("input.o");
    let expected = dir.join("expected");
    if !input.is_file() || !expected.is_dir() {
        problems.push(format!(
            "{id}: {} is not a case directory (needs input.o and expected/)",
            dir.display()
        ));
        return;
    }
    let size = fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    let stable = expected.join("stable");
    if stable.is_dir() {
        cases.push(Case {
            id: format!("{id}:stable"),
            dir: dir.to_path_buf(),
            expected: stable,
            fallback: Some(expected.clone()),
            stable: true,
            size,
        });
    }
    cases.push(Case {
        id,
        dir: dir.to_path_buf(),
        expected,
        fallback: None,
        stable: false,
        size,
    });
}

// ---------------------------------------------------------------------------
// Running the binary

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Run {
    fn status(&self) -> String {
        if self.timed_out {
            "timed out (killed)".to_string()
        } else if let Some(c) = self.code {
            format!("exit {c}")
        } else if let Some(s) = self.signal {
            format!("killed by signal {s}")
        } else {
            "unknown status".to_string()
        }
    }

    /// The first `error:` line of stderr, else its first line.
    fn first_diag(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.stderr);
        text.lines()
            .find(|l| l.starts_with("error: "))
            .or_else(|| text.lines().find(|l| !l.trim().is_empty()))
            .map(|l| window(l, 0))
    }

    /// ` (our run: exit 2, "error: ...")` when the run did not end with `want`, else "".
    fn note(&self, want: i32) -> String {
        if self.code == Some(want) {
            return String::new();
        }
        match self.first_diag() {
            Some(d) => format!(" (our run: {}, stderr: {d})", self.status()),
            None => format!(" (our run: {})", self.status()),
        }
    }
}

struct Runner {
    bin: PathBuf,
    tmp: PathBuf,
    timeout: Duration,
}

impl Runner {
    fn run(&self, case: &Case, extra: &[&str], stdin: &[u8]) -> Result<Run, String> {
        let mut cmd = Command::new(&self.bin);
        if case.stable {
            cmd.arg("--stable");
        }
        cmd.args(extra)
            .arg(case.dir.join("input.o"))
            .current_dir(&self.tmp)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        let mut input = child.stdin.take().expect("piped stdin");
        let mut out = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        std::thread::scope(|s| {
            // A binary that exits without reading stdin makes this fail: fine.
            s.spawn(move || {
                let _ = input.write_all(stdin);
            });
            let o = s.spawn(move || {
                let mut v = Vec::new();
                let _ = out.read_to_end(&mut v);
                v
            });
            let e = s.spawn(move || {
                let mut v = Vec::new();
                let _ = err.read_to_end(&mut v);
                v
            });
            let deadline = Instant::now() + self.timeout;
            let mut nap = Duration::from_millis(1);
            let mut timed_out = false;
            let status = loop {
                match child.try_wait() {
                    Ok(Some(st)) => break Ok(st),
                    Ok(None) if Instant::now() >= deadline => {
                        timed_out = true;
                        let _ = child.kill();
                        break child.wait();
                    }
                    Ok(None) => {
                        std::thread::sleep(nap);
                        nap = (nap * 2).min(Duration::from_millis(20));
                    }
                    Err(e) => break Err(e),
                }
            };
            let stdout = o.join().unwrap_or_default();
            let stderr = e.join().unwrap_or_default();
            let status = status.map_err(|e| format!("waiting for {}: {e}", self.bin.display()))?;
            Ok(Run {
                code: status.code(),
                signal: status.signal(),
                timed_out,
                stdout,
                stderr,
            })
        })
    }
}

// ---------------------------------------------------------------------------
// Comparing

struct Failure {
    check: &'static str,
    detail: String,
}

fn fail(check: &'static str, detail: impl Into<String>) -> Failure {
    Failure {
        check,
        detail: detail.into(),
    }
}

/// At most `SHOW` characters of `s` around character column `col`, quoted.
fn window(s: &str, col: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= SHOW {
        return format!("{s:?}");
    }
    let start = col.saturating_sub(SHOW / 5).min(chars.len() - SHOW);
    let end = start + SHOW;
    let piece: String = chars[start..end].iter().collect();
    format!(
        "{}{piece:?}{}",
        if start > 0 { "…" } else { "" },
        if end < chars.len() { "…" } else { "" }
    )
}

/// Two indented lines `expected: …` / `got: …`, windowed at their first difference.
fn pair(exp: Option<&str>, got: Option<&str>) -> String {
    let col = match (exp, got) {
        (Some(e), Some(g)) => e.chars().zip(g.chars()).take_while(|(a, b)| a == b).count(),
        _ => 0,
    };
    let show = |l: Option<&str>| l.map_or("<none>".to_string(), |l| window(l, col));
    let at = if col > 0 && exp != got {
        // Where the window hides the start of a long line, name it.
        let long = exp.into_iter().chain(got).any(|l| l.chars().count() > SHOW);
        let start: String = exp.unwrap_or_default().chars().take(40).collect();
        let of = if long && col > SHOW / 5 {
            format!(" of the line starting {start:?}")
        } else {
            String::new()
        };
        format!("    (first difference at column {}{of})\n", col + 1)
    } else {
        String::new()
    };
    format!(
        "{at}    expected: {}\n    got:      {}",
        show(exp),
        show(got)
    )
}

/// Drops the `warning: ` and `error: ` lines, keeping every other byte.
fn strip_diagnostics(text: &[u8]) -> Vec<u8> {
    text.split_inclusive(|&b| b == b'\n')
        .filter(|l| !l.starts_with(b"warning: ") && !l.starts_with(b"error: "))
        .flatten()
        .copied()
        .collect()
}

fn lines_of(text: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(text)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Byte-for-byte comparison, reported as the first differing line.
fn compare_exact(check: &'static str, exp: &[u8], got: &[u8], note: &str) -> Option<Failure> {
    if exp == got {
        return None;
    }
    let e: Vec<&[u8]> = exp.split_inclusive(|&b| b == b'\n').collect();
    let g: Vec<&[u8]> = got.split_inclusive(|&b| b == b'\n').collect();
    let i = e.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let text = |l: Option<&&[u8]>| {
        l.map(|l| {
            String::from_utf8_lossy(l)
                .trim_end_matches('\n')
                .to_string()
        })
    };
    let (el, gl) = (text(e.get(i)), text(g.get(i)));
    let what = if el == gl {
        "differs only in its final newline".to_string()
    } else {
        "differs".to_string()
    };
    Some(fail(
        check,
        format!(
            "line {} {what} (expected {} lines, got {}){note}\n{}",
            i + 1,
            e.len(),
            g.len(),
            pair(el.as_deref(), gl.as_deref())
        ),
    ))
}

/// Comparison of sorted lines, reported as the first missing and the first unexpected line.
fn compare_sorted(
    check: &'static str,
    mut exp: Vec<String>,
    mut got: Vec<String>,
    note: &str,
) -> Option<Failure> {
    exp.sort();
    got.sort();
    if exp == got {
        return None;
    }
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < exp.len() || j < got.len() {
        match (exp.get(i), got.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                missing.push(a.as_str());
                i += 1;
            }
            (Some(a), None) => {
                missing.push(a.as_str());
                i += 1;
            }
            (_, Some(b)) => {
                extra.push(b.as_str());
                j += 1;
            }
            (None, None) => unreachable!(),
        }
    }
    Some(fail(
        check,
        format!(
            "sorted lines differ: {} expected lines missing, {} unexpected (expected {} lines, got {}){note}\n{}",
            missing.len(),
            extra.len(),
            exp.len(),
            got.len(),
            pair(missing.first().copied(), extra.first().copied())
        ),
    ))
}

/// The NAMEs of the `... no information for symbol NAME` lines.
fn missing_symbols(stderr: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| l.split_once(MISSING_SYMBOL))
        .filter_map(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn has_error_line(stderr: &[u8]) -> bool {
    String::from_utf8_lossy(stderr)
        .lines()
        .any(|l| l.starts_with("error: "))
}

fn run_case(runner: &Runner, case: &Case) -> Vec<Failure> {
    match check_case(runner, case) {
        Ok(f) => f,
        Err(e) => vec![fail("harness", e)],
    }
}

fn check_case(runner: &Runner, case: &Case) -> Result<Vec<Failure>, String> {
    let mut failures = Vec::new();
    let stdin = match fs::read(case.dir.join("symbols")) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("{}/symbols: {e}", case.dir.display())),
    };
    let exit_text = case
        .read_expected("exit")?
        .ok_or_else(|| format!("{}: no expected/exit", case.dir.display()))?;
    let exit_text = String::from_utf8_lossy(&exit_text);
    let ref_exit: i32 = exit_text
        .trim()
        .parse()
        .map_err(|e| format!("expected/exit {:?}: {e}", exit_text.trim()))?;
    // We never crash: where the reference died of a signal, we must fail cleanly.
    let want = if ref_exit > 128 { 1 } else { ref_exit };

    // 1. Plain run.
    let run = runner.run(case, &[], &stdin)?;
    if run.code != Some(want) {
        let why = if ref_exit > 128 {
            format!(" (the reference died with signal {})", ref_exit - 128)
        } else {
            String::new()
        };
        let diag = run
            .first_diag()
            .map_or(String::new(), |d| format!(", stderr: {d}"));
        failures.push(fail(
            "exit",
            format!("expected exit {want}{why}, got {}{diag}", run.status()),
        ));
    }
    if ref_exit == 0 {
        let exp = case.read_expected("symvers")?.unwrap_or_default();
        failures.extend(compare_sorted(
            "symvers",
            lines_of(&exp),
            lines_of(&run.stdout),
            "",
        ));
    }
    let exp_stderr = case.read_expected("stderr")?.unwrap_or_default();
    let (exp_missing, got_missing) = (missing_symbols(&exp_stderr), missing_symbols(&run.stderr));
    if exp_missing != got_missing {
        let list =
            |s: &BTreeSet<String>| window(&s.iter().cloned().collect::<Vec<_>>().join(" "), 0);
        failures.push(fail(
            "warnings",
            format!(
                "symbols warned '{}NAME' differ\n    expected: {}\n    got:      {}",
                MISSING_SYMBOL,
                list(&exp_missing),
                list(&got_missing)
            ),
        ));
    }
    if ref_exit != 0 && !has_error_line(&run.stderr) {
        let diag = run
            .first_diag()
            .map_or("nothing".to_string(), |d| format!("first line {d}"));
        failures.push(fail(
            "error-line",
            format!("expected an `error: ` line on stderr, got {diag}"),
        ));
    }

    // 2. -T FILE.
    if let Some(exp) = case.read_expected("symtypes")? {
        let file = runner
            .tmp
            .join(format!("{}.symtypes", case.id.replace(['/', ':'], "_")));
        let _ = fs::remove_file(&file);
        let file_arg = file.to_string_lossy().into_owned();
        let run = runner.run(case, &["-T", &file_arg], &stdin)?;
        match fs::read(&file) {
            Ok(got) => failures.extend(compare_exact("symtypes", &exp, &got, &run.note(want))),
            Err(e) => failures.push(fail(
                "symtypes",
                format!("the -T file was not written ({e}){}", run.note(want)),
            )),
        }
        let _ = fs::remove_file(&file);
    }

    // 3. --dump-versions.
    if let Some(exp) = case.read_versions()? {
        let run = runner.run(case, &["--dump-versions"], &stdin)?;
        failures.extend(compare_sorted(
            "versions",
            lines_of(&strip_diagnostics(&exp)),
            lines_of(&strip_diagnostics(&run.stderr)),
            &run.note(want),
        ));
    }

    // 4. --dump-dies.
    if let Some(exp) = case.read_expected("dies")? {
        let run = runner.run(case, &["--dump-dies"], &stdin)?;
        failures.extend(compare_exact(
            "dies",
            &strip_diagnostics(&exp),
            &strip_diagnostics(&run.stderr),
            &run.note(want),
        ));
    }
    Ok(failures)
}

// ---------------------------------------------------------------------------
// Known failures

/// `id -> reason`, or the problems found in the file.
fn parse_known_failures(path: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let mut known = BTreeMap::new();
    let mut problems = Vec::new();
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            return (known, problems);
        }
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line.split_once('#').unwrap_or((line, ""));
        let (id, reason) = (id.trim(), reason.trim());
        let at = format!("{KNOWN_FAILURES}:{}", n + 1);
        if id.contains(char::is_whitespace) {
            problems.push(format!("{at}: {id:?} is not one case id"));
        } else if reason.is_empty() {
            problems.push(format!(
                "{at}: {id} has no reason (`<case-id>  # <reason>`)"
            ));
        } else if known.insert(id.to_string(), reason.to_string()).is_some() {
            problems.push(format!("{at}: {id} is listed twice"));
        }
    }
    (known, problems)
}

// ---------------------------------------------------------------------------
// The test

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Writes to the real stderr, past the test harness's capture, so it shows even on success.
fn loud(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "\n{}\n{msg}\n{}\n", "!".repeat(72), "!".repeat(72));
}

#[test]
fn golden() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("workspace root");
    let mut problems: Vec<String> = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut skipped: Vec<&str> = Vec::new();

    // The vendored corpus: golden/<case>/<variant>.
    let vendored = root.join("corpus/golden");
    for case_dir in subdirs(&vendored) {
        for variant in subdirs(&case_dir) {
            let id = format!("golden/{}/{}", name_of(&case_dir), name_of(&variant));
            add_case(&mut cases, &mut problems, id, &variant);
        }
    }
    if cases.is_empty() {
        problems.push(format!("no cases found in {}", vendored.display()));
    }

    // The shared families.
    let shared = std::env::var_os("KSYMRULES_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let shared = shared.canonicalize().unwrap_or(shared);
    let ci = std::env::var_os("CI").is_some();
    for family in SHARED_FAMILIES {
        let dir = shared.join(family);
        if dir.is_dir() {
            for obj in subdirs(&dir) {
                let id = format!("{family}/{}", name_of(&obj));
                add_case(&mut cases, &mut problems, id, &obj);
            }
        } else if ci {
            problems.push(format!(
                "{} is missing, and CI is set: the {family} cases may not be skipped \
                 (set KSYMRULES_SHARED to the shared directory)",
                dir.display()
            ));
        } else {
            skipped.push(family);
            loud(&format!(
                "golden: SKIPPING the {family} cases: {} is missing.\n\
                 Set KSYMRULES_SHARED to the shared directory to run them (with CI set, this is a failure).",
                dir.display()
            ));
        }
    }

    let (known, known_problems) = parse_known_failures(&root.join(KNOWN_FAILURES));
    problems.extend(known_problems);
    let all_ids: BTreeSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    for id in known.keys() {
        let family = id.split('/').next().unwrap_or("");
        if !all_ids.contains(id.as_str()) && !skipped.contains(&family) {
            problems.push(format!(
                "{KNOWN_FAILURES}: {id} names no case: remove it from {KNOWN_FAILURES}"
            ));
        }
    }

    let filter = std::env::var("GOLDEN_FILTER").unwrap_or_default();
    if !filter.is_empty() {
        cases.retain(|c| c.id.contains(&filter));
        eprintln!(
            "golden: GOLDEN_FILTER={filter:?} selects {} cases",
            cases.len()
        );
    }
    // Biggest inputs first, so that no worker is left with one at the end.
    cases.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.id.cmp(&b.id)));

    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("golden");
    fs::create_dir_all(&tmp).expect("create the temporary directory");
    let runner = Runner {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_ksymrules")),
        tmp,
        timeout: Duration::from_secs(env_number("GOLDEN_TIMEOUT_SECS").unwrap_or(300)),
    };
    let jobs = env_number("GOLDEN_JOBS")
        .map(|n| n.max(1) as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .min(cases.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Failure>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let failures = run_case(&runner, case);
                results.lock().unwrap().push((i, failures));
            });
        }
    });
    let mut results: Vec<(&Case, Vec<Failure>)> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|(i, f)| (&cases[i], f))
        .collect();
    results.sort_by(|a, b| a.0.id.cmp(&b.0.id));

    // The report: unexpected failures in detail, then known failures one per line.
    let verbose = std::env::var_os("GOLDEN_VERBOSE").is_some_and(|v| v != "0" && !v.is_empty());
    let (mut pass, mut known_lines, mut unexpected, mut fixed) = (0, Vec::new(), 0, 0);
    for (case, failures) in &results {
        let listed = known.get(&case.id);
        if failures.is_empty() {
            pass += 1;
            if listed.is_some() {
                fixed += 1;
                problems.push(format!(
                    "{} passes now: remove it from {KNOWN_FAILURES}",
                    case.id
                ));
            }
            continue;
        }
        let checks = failures
            .iter()
            .map(|f| f.check)
            .collect::<Vec<_>>()
            .join(", ");
        let details = failures
            .iter()
            .map(|f| format!("\n  {}: {}", f.check, f.detail))
            .collect::<String>();
        match listed {
            Some(reason) => known_lines.push(format!(
                "known failure {} [{checks}]  # {reason}{}",
                case.id,
                if verbose { details.as_str() } else { "" }
            )),
            None => {
                unexpected += 1;
                eprintln!("FAIL {} [{checks}]{details}", case.id);
                problems.push(format!(
                    "{} fails [{checks}] and is not listed in {KNOWN_FAILURES}",
                    case.id
                ));
            }
        }
    }
    for line in &known_lines {
        eprintln!("{line}");
    }
    eprintln!("golden: {pass}/{} cases pass", results.len());
    eprintln!(
        "golden: {} known failures, {unexpected} unexpected failures, \
         {fixed} listed but passing{}",
        known_lines.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", skipped: {}", skipped.join(", "))
        }
    );
    if !problems.is_empty() {
        const CAP: usize = 30;
        let more = problems.len().saturating_sub(CAP);
        panic!(
            "golden: {} problem(s) (details above):\n  {}{}",
            problems.len(),
            problems[..problems.len().min(CAP)].join("\n  "),
            if more > 0 {
                format!("\n  ... and {more} more")
            } else {
                String::new()
            }
        );
    }
}
