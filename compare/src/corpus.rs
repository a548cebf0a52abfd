//! One side of a comparison: the exports with their CRCs and strings, and
//! the type maps their versions are computed over.
//!
//! A corpus is read from objects (versioned on the spot, with the rules of
//! the run) or from symtypes files (one, a consolidated one, or a
//! directory of them; see [`crate::symtypes`]). Either way it is the same
//! model: every object or symtypes section is a [`Unit`] with its own type
//! map, and every export names its unit.
//!
//! ```text
//! Corpus "old/x_tables.ko"
//!   units[0] "old/x_tables.ko"
//!     types   s#xt_match -> "structure_type xt_match { member s#list_head list ... } byte_size(112)"
//!             s#list_head -> "structure_type list_head { ... } byte_size(16)"
//!   exports xt_register_match -> unit 0, crc 0x1c2f3a4b,
//!           "subprogram ( formal_parameter pointer_type { s#xt_match } byte_size(8) match ) -> base_type int ..."
//! ```

use ksymrules_engine::typemap::{Expansion, StringTable};
use ksymrules_engine::{elf, FileError, Options, Symbols};
use ksymrules_grammar::Rules;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A type map: reference names (`s#foo`) to strings.
pub type Types = FxHashMap<String, Arc<Expansion>>;

/// What a side was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Objects with DWARF, versioned with the run's rules.
    Objects,
    /// symtypes text: strings only.
    Symtypes,
}

/// One object, or one symtypes file or section.
#[derive(Clone, Debug, Default)]
pub struct Unit {
    /// The file (or the consolidated file's section header).
    pub name: String,
    pub types: Types,
}

/// An exported symbol of one side.
#[derive(Clone, Debug)]
pub struct Export {
    /// Its unit, in [`Corpus::units`].
    pub unit: usize,
    pub crc: u32,
    /// Its own string, references not expanded.
    pub string: Arc<Expansion>,
}

#[derive(Clone, Debug)]
pub struct Corpus {
    /// The paths it was read from, as given.
    pub source: String,
    pub origin: Origin,
    pub units: Vec<Unit>,
    pub exports: BTreeMap<String, Export>,
    /// The objects' paths (objects only), per unit: for provenance.
    pub paths: Vec<PathBuf>,
    /// Warnings met while reading (the version run's, or a symbol
    /// exported by two units).
    pub warnings: Vec<String>,
    /// With [`Versioning::quirks`]: the objects' quirks (file, kind, what).
    pub quirks: Vec<(String, &'static str, String)>,
}

impl Corpus {
    /// An empty corpus to fill.
    pub fn new(source: String, origin: Origin) -> Self {
        Corpus {
            source,
            origin,
            units: Vec::new(),
            exports: BTreeMap::new(),
            paths: Vec::new(),
            warnings: Vec::new(),
            quirks: Vec::new(),
        }
    }

    /// The type map an export is versioned over.
    pub fn types_of(&self, export: &Export) -> &Types {
        &self.units[export.unit].types
    }

    /// Adds a unit and its exports (a name already exported by an earlier
    /// unit keeps that one, with a warning).
    pub fn add_unit(&mut self, unit: Unit, exports: Vec<(String, u32, Arc<Expansion>)>) {
        let index = self.units.len();
        for (name, crc, string) in exports {
            if let Some(first) = self.exports.get(&name) {
                if first.unit != index {
                    self.warnings.push(format!(
                        "{}: {name} is also exported by {}; that one is compared",
                        unit.name, self.units[first.unit].name
                    ));
                }
                continue;
            }
            self.exports.insert(
                name,
                Export {
                    unit: index,
                    crc,
                    string,
                },
            );
        }
        self.units.push(unit);
    }
}

/// How objects are versioned.
pub struct Versioning<'r> {
    pub rules: &'r Rules,
    pub stable: bool,
    /// The exports to version (`--symbols`); each object's own when none.
    pub symbols: Option<&'r [String]>,
    /// Find the objects' quirks too (`--report-quirks`).
    pub quirks: bool,
}

/// Versions each object on its own, as kbuild does (in parallel), and
/// keeps its strings.
pub fn from_objects(v: &Versioning<'_>, paths: &[PathBuf]) -> Result<Corpus, FileError> {
    let results: Vec<Result<(Versioned, Quirks), FileError>> =
        paths.par_iter().map(|p| version_object(v, p)).collect();
    let source = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let mut corpus = Corpus::new(source, Origin::Objects);
    for (path, r) in paths.iter().zip(results) {
        let ((unit, exports, warnings), quirks) = r?;
        corpus.quirks.extend(quirks);
        corpus.warnings.extend(warnings);
        corpus.add_unit(unit, exports);
        corpus.paths.push(path.clone());
    }
    Ok(corpus)
}

type Versioned = (Unit, Vec<(String, u32, Arc<Expansion>)>, Vec<String>);
type Quirks = Vec<(String, &'static str, String)>;

fn version_object(v: &Versioning<'_>, path: &Path) -> Result<(Versioned, Quirks), FileError> {
    let file = path.display().to_string();
    let fail = |e: ksymrules_engine::Error| FileError {
        file: file.clone(),
        error: e,
    };
    let obj = elf::ObjectFile::open(path).map_err(|e| fail(e.into()))?;
    let names = match v.symbols {
        Some(list) => list.to_vec(),
        None => obj.exported_names().map_err(|e| fail(e.into()))?,
    };
    let mut syms = Symbols::parse(&names.join("\n"));
    let opts = Options {
        stable: v.stable,
        strings: true,
        quirks: v.quirks,
        ..Options::default()
    };
    let mut diag = Vec::new();
    let objects = vec![(file.clone(), obj)];
    let outcome = ksymrules_engine::run_objects(v.rules, &opts, &mut syms, &objects, &mut diag)?;
    let warnings = String::from_utf8_lossy(&diag)
        .lines()
        .map(|l| l.strip_prefix("warning: ").unwrap_or(l).to_string())
        .collect();
    let quirks = outcome
        .quirks
        .into_iter()
        .map(|(f, q)| (f, q.kind.name(), q.what))
        .collect();
    let table = outcome.strings.into_iter().next().unwrap_or_default();
    Ok((from_table(file, table, &syms, warnings), quirks))
}

/// A unit and its exports from an object's strings and the run's CRCs.
fn from_table(
    file: String,
    table: StringTable,
    syms: &Symbols,
    warnings: Vec<String>,
) -> Versioned {
    let crcs: FxHashMap<&str, u32> = syms
        .list
        .iter()
        .filter(|s| s.state == ksymrules_engine::symbols::SymState::Processed)
        .map(|s| (s.name.as_str(), s.crc))
        .collect();
    let exports = table
        .symbols
        .into_iter()
        .filter_map(|(name, exp)| {
            let crc = *crcs.get(name.as_str())?;
            Some((name, crc, exp))
        })
        .collect();
    (
        Unit {
            name: file,
            types: table.types,
        },
        exports,
        warnings,
    )
}
