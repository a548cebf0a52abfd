//! Where gendwarfksyms' result depends on something a user would not
//! expect (`--report-quirks`): found for each object after its versions,
//! only when asked; the versions and symtypes are the same either way.
//!
//! | kind | what |
//! |---|---|
//! | `re-entrance` | a DIE reached again while its string was being built: the export's CRC depends on which other exports are listed |
//! | `type-map-tie` | two strings of one length for one type name: gendwarfksyms keeps the one at the lower memory address |
//! | `shared-address` | exports at one address whose own DIEs have different types: they get one CRC |
//! | `type-units` | types in type units (`DW_FORM_ref_sig8`) printed as `base_type void` |
//! | `declaration-first` | an export described by a declaration met before its definition (first DIE wins) |
//! | `symbol-pointer` | an export described through its `__gendwarfksyms_ptr_` pointer (parameters without names) |
//! | `wrong-die` | an export described by a DIE of another kind (a variable for a function) or a `static` one |
//! | `ignored-attribute` | attributes the compiler emitted that the rules never read: a change there changes no version |
//!
//! ```text
//! quirk: vmlinux: wrong-die: kern_path (a function in the symbol table) is described by DIE 0x1a2b3c, variable kern_path (static, kernel/pid_namespace.c:281)
//! ```

use crate::dwarf::{DieId, Dwarf};
use crate::elf::ObjectFile;
use crate::symbols::{SymState, Symbols};
use crate::Error;
use gimli::{DwAt, DwTag};
use ksymrules_grammar::Rules;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Reentrance,
    TypeMapTie,
    SharedAddress,
    TypeUnits,
    DeclarationFirst,
    SymbolPointer,
    WrongDie,
    IgnoredAttribute,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Reentrance,
        Kind::TypeMapTie,
        Kind::SharedAddress,
        Kind::TypeUnits,
        Kind::DeclarationFirst,
        Kind::SymbolPointer,
        Kind::WrongDie,
        Kind::IgnoredAttribute,
    ];

    /// The name a report line gives it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Reentrance => "re-entrance",
            Kind::TypeMapTie => "type-map-tie",
            Kind::SharedAddress => "shared-address",
            Kind::TypeUnits => "type-units",
            Kind::DeclarationFirst => "declaration-first",
            Kind::SymbolPointer => "symbol-pointer",
            Kind::WrongDie => "wrong-die",
            Kind::IgnoredAttribute => "ignored-attribute",
        }
    }
}

/// One quirk of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quirk {
    pub kind: Kind,
    /// What, in words.
    pub what: String,
}

/// Attributes that describe a type's layout or values: a compiler that
/// emits one the rules never read makes its changes invisible.
const LAYOUT_ATTRIBUTES: [DwAt; 8] = [
    gimli::DW_AT_bit_offset,
    gimli::DW_AT_data_bit_offset,
    gimli::DW_AT_bit_size,
    gimli::DW_AT_byte_size,
    gimli::DW_AT_alignment,
    gimli::DW_AT_data_member_location,
    gimli::DW_AT_upper_bound,
    gimli::DW_AT_count,
];

const STT_OBJECT: u8 = 1;
const STT_FUNC: u8 = 2;

/// What the walk and the type map already know.
pub(crate) struct Known<'a> {
    pub reentered: &'a [String],
    pub ties: &'a [String],
    pub type_units: bool,
}

/// A DIE that describes (or could describe) an export.
#[derive(Clone, Debug)]
struct Candidate {
    die: DieId,
    tag: DwTag,
    declaration: bool,
    external: bool,
    ty: Option<u64>,
    unit: usize,
}

