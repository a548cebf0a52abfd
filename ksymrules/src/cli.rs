//! The command line: kbuild's form, the same as gendwarfksyms'.
//!
//! ```text
//! ksymrules [options] object... < symbol-list
//! ```

use clap::Parser;
use std::ffi::OsString;
use std::path::PathBuf;

#[cfg(test)]
mod tests;

#[derive(Parser, Debug)]
#[command(
    name = "ksymrules",
    version,
    about = "Linux kernel symbol versions from DWARF, with the type-string format in a rules file",
    long_about = "Reads a list of symbol names on stdin and the DWARF of the objects given, \
                  and prints `#SYMVER <name> 0x<crc>` for each symbol, as gendwarfksyms does. \
                  What goes into the type strings is decided by a rules file: the embedded \
                  default reproduces gendwarfksyms (see --print-rules).",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_long_help = "Environment:\n  \
        KSYMRULES_RULES=FILE   rules to use when --rules is not given\n  \
        KSYMRULES_KABI=FILE:.. kABI files to add when --kabi is not given\n\
        (so that kbuild, which runs ksymrules in place of gendwarfksyms with \
        its own command line, versions with them: see docs/kbuild.md)\n\n\
        Exit status: 0 when every object was read, 1 on an error, reported as \
        `error: FILE: what` on stderr; nothing is written to stdout or to the \
        symtypes file then.\n\n\
        The rules language: ksymrules-rules(5), docs/rules.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Print debugging information
    #[arg(short = 'd', long)]
    pub debug: bool,
    /// Print the type strings as they are built (stderr)
    #[arg(long)]
    pub dump_dies: bool,
    /// Same as --dump-dies
    #[arg(long)]
    pub dump_die_map: bool,
    /// Print type-map entries as they are added or replaced (stderr)
    #[arg(long)]
    pub dump_types: bool,
    /// Print each symbol's fully expanded type string (stderr)
    #[arg(long)]
    pub dump_versions: bool,
    /// Support kABI stability features
    #[arg(short = 's', long)]
    pub stable: bool,
    /// Write a symtypes file
    #[arg(short = 'T', long = "symtypes", value_name = "FILE")]
    pub symtypes: Option<PathBuf>,
    /// Use these rules instead of the embedded default (a file that starts
    /// with `include "default"` changes only what it says)
    #[arg(long, value_name = "FILE", env = "KSYMRULES_RULES")]
    pub rules: Option<PathBuf>,
    /// Add the kABI rules of this file (`kabi` statements; see docs/kabi.md);
    /// in the environment, several files are separated by `:`
    #[arg(
        long,
        value_name = "FILE",
        env = "KSYMRULES_KABI",
        value_delimiter = ':'
    )]
    pub kabi: Vec<PathBuf>,
    /// Print the embedded default rules and exit
    #[arg(long)]
    pub print_rules: bool,
    /// Print SYMBOL's type string, and those of the types it refers to,
    /// piece by piece, with the DIE and the rules-file line behind each
    /// piece (no symbol list is read)
    #[arg(long, value_name = "SYMBOL")]
    pub explain: Option<String>,
    /// Report, as `quirk: FILE: KIND: what` lines on stderr, where
    /// gendwarfksyms' result depends on something unexpected (re-entrance,
    /// type-map ties, shared addresses, type units, declarations met first,
    /// symbol pointers, DIEs of the wrong kind, attributes the rules ignore;
    /// see docs/gendwarfksyms-semantics.md); versions are unchanged
    #[arg(long)]
    pub report_quirks: bool,
    /// Walk the units one after the other (the parallel walk gives the same
    /// results; for comparing both and for benchmarks)
    #[arg(long, hide = true)]
    pub walk_in_order: bool,
    /// The objects to read (ELF, with DWARF)
    #[arg(value_name = "OBJECT", required_unless_present = "print_rules")]
    pub objects: Vec<PathBuf>,
}

impl Cli {
    /// The process's command line, parsed.
    ///
    /// kbuild runs ksymrules once per object, so its own command lines
    /// (objects, `--stable`, `--symtypes FILE`) are recognised without
    /// clap: building clap's parser costs more than a small object's
    /// DWARF. Every other command line goes to clap, which also reports
    /// the errors.
    pub fn from_env() -> Result<Cli, clap::Error> {
        Cli::from_args(std::env::args_os().collect())
    }

    /// `from_env`, with the arguments given (the program's name first).
    pub fn from_args(args: Vec<OsString>) -> Result<Cli, clap::Error> {
        let env_set = |var: &str| std::env::var_os(var).is_some();
        match Cli::kbuild_form(&args, env_set) {
            Some(cli) => Ok(cli),
            None => Cli::try_parse_from(args),
        }
    }

