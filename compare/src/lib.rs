//! `ksymrules compare`: why symbol versions changed between two builds,
//! and which kABI rules keep the old ones.
//!
//! The pipeline, one module per step:
//!
//! 1. [`corpus`]: each side is read into the same model — units (objects,
//!    or symtypes files and sections) with their type maps, and exports
//!    with their CRCs and strings. Objects are versioned on the spot
//!    ([`corpus::from_objects`]); symtypes are parsed ([`symtypes`]).
//! 2. [`analysis`]: the exports whose CRC differs, and their root causes —
//!    the strings reached on both sides that differ, with edits that recur
//!    across strings made one cause.
//! 3. [`summary`] says each change in words; [`suggest`] finds the
//!    narrowest kABI rule that undoes it.
//! 4. [`report`] is the typed result (serialised as the JSON form);
//!    [`provenance`] adds, for objects, the DIE and rule behind each changed
//!    piece; [`render`] writes the human and short forms.
//!
//! ```text
//! old: x_tables.ko (6.1)          new: x_tables.ko (6.12)
//!   xt_register_match 0x1c2f3a4b -> 0x5d6e7f80: s#xt_match
//! cause s#xt_match (type): member 'me' added at offset 104; byte_size 112 → 120
//!   - } byte_size(112)
//!   + } byte_size(120)
//! ```

pub mod analysis;
pub mod corpus;
#[doc(hidden)]
pub mod fuzzing;
pub mod provenance;
pub mod render;
pub mod report;
pub mod suggest;
pub mod summary;
pub mod symtypes;
pub mod text;

use corpus::{Corpus, Versioning};
use ksymrules_engine::{Error, FileError};
use std::path::PathBuf;

/// What one side is: objects, or symtypes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Objects(Vec<PathBuf>),
    /// A symtypes file, a consolidated one, or a directory of them.
    Symtypes(PathBuf),
}

/// Tells objects (ELF) from symtypes by their first bytes; a directory is
/// symtypes. Several paths must all be objects.
pub fn classify(paths: &[PathBuf]) -> Result<Input, FileError> {
    let fail = |p: &PathBuf, msg: String| FileError {
        file: p.display().to_string(),
        error: Error::new(msg),
    };
    let mut objects = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| fail(p, format!("cannot read: {e}")))?;
        let is_elf = !meta.is_dir() && {
            use std::io::Read;
            let mut magic = [0u8; 4];
            std::fs::File::open(p)
                .and_then(|mut f| f.read(&mut magic))
                .map_err(|e| fail(p, format!("cannot read: {e}")))?
                == 4
                && magic == *b"\x7fELF"
        };
        if is_elf {
            objects.push(p.clone());
        } else if paths.len() == 1 {
            return Ok(Input::Symtypes(p.clone()));
        } else {
            return Err(fail(
                p,
                "not an object: a side of several paths must be objects (one symtypes file or directory otherwise)".into(),
            ));
        }
    }
    Ok(Input::Objects(objects))
}

/// Reads a side.
pub fn read(input: &Input, v: &Versioning<'_>) -> Result<Corpus, FileError> {
    match input {
        Input::Objects(paths) => corpus::from_objects(v, paths),
        Input::Symtypes(path) => symtypes::read(path),
    }
}

/// Compares two sides: the analysis, and the report built from it (with
/// provenance when either side is objects and `rules` are given).
pub fn compare(
    old: &Corpus,
    new: &Corpus,
    provenance: Option<(&ksymrules_grammar::Rules, bool)>,
) -> Result<(analysis::Analysis, report::Report), FileError> {
    let a = analysis::analyse(old, new);
    let mut warnings = old.warnings.clone();
    warnings.extend(new.warnings.iter().cloned());
    let mut r = report::build(&a, old.source.clone(), new.source.clone(), warnings);
    for (side, c) in [("old", old), ("new", new)] {
        r.quirks.extend(
            c.quirks
                .iter()
                .map(|(file, kind, what)| report::QuirkReport {
                    side,
                    file: file.clone(),
                    kind,
                    what: what.clone(),
                }),
        );
    }
    if let Some((rules, stable)) = provenance {
        provenance::attach(&mut r, &a, rules, stable, old, new)?;
    }
    Ok((a, r))
}

/// The suggested kABI file's text.
pub fn suggestion_text(a: &analysis::Analysis, old: &Corpus) -> (String, Vec<suggest::Suggested>) {
    let s = suggest::suggest(a, old);
    let summaries: Vec<String> = a
        .changes
        .iter()
        .map(|c| summary::summarize(&c.old, &c.new))
        .collect();
    (suggest::render(a, &s, &summaries), s)
}

/// What the report says of a suggestion, unchecked.
pub fn suggestion_report(
    file: String,
    a: &analysis::Analysis,
    suggested: &[suggest::Suggested],
) -> report::SuggestionReport {
    report::SuggestionReport {
        file,
        rules: suggested.iter().map(|s| s.rules.len()).sum(),
        by_kind: suggested
            .iter()
            .flat_map(|s| &s.rules)
            .fold(Default::default(), |mut m, r| {
                *m.entry(r.kind()).or_default() += 1;
                m
            }),
        symbol_rules: suggested
            .iter()
            .filter(|s| a.changes[s.change].is_symbol)
            .map(|s| a.changes[s.change].name.clone())
            .collect(),
        checked: false,
        restored: Vec::new(),
        not_restored: Vec::new(),
    }
}

/// Checks a suggestion: `checked` is NEW versioned again with `--stable`
/// and the suggested file; every changed export must have its old CRC.
pub fn check_suggestion(
    sg: &mut report::SuggestionReport,
    report: &report::Report,
    old: &Corpus,
    checked: &Corpus,
) {
    let again = analysis::analyse(old, checked);
    let still: rustc_hash::FxHashMap<&str, &analysis::Changed> =
        again.changed.iter().map(|c| (c.name.as_str(), c)).collect();
    sg.checked = true;
    for c in &report.changed {
        let now = checked.exports.get(&c.symbol).map(|e| e.crc);
        if now == Some(c.old_crc.0) {
            sg.restored.push(c.symbol.clone());
            continue;
        }
        let reason = match (now, still.get(c.symbol.as_str())) {
            (None, _) => "not versioned again (no DIE describes it)".to_string(),
            (Some(_), Some(x)) => format!(
                "still differs by {}",
                x.causes
                    .iter()
                    .map(|&k| again.causes[k].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (Some(_), None) => "differs".to_string(),
        };
        sg.not_restored.push(report::NotRestored {
            symbol: c.symbol.clone(),
            crc: report::Crc(now.unwrap_or(0)),
            reason,
        });
    }
}
