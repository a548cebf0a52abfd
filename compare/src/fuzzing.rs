//! The entry point of the `symtypes` fuzz target
//! (`fuzz/fuzz_targets/symtypes.rs`), kept here so that the inputs that
//! once found bugs (`fuzz/regressions/symtypes/`) run as ordinary tests too
//! (`compare/tests/fuzz_regressions.rs`).
//!
//! It must return normally on any input: errors are fine; panics, hangs
//! and unbounded memory are bugs, and so is a broken invariant (checked
//! with `assert!`).

use crate::corpus::{Corpus, Origin};
use crate::symtypes;
use ksymrules_engine::typemap::{Expansion, Versioner};

/// A line that no symtypes file has (a name without a string): when the
/// input holds it, the text before it is the old side and the text after
/// it the new one.
pub const SIDES: &str = "==";

/// How far an input got: the number of exports read (both sides), or the
/// error that stopped it.
pub type Reached = Result<usize, String>;

/// Exports whose version strings are written out to check their CRCs.
const TEXT_CHECKS: usize = 32;

/// `symtypes`: arbitrary bytes as symtypes text. Text that reads is
/// compared: with itself, with a copy edited as `-funsigned-char` edits
/// (`encoding(6)` → `encoding(8)`), and with its first half of lines; or,
/// when it holds a `==` line, the two sides it separates.
pub fn symtypes(data: &[u8]) -> Reached {
    let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    if let Some((old, new)) = split_sides(text) {
        let old = read(old, "old.symtypes")?;
        let new = read(new, "new.symtypes")?;
        compare(&old, &new);
        return Ok(old.exports.len() + new.exports.len());
    }
    let whole = read(text, "fuzz.symtypes")?;
    let same = compare(&whole, &whole);
    assert!(
        same.changed.is_empty() && same.added.is_empty() && same.removed.is_empty(),
        "a side compared with itself differs"
    );
    if let Some(at) = text.find("encoding(6)") {
        let edited = format!("{}encoding(8){}", &text[..at], &text[at + 11..]);
        if let Ok(new) = read(&edited, "fuzz.symtypes") {
            compare(&whole, &new);
        }
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let half = lines[..lines.len() / 2].join("\n");
    if let Ok(old) = read(&half, "fuzz.symtypes") {
        compare(&old, &whole);
    }
    Ok(whole.exports.len())
}

/// The text before and after the first `==` line.
fn split_sides(text: &str) -> Option<(&str, &str)> {
    let mut at = 0;
    for line in text.split('\n') {
        let end = at + line.len();
        if line.strip_suffix('\r').unwrap_or(line) == SIDES {
            return Some((&text[..at], text.get(end + 1..).unwrap_or("")));
        }
        at = end + 1;
    }
    None
}

/// A side, as `symtypes::read` makes it of a file; the CRCs are checked
/// against the version strings written out.
fn read(text: &str, file: &str) -> Result<Corpus, String> {
    let sections = symtypes::parse(text, file).map_err(ksymrules_engine::Error::into_message)?;
    let units = symtypes::complete(sections).map_err(ksymrules_engine::Error::into_message)?;
    let mut corpus = Corpus::new(file.to_string(), Origin::Symtypes);
    let mut checked = 0;
    for (unit, exports) in units {
        if checked < TEXT_CHECKS {
            let versioner = Versioner::new(&unit.types);
            for (name, crc, exp) in exports.iter().take(TEXT_CHECKS - checked) {
                let full = versioner
                    .text(exp)
                    .expect("a string that has a CRC has a version string");
                let plain = Expansion {
                    text: full,
                    refs: Vec::new(),
                };
                let again = Versioner::new(&Default::default())
                    .crc(&plain)
                    .expect("a string without references");
                assert_eq!(again, *crc, "{name}: the CRC is not its version string's");
                checked += 1;
            }
        }
        corpus.add_unit(unit, exports);
    }
    Ok(corpus)
}

/// Everything `ksymrules compare` does with two symtypes sides: the
/// analysis, the report in every form, and the suggested kABI file (which
/// must load).
fn compare(old: &Corpus, new: &Corpus) -> crate::analysis::Analysis {
    let (a, mut report) = crate::compare(old, new, None).expect("no provenance, no error");
    for c in &a.changed {
        assert!(
            !c.causes.is_empty(),
            "{}: a changed CRC without a cause",
            c.name
        );
    }
    let (text, suggested) = crate::suggestion_text(&a, old);
    match ksymrules_grammar::compile::load_kabi("suggested.kabi", &text) {
        Ok(file) => {
            if let Err(e) = ksymrules_engine::stable::Kabi::from_rules(&file.rules) {
                panic!("the suggested kABI rules are refused: {e}\n{text}");
            }
        }
        Err(e) => panic!("the suggested kABI file does not load: {e}\n{text}"),
    }
    report.suggestion = Some(crate::suggestion_report(
        "suggested.kabi".into(),
        &a,
        &suggested,
    ));
    let _ = crate::render::human(&report, false);
    let _ = crate::render::human(&report, true);
    let _ = crate::render::short(&report);
    let _ = crate::render::json(&report);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides() {
        assert_eq!(split_sides("a\n==\nb\n"), Some(("a\n", "b\n")));
        assert_eq!(split_sides("==\r\n"), Some(("", "")));
        assert_eq!(split_sides("a\n==="), None);
        assert_eq!(split_sides("a\n=="), Some(("a\n", "")));
    }
}
