//! The kABI rules in effect for one object: those of its
//! `.discard.gendwarfksyms.kabi_rules` section (read with `--stable`) and
//! those written as `kabi` statements in the rules files, whose targets may
//! be globs. A rules file's rule wins over the object's where both give a
//! value.
//!
//! Also the kABI union conventions (`__kabi_reserved*`, `__kabi_renamed*`,
//! `__kabi_ignored*`), which the rules reach through the `kabi_status`,
//! `kabi_placeholder` and `kabi_renamed` fields.

use crate::dwarf::{DieId, Dwarf};
use crate::kabi::KabiRules;
use crate::Error;
use gimli::constants as dw;
use ksymrules_grammar::model::KabiRule;

/// A target: exact text, or a glob when it has glob characters.
enum Target {
    Exact(String),
    Glob(globset::GlobMatcher),
}

impl Target {
    fn new(s: &str) -> Result<Target, Error> {
        if s.contains(['*', '?', '[']) {
            let g = globset::Glob::new(s)
                .map_err(|e| Error::new(format!("kabi rule target {s:?}: {e}")))?;
            Ok(Target::Glob(g.compile_matcher()))
        } else {
            Ok(Target::Exact(s.to_string()))
        }
    }

    fn matches(&self, s: &str) -> bool {
        match self {
            Target::Exact(t) => t == s,
            Target::Glob(g) => g.is_match(s),
        }
    }
}

enum FileRule {
    Declonly(Target),
    EnumeratorIgnore(Target, Target),
    EnumeratorValue(Target, Target, u64),
    ByteSize(Target, u64),
    TypeString(String, String),
}

#[derive(Default)]
pub struct Kabi {
    object: KabiRules,
    file: Vec<FileRule>,
}

impl Kabi {
    /// The rules files' kABI rules.
    pub fn from_rules(rules: &[KabiRule]) -> Result<Kabi, Error> {
        let mut file = Vec::new();
        for r in rules {
            file.push(match r {
                KabiRule::Declonly(t) => FileRule::Declonly(Target::new(t)?),
                KabiRule::EnumeratorIgnore(e, n) => {
                    FileRule::EnumeratorIgnore(Target::new(e)?, Target::new(n)?)
                }
                KabiRule::EnumeratorValue(e, n, v) => {
                    FileRule::EnumeratorValue(Target::new(e)?, Target::new(n)?, *v)
                }
                KabiRule::ByteSize(t, v) => FileRule::ByteSize(Target::new(t)?, *v),
                KabiRule::TypeString(t, s) => {
                    crate::kabi::split_type_string(s)
                        .map_err(|e| Error::new(format!("kabi type_string for {t}: {e}")))?;
                    FileRule::TypeString(t.to_string(), s.to_string())
                }
            });
        }
        Ok(Kabi {
            object: KabiRules::default(),
            file,
        })
    }

    /// Adds an object's section rules.
    pub fn set_object_rules(&mut self, rules: KabiRules) {
        self.object = rules;
    }

    pub fn is_declonly(&self, fqn: &str) -> bool {
        self.file
            .iter()
            .any(|r| matches!(r, FileRule::Declonly(t) if t.matches(fqn)))
            || self.object.is_declonly(fqn)
    }

    pub fn is_enumerator_ignored(&self, enum_fqn: &str, name: &str) -> bool {
        self.file.iter().any(
            |r| matches!(r, FileRule::EnumeratorIgnore(e, n) if e.matches(enum_fqn) && n.matches(name)),
        ) || self.object.is_enumerator_ignored(enum_fqn, name)
    }

    pub fn enumerator_value(&self, enum_fqn: &str, name: &str) -> Option<u64> {
        self.file
            .iter()
            .rev()
            .find_map(|r| match r {
                FileRule::EnumeratorValue(e, n, v) if e.matches(enum_fqn) && n.matches(name) => {
                    Some(*v)
                }
                _ => None,
            })
            .or_else(|| self.object.enumerator_value(enum_fqn, name))
    }

    pub fn byte_size(&self, fqn: &str) -> Option<u64> {
        self.file
            .iter()
            .rev()
            .find_map(|r| match r {
                FileRule::ByteSize(t, v) if t.matches(fqn) => Some(*v),
                _ => None,
            })
            .or_else(|| self.object.byte_size(fqn))
    }

