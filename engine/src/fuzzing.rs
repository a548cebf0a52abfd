//! Entry points of the fuzz targets (`fuzz/fuzz_targets/*.rs`), kept here
//! so that the inputs that once found bugs (`fuzz/regressions/<target>/`)
//! run as ordinary tests too (`engine/tests/fuzz_regressions.rs`).
//!
//! Each entry point must return normally on any input: errors are fine,
//! panics, aborts, hangs and unbounded memory are bugs.

use crate::elf::ObjectFile;
use crate::{process_object_file, Options, Outcome, Symbols};
use ksymrules_grammar::Rules;
use std::sync::OnceLock;

fn default_rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(ksymrules_grammar::default_rules)
}

/// Every output the pipeline can produce, so that all of it is exercised;
/// `--dump-dies` only when `dump`, as it makes the walk go unit by unit
/// (both ways get half of the inputs).
fn all_outputs(dump: bool) -> Options {
    Options {
        stable: true,
        dump_dies: dump,
        dump_types: true,
        dump_versions: true,
        symtypes: true,
        strings: true,
        quirks: true,
        debug: true,
        sequential_walk: false,
        progress: None,
    }
}

/// How far an input got: the number of symbols given a version, or the
/// error that stopped it.
pub type Reached = Result<usize, String>;

/// Runs the whole pipeline on an object, listing its own global symbols
/// (and `extra`, one name per line).
fn version_object(rules: &Rules, obj: &ObjectFile, extra: &str, dump: bool) -> Reached {
    let mut list = String::from(extra);
    if let Ok(symbols) = obj.symbols() {
        for s in symbols.iter().take(10_000) {
            list.push_str(&String::from_utf8_lossy(s.name));
            list.push('\n');
        }
    }
    let mut syms = Symbols::parse(&list);
    if syms.is_empty() {
        return Ok(0);
    }
    let mut sink = std::io::sink();
    let mut outcome = Outcome::default();
    process_object_file(
        rules,
        &all_outputs(dump),
        &mut syms,
        0,
        obj,
        "fuzz.o",
        &mut sink,
        &mut outcome,
    )
    .map_err(crate::Error::into_message)?;
    Ok(syms
        .list
        .iter()
        .filter(|s| s.state == crate::symbols::SymState::Processed)
        .count())
}

/// `object`: arbitrary bytes as an object file.
pub fn object(data: &[u8]) -> Reached {
    let obj = ObjectFile::from_bytes(data.to_vec()).map_err(|e| e.to_string())?;
    version_object(default_rules(), &obj, "", data.len().is_multiple_of(2))
}

/// The objects the `dwarf` target mutates, with their symbol lists.
pub struct Base {
    pub object: &'static [u8],
    pub symbols: &'static str,
}

/// Sections the `dwarf` target may change.
const MUTABLE_SECTIONS: [&str; 6] = [
    ".debug_info",
    ".debug_abbrev",
    ".debug_str",
    ".rela.debug_info",
    ".rel.debug_info",
    ".debug_line",
];

/// `dwarf`: a valid object whose DWARF sections or relocations are changed
/// by the input, read as a script: one byte choosing the base object, then
/// edits of (section: u8, offset: u32 LE, length: u8, bytes). The choice
/// byte's top bit asks for `--dump-dies`.
pub fn dwarf(bases: &[Base], data: &[u8]) -> Reached {
    let Some((&pick, mut script)) = data.split_first() else {
        return Ok(0);
    };
    let base = &bases[pick as usize % bases.len()];
    let mut bytes = base.object.to_vec();
    let ranges = section_ranges(&bytes);
    if ranges.is_empty() {
        return Ok(0);
    }
    while script.len() >= 6 {
        let (section, offset, len) = (
            script[0],
            u32::from_le_bytes([script[1], script[2], script[3], script[4]]) as usize,
            script[5] as usize,
        );
        script = &script[6..];
        let patch = &script[..len.min(script.len())];
        script = &script[patch.len()..];
        let (start, size) = ranges[section as usize % ranges.len()];
        if size == 0 {
            continue;
        }
        for (i, &b) in patch.iter().enumerate() {
            let at = start + (offset + i) % size;
            if let Some(slot) = bytes.get_mut(at) {
                *slot = b;
            }
        }
    }
    let obj = ObjectFile::from_bytes(bytes).map_err(|e| e.to_string())?;
    version_object(default_rules(), &obj, base.symbols, pick & 0x80 != 0)
}

