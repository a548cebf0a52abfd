//! `ksymrules`: symbol versions from DWARF, a drop-in for the kernel's
//! gendwarfksyms whose type-string format lives in a rules file.
//!
//!     ksymrules [options] object... < symbol-list
//!
//! stdout gets `#SYMVER <name> 0x<crc>` per listed symbol, in the order of
//! the list; warnings, errors and dumps go to stderr.

// kbuild starts ksymrules once per object, most of them a few KB: on Unix,
// `main` is the C entry point, without std's start-up (which finds the main
// thread's stack guard by reading /proc/self/maps, and sets up an alternate
// signal stack: a tenth of a small object's run). It does the part of that
// start-up ksymrules needs itself (see `main`).
#![cfg_attr(all(unix, not(test)), no_main)]

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ksymrules::cli::Cli;
use ksymrules::default_rules;
use ksymrules_engine::symbols::SymState;
use ksymrules_engine::{Options, Progress, Symbols};
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Inputs smaller than this (all objects together) are versioned on the
/// main thread alone: a thread pool costs more than it gives on them. Most
/// objects kbuild hands us are a few hundred KB.
const SMALL_INPUT: u64 = 1 << 20;

/// The C entry point (see the top of this file). As std's start-up does:
/// standard descriptors that are closed are opened on /dev/null (so that no
/// file ksymrules opens takes their place), and SIGPIPE is ignored (a
/// closed pipe is an error ksymrules reports, not a signal that kills it);
/// the arguments are taken from `argv`, standard output is flushed at the
/// end, and a panic ends the run with 101.
#[cfg(all(unix, not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use std::os::unix::ffi::OsStringExt;
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `poll` reads and writes the three entries of `fds`; `open`
    // is given a NUL-terminated path; `signal` is given a valid signal and
    // disposition. Nothing else runs yet.
    unsafe {
        if libc::poll(fds.as_mut_ptr(), 3, 0) != -1 {
            for f in &fds {
                if f.revents & libc::POLLNVAL != 0 {
                    // The lowest free descriptor: this one.
                    libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                }
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let args = (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: the C runtime passes `argc` NUL-terminated strings.
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsString::from_vec(arg.to_bytes().to_vec())
        })
        .collect();
    // A panic that gets this far (one printing an error to a closed
    // stderr) ends the run with 101, as std's start-up would end it.
    let status = std::panic::catch_unwind(|| ksymrules_main(args)).unwrap_or(101);
    let _ = std::io::stdout().flush();
    status.into()
}

#[cfg(any(not(unix), test))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(ksymrules_main(std::env::args_os().collect()))
}

/// A run of ksymrules with these arguments (the program's name first): its
/// exit status.
fn ksymrules_main(args: Vec<std::ffi::OsString>) -> u8 {
    const SUCCESS: u8 = 0;
    const FAILURE: u8 = 1;
    let cli = match Cli::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { FAILURE } else { SUCCESS };
        }
    };
    if cli.print_rules {
        print!("{}", ksymrules_grammar::DEFAULT_RULES);
        return SUCCESS;
    }
    let compare = matches!(cli.command, Some(ksymrules::cli::Command::Compare(_)));
    // compare's errors exit with 2, as diff's do.
    let failure = if compare { 2 } else { FAILURE };
    if !compare && input_size(&cli.objects) < SMALL_INPUT {
        // A pool of one: this thread. Whatever the engine runs "in
        // parallel" runs here, and no thread is started.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build_global();
    }
    // The walk grows its own stack where it recurses (stacker), so the
    // main thread's is enough.
    match std::panic::catch_unwind(move || run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(Failure::Message(msg))) => {
            eprintln!("error: {msg}");
            failure
        }
        Ok(Err(Failure::Rules(e))) => {
            eprintln!("{}", show_rules_error(&e));
            failure
        }
        Err(_) => {
            eprintln!("error: internal error (this is a bug in ksymrules; please report it)");
            failure
        }
    }
}

/// Reads all of standard input into `buf`. On Unix, straight from file
/// descriptor 0 (which `main` has opened on /dev/null if it was closed):
/// `std::io::stdin()` would first allocate its 8 KB buffer, a page a small
/// object's run touches for nothing.
fn read_stdin(buf: &mut Vec<u8>) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        standard_stream(0).read_to_end(buf)
    }
    #[cfg(not(unix))]
    {
        std::io::stdin().read_to_end(buf)
    }
}