    pub fn type_string(&self, name: &str) -> Option<&str> {
        self.file
            .iter()
            .rev()
            .find_map(|r| match r {
                FileRule::TypeString(t, s) if t == name => Some(s.as_str()),
                _ => None,
            })
            .or_else(|| self.object.type_string(name))
    }
}

/// What a union says under the kABI conventions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnionStatus {
    /// `reserved` or `ignored`; `None` for an ordinary union.
    pub status: Option<&'static str>,
    /// The placeholder's type, for `reserved`.
    pub placeholder: Option<DieId>,
    /// The original name of a `__kabi_renamed<orig>` placeholder.
    pub renamed: Option<String>,
}

const KABI_PREFIX: &str = "__kabi_";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Normal,
    Reserved,
    Ignored,
}

/// The convention a member name follows, and the original name of a
/// `__kabi_renamed<orig>` member.
fn mark(name: Option<&[u8]>) -> (Mark, Option<String>) {
    let Some(rest) = name.and_then(|n| n.strip_prefix(KABI_PREFIX.as_bytes())) else {
        return (Mark::Normal, None);
    };
    if rest.starts_with(b"reserved") {
        (Mark::Reserved, None)
    } else if rest.starts_with(b"ignored") {
        (Mark::Ignored, None)
    } else if let Some(orig) = rest.strip_prefix(b"renamed") {
        (
            Mark::Reserved,
            Some(String::from_utf8_lossy(orig).into_owned()),
        )
    } else {
        (Mark::Normal, None)
    }
}

/// Looks at a union the way gendwarfksyms does: its first two members; a
/// member that is a structure is looked into at its first member only, so
/// that in a replacement union the new fields, which come first, are not
/// taken for the placeholder.
pub fn union_status(dwarf: &Dwarf<'_>, die: DieId) -> Result<UnionStatus, Error> {
    let (ui, e) = dwarf.entry(die)?;
    if e.tag() != dw::DW_TAG_union_type {
        return Ok(UnionStatus::default());
    }
    let decided = |m: Mark, placeholder, renamed| UnionStatus {
        status: match m {
            Mark::Reserved => Some("reserved"),
            Mark::Ignored => Some("ignored"),
            Mark::Normal => None,
        },
        placeholder,
        renamed: if m == Mark::Reserved { renamed } else { None },
    };
    let mut seen = 0;
    for (child, tag) in dwarf.children(ui, die)? {
        if tag != dw::DW_TAG_member {
            continue;
        }
        let (cui, ce) = dwarf.entry(child)?;
        let Some(ty) = dwarf.reference(cui, &ce, dw::DW_AT_type)? else {
            return Err(Error::new(format!(
                "union member at DIE {child:#x} has no type"
            )));
        };
        let (m, renamed) = mark(dwarf.string(cui, &ce, dw::DW_AT_name)?);
        if m != Mark::Normal {
            return Ok(decided(m, Some(ty), renamed));
        }
        // An empty structure decides nothing, and is not counted as one of
        // the two members when the second one is reached.
        let mut inner_decided = Some(Mark::Normal);
        let (tui, te) = dwarf.entry(ty)?;
        if te.tag() == dw::DW_TAG_structure_type {
            inner_decided = None;
            let first = dwarf
                .children(tui, ty)?
                .into_iter()
                .find(|&(_, t)| t == dw::DW_TAG_member);
            if let Some((sm, _)) = first {
                let (sui, se) = dwarf.entry(sm)?;
                let (m, renamed) = mark(dwarf.string(sui, &se, dw::DW_AT_name)?);
                if m != Mark::Normal {
                    let placeholder = if m == Mark::Reserved {
                        let p = dwarf.reference(sui, &se, dw::DW_AT_type)?;
                        if p.is_none() {
                            return Err(Error::new(format!(
                                "structure member at DIE {sm:#x} has no type"
                            )));
                        }
                        p
                    } else {
                        None
                    };
                    return Ok(decided(m, placeholder, renamed));
                }
                inner_decided = Some(Mark::Normal);
            }
        }
        seen += 1;
        if seen >= 2 && inner_decided.is_some() {
            break;
        }
    }
    Ok(UnionStatus::default())
}
