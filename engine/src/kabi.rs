//! kABI stability rules (`--stable`).
//!
//! An object carries its rules in the `.discard.gendwarfksyms.kabi_rules`
//! section, written there by the kernel's `KABI_*` macros. The section is a
//! plain run of records, each made of four NUL-terminated strings:
//!
//! ```text
//! <version>\0<type>\0<target>\0<value>\0
//! ```
//!
//! The version must be `1`. The types and what their target and value mean:
//!
//! | type                | target                        | value                  |
//! |---------------------|-------------------------------|------------------------|
//! | `declonly`          | a type's fully qualified name | unused                 |
//! | `enumerator_ignore` | `<enum fqn> <enumerator>`     | unused                 |
//! | `enumerator_value`  | `<enum fqn> <enumerator>`     | decimal number         |
//! | `byte_size`         | a type's fully qualified name | decimal number         |
//! | `type_string`       | `s#name`-style type or symbol | type string, verbatim  |
//!
//! Enumerator targets are never split into their two parts: like
//! gendwarfksyms, a lookup joins the enum's name and the enumerator's name
//! with one space and compares the result with the whole target. That keeps
//! enum names that themselves contain spaces working without guessing where
//! the enum name ends.
//!
//! When two records have the same type and target, the one further on in
//! the section wins (gendwarfksyms pushes each rule on the front of its hash
//! bucket and takes the first match). A lookup with an empty name (or an
//! empty enum or enumerator name) never matches, so rules with an empty
//! target are kept but inert.
//!
//! Unlike gendwarfksyms, which checks numbers and type strings only when a
//! rule is used, [`KabiRules::parse`] checks every record up front, and is
//! stricter about a few things the reference lets through; see
//! [`KabiRules::parse`].

use std::collections::{BTreeMap, BTreeSet};

/// The kABI rules of one object (or of a rules file).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KabiRules {
    /// `declonly` targets.
    declonly: BTreeSet<String>,
    /// `enumerator_ignore` targets, whole (`<enum fqn> <enumerator>`).
    enumerator_ignore: BTreeSet<String>,
    /// `enumerator_value` targets, whole, with their values.
    enumerator_value: BTreeMap<String, u64>,
    /// `byte_size` targets with their values.
    byte_size: BTreeMap<String, u64>,
    /// `type_string` targets with their (validated) type strings.
    type_string: BTreeMap<String, String>,
}

/// A malformed rules section: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("kABI rules at offset {offset:#x}: {message}")]
pub struct KabiError {
    /// Byte offset in the section of the offending record or field.
    pub offset: usize,
    pub message: String,
}

/// A piece of a type string: literal text, or a type reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeStringPiece {
    /// Text copied as is.
    Text(String),
    /// A full reference, prefix included, quotes too if it has them:
    /// `s#foo`, `e#'enum with spaces'`.
    Ref(String),
}

/// The version string every record must carry.
const RULE_VERSION: &[u8] = b"1";

/// The rule types, by their names in the section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Declonly,
    EnumeratorIgnore,
    EnumeratorValue,
    ByteSize,
    TypeString,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Declonly,
        Kind::EnumeratorIgnore,
        Kind::EnumeratorValue,
        Kind::ByteSize,
        Kind::TypeString,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Declonly => "declonly",
            Kind::EnumeratorIgnore => "enumerator_ignore",
            Kind::EnumeratorValue => "enumerator_value",
            Kind::ByteSize => "byte_size",
            Kind::TypeString => "type_string",
        }
    }

    fn from_name(name: &[u8]) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name().as_bytes() == name)
    }
}

/// Reads the NUL-terminated strings of a section one by one.
struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    /// The next string and its offset, or `None` at the end of the data.
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        let start = self.pos;
        let rest = self.data.get(start..).filter(|r| !r.is_empty())?;
        let len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        self.pos = start + len + 1;
        Some((start, &rest[..len]))
    }
}