/// File ranges of the mutable sections of a well-formed object.
fn section_ranges(bytes: &[u8]) -> Vec<(usize, usize)> {
    use object::{Object, ObjectSection};
    let Ok(file) = object::File::parse(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in file.sections() {
        let name = s.name().unwrap_or("");
        if MUTABLE_SECTIONS.contains(&name) {
            if let Some((start, size)) = s.file_range() {
                out.push((start as usize, size as usize));
            }
        }
    }
    out
}

/// Includes are not followed while fuzzing (they would read files).
struct NoIncludes;

impl ksymrules_grammar::Loader for NoIncludes {
    fn load(&self, path: &str, _from: &str) -> Result<(String, String), String> {
        Err(format!("not reading {path} while fuzzing"))
    }
}

/// `rules`: arbitrary text as a rules file; rules that load are run over
/// a small object.
pub fn rules(data: &[u8], object: &[u8], symbols: &str) -> Reached {
    let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    let rules = match ksymrules_grammar::compile::load("fuzz.rules", text, &NoIncludes) {
        Ok(r) => r,
        Err(e) => {
            // Errors are shown with their source line: positions must hold.
            let shown = ksymrules_grammar::diagnostic::render(&e, Some(text), false);
            assert!(shown.starts_with(&format!("error: {e}")));
            return Err(e.to_string());
        }
    };
    let obj = ObjectFile::from_bytes(object.to_vec()).map_err(|e| e.to_string())?;
    // Tuning statements are checked against the object, as check-rules does.
    let mut inv = crate::inventory::Inventory::default();
    if inv.add(&obj).is_ok() {
        let _ = crate::inventory::unmatched(&rules, &inv);
    }
    // As the command line does, once `--stable` is known (the fuzz runs
    // are stable).
    let rules = rules.specialize(all_outputs(false).stable);
    version_object(&rules, &obj, symbols, data.len().is_multiple_of(2))
}

/// `abbrev`: arbitrary bytes as a unit's abbreviations, after a first byte
/// that picks the unit's encoding (bit 0: 64-bit DWARF; bits 1-2: version
/// 2 to 5; bit 3: 4-byte addresses). They must parse as gimli parses
/// them, or fail with gimli's error (a difference panics).
pub fn abbrev(data: &[u8]) -> Reached {
    let Some((&pick, bytes)) = data.split_first() else {
        return Ok(0);
    };
    let encoding = gimli::Encoding {
        format: match pick & 1 {
            0 => gimli::Format::Dwarf32,
            _ => gimli::Format::Dwarf64,
        },
        version: 2 + u16::from((pick >> 1) & 3),
        address_size: if pick & 8 == 0 { 8 } else { 4 },
    };
    crate::abbrev::compare_with_gimli(bytes, encoding)
}

/// `kabi`: arbitrary bytes as a `.discard.gendwarfksyms.kabi_rules`
/// section; the rules found are queried.
pub fn kabi(data: &[u8]) -> Reached {
    let rules = crate::kabi::KabiRules::parse(data).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(data);
    for word in text.split('\0').take(64) {
        let _ = rules.is_declonly(word);
        let _ = rules.byte_size(word);
        let _ = rules.type_string(word);
        let _ = crate::kabi::split_type_string(word);
        if let Some((a, b)) = word.split_once(' ') {
            let _ = rules.is_enumerator_ignored(a, b);
            let _ = rules.enumerator_value(a, b);
        }
    }
    Ok(rules.len())
}
