//! ksymrules engine: ELF and DWARF reading, rule interpretation, type map
//! and CRCs.
//!
//! [`run`] versions the listed symbols of a list of objects: for each
//! object, [`elf`] maps it and applies relocations, [`dwarf`] gives access
//! to its DIEs (read with each unit's abbreviations, [`abbrev`]), [`walk`]
//! interprets the rules over them into the die map
//! ([`diemap`]), and [`typemap`] turns that into type strings and CRCs.

pub mod abbrev;
pub mod diemap;
pub mod dwarf;
pub mod elf;
pub mod explain;
#[doc(hidden)]
pub mod fuzzing;
pub mod inventory;
pub mod kabi;
pub mod quirks;
pub mod stable;
pub mod symbols;
#[cfg(test)]
mod test_objects;
pub mod typemap;
pub mod walk;

use ksymrules_grammar::Rules;
use std::io::Write;
use std::path::Path;
pub use symbols::Symbols;

/// An error; the caller names the file it concerns.
///
/// The message is boxed so that an `Error` is one pointer: the walk's hot
/// functions return `Result<(), Error>`, `Result<bool, Error>` and the
/// like at every DIE, and at one or two words wide those come back in
/// registers rather than through memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    // A thin pointer on purpose (`Box<str>` is two words).
    #[allow(clippy::box_collection)]
    message: Box<String>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: Box::new(message.into()),
        }
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message, owned.
    pub fn into_message(self) -> String {
        *self.message
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<elf::ElfError> for Error {
    fn from(e: elf::ElfError) -> Self {
        Error::new(e.to_string())
    }
}

/// An error about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub error: Error,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.error)
    }
}

