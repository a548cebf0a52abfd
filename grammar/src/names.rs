//! DWARF tag and attribute names as the rules language spells them
//! (`structure_type` for `DW_TAG_structure_type`), with the nearest known
//! name offered when a name is misspelt.

use std::collections::HashMap;
use std::sync::OnceLock;

/// How the engine reads an attribute's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttrClass {
    /// An unsigned constant (`DW_FORM_data*`, `udata`, `sdata` read as
    /// unsigned, `implicit_const`).
    Constant,
    /// A string (`DW_AT_name`, ...).
    String,
    /// A reference to another DIE (`DW_AT_type`, ...): printing it
    /// describes that DIE.
    Reference,
    /// A flag (`DW_AT_declaration`, ...): only `has(...)` makes sense.
    Flag,
    /// A file index into the unit's line table, read as the file's path.
    File,
}

pub fn attr_class(at: gimli::DwAt) -> AttrClass {
    use gimli::constants as c;
    const STRINGS: &[gimli::DwAt] = &[
        c::DW_AT_name,
        c::DW_AT_linkage_name,
        c::DW_AT_MIPS_linkage_name,
        c::DW_AT_producer,
        c::DW_AT_comp_dir,
    ];
    const REFERENCES: &[gimli::DwAt] = &[
        c::DW_AT_type,
        c::DW_AT_abstract_origin,
        c::DW_AT_specification,
        c::DW_AT_sibling,
        c::DW_AT_containing_type,
        c::DW_AT_import,
        c::DW_AT_signature,
        c::DW_AT_discr,
    ];
    const FLAGS: &[gimli::DwAt] = &[
        c::DW_AT_declaration,
        c::DW_AT_external,
        c::DW_AT_artificial,
        c::DW_AT_prototyped,
        c::DW_AT_enum_class,
        c::DW_AT_export_symbols,
        c::DW_AT_noreturn,
        c::DW_AT_main_subprogram,
        c::DW_AT_explicit,
        c::DW_AT_is_optional,
        c::DW_AT_variable_parameter,
    ];
    const FILES: &[gimli::DwAt] = &[c::DW_AT_decl_file, c::DW_AT_call_file];
    if STRINGS.contains(&at) {
        AttrClass::String
    } else if REFERENCES.contains(&at) {
        AttrClass::Reference
    } else if FLAGS.contains(&at) {
        AttrClass::Flag
    } else if FILES.contains(&at) {
        AttrClass::File
    } else {
        AttrClass::Constant
    }
}

struct Table {
    by_name: HashMap<String, u16>,
    names: Vec<String>,
}

fn build(prefix: &str, name_of: impl Fn(u16) -> Option<&'static str>) -> Table {
    let mut by_name = HashMap::new();
    let mut names = Vec::new();
    for v in 0..=u16::MAX {
        if let Some(full) = name_of(v) {
            if let Some(short) = full.strip_prefix(prefix) {
                let short = short.to_string();
                if by_name.insert(short.clone(), v).is_none() {
                    names.push(short);
                }
            }
        }
    }
    names.sort();
    Table { by_name, names }
}

fn tags() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| build("DW_TAG_", |v| gimli::DwTag(v).static_string()))
}

fn attrs() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| build("DW_AT_", |v| gimli::DwAt(v).static_string()))
}

/// `structure_type` -> `DW_TAG_structure_type`.
pub fn tag_by_name(name: &str) -> Option<gimli::DwTag> {
    tags().by_name.get(name).copied().map(gimli::DwTag)
}

/// `byte_size` -> `DW_AT_byte_size`.
pub fn attr_by_name(name: &str) -> Option<gimli::DwAt> {
    attrs().by_name.get(name).copied().map(gimli::DwAt)
}

/// The rules-language name of a tag (`structure_type`), or its number.
pub fn tag_name(tag: gimli::DwTag) -> String {
    match tag.static_string() {
        Some(s) => s.strip_prefix("DW_TAG_").unwrap_or(s).to_string(),
        None => format!("tag {:#x}", tag.0),
    }
}

/// The rules-language name of an attribute (`byte_size`), or its number.
pub fn attr_name(at: gimli::DwAt) -> String {
    match at.static_string() {
        Some(s) => s.strip_prefix("DW_AT_").unwrap_or(s).to_string(),
        None => format!("attribute {:#x}", at.0),
    }
}

/// The known name closest to `name`, if one is close enough to be a likely
/// misspelling.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.len() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

pub fn nearest_tag(name: &str) -> Option<&'static str> {
    nearest(name, tags().names.iter().map(String::as_str))
}

pub fn nearest_attr(name: &str) -> Option<&'static str> {
    nearest(name, attrs().names.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_and_attr_names_round_trip() {
        assert_eq!(
            tag_by_name("structure_type"),
            Some(gimli::DW_TAG_structure_type)
        );
        assert_eq!(tag_by_name("typedef"), Some(gimli::DW_TAG_typedef));
        assert_eq!(attr_by_name("byte_size"), Some(gimli::DW_AT_byte_size));
        assert_eq!(tag_name(gimli::DW_TAG_variant_part), "variant_part");
        assert_eq!(
            attr_name(gimli::DW_AT_data_member_location),
            "data_member_location"
        );
        assert_eq!(tag_by_name("DW_TAG_typedef"), None);
    }

    #[test]
    fn misspellings_get_the_nearest_name() {
        assert_eq!(nearest_tag("structre_type"), Some("structure_type"));
        assert_eq!(nearest_attr("byte_sise"), Some("byte_size"));
        assert_eq!(
            nearest_attr("data_member_locaton"),
            Some("data_member_location")
        );
        assert_eq!(nearest_tag("zzzzzzzzzzzz"), None);
    }
}
