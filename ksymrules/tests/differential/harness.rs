//! Finding and running the tools for the differential tests: the oracle (the
//! kernel's own gendwarfksyms, built by `tests/oracle/build.sh`), ksymrules,
//! gcc and clang; what one tool says about one object; and the comparison.

use std::collections::BTreeSet;
use std::fmt;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MISSING_SYMBOL: &str = "no information for symbol ";

/// The workspace root (the parent of the `ksymrules` crate).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate dir has a parent")
        .to_path_buf()
}

pub fn ksymrules() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ksymrules"))
}

/// Writes to the real stderr, past the test harness's capture.
pub fn loud(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "\n{}\n{msg}\n{}\n", "!".repeat(72), "!".repeat(72));
}

// ---------------------------------------------------------------------------
// Tools

pub struct Tools {
    pub oracle: PathBuf,
    pub gcc: PathBuf,
    pub clang: PathBuf,
    pub ld: PathBuf,
}

fn runs(prog: &Path, arg: &str) -> bool {
    Command::new(prog)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `KSYMRULES_ORACLE`, else the last line `tests/oracle/build.sh` prints
/// (it builds the oracle into its cache once, then only prints the path).
fn find_oracle() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("KSYMRULES_ORACLE").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("KSYMRULES_ORACLE={} is not a file", p.display()))
        };
    }
    let script = workspace().join("tests/oracle/build.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}); see its messages above",
            script.display(),
            out.status
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("").trim();
    let p = PathBuf::from(last);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{} printed {last:?}, which is not a file",
            script.display()
        ))
    }
}

fn find_tools() -> Result<Tools, String> {
    let mut missing = Vec::new();
    let oracle = find_oracle().map_err(|e| missing.push(format!("the oracle: {e}")));
    let gcc = PathBuf::from(std::env::var_os("CC_GCC").unwrap_or_else(|| "gcc".into()));
    if !runs(&gcc, "--version") {
        missing.push("gcc".to_string());
    }
    let clang = PathBuf::from(std::env::var_os("CC_CLANG").unwrap_or_else(|| "clang".into()));
    if !runs(&clang, "--version") {
        missing.push("clang (Debian package clang)".to_string());
    }
    let ld = PathBuf::from("ld");
    if !runs(&ld, "--version") {
        missing.push("ld (Debian package binutils)".to_string());
    }
    match oracle {
        Ok(oracle) if missing.is_empty() => Ok(Tools {
            oracle,
            gcc,
            clang,
            ld,
        }),
        _ => Err(missing.join("; ")),
    }
}

/// The tools, or `None` after a loud SKIPPING message when one is missing.
/// Under CI (`CI` set) a missing tool is a failure, never a skip.
pub fn tools(test: &str) -> Option<&'static Tools> {
    static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
    match TOOLS.get_or_init(find_tools) {
        Ok(t) => Some(t),
        Err(missing) => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{test}: missing {missing}; CI must provide them (see .ci/run and \
                     tests/oracle/README.md)"
                );
            }
            loud(&format!(
                "SKIPPING {test}: missing {missing}\n\
                 build the oracle with tests/oracle/build.sh (as root, or with libdw-dev \
                 libelf-dev zlib1g-dev installed) or point KSYMRULES_ORACLE at one;\n\
                 apt-get install gcc clang binutils (with CI set, this is a failure)"
            ));
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Compiling

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compiler {
    Gcc,
    Clang,
}

impl fmt::Display for Compiler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compiler::Gcc => "gcc",
            Compiler::Clang => "clang",
        })
    }
}

/// A less common option a program may be compiled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extra {
    None,
    /// `-fdebug-types-section`: type units (which gendwarfksyms doesn't follow).
    TypesSection,
    /// `-gz=zlib`: compressed debug sections.
    Compressed,
    /// `-fcommon`: variables without an initializer become common symbols
    /// (section `SHN_COMMON`, value their alignment: those of one alignment
    /// are aliases to gendwarfksyms).
    Common,
}

/// How a program is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Build {
    pub cc: Compiler,
    pub dwarf: u8,
    pub opt: u8,
    pub sections: bool,
    pub extra: Extra,
}

impl Build {
    /// All 16 combinations (without an extra option).
    pub fn all() -> Vec<Build> {
        let mut v = Vec::new();
        for cc in [Compiler::Gcc, Compiler::Clang] {
            for dwarf in [4, 5] {
                for opt in [0, 2] {
                    for sections in [false, true] {
                        v.push(Build {
                            cc,
                            dwarf,
                            opt,
                            sections,
                            extra: Extra::None,
                        });
                    }
                }
            }
        }
        v
    }