/// The quirks of object `object`, after its versions.
pub(crate) fn find(
    rules: &Rules,
    dwarf: &Dwarf<'_>,
    obj: &ObjectFile,
    syms: &Symbols,
    object: usize,
    known: Known<'_>,
) -> Result<Vec<Quirk>, Error> {
    let mut out = Vec::new();
    let mut say = |kind: Kind, what: String| out.push(Quirk { kind, what });
    for r in known.reentered {
        say(
            Kind::Reentrance,
            format!(
                "{r} was reached again while its string was being built: the strings that \
                 use it, and so the CRCs, depend on which other exports are listed"
            ),
        );
    }
    for t in known.ties {
        say(
            Kind::TypeMapTie,
            format!(
                "{t} has different strings of the same, longest length: gendwarfksyms keeps \
                 the one that happens to be first in memory"
            ),
        );
    }
    if known.type_units {
        say(
            Kind::TypeUnits,
            "types in type units (DW_FORM_ref_sig8, -fdebug-types-section) are printed as \
             `base_type void`: those types do not change versions"
                .into(),
        );
    }

    // The symbol table's kinds, and the DIEs that could describe exports.
    let elf: HashMap<String, u8> = obj
        .symbols()?
        .into_iter()
        .map(|s| (String::from_utf8_lossy(s.name).into_owned(), s.kind))
        .collect();
    let listed: HashMap<&str, usize> = syms
        .list
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut candidates: HashMap<String, Vec<Candidate>> = HashMap::new();
    let mut ignored: BTreeMap<(DwTag, DwAt), (u64, DieId)> = BTreeMap::new();
    let mut read_cache: HashMap<DwTag, std::collections::BTreeSet<DwAt>> = HashMap::new();
    let described: std::collections::BTreeSet<DwTag> = rules.types.keys().copied().collect();
    for (ui, u) in dwarf.units[..dwarf.main_units].iter().enumerate() {
        let mut cursor = u.cursor(None).map_err(crate::dwarf::dwarf_err)?;
        let mut entry = crate::dwarf::Entry::default();
        while cursor
            .next_dfs(&mut entry)
            .map_err(crate::dwarf::dwarf_err)?
        {
            let entry = &entry;
            let tag = entry.tag();
            let die = u.start + entry.offset().0 as u64;
            if tag == gimli::DW_TAG_subprogram || tag == gimli::DW_TAG_variable {
                let name = dwarf
                    .string(ui, entry, gimli::DW_AT_linkage_name)?
                    .or(dwarf.string(ui, entry, gimli::DW_AT_name)?);
                if let Some(name) = name {
                    let name = String::from_utf8_lossy(name);
                    if listed.contains_key(name.as_ref()) {
                        let ty = match entry.attr_value(gimli::DW_AT_type) {
                            Some(gimli::AttributeValue::UnitRef(o)) => Some(u.start + o.0 as u64),
                            Some(gimli::AttributeValue::DebugInfoRef(o)) => Some(o.0 as u64),
                            _ => None,
                        };
                        candidates
                            .entry(name.into_owned())
                            .or_default()
                            .push(Candidate {
                                die,
                                tag,
                                declaration: Dwarf::flag(entry, gimli::DW_AT_declaration),
                                external: Dwarf::flag(entry, gimli::DW_AT_external),
                                ty,
                                unit: ui,
                            });
                    }
                }
                continue;
            }
            if !described.contains(&tag) {
                continue;
            }
            let read = read_cache
                .entry(tag)
                .or_insert_with(|| rules.attributes_read(tag));
            for a in entry.attrs() {
                let at = a.name();
                if LAYOUT_ATTRIBUTES.contains(&at) && !read.contains(&at) {
                    let slot = ignored.entry((tag, at)).or_insert((0, die));
                    slot.0 += 1;
                }
            }
        }
    }
    for ((tag, at), (n, die)) in &ignored {
        say(
            Kind::IgnoredAttribute,
            format!(
                "{} DIEs have {} (e.g. DIE {die:#x}), which the rules never read for {}: a \
                 change to it changes no version",
                n,
                ksymrules_grammar::names::attr_name(*at),
                ksymrules_grammar::names::tag_name(*tag)
            ),
        );
    }

    // Each export, by the DIE that described it.
    let unit_name = |ui: usize| {
        dwarf
            .unit_field(ui, ksymrules_grammar::model::UnitField::Name)
            .ok()
            .flatten()
            .unwrap_or_else(|| format!("unit {ui}"))
    };
    let mut done = std::collections::HashSet::new();
    for s in &syms.list {
        if s.state != SymState::Processed {
            continue;
        }
        let Some((o, die)) = s.die else { continue };
        if o != object || !done.insert(&s.name) {
            continue;
        }
        if s.ptr_die == s.die {
            let function = dwarf
                .entry(die)
                .is_ok_and(|(_, e)| e.tag() == gimli::DW_TAG_subroutine_type);
            say(
                Kind::SymbolPointer,
                format!(
                    "{} is described through its symbol pointer ({}{}){}",
                    s.name,
                    rules.settings.symbol_pointer_prefix,
                    s.name,
                    if function {
                        ": as a subprogram whose parameters have no names"
                    } else {
                        ": as a variable of the pointer's target type"
                    }
                ),
            );
            continue;
        }
        let cands = candidates.get(&s.name).map(Vec::as_slice).unwrap_or(&[]);
        let Some(used) = cands.iter().find(|c| c.die == die) else {
            continue;
        };
        if used.declaration {
            if let Some(def) = cands
                .iter()
                .find(|c| !c.declaration && c.tag == used.tag && c.die != die)
            {
                say(
                    Kind::DeclarationFirst,
                    format!(
                        "{} is described by a declaration (DIE {:#x}, in {}), met before its \
                         definition (DIE {:#x}, in {}): first DIE wins",
                        s.name,
                        used.die,
                        unit_name(used.unit),
                        def.die,
                        unit_name(def.unit)
                    ),
                );
            }
        }
        let elf_kind = elf.get(&s.name).copied();
        let kind_word = |k: u8| match k {
            STT_FUNC => "a function",
            STT_OBJECT => "an object",
            _ => "a symbol",
        };
        let wrong_kind = match elf_kind {
            Some(STT_FUNC) => used.tag == gimli::DW_TAG_variable,
            Some(STT_OBJECT) => used.tag == gimli::DW_TAG_subprogram,
            _ => false,
        };
        // A static variable (Rust marks few DIEs external: functions are
        // left to the kind check).
        let is_static = used.tag == gimli::DW_TAG_variable
            && !used.external
            && !used.declaration
            && elf_kind.is_some();
        if wrong_kind || is_static {
            say(
                Kind::WrongDie,
                format!(
                    "{} ({} in the symbol table) is described by DIE {:#x}, {}{} {}, in {}",
                    s.name,
                    elf_kind.map_or("a symbol", kind_word),
                    used.die,
                    if is_static { "static " } else { "" },
                    ksymrules_grammar::names::tag_name(used.tag),
                    s.name,
                    unit_name(used.unit)
                ),
            );
        }
    }

    // Exports at one address whose own DIEs differ in type.
    let mut groups: std::collections::BTreeSet<Vec<usize>> = Default::default();
    for (i, s) in syms.list.iter().enumerate() {
        if s.state == SymState::Processed && s.die.is_some_and(|(o, _)| o == object) {
            let mut g = syms.group(i);
            if g.len() > 1 {
                g.sort_unstable();
                groups.insert(g);
            }
        }
    }
    for g in &groups {
        let own: Vec<(&str, &Candidate)> = g
            .iter()
            .filter_map(|&i| {
                let name = syms.list[i].name.as_str();
                let c = candidates.get(name)?;
                let c = c.iter().find(|c| !c.declaration).or(c.first())?;
                Some((name, c))
            })
            .collect();
        let differ = own
            .windows(2)
            .any(|w| w[0].1.ty != w[1].1.ty || w[0].1.tag != w[1].1.tag);
        if differ {
            let names: Vec<&str> = g.iter().map(|&i| syms.list[i].name.as_str()).collect();
            say(
                Kind::SharedAddress,
                format!(
                    "{} share one address but their DIEs have different types: they get one \
                     CRC (identical code folded into one, or a zero-sized object placed at the \
                     next one's address)",
                    names.join(", ")
                ),
            );
        }
    }
    Ok(out)
}