/// The objects' total size (those that cannot be read count as 0: opening
/// them reports the error).
fn input_size(objects: &[PathBuf]) -> u64 {
    objects
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Why a run stopped.
enum Failure {
    /// `error: <this>` says it.
    Message(String),
    /// A rules file's error, shown with its source line.
    Rules(ksymrules_grammar::RulesError),
}

impl From<String> for Failure {
    fn from(msg: String) -> Self {
        Failure::Message(msg)
    }
}

/// A rules-file error with the source line and a caret (colour only on a
/// terminal, and not with `NO_COLOR`); its first line is always
/// `error: FILE:LINE:COL: message`.
fn show_rules_error(e: &ksymrules_grammar::RulesError) -> String {
    let source = if e.file == ksymrules_grammar::DEFAULT_RULES_NAME {
        Some(ksymrules_grammar::DEFAULT_RULES.to_string())
    } else {
        std::fs::read_to_string(&e.file).ok()
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    ksymrules_grammar::diagnostic::render(e, source.as_deref(), color)
}

/// Runs the command; the exit status it ends with.
fn run(cli: Cli) -> Result<u8, Failure> {
    match &cli.command {
        Some(ksymrules::cli::Command::CheckRules(c)) => return check_rules(c).map(|()| 0),
        Some(ksymrules::cli::Command::Compare(c)) => return compare(c),
        None => {}
    }
    version(cli).map(|()| 0)
}

/// The kbuild form: versions the listed symbols.
fn version(cli: Cli) -> Result<(), Failure> {
    // Files given are read first, so that their errors come first; the
    // embedded default is built only once the objects are open.
    let mut rules = if cli.rules.is_some() || !cli.kabi.is_empty() || cli.explain.is_some() {
        Some(load_rules(&cli)?)
    } else {
        None
    };
    if let Some(symbol) = &cli.explain {
        let rules = rules.take().expect("loaded above");
        return explain(&rules, &cli, symbol);
    }

    // Room for a few hundred names: read in one go (a growing buffer read
    // 32 bytes at first).
    let mut input = Vec::with_capacity(16 << 10);
    read_stdin(&mut input).map_err(|e| format!("<stdin>: cannot read the symbol list: {e}"))?;
    let text = String::from_utf8(input).map_err(|e| {
        format!(
            "<stdin>: the symbol list is not text (invalid UTF-8 at byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let mut syms = Symbols::parse(&text);
    if syms.is_empty() {
        return Ok(());
    }

    let opts = Options {
        stable: cli.stable,
        dump_dies: cli.dump_dies || cli.dump_die_map,
        dump_types: cli.dump_types,
        dump_versions: cli.dump_versions,
        symtypes: cli.symtypes.is_some(),
        strings: false,
        quirks: cli.report_quirks,
        debug: cli.debug,
        sequential_walk: cli.walk_in_order,
        progress: progress_bar(&cli.objects),
    };
    let paths: Vec<&Path> = cli.objects.iter().map(PathBuf::as_path).collect();
    let objects = ksymrules_engine::open_objects(&paths).map_err(|e| e.to_string())?;
    let rules = match rules {
        Some(r) => r,
        None => load_rules(&cli)?,
    };
    let stderr = std::io::stderr();
    let mut diag = stderr.lock();
    let outcome = ksymrules_engine::run_objects(&rules, &opts, &mut syms, &objects, &mut diag);
    // The process ends here, whatever the outcome: what is left need not
    // be freed piece by piece (on a small object, freeing the rules costs
    // about as much as building them).
    std::mem::forget(rules);
    std::mem::forget(objects);
    let outcome = outcome.map_err(|e| e.to_string())?;

    if let Some(path) = &cli.symtypes {
        write_atomically(path, outcome.symtypes.concat().as_bytes())?;
    }
    for (file, q) in &outcome.quirks {
        let _ = writeln!(diag, "quirk: {file}: {}: {}", q.kind.name(), q.what);
    }

    const LINE: usize = "#SYMVER  0x12345678\n".len();
    let mut out = Vec::with_capacity(syms.list.iter().map(|s| s.name.len() + LINE).sum());
    for s in &syms.list {
        if s.state != SymState::Processed {
            let _ = writeln!(diag, "warning: no information for symbol {}", s.name);
        }
        symver_line(&mut out, &s.name, s.crc);
    }
    write_stdout(&out).map_err(|e| format!("<stdout>: {e}"))?;
    Ok(())
}

/// Appends `#SYMVER <name> 0x<crc, 8 hex digits>` and a newline to `out`
/// (what `format!` would make of it, without its machinery: one line per
/// export, on every run kbuild makes).
fn symver_line(out: &mut Vec<u8>, name: &str, crc: u32) {
    out.extend_from_slice(b"#SYMVER ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b" 0x");
    out.extend(
        (0..8)
            .rev()
            .map(|i| b"0123456789abcdef"[(crc >> (4 * i)) as usize & 15]),
    );
    out.push(b'\n');
}

/// Standard input (0) or output (1) as a `File` that does not close it.
#[cfg(unix)]
fn standard_stream(fd: std::os::fd::RawFd) -> std::mem::ManuallyDrop<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: the standard descriptors are open for the whole run (`main`
    // opens those that were closed on /dev/null); `ManuallyDrop` keeps the
    // `File` from closing its descriptor.
    std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// Writes `bytes` to standard output, at once. On Unix, straight to file
/// descriptor 1, as `read_stdin` reads (std's `stdout()` would first
/// allocate its buffer).
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        standard_stream(1).write_all(bytes)
    }
    #[cfg(not(unix))]
    {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(bytes).and_then(|()| stdout.flush())
    }
}

/// Objects at least this large (together) get a progress bar.
const LARGE_INPUT: u64 = 64 << 20;

/// A progress bar on stderr when it is a terminal and the input is large;
/// none otherwise (kbuild runs us on small objects, into logs).
fn progress_bar(objects: &[PathBuf]) -> Option<Arc<dyn Progress>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let size = input_size(objects);
    (size >= LARGE_INPUT).then(|| Arc::new(Bar(Mutex::new(None))) as Arc<dyn Progress>)
}

/// One bar per phase.
struct Bar(Mutex<Option<ProgressBar>>);

impl Progress for Bar {
    fn begin(&self, phase: &str, total: u64) {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} ({elapsed})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(phase.to_string());
        if let Ok(mut b) = self.0.lock() {
            *b = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(b) = self.0.lock() {
            if let Some(bar) = b.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn end(&self) {
        if let Ok(mut b) = self.0.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// Writes `data` to a temporary file created exclusively beside `path`
/// (never following a link planted there), then renames it into place, so
/// that `path` is never left partly written.
fn write_atomically(path: &Path, data: &[u8]) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| format!("{}: cannot write: {e}", path.display());
    // Created as an ordinary file is (0666 less the umask), not 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(".ksymrules-")
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(data).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// `ksymrules check-rules`: load the files, then look in the objects for
/// what their statements name.
#[inline(never)]
fn check_rules(c: &ksymrules::cli::CheckRules) -> Result<(), Failure> {
    let rules = load_files(c.rules.as_deref(), &c.kabi)?;
    let mut inv = ksymrules_engine::inventory::Inventory::default();
    for path in &c.objects {
        let obj = ksymrules_engine::elf::ObjectFile::open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        inv.add(&obj)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut warnings = 0;
    if !c.objects.is_empty() {
        for u in ksymrules_engine::inventory::unmatched(&rules, &inv) {
            let file = rules
                .files
                .get(u.origin.file as usize)
                .map_or("?", |f| &**f);
            eprintln!(
                "warning: {file}:{}:{}: {}",
                u.origin.pos.line, u.origin.pos.col, u.message
            );
            warnings += 1;
        }
    }
    let name = c.rules.as_ref().map_or_else(
        || "the default rules".to_string(),
        |p| p.display().to_string(),
    );
    eprintln!(
        "check-rules: {name}: {} tuning statements, {} kABI rules{}: {warnings} warning{}",
        rules.tunings.len(),
        rules.kabi.len(),
        if c.objects.is_empty() {
            String::new()
        } else {
            format!(", looked for in {} objects", c.objects.len())
        },
        if warnings == 1 { "" } else { "s" }
    );
    Ok(())
}

/// The rules of the run, specialised for its `--stable`: by the build for
/// the default rules alone (the kbuild case), else here, once kABI files
/// have made their changes.
fn load_rules(cli: &Cli) -> Result<ksymrules_grammar::Rules, Failure> {
    if cli.rules.is_none() && cli.kabi.is_empty() {
        // A copy of the static rules that borrows all their parts.
        return Ok(default_rules::specialized(cli.stable).clone());
    }
    Ok(load_files(cli.rules.as_deref(), &cli.kabi)?.specialize(cli.stable))
}

/// A rules file (the embedded default when none), with the changes of
/// kABI files made.
fn load_files(rules: Option<&Path>, kabi: &[PathBuf]) -> Result<ksymrules_grammar::Rules, Failure> {
    let mut loaded = match rules {
        Some(path) => ksymrules_grammar::load_file(path).map_err(Failure::Rules)?,
        None => default_rules::rules().clone(),
    };
    for path in kabi {
        let extra = ksymrules_grammar::load_kabi_file(path).map_err(Failure::Rules)?;
        extra.add_to(&mut loaded).map_err(Failure::Rules)?;
    }
    Ok(loaded)
}

/// `--explain SYMBOL`: the symbol's string piece by piece, from the first
/// object that describes it.
#[inline(never)]
fn explain(rules: &ksymrules_grammar::Rules, cli: &Cli, symbol: &str) -> Result<(), Failure> {
    for path in &cli.objects {
        let found = ksymrules_engine::explain::explain(rules, cli.stable, path, symbol)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(x) = found else { continue };
        // Its CRC, as a version run gives it.
        let mut syms = Symbols::parse(&format!("{symbol}\n"));
        let opts = Options {
            stable: cli.stable,
            ..Options::default()
        };
        ksymrules_engine::run(
            rules,
            &opts,
            &mut syms,
            &[path.as_path()],
            &mut std::io::sink(),
        )
        .map_err(|e| e.to_string())?;
        let crc = syms.list.first().map_or(0, |s| s.crc);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{symbol} 0x{crc:08x} in {}: {} type strings",
            path.display(),
            x.strings.len()
        );
        for s in &x.strings {
            let _ = writeln!(out, "\n{} ({})", s.name, s.die);
            let width = s
                .pieces
                .iter()
                .map(|p| format!("{:?}", p.text).chars().count())
                .max()
                .unwrap_or(0)
                .min(40);
            for p in &s.pieces {
                let text = format!("{:?}", p.text);
                let rule = match &p.rule {
                    Some((file, line, col)) => format!("{file}:{line}:{col}"),
                    None => "-".to_string(),
                };
                let _ = writeln!(out, "  {text:<width$}  {rule:<28}  {}", p.die);
            }
        }
        std::io::stdout()
            .lock()
            .write_all(out.as_bytes())
            .map_err(|e| format!("<stdout>: {e}"))?;
        return Ok(());
    }
    Err(Failure::Message(format!(
        "{symbol}: no DIE of {} describes it",
        cli.objects
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// `ksymrules compare`: reads both sides, compares them, writes the report
/// (and the suggested kABI file, checked); 0 when nothing differs, 1 when
/// something does.
#[inline(never)]
fn compare(c: &ksymrules::cli::Compare) -> Result<u8, Failure> {
    use ksymrules::cli::Format;
    use ksymrules_compare as cmp;
    let side = |first: &Option<PathBuf>, more: &[PathBuf], which: &str| {
        let paths: Vec<PathBuf> = first.iter().chain(more).cloned().collect();
        if paths.is_empty() {
            return Err(Failure::Message(format!(
                "compare: no {which} side (give OLD and NEW, or --old and --new)"
            )));
        }
        cmp::classify(&paths).map_err(|e| Failure::Message(e.to_string()))
    };
    let old_input = side(&c.old, &c.more_old, "old")?;
    let new_input = side(&c.new, &c.more_new, "new")?;
    let symbols = match &c.symbols {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("{}: cannot read the symbol list: {e}", p.display()))?;
            Some(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            )
        }
        None => None,
    };
    let any_objects = [&old_input, &new_input]
        .iter()
        .any(|i| matches!(i, cmp::Input::Objects(_)));
    let rules = load_files(c.rules.as_deref(), &c.kabi)?.specialize(c.stable);
    let v = cmp::corpus::Versioning {
        rules: &rules,
        stable: c.stable,
        symbols: symbols.as_deref(),
        quirks: c.report_quirks,
    };
    let (old, new) = rayon::join(|| cmp::read(&old_input, &v), || cmp::read(&new_input, &v));
    let (old, new) = (
        old.map_err(|e| e.to_string())?,
        new.map_err(|e| e.to_string())?,
    );
    // The short form shows no provenance: it is not looked for.
    let provenance = (any_objects && c.format != Format::Short).then_some((&rules, c.stable));
    let (analysis, mut report) = cmp::compare(&old, &new, provenance).map_err(|e| e.to_string())?;

    if let Some(path) = &c.suggest_kabi {
        let (text, suggested) = cmp::suggestion_text(&analysis, &old);
        write_atomically(path, text.as_bytes())?;
        let mut sg = cmp::suggestion_report(path.display().to_string(), &analysis, &suggested);
        if let cmp::Input::Objects(paths) = &new_input {
            let mut kabi = c.kabi.clone();
            kabi.push(path.clone());
            let checked_rules = load_files(c.rules.as_deref(), &kabi)?.specialize(true);
            let again = cmp::corpus::Versioning {
                rules: &checked_rules,
                stable: true,
                symbols: symbols.as_deref(),
                quirks: false,
            };
            let checked = cmp::corpus::from_objects(&again, paths).map_err(|e| e.to_string())?;
            cmp::check_suggestion(&mut sg, &report, &old, &checked);
        }
        report.suggestion = Some(sg);
    }

    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let out = match c.format {
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            cmp::render::human(&report, color)
        }
        Format::Short => cmp::render::short(&report),
        Format::Json => cmp::render::json(&report),
    };
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    match lock.write_all(out.as_bytes()).and_then(|()| lock.flush()) {
        // A reader that stopped early (`| head`) wanted no more.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(format!("<stdout>: {e}").into())
        }
        _ => {}
    }
    Ok(u8::from(report.differs()))
}
