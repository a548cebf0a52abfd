//! Driving the external tools: the C preprocessor and genksyms on one side,
//! gcc/clang `-g -c` and the ksymrules binary on the other.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Where Debian's linux-kbuild-6.1 installs genksyms.
const GENKSYMS_DEBIAN: &str = "/usr/lib/linux-kbuild-6.1/scripts/genksyms/genksyms";

/// The marker the preprocessed text holds for each exported symbol
/// (`EXPORT(sym)` of `corpus/c/export.h` under `-D__GENKSYMS__`).
const EXPORT_MARKER: &str = "__GENKSYMS_EXPORT_SYMBOL(";

/// The workspace root (the parent of the `ksymrules` crate).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate dir has a parent")
        .to_path_buf()
}

/// `corpus/c`: holds `export.h`, which every C file includes.
pub fn corpus_c() -> PathBuf {
    workspace().join("corpus/c")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Compiler {
    Gcc,
    Clang,
}

impl Compiler {
    pub const ALL: [Compiler; 2] = [Compiler::Gcc, Compiler::Clang];

    pub fn name(self) -> &'static str {
        match self {
            Compiler::Gcc => "gcc",
            Compiler::Clang => "clang",
        }
    }
}

impl fmt::Display for Compiler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub struct Tools {
    pub genksyms: PathBuf,
    pub gcc: PathBuf,
    pub clang: PathBuf,
    pub ksymrules: PathBuf,
}

/// Runs `prog --version` (genksyms: `-V`) and says whether it worked.
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

fn find_tools() -> Result<Tools, String> {
    let mut missing = Vec::new();
    let genksyms = [
        std::env::var_os("GENKSYMS").map(PathBuf::from),
        Some(PathBuf::from(GENKSYMS_DEBIAN)),
        Some(PathBuf::from("genksyms")),
    ]
    .into_iter()
    .flatten()
    .find(|p| runs(p, "-V"));
    if genksyms.is_none() {
        missing.push(format!(
            "genksyms ($GENKSYMS, {GENKSYMS_DEBIAN} or on PATH; Debian package linux-kbuild-6.1)"
        ));
    }
    let gcc = PathBuf::from(std::env::var_os("CC_GCC").unwrap_or_else(|| "gcc".into()));
    if !runs(&gcc, "--version") {
        missing.push("gcc".to_string());
    }
    let clang = PathBuf::from(std::env::var_os("CC_CLANG").unwrap_or_else(|| "clang".into()));
    if !runs(&clang, "--version") {
        missing.push("clang (Debian package clang)".to_string());
    }
    if missing.is_empty() {
        Ok(Tools {
            genksyms: genksyms.unwrap(),
            gcc,
            clang,
            ksymrules: PathBuf::from(env!("CARGO_BIN_EXE_ksymrules")),
        })
    } else {
        Err(missing.join(", "))
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
                panic!("{test}: missing {missing}; CI must install them (see .ci/run)");
            }
            eprintln!();
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!!! SKIPPING {test}: missing {missing}");
            eprintln!("!!! install: apt-get install linux-kbuild-6.1 clang");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!();
            None
        }
    }
}

/// Runs a command with `stdin` as its input; returns (status ok, stdout, stderr).
fn run(cmd: &mut Command, stdin: &[u8]) -> Result<(bool, String, String), String> {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{desc}: {e}"))?;
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // A tool may exit without reading everything: ignore EPIPE.
        let _ = input.write_all(&data);
    });
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{desc}: {e}"))?;
    let _ = writer.join();
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// `#SYMVER name 0xcrc` lines, in order.
pub fn parse_symvers(stdout: &str) -> Result<Vec<(String, u32)>, String> {
    let mut v = Vec::new();
    for line in stdout.lines() {
        let mut w = line.split_whitespace();
        match (w.next(), w.next(), w.next(), w.next()) {
            (Some("#SYMVER"), Some(name), Some(crc), None) => {
                let hex = crc
                    .strip_prefix("0x")
                    .ok_or_else(|| format!("bad CRC in {line:?}"))?;
                let crc = u32::from_str_radix(hex, 16)
                    .map_err(|e| format!("bad CRC in {line:?}: {e}"))?;
                v.push((name.to_string(), crc));
            }
            _ => return Err(format!("unexpected output line {line:?}")),
        }
    }
    Ok(v)
}

/// What genksyms says about one C file.
#[derive(Debug, Clone)]
pub struct GenksymsOut {
    /// The exported symbols, in the order of their `EXPORT` lines.
    pub exports: Vec<String>,
    /// `#SYMVER` lines, in genksyms' order.
    pub crcs: Vec<(String, u32)>,
    /// The `-T` output.
    pub symtypes: String,
}