    /// `args` (the program's name first) when it is kbuild's form exactly
    /// as clap would read it: objects, none of them empty, starting with
    /// `-` or named as a subcommand; at most one `--stable` (or `-s`); at
    /// most one `--symtypes FILE` (or `-T FILE`, FILE neither empty nor
    /// starting with `-`); and no environment variable that clap would
    /// read (`env_set` says which are set). `None` for anything else,
    /// valid or not.
    pub fn kbuild_form(args: &[OsString], env_set: impl Fn(&str) -> bool) -> Option<Cli> {
        if ENV_VARS.iter().any(|v| env_set(v)) {
            return None;
        }
        let mut stable = false;
        let mut symtypes = None;
        let mut objects = Vec::new();
        let mut args = args.iter().skip(1);
        while let Some(arg) = args.next() {
            let bytes = arg.as_encoded_bytes();
            match bytes {
                b"-s" | b"--stable" if !stable => stable = true,
                b"-T" | b"--symtypes" if symtypes.is_none() => {
                    let file = args.next()?;
                    if file.is_empty() || file.as_encoded_bytes().starts_with(b"-") {
                        return None;
                    }
                    symtypes = Some(PathBuf::from(file));
                }
                _ if bytes.is_empty()
                    || bytes.starts_with(b"-")
                    || SUBCOMMANDS.iter().any(|c| c.as_bytes() == bytes) =>
                {
                    return None
                }
                _ => objects.push(PathBuf::from(arg)),
            }
        }
        if objects.is_empty() {
            return None;
        }
        Some(Cli {
            command: None,
            debug: false,
            dump_dies: false,
            dump_die_map: false,
            dump_types: false,
            dump_versions: false,
            stable,
            symtypes,
            rules: None,
            kabi: Vec::new(),
            print_rules: false,
            explain: None,
            report_quirks: false,
            walk_in_order: false,
            objects,
        })
    }
}

/// The environment variables the command line reads (`Cli::kbuild_form`
/// leaves them to clap).
pub const ENV_VARS: [&str; 2] = ["KSYMRULES_KABI", "KSYMRULES_RULES"];

/// The subcommands' names, aliases included (an object of one of these
/// names is left to clap, which takes it for the subcommand).
pub const SUBCOMMANDS: [&str; 3] = ["check-rules", "compare", "help"];

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Check a rules file without versioning anything; with objects, also
    /// report its statements that find nothing in them
    #[command(
        long_about = "Loads RULES (the embedded default when none is given) and the kABI files, \
                      and reports their errors as a version run would. With --objects, also \
                      reports, as warnings, the tuning statements (drop, opaque, omit) and \
                      kABI rules that find nothing in those objects: a glob that matches no \
                      type, an attribute no DIE has, a kABI target that names nothing.",
        after_long_help = "Exit status: 0 when the files load (warnings or not), 1 on an error."
    )]
    CheckRules(CheckRules),
    /// Why symbol versions changed between two builds, and which kABI
    /// rules keep the old ones
    #[command(
        long_about = "Compares the exports of OLD and NEW: their CRCs, the exports added and \
                      removed, and for every changed export its root causes — the types (or \
                      the export's own string) whose strings changed, an edit that recurs \
                      across types being one cause. Each cause is shown with a diff of its \
                      string, a summary in words and, for objects, the DIE and rules-file \
                      line behind each changed piece.\n\n\
                      OLD and NEW are each one or more objects (ELF with DWARF, versioned with \
                      --rules, --kabi and --stable), or one symtypes file (as -T writes it, or \
                      consolidated), or a directory of *.symtypes files. Give several objects \
                      per side with --old and --new.",
        after_long_help = "Exit status, as diff's: 0 when nothing differs (no export changed, \
                           added or removed), 1 when something does, 2 on an error \
                           (`error: FILE: what` on stderr). See docs/compare.md."
    )]
    Compare(Compare),
}

/// `--format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A summary, then each cause with its diff, then the exports
    Human,
    /// One line per changed export: `name 0xold -> 0xnew: cause, cause`
    Short,
    /// The report as JSON (schema: docs/compare.md)
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Compare {
    /// The old build: objects, a symtypes file or a directory of them
    #[arg(value_name = "OLD")]
    pub old: Option<PathBuf>,
    /// The new build, the same way
    #[arg(value_name = "NEW")]
    pub new: Option<PathBuf>,
    /// More objects of the old build
    #[arg(long = "old", value_name = "OBJECT")]
    pub more_old: Vec<PathBuf>,
    /// More objects of the new build
    #[arg(long = "new", value_name = "OBJECT")]
    pub more_new: Vec<PathBuf>,
    /// The exports to compare, one name per line (default: the objects'
    /// own `__export_symbol_*` or `__ksymtab_*` symbols)
    #[arg(long, value_name = "FILE")]
    pub symbols: Option<PathBuf>,
    /// Support kABI stability features (both sides)
    #[arg(short = 's', long)]
    pub stable: bool,
    /// Rules to version objects with instead of the embedded default
    #[arg(long, value_name = "FILE", env = "KSYMRULES_RULES")]
    pub rules: Option<PathBuf>,
    /// kABI files to version objects with
    #[arg(long, value_name = "FILE")]
    pub kabi: Vec<PathBuf>,
    /// How to write the report
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write kABI rules that keep the old CRCs to FILE, and check them by
    /// versioning NEW again with --stable and the file
    #[arg(long, value_name = "FILE")]
    pub suggest_kabi: Option<PathBuf>,
    /// Add the quirks of both sides' objects to the report (see
    /// `ksymrules --report-quirks`)
    #[arg(long)]
    pub report_quirks: bool,
}

#[derive(clap::Args, Debug)]
pub struct CheckRules {
    /// kABI files to check too (`kabi`, `drop`, `opaque`, `omit` statements)
    #[arg(long, value_name = "FILE")]
    pub kabi: Vec<PathBuf>,
    /// Objects to look for what the statements name
    #[arg(long, value_name = "OBJECT", num_args = 1..)]
    pub objects: Vec<PathBuf>,
    /// The rules file (default: the embedded default rules)
    #[arg(value_name = "RULES")]
    pub rules: Option<PathBuf>,
}