impl KabiRules {
    /// Parses the contents of a `.discard.gendwarfksyms.kabi_rules`
    /// section. An empty section gives no rules.
    ///
    /// Every record is checked, in order, and the first problem is
    /// reported. Beyond what gendwarfksyms rejects (a version other than
    /// `1`, an unknown type, a record missing fields, a section whose last
    /// byte isn't NUL), this also rejects:
    ///
    /// * a target that isn't UTF-8;
    /// * an `enumerator_value` or `byte_size` value that isn't a plain run
    ///   of decimal digits fitting in 64 bits (gendwarfksyms uses
    ///   `strtoul`, which also takes leading blanks, a sign, and the empty
    ///   string as 0, and only when the rule is used);
    /// * a `type_string` value that is empty, not UTF-8, or has a malformed
    ///   reference (see [`split_type_string`]);
    /// * a last record of six bytes or fewer, which gendwarfksyms skips
    ///   with a warning (no such record can be complete and valid).
    ///
    /// The values of `declonly` and `enumerator_ignore` records are not
    /// looked at.
    pub fn parse(section: &[u8]) -> Result<KabiRules, KabiError> {
        let mut rules = KabiRules::default();
        if section.is_empty() {
            return Ok(rules);
        }
        if section.last() != Some(&0) {
            let last = section
                .iter()
                .rposition(|&b| b == 0)
                .map_or(0, |nul| nul + 1);
            return Err(KabiError {
                offset: last,
                message: "section is not NUL-terminated".to_string(),
            });
        }
        let mut fields = Fields {
            data: section,
            pos: 0,
        };
        while let Some((record, version)) = fields.next() {
            if version != RULE_VERSION {
                return Err(KabiError {
                    offset: record,
                    message: format!(
                        "unsupported rule version {} (expected \"1\")",
                        quote(version)
                    ),
                });
            }
            let cut_short = |field: &str| KabiError {
                offset: record,
                message: format!("record cut short: its {field} field is missing"),
            };
            let (type_at, type_name) = fields.next().ok_or_else(|| cut_short("type"))?;
            let kind = Kind::from_name(type_name).ok_or_else(|| KabiError {
                offset: type_at,
                message: format!("unknown rule type {}", quote(type_name)),
            })?;
            let (target_at, target) = fields.next().ok_or_else(|| cut_short("target"))?;
            let (value_at, value) = fields.next().ok_or_else(|| cut_short("value"))?;
            let target = std::str::from_utf8(target).map_err(|_| KabiError {
                offset: target_at,
                message: format!(
                    "{} target {} is not valid UTF-8",
                    kind.name(),
                    quote(target)
                ),
            })?;
            rules.add(kind, target, value, value_at)?;
        }
        Ok(rules)
    }

    /// Adds one record whose target has been read; checks its value.
    fn add(
        &mut self,
        kind: Kind,
        target: &str,
        value: &[u8],
        value_at: usize,
    ) -> Result<(), KabiError> {
        let error = |message: String| KabiError {
            offset: value_at,
            message,
        };
        match kind {
            Kind::Declonly => {
                self.declonly.insert(target.to_string());
            }
            Kind::EnumeratorIgnore => {
                self.enumerator_ignore.insert(target.to_string());
            }
            Kind::EnumeratorValue | Kind::ByteSize => {
                let number = parse_decimal(value).map_err(|why| {
                    error(format!(
                        "{} value {} for {:?} {why}",
                        kind.name(),
                        quote(value),
                        target
                    ))
                })?;
                let map = if kind == Kind::ByteSize {
                    &mut self.byte_size
                } else {
                    &mut self.enumerator_value
                };
                map.insert(target.to_string(), number);
            }
            Kind::TypeString => {
                if value.is_empty() {
                    return Err(error(format!("type_string value for {target:?} is empty")));
                }
                let text = std::str::from_utf8(value).map_err(|_| {
                    error(format!(
                        "type_string value for {target:?} is not valid UTF-8: {}",
                        quote(value)
                    ))
                })?;
                split_type_string(text)
                    .map_err(|why| error(format!("type_string value for {target:?}: {why}")))?;
                self.type_string
                    .insert(target.to_string(), text.to_string());
            }
        }
        Ok(())
    }

    /// Whether the struct, union or enum `fqn` is to be treated as a
    /// declaration only.
    pub fn is_declonly(&self, fqn: &str) -> bool {
        !fqn.is_empty() && self.declonly.contains(fqn)
    }