/// Preprocesses `c_file` with `-D__GENKSYMS__` (as kbuild does) and feeds it to
/// genksyms with `-T`. `include` are extra `-I` directories (`corpus/c` is
/// always one).
pub fn genksyms(
    tools: &Tools,
    c_file: &Path,
    include: &[&Path],
    scratch: &Path,
) -> Result<GenksymsOut, String> {
    let mut cpp = Command::new(&tools.gcc);
    cpp.arg("-E").arg("-D__GENKSYMS__");
    for dir in include.iter().copied().chain([corpus_c().as_path()]) {
        cpp.arg("-I").arg(dir);
    }
    cpp.arg(c_file);
    let (ok, pre, err) = run(&mut cpp, b"")?;
    if !ok {
        return Err(format!("gcc -E {}: {err}", c_file.display()));
    }
    let exports = exports(&pre);
    let symtypes_path = scratch.join("genksyms.symtypes");
    let (ok, out, err) = run(
        Command::new(&tools.genksyms).arg("-T").arg(&symtypes_path),
        pre.as_bytes(),
    )?;
    if !ok || !err.is_empty() {
        return Err(format!(
            "genksyms on {} failed ({}):\n{err}",
            c_file.display(),
            if ok { "exit 0" } else { "non-zero exit" }
        ));
    }
    let crcs = parse_symvers(&out).map_err(|e| format!("genksyms: {e}"))?;
    let symtypes = std::fs::read_to_string(&symtypes_path)
        .map_err(|e| format!("{}: {e}", symtypes_path.display()))?;
    Ok(GenksymsOut {
        exports,
        crcs,
        symtypes,
    })
}

/// The names in `__GENKSYMS_EXPORT_SYMBOL(name)` markers, in order, without
/// duplicates.
pub fn exports(preprocessed: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for line in preprocessed.lines().filter(|l| !l.starts_with('#')) {
        let mut rest = line;
        while let Some(i) = rest.find(EXPORT_MARKER) {
            rest = &rest[i + EXPORT_MARKER.len()..];
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !v.contains(&name) {
                v.push(name);
            }
        }
    }
    v
}

/// What ksymrules says about one object.
#[derive(Debug, Clone)]
pub struct KsymrulesOut {
    /// `#SYMVER` lines (input order).
    pub crcs: Vec<(String, u32)>,
    /// `--dump-versions`: the expanded type string of each symbol.
    pub versions: String,
}

/// Compiles `c_file` with `cc -g -c` into `scratch` and runs ksymrules
/// `--dump-versions` on the object for `symbols`. Every symbol must have DWARF.
pub fn dwarf(
    tools: &Tools,
    cc: Compiler,
    c_file: &Path,
    include: &[&Path],
    symbols: &[String],
    scratch: &Path,
) -> Result<KsymrulesOut, String> {
    let obj = scratch.join(format!("{cc}.o"));
    let mut cmd = Command::new(match cc {
        Compiler::Gcc => &tools.gcc,
        Compiler::Clang => &tools.clang,
    });
    cmd.args(["-g", "-c", "-Wall", "-Werror"]);
    for dir in include.iter().copied().chain([corpus_c().as_path()]) {
        cmd.arg("-I").arg(dir);
    }
    cmd.arg(c_file).arg("-o").arg(&obj);
    let (ok, _, err) = run(&mut cmd, b"")?;
    if !ok {
        return Err(format!("{cc} -g -c {}:\n{err}", c_file.display()));
    }
    let input = symbols.iter().map(|s| format!("{s}\n")).collect::<String>();
    let (ok, out, err) = run(
        Command::new(&tools.ksymrules)
            .arg("--dump-versions")
            .arg(&obj),
        input.as_bytes(),
    )?;
    if !ok {
        return Err(format!(
            "ksymrules on {} ({cc}) failed:\n{err}",
            c_file.display()
        ));
    }
    let (warnings, versions): (Vec<&str>, Vec<&str>) =
        err.lines().partition(|l| l.starts_with("warning:"));
    if !warnings.is_empty() {
        return Err(format!(
            "ksymrules on {} ({cc}) warned:\n{}",
            c_file.display(),
            warnings.join("\n")
        ));
    }
    let crcs = parse_symvers(&out).map_err(|e| format!("ksymrules: {e}"))?;
    Ok(KsymrulesOut {
        crcs,
        versions: versions.iter().map(|l| format!("{l}\n")).collect(),
    })
}

/// Both tools on one C file: genksyms, then ksymrules on the gcc and the clang
/// object for the symbols genksyms versioned.
#[derive(Debug, Clone)]
pub struct BothOut {
    pub genksyms: GenksymsOut,
    pub dwarf: Vec<(Compiler, KsymrulesOut)>,
}

impl BothOut {
    pub fn dwarf_for(&self, cc: Compiler) -> &KsymrulesOut {
        &self
            .dwarf
            .iter()
            .find(|(c, _)| *c == cc)
            .expect("compiler was run")
            .1
    }
}

pub fn run_both(
    tools: &Tools,
    c_file: &Path,
    include: &[&Path],
    compilers: &[Compiler],
) -> Result<BothOut, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let genksyms = genksyms(tools, c_file, include, scratch.path())?;
    if genksyms.exports.is_empty() {
        return Err(format!("{}: no EXPORT(...) found", c_file.display()));
    }
    let gk_names: Vec<&String> = genksyms.crcs.iter().map(|(n, _)| n).collect();
    let ex_names: Vec<&String> = genksyms.exports.iter().collect();
    if gk_names != ex_names {
        return Err(format!(
            "{}: genksyms versioned {gk_names:?}, the file exports {ex_names:?}",
            c_file.display()
        ));
    }
    let mut dwarf_outs = Vec::new();
    for &cc in compilers {
        let out = dwarf(
            tools,
            cc,
            c_file,
            include,
            &genksyms.exports,
            scratch.path(),
        )?;
        dwarf_outs.push((cc, out));
    }
    Ok(BothOut {
        genksyms,
        dwarf: dwarf_outs,
    })
}

/// Runs `f` on every item with up to `available_parallelism` threads; results
/// in input order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                *results[i].lock().unwrap() = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap().expect("every item ran"))
        .collect()
}