/// Reports how far a long run has got (a progress bar, say). Calls come
/// from the thread that runs the engine.
pub trait Progress: Send + Sync {
    /// A phase of `total` steps begins.
    fn begin(&self, phase: &str, total: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The phase is over.
    fn end(&self);
}

#[derive(Clone, Default)]
pub struct Options {
    /// kABI stability features (`--stable`).
    pub stable: bool,
    /// Print the type strings as they are built (`--dump-dies`).
    pub dump_dies: bool,
    /// Print type-map changes (`--dump-types`).
    pub dump_types: bool,
    /// Print each symbol's fully expanded string (`--dump-versions`).
    pub dump_versions: bool,
    /// Produce symtypes lines (`-T`).
    pub symtypes: bool,
    /// Keep each object's strings, structured ([`typemap::StringTable`]).
    pub strings: bool,
    /// Find where gendwarfksyms' result depends on something unexpected
    /// ([`quirks`]).
    pub quirks: bool,
    /// Debugging lines (`--debug`).
    pub debug: bool,
    /// Walk the units in order even when they could be walked in parallel
    /// (for tests that compare both ways).
    #[doc(hidden)]
    pub sequential_walk: bool,
    /// Where to report progress, if anywhere.
    pub progress: Option<std::sync::Arc<dyn Progress>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("stable", &self.stable)
            .field("dump_dies", &self.dump_dies)
            .field("dump_types", &self.dump_types)
            .field("dump_versions", &self.dump_versions)
            .field("symtypes", &self.symtypes)
            .field("strings", &self.strings)
            .field("quirks", &self.quirks)
            .field("debug", &self.debug)
            .field("sequential_walk", &self.sequential_walk)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What a run produced besides the CRCs (which are in the [`Symbols`]).
#[derive(Debug, Default)]
pub struct Outcome {
    /// symtypes lines, each ending in a newline: per object, sorted.
    pub symtypes: Vec<String>,
    /// Per object, in order, when [`Options::strings`] asked for them.
    pub strings: Vec<typemap::StringTable>,
    /// With [`Options::quirks`]: each object's quirks, with its name.
    pub quirks: Vec<(String, quirks::Quirk)>,
}

/// Versions the listed symbols from `objects`, in order. Diagnostics and
/// dumps go to `diag` as they happen, warnings as `warning: ...` lines.
pub fn run(
    rules: &Rules,
    opts: &Options,
    syms: &mut Symbols,
    objects: &[&Path],
    diag: &mut dyn Write,
) -> Result<Outcome, FileError> {
    let objects = open_objects(objects)?;
    run_objects(rules, opts, syms, &objects, diag)
}

/// Opens every object (maps it and reads its ELF headers), so that a bad
/// one is reported before any work is done.
pub fn open_objects(paths: &[&Path]) -> Result<Vec<(String, elf::ObjectFile)>, FileError> {
    paths
        .iter()
        .map(|path| {
            let file = path.display().to_string();
            match elf::ObjectFile::open(path) {
                Ok(obj) => Ok((file, obj)),
                Err(e) => Err(FileError {
                    file,
                    error: e.into(),
                }),
            }
        })
        .collect()
}

/// [`run`] on objects already opened, named as they are in messages.
pub fn run_objects(
    rules: &Rules,
    opts: &Options,
    syms: &mut Symbols,
    objects: &[(String, elf::ObjectFile)],
    diag: &mut dyn Write,
) -> Result<Outcome, FileError> {
    let mut outcome = Outcome::default();
    for (index, (file, obj)) in objects.iter().enumerate() {
        process_object_file(rules, opts, syms, index, obj, file, diag, &mut outcome).map_err(
            |error| FileError {
                file: file.clone(),
                error,
            },
        )?;
    }
    Ok(outcome)
}

/// Versions the listed symbols from one object already read (object number
/// `index` of a run; `file` names it in warnings).
#[allow(clippy::too_many_arguments)]
pub fn process_object_file(
    rules: &Rules,
    opts: &Options,
    syms: &mut Symbols,
    index: usize,
    obj: &elf::ObjectFile,
    file: &str,
    diag: &mut dyn Write,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let lap = |diag: &mut dyn Write, what: &str| {
        if opts.debug {
            debug(
                diag,
                &format!(
                    "{file}: {what} done at {:.3} s{}",
                    started.elapsed().as_secs_f64(),
                    memory_use()
                ),
            );
        }
    };
    if rules.specialized.is_some_and(|s| s != opts.stable) {
        return Err(Error::new(
            "internal error: rules specialised for the other --stable (a bug in ksymrules)",
        ));
    }
    for w in read_symbols(rules, syms, obj)? {
        warn(diag, file, &w);
    }
    lap(diag, "reading symbols");
    let kabi = read_kabi(rules, opts.stable, obj)?;
    let dwarf = dwarf::Dwarf::load(obj, rules.settings.follow_type_units)?;
    if !rules.settings.follow_type_units && dwarf.refers_to_type_units() {
        // The CRCs then silently ignore those types: say so, always.
        warn(diag, file, TYPE_UNITS_WARNING);
    }
    if opts.debug {
        debug(diag, &format!("{file}: {} units", dwarf.main_units));
    }
    lap(diag, "reading units");
    let cfg = walk::WalkConfig {
        dwarf: &dwarf,
        rules,
        kabi: &kabi,
        object: index,
        stable: opts.stable,
        dump: opts.dump_dies,
        debug: opts.debug,
        sequential: opts.sequential_walk,
        progress: opts.progress.as_deref(),
        provenance: false,
    };
    let replace = rules
        .replace_when
        .as_ref()
        .is_some_and(|c| stable_condition(c, opts.stable));
    let mut tm = typemap::TypeMap::new(rules, replace.then_some(&kabi), opts.dump_types);
    let (mut walked, result) = walk::walk_object(cfg, syms, &mut tm, diag);
    lap(diag, "walk and type map");
    if opts.debug {
        let how = match (walked.parallel, walked.crossed) {
            (true, _) => "in parallel",
            (false, true) => "in order (a string reaches into another unit)",
            (false, false) => "in order",
        };
        debug(
            diag,
            &format!(
                "{file}: units walked {how}: {} DIE visits, nested at most {} deep",
                walked.visits, walked.deepest
            ),
        );
    }
    for line in std::mem::take(&mut walked.debug) {
        debug(diag, &line);
    }
    result?;
    for w in std::mem::take(&mut walked.warnings) {
        warn(diag, file, &w);
    }
    tm.check()?;
    let mut versions = opts.dump_versions.then(String::new);
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let mut table = typemap::StringTable::default();
    let mut out = typemap::Outputs {
        symtypes: opts.symtypes.then_some(&mut lines),
        versions: versions.as_mut(),
        strings: opts.strings.then_some(&mut table),
    };
    if let Some(p) = &opts.progress {
        p.begin("versions", 1);
    }
    let versioned = tm.versions(syms, index, &mut out, &mut warnings);
    if let Some(p) = &opts.progress {
        p.advance(1);
        p.end();
    }
    versioned?;
    lap(diag, "versions");
    if let Some(t) = tm.take_dump() {
        let _ = diag.write_all(t.as_bytes());
    }
    if let Some(v) = versions {
        let _ = diag.write_all(v.as_bytes());
    }
    for w in warnings {
        warn(diag, file, &w);
    }
    if opts.debug {
        debug(diag, &format!("{file}: {}", walked.stats));
        for s in syms
            .list
            .iter()
            .filter(|s| s.die.is_some_and(|(o, _)| o == index))
        {
            debug(diag, &format!("{} = {:08x}", s.name, s.crc));
        }
    }
    if opts.quirks {
        let known = quirks::Known {
            reentered: &walked.reentered,
            ties: tm.ties(),
            type_units: !rules.settings.follow_type_units && dwarf.refers_to_type_units(),
        };
        for q in quirks::find(rules, &dwarf, obj, syms, index, known)? {
            outcome.quirks.push((file.to_string(), q));
        }
    }
    outcome.symtypes.extend(lines);
    if opts.strings {
        outcome.strings.push(table);
    }
    Ok(())
}

/// Gives the listed symbols their ELF addresses; returns the warnings.
fn read_symbols(
    rules: &Rules,
    syms: &mut Symbols,
    obj: &elf::ObjectFile,
) -> Result<Vec<String>, Error> {
    let prefix = &rules.settings.symbol_pointer_prefix;
    let mut warnings = Vec::new();
    for s in obj.symbols()? {
        let name = String::from_utf8_lossy(s.name);
        if let Some(w) = syms.set_addr(&name, (s.shndx, s.value), prefix) {
            warnings.push(w);
        }
    }
    Ok(warnings)
}

/// The kABI rules for an object: the rules files', and with `--stable` its
/// own section's.
fn read_kabi(rules: &Rules, stable: bool, obj: &elf::ObjectFile) -> Result<stable::Kabi, Error> {
    let mut kabi = stable::Kabi::from_rules(&rules.kabi)?;
    if stable {
        if let Some(data) = obj.section_data(KABI_SECTION)? {
            let section = kabi::KabiRules::parse(data)
                .map_err(|e| Error::new(format!("{KABI_SECTION}: {e}")))?;
            kabi.set_object_rules(section);
        }
    }
    Ok(kabi)
}

/// Said once per object whose DIEs refer to type units while the rules do
/// not follow them (the default, as gendwarfksyms).
pub const TYPE_UNITS_WARNING: &str = "types are in type units (DW_FORM_ref_sig8, from \
    -fdebug-types-section): gendwarfksyms, and the rules in use, print each of them as \
    `base_type void`, so these versions do not change when those types do; a rules file \
    with `set follow_type_units = true` follows them";

/// The section gendwarfksyms reads kABI rules from.
pub const KABI_SECTION: &str = ".discard.gendwarfksyms.kabi_rules";

/// A condition that can only test `stable` (checked when rules load).
fn stable_condition(c: &ksymrules_grammar::model::Cond, stable: bool) -> bool {
    use ksymrules_grammar::model::Cond;
    match c {
        Cond::Stable => stable,
        Cond::Not(c) => !stable_condition(c, stable),
        Cond::And(cs) => cs.iter().all(|c| stable_condition(c, stable)),
        Cond::Or(cs) => cs.iter().any(|c| stable_condition(c, stable)),
        _ => false,
    }
}

/// The process's memory use so far, where the system tells it (Linux).
fn memory_use() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().strip_suffix(" kB"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or_else(|| "?".to_string(), |kb| (kb >> 10).to_string())
    };
    format!(
        ", {} MB resident ({} MB of them mapped files), at most {} MB",
        field("VmRSS:"),
        field("RssFile:"),
        field("VmHWM:")
    )
}

fn debug(diag: &mut dyn Write, msg: &str) {
    let _ = writeln!(diag, "debug: {msg}");
}

fn warn(diag: &mut dyn Write, file: &str, msg: &str) {
    let _ = writeln!(diag, "warning: {file}: {msg}");
}