    /// Whether the enumerator `enumerator` of the enum `enum_fqn` is left
    /// out.
    pub fn is_enumerator_ignored(&self, enum_fqn: &str, enumerator: &str) -> bool {
        enumerator_target(!self.enumerator_ignore.is_empty(), enum_fqn, enumerator)
            .is_some_and(|target| self.enumerator_ignore.contains(&target))
    }

    /// The value to print for the enumerator `enumerator` of the enum
    /// `enum_fqn` instead of its real one, if a rule says so.
    pub fn enumerator_value(&self, enum_fqn: &str, enumerator: &str) -> Option<u64> {
        let target = enumerator_target(!self.enumerator_value.is_empty(), enum_fqn, enumerator)?;
        self.enumerator_value.get(&target).copied()
    }

    /// The byte size to print for the type `fqn` instead of its real one,
    /// if a rule says so.
    pub fn byte_size(&self, fqn: &str) -> Option<u64> {
        if fqn.is_empty() {
            return None;
        }
        self.byte_size.get(fqn).copied()
    }

    /// The type string to use, verbatim, for the type `name` (a reference
    /// such as `s#foo` or `s#'a b'`) or the symbol `name`, if a rule gives
    /// one. It is known to split cleanly with [`split_type_string`].
    pub fn type_string(&self, name: &str) -> Option<&str> {
        if name.is_empty() {
            return None;
        }
        self.type_string.get(name).map(String::as_str)
    }

    /// Adds the rules of `other`; where both have a rule of the same type
    /// for the same target, `other`'s wins.
    pub fn merge(&mut self, other: KabiRules) {
        self.declonly.extend(other.declonly);
        self.enumerator_ignore.extend(other.enumerator_ignore);
        self.enumerator_value.extend(other.enumerator_value);
        self.byte_size.extend(other.byte_size);
        self.type_string.extend(other.type_string);
    }

    /// Whether there are no rules at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of distinct (type, target) rules.
    pub fn len(&self) -> usize {
        self.declonly.len()
            + self.enumerator_ignore.len()
            + self.enumerator_value.len()
            + self.byte_size.len()
            + self.type_string.len()
    }
}

/// The whole target an enumerator lookup compares with, or `None` when it
/// can't match anything: an empty part, or no rules of that type to look
/// in (then no string is built).
fn enumerator_target(have_rules: bool, enum_fqn: &str, enumerator: &str) -> Option<String> {
    if !have_rules || enum_fqn.is_empty() || enumerator.is_empty() {
        return None;
    }
    Some(format!("{enum_fqn} {enumerator}"))
}

/// Reads a number made only of decimal digits; on failure, says why in a
/// form that follows the quoted text.
fn parse_decimal(text: &[u8]) -> Result<u64, &'static str> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return Err("is not a decimal number");
    }
    text.iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or("does not fit in 64 bits")
}

/// `bytes` in double quotes, escaped: as Rust would print the string if it
/// is UTF-8, byte by byte otherwise.
fn quote(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => format!("{s:?}"),
        Err(_) => {
            let mut out = String::from("\"");
            for &b in bytes {
                out.extend(std::ascii::escape_default(b).map(char::from));
            }
            out.push('"');
            out
        }
    }
}