    pub fn flags(&self) -> Vec<String> {
        let mut v = vec![
            "-g".to_string(),
            format!("-gdwarf-{}", self.dwarf),
            format!("-O{}", self.opt),
        ];
        if self.sections {
            v.push("-ffunction-sections".into());
            v.push("-fdata-sections".into());
        }
        match self.extra {
            Extra::None => {}
            Extra::TypesSection => v.push("-fdebug-types-section".into()),
            Extra::Compressed => v.push("-gz=zlib".into()),
            Extra::Common => v.push("-fcommon".into()),
        }
        v
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.cc, self.flags().join(" "))
    }
}

/// Runs a command to completion; an error holds its stderr.
fn run_ok(cmd: &mut Command) -> Result<(), String> {
    let desc = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{desc}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{desc} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Compiles `units` (in `dir`, with `-I dir` and `include`) into
/// `dir/input.o`, joined with `ld -r` when there are several, as kbuild
/// links a module's objects — or, unless `link`, left as `unit<i>.o` to be
/// given to the tools one after the other. Returns the objects and the
/// shell commands.
pub fn compile(
    tools: &Tools,
    build: Build,
    dir: &Path,
    units: &[PathBuf],
    include: &[&Path],
    link: bool,
) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    let cc = match build.cc {
        Compiler::Gcc => &tools.gcc,
        Compiler::Clang => &tools.clang,
    };
    let out = dir.join("input.o");
    let mut commands = Vec::new();
    let mut objs = Vec::new();
    for (i, u) in units.iter().enumerate() {
        let obj = if units.len() == 1 {
            out.clone()
        } else {
            dir.join(format!("unit{i}.o"))
        };
        let mut cmd = Command::new(cc);
        cmd.args(build.flags()).arg("-c").arg("-I").arg(dir);
        let mut shown = format!("{} {} -c", build.cc, build.flags().join(" "));
        for inc in include {
            cmd.arg("-I").arg(inc);
            write!(shown, " -I {}", inc.display()).unwrap();
        }
        cmd.arg(u).arg("-o").arg(&obj).current_dir(dir);
        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        commands.push(format!("{shown} {} -o {}", name(u), name(&obj)));
        run_ok(&mut cmd)?;
        objs.push(obj);
    }
    if units.len() > 1 && !link {
        commands.push(format!(
            "# the tools read {} (in this order)",
            (0..objs.len())
                .map(|i| format!("unit{i}.o"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        return Ok((objs, commands));
    }
    if units.len() > 1 {
        let mut cmd = Command::new(&tools.ld);
        cmd.arg("-r")
            .arg("-o")
            .arg(&out)
            .args(&objs)
            .current_dir(dir);
        commands.push(format!(
            "ld -r -o input.o {}",
            (0..objs.len())
                .map(|i| format!("unit{i}.o"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        run_ok(&mut cmd)?;
    }
    Ok((vec![out], commands))
}

// ---------------------------------------------------------------------------
// Running a tool

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Exit(i32),
    Signal(i32),
    Timeout,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exit(c) => write!(f, "exit {c}"),
            Status::Signal(s) => write!(f, "killed by signal {s}"),
            Status::Timeout => write!(f, "timed out"),
        }
    }
}

impl Status {
    pub fn crashed(&self) -> bool {
        !matches!(self, Status::Exit(_))
    }

    fn parse(s: &str) -> Result<Status, String> {
        let s = s.trim();
        if s == "timeout" {
            return Ok(Status::Timeout);
        }
        let n: i32 = s.parse().map_err(|e| format!("exit {s:?}: {e}"))?;
        Ok(if n > 128 {
            Status::Signal(n - 128)
        } else {
            Status::Exit(n)
        })
    }

    fn write(&self) -> String {
        match self {
            Status::Exit(c) => format!("{c}\n"),
            Status::Signal(s) => format!("{}\n", 128 + s),
            Status::Timeout => "timeout\n".into(),
        }
    }
}

pub struct Run {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub fn timeout() -> Duration {
    Duration::from_secs(
        std::env::var("DIFF_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60),
    )
}

/// Runs `bin args objs...` with `stdin`, killed after `timeout`.
pub fn run_tool(
    bin: &Path,
    args: &[&str],
    objs: &[PathBuf],
    stdin: &[u8],
    cwd: &Path,
    timeout: Duration,
) -> Result<Run, String> {
    let mut child = Command::new(bin)
        .args(args)
        .args(objs)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let mut input = child.stdin.take().expect("piped stdin");
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    std::thread::scope(|s| {
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
        let deadline = Instant::now() + timeout;
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
        let status = status.map_err(|e| format!("waiting for {}: {e}", bin.display()))?;
        let status = if timed_out {
            Status::Timeout
        } else if let Some(c) = status.code() {
            Status::Exit(c)
        } else {
            Status::Signal(status.signal().unwrap_or(0))
        };
        Ok(Run {
            status,
            stdout,
            stderr,
        })
    })
}

// ---------------------------------------------------------------------------
// What a tool says about an object

/// The outputs of one tool on one object, with or without `--stable`: a run
/// with `-T` (exit status, stdout, stderr, the symtypes file), a run with
/// `--dump-versions` and one with `--dump-dies` (their stderr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outputs {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub symtypes: Option<Vec<u8>>,
    pub versions: Vec<u8>,
    pub dies: Vec<u8>,
    /// The status of the dump runs, when not that of the first.
    pub dump_status: Option<Status>,
}

impl Outputs {
    pub fn crashed(&self) -> bool {
        self.status.crashed() || self.dump_status.as_ref().is_some_and(Status::crashed)
    }
}

/// Runs `bin` three times on `objs`.
pub fn outputs(
    bin: &Path,
    objs: &[PathBuf],
    symbols: &[u8],
    stable: bool,
    scratch: &Path,
) -> Result<Outputs, String> {
    let st = if stable { vec!["--stable"] } else { vec![] };
    let symtypes = scratch.join("out.symtypes");
    let _ = std::fs::remove_file(&symtypes);
    let sym_arg = symtypes.to_string_lossy().into_owned();
    let t = timeout();
    let mut args = st.clone();
    args.extend(["-T", sym_arg.as_str()]);
    let main = run_tool(bin, &args, objs, symbols, scratch, t)?;
    let symtypes = std::fs::read(&symtypes).ok();
    if main.status.crashed() {
        // The dumps would crash or hang the same way: no time lost on them.
        return Ok(Outputs {
            status: main.status,
            stdout: main.stdout,
            stderr: main.stderr,
            symtypes,
            versions: Vec::new(),
            dies: Vec::new(),
            dump_status: None,
        });
    }
    let mut args = st.clone();
    args.push("--dump-versions");
    let versions = run_tool(bin, &args, objs, symbols, scratch, t)?;
    let mut args = st;
    args.push("--dump-dies");
    let dies = run_tool(bin, &args, objs, symbols, scratch, t)?;
    let dump_status = [&versions.status, &dies.status]
        .into_iter()
        .find(|s| **s != main.status)
        .cloned();
    Ok(Outputs {
        status: main.status,
        stdout: main.stdout,
        stderr: main.stderr,
        symtypes,
        versions: versions.stderr,
        dies: dies.stderr,
        dump_status,
    })
}

impl Outputs {
    /// Stores the outputs under `dir` (`exit`, `stdout`, `stderr`,
    /// `symtypes` if written, `versions`, `dies`, `dump-exit` if different).
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let w = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, data).map_err(|e| format!("{}: {e}", p.display()))
        };
        w("exit", self.status.write().as_bytes())?;
        w("stdout", &self.stdout)?;
        w("stderr", &self.stderr)?;
        if let Some(s) = &self.symtypes {
            w("symtypes", s)?;
        }
        w("versions", &self.versions)?;
        w("dies", &self.dies)?;
        if let Some(s) = &self.dump_status {
            w("dump-exit", s.write().as_bytes())?;
        }
        Ok(())
    }

    pub fn load(dir: &Path) -> Result<Outputs, String> {
        let r = |name: &str| std::fs::read(dir.join(name)).ok();
        let need = |name: &str| r(name).ok_or_else(|| format!("{}/{name}: missing", dir.display()));
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        Ok(Outputs {
            status: Status::parse(&text(need("exit")?))?,
            stdout: need("stdout")?,
            stderr: need("stderr")?,
            symtypes: r("symtypes"),
            versions: need("versions")?,
            dies: need("dies")?,
            dump_status: r("dump-exit")
                .map(|b| Status::parse(&text(b)))
                .transpose()?,
        })
    }
}

// ---------------------------------------------------------------------------
// Comparing

fn lines(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Drops the `warning: ` and `error: ` lines, keeping every other byte.
fn strip_diagnostics(text: &[u8]) -> Vec<u8> {
    text.split_inclusive(|&b| b == b'\n')
        .filter(|l| !l.starts_with(b"warning: ") && !l.starts_with(b"error: "))
        .flatten()
        .copied()
        .collect()
}

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

/// A line diff (`-` the oracle, `+` ksymrules) with 3 lines of context,
/// at most `cap` lines of it.
pub fn line_diff(a: &[String], b: &[String], cap: usize) -> String {
    // Common prefix and suffix, then an LCS of the middle when it is small.
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut ops: Vec<(char, &str)> = Vec::new();
    if am.len() * bm.len() <= 4_000_000 {
        let (n, m) = (am.len(), bm.len());
        let mut t = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i * (m + 1) + j] = if am[i] == bm[j] {
                    t[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push((' ', &am[i]));
                i += 1;
                j += 1;
            } else if j < m && (i == n || t[i * (m + 1) + j + 1] >= t[(i + 1) * (m + 1) + j]) {
                ops.push(('+', &bm[j]));
                j += 1;
            } else {
                ops.push(('-', &am[i]));
                i += 1;
            }
        }
    } else {
        ops.extend(am.iter().map(|l| ('-', l.as_str())));
        ops.extend(bm.iter().map(|l| ('+', l.as_str())));
    }
    let mut s = String::new();
    let ctx_before = &a[pre.saturating_sub(3)..pre];
    if pre > 3 {
        writeln!(s, "  ... ({} equal lines)", pre - 3).unwrap();
    }
    for l in ctx_before {
        writeln!(s, "  {l}").unwrap();
    }
    for (shown, (op, l)) in ops.iter().enumerate() {
        if shown >= cap {
            writeln!(s, "  ... (diff cut at {cap} lines)").unwrap();
            return s;
        }
        writeln!(s, "{op} {l}").unwrap();
    }
    for l in a[a.len() - suf..].iter().take(3) {
        writeln!(s, "  {l}").unwrap();
    }
    if suf > 3 {
        writeln!(s, "  ... ({} equal lines)", suf - 3).unwrap();
    }
    s
}

/// The differences between the oracle's outputs and ours, one entry per
/// check (empty: the same). `#SYMVER` lines are compared as a set (the
/// oracle prints them in hash-table order, ksymrules in input order), the
/// rest as they are.
pub fn compare(oracle: &Outputs, ours: &Outputs) -> Vec<(&'static str, String)> {
    let mut d = Vec::new();
    if oracle.status != ours.status {
        let first = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .lines()
                .find(|l| l.starts_with("error: "))
                .unwrap_or("")
                .to_string()
        };
        d.push((
            "exit",
            format!(
                "oracle: {} {:?}\nksymrules: {} {:?}",
                oracle.status,
                first(&oracle.stderr),
                ours.status,
                first(&ours.stderr)
            ),
        ));
        return d;
    }
    if oracle.dump_status != ours.dump_status {
        d.push((
            "dump-exit",
            format!(
                "oracle: {:?}, ksymrules: {:?}",
                oracle.dump_status, ours.dump_status
            ),
        ));
    }
    let (mo, mk) = (
        missing_symbols(&oracle.stderr),
        missing_symbols(&ours.stderr),
    );
    if mo != mk {
        d.push((
            "warnings",
            format!("symbols without information: oracle {mo:?}, ksymrules {mk:?}"),
        ));
    }
    if oracle.status != Status::Exit(0) {
        if !has_error_line(&ours.stderr) {
            d.push(("error-line", "ksymrules printed no `error: ` line".into()));
        }
        return d;
    }
    let (mut so, mut sk) = (lines(&oracle.stdout), lines(&ours.stdout));
    so.sort();
    sk.sort();
    if so != sk {
        d.push(("symvers", line_diff(&so, &sk, 60)));
    }
    if oracle.symtypes != ours.symtypes {
        let (a, b) = (
            oracle.symtypes.as_deref().map(lines).unwrap_or_default(),
            ours.symtypes.as_deref().map(lines).unwrap_or_default(),
        );
        d.push((
            "symtypes",
            if a == b {
                format!(
                    "the same lines, other bytes (oracle {} bytes, ksymrules {} bytes)",
                    oracle.symtypes.as_ref().map_or(0, Vec::len),
                    ours.symtypes.as_ref().map_or(0, Vec::len)
                )
            } else {
                line_diff(&a, &b, 60)
            },
        ));
    }
    let (vo, vk) = (
        strip_diagnostics(&oracle.versions),
        strip_diagnostics(&ours.versions),
    );
    if vo != vk {
        let (a, b) = (lines(&vo), lines(&vk));
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort();
        sb.sort();
        let what = if sa == sb {
            "the same lines in another order\n"
        } else {
            ""
        };
        d.push(("versions", format!("{what}{}", line_diff(&a, &b, 60))));
    }
    let (io, ik) = (
        strip_diagnostics(&oracle.dies),
        strip_diagnostics(&ours.dies),
    );
    if io != ik {
        d.push(("dies", line_diff(&lines(&io), &lines(&ik), 80)));
    }
    d
}

pub fn render_diffs(d: &[(&str, String)]) -> String {
    let mut s = String::new();
    for (check, text) in d {
        writeln!(s, "--- {check} (- oracle, + ksymrules)").unwrap();
        s.push_str(text);
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}