/// Splits a type string into literal text and type references, the way
/// gendwarfksyms reads a `type_string` value.
///
/// A reference starts wherever one of `s`, `u`, `e`, `t` is followed by
/// `#`, even in the middle of a word. If the next character is a single
/// quote, the name runs to the next single quote, which ends the reference;
/// otherwise the name runs up to the next space or the end of the string.
/// Scanning resumes right after the reference. Concatenating the pieces
/// gives back `s`; text pieces are never empty.
///
/// Errors: an empty string, a quoted name without its closing quote, an
/// empty name (`s#` before a space or the end, or `s#''`).
pub fn split_type_string(s: &str) -> Result<Vec<TypeStringPiece>, String> {
    if s.is_empty() {
        return Err("empty type string".to_string());
    }
    let bytes = s.as_bytes();
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut pos = 0;
    while pos + 1 < bytes.len() {
        if !matches!(bytes[pos], b's' | b'u' | b'e' | b't') || bytes[pos + 1] != b'#' {
            pos += 1;
            continue;
        }
        let name_start = pos + 2;
        let end = if bytes.get(name_start) == Some(&b'\'') {
            let Some(close) = bytes[name_start + 1..].iter().position(|&b| b == b'\'') else {
                return Err(format!(
                    "unterminated quoted reference {:?} at byte {pos}",
                    &s[pos..]
                ));
            };
            if close == 0 {
                return Err(format!(
                    "empty reference name {:?} at byte {pos}",
                    &s[pos..name_start + 2]
                ));
            }
            name_start + 1 + close + 1
        } else {
            let len = bytes[name_start..]
                .iter()
                .position(|&b| b == b' ')
                .unwrap_or(bytes.len() - name_start);
            if len == 0 {
                return Err(format!(
                    "empty reference name {:?} at byte {pos}",
                    &s[pos..name_start]
                ));
            }
            name_start + len
        };
        if pos > text_start {
            pieces.push(TypeStringPiece::Text(s[text_start..pos].to_string()));
        }
        pieces.push(TypeStringPiece::Ref(s[pos..end].to_string()));
        text_start = end;
        pos = end;
    }
    if text_start < bytes.len() {
        pieces.push(TypeStringPiece::Text(s[text_start..].to_string()));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TypeStringPiece::{Ref, Text};

    fn text(s: &str) -> TypeStringPiece {
        Text(s.to_string())
    }

    fn reference(s: &str) -> TypeStringPiece {
        Ref(s.to_string())
    }

    fn section(records: &[[&str; 4]]) -> Vec<u8> {
        let mut out = Vec::new();
        for record in records {
            for field in record {
                out.extend_from_slice(field.as_bytes());
                out.push(0);
            }
        }
        out
    }

    #[test]
    fn splits_references_and_text() {
        assert_eq!(
            split_type_string("variable s#foo").unwrap(),
            vec![text("variable "), reference("s#foo")]
        );
        assert_eq!(
            split_type_string("s#foo").unwrap(),
            vec![reference("s#foo")]
        );
        assert_eq!(
            split_type_string("a { e#'x y' } u#z t#w b").unwrap(),
            vec![
                text("a { "),
                reference("e#'x y'"),
                text(" } "),
                reference("u#z"),
                text(" "),
                reference("t#w"),
                text(" b"),
            ]
        );
        // A quoted reference ends at its closing quote, whatever follows.
        assert_eq!(
            split_type_string("s#'a b'c").unwrap(),
            vec![reference("s#'a b'"), text("c")]
        );
        // An unquoted one runs to the next space, braces and all.
        assert_eq!(
            split_type_string("{ s#foo}").unwrap(),
            vec![text("{ "), reference("s#foo}")]
        );
        // No word boundary is needed in front of a prefix.
        assert_eq!(
            split_type_string("xs#y").unwrap(),
            vec![text("x"), reference("s#y")]
        );
        // Other letters, or a lone `#`, are text.
        assert_eq!(split_type_string("x#y # s").unwrap(), vec![text("x#y # s")]);
        assert_eq!(split_type_string("s").unwrap(), vec![text("s")]);
    }

    #[test]
    fn split_errors() {
        assert_eq!(split_type_string(""), Err("empty type string".to_string()));
        assert_eq!(
            split_type_string("x s#'foo"),
            Err("unterminated quoted reference \"s#'foo\" at byte 2".to_string())
        );
        assert_eq!(
            split_type_string("x s#"),
            Err("empty reference name \"s#\" at byte 2".to_string())
        );
        assert_eq!(
            split_type_string("s# x"),
            Err("empty reference name \"s#\" at byte 0".to_string())
        );
        assert_eq!(
            split_type_string("a s#'' b"),
            Err("empty reference name \"s#''\" at byte 2".to_string())
        );
        assert_eq!(
            split_type_string("s#'"),
            Err("unterminated quoted reference \"s#'\" at byte 0".to_string())
        );
    }

    #[test]
    fn split_keeps_every_byte() {
        for s in [
            "s#a u#b",
            "é s#'ü x' t#ß",
            "  lead and trail  ",
            "s#x s#y",
            "e#'' ", // error
        ] {
            if let Ok(pieces) = split_type_string(s) {
                let joined: String = pieces
                    .iter()
                    .map(|p| match p {
                        Text(t) | Ref(t) => t.as_str(),
                    })
                    .collect();
                assert_eq!(joined, s);
            }
        }
    }

    #[test]
    fn later_duplicates_win() {
        let rules = KabiRules::parse(&section(&[
            ["1", "byte_size", "s", "8"],
            ["1", "byte_size", "s", "16"],
            ["1", "type_string", "t#x", "first"],
            ["1", "type_string", "t#x", "second"],
            ["1", "enumerator_value", "e A", "1"],
            ["1", "enumerator_value", "e A", "2"],
            ["1", "declonly", "s", ""],
            ["1", "declonly", "s", ""],
        ]))
        .unwrap();
        assert_eq!(rules.byte_size("s"), Some(16));
        assert_eq!(rules.type_string("t#x"), Some("second"));
        assert_eq!(rules.enumerator_value("e", "A"), Some(2));
        assert!(rules.is_declonly("s"));
        // The same target under different types is kept apart.
        assert_eq!(rules.type_string("s"), None);
        assert_eq!(rules.len(), 4);
    }

    #[test]
    fn enumerator_targets_are_joined_not_split() {
        let rules = KabiRules::parse(&section(&[
            ["1", "enumerator_ignore", "enum with spaces X", ""],
            ["1", "enumerator_value", "ns::e Y", "7"],
            ["1", "enumerator_ignore", "nospace", ""],
        ]))
        .unwrap();
        assert!(rules.is_enumerator_ignored("enum with spaces", "X"));
        assert!(rules.is_enumerator_ignored("enum with", "spaces X"));
        assert!(!rules.is_enumerator_ignored("enum", "X"));
        assert_eq!(rules.enumerator_value("ns::e", "Y"), Some(7));
        assert_eq!(rules.enumerator_value("ns::e", "Z"), None);
        assert_eq!(rules.enumerator_value("ns::e Y", ""), None);
        assert!(!rules.is_enumerator_ignored("nospace", ""));
        assert!(!rules.is_enumerator_ignored("", "nospace"));
    }

    #[test]
    fn empty_names_never_match() {
        let rules = KabiRules::parse(&section(&[
            ["1", "declonly", "", ""],
            ["1", "byte_size", "", "4"],
            ["1", "type_string", "", "x"],
            ["1", "enumerator_ignore", " ", ""],
        ]))
        .unwrap();
        assert!(!rules.is_empty());
        assert!(!rules.is_declonly(""));
        assert_eq!(rules.byte_size(""), None);
        assert_eq!(rules.type_string(""), None);
        assert!(!rules.is_enumerator_ignored("", ""));
    }

    #[test]
    fn merge_lets_the_other_win() {
        let mut a = KabiRules::parse(&section(&[
            ["1", "byte_size", "s", "8"],
            ["1", "declonly", "a", ""],
        ]))
        .unwrap();
        let b = KabiRules::parse(&section(&[
            ["1", "byte_size", "s", "16"],
            ["1", "declonly", "b", ""],
        ]))
        .unwrap();
        a.merge(b);
        assert_eq!(a.byte_size("s"), Some(16));
        assert!(a.is_declonly("a") && a.is_declonly("b"));
        let mut empty = KabiRules::default();
        assert!(empty.is_empty());
        empty.merge(a.clone());
        assert_eq!(empty, a);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_decimal(b"0"), Ok(0));
        assert_eq!(parse_decimal(b"007"), Ok(7));
        assert_eq!(parse_decimal(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_decimal(b"18446744073709551616"),
            Err("does not fit in 64 bits")
        );
        for bad in [&b""[..], b"+1", b"-1", b" 1", b"1 ", b"0x10", b"\xff"] {
            assert_eq!(parse_decimal(bad), Err("is not a decimal number"));
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(b"a\"b"), "\"a\\\"b\"");
        assert_eq!(quote(b"\xffa\n"), "\"\\xffa\\n\"");
        assert_eq!(quote("é".as_bytes()), "\"é\"");
    }
}
