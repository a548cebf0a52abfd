//! What objects' DWARF names, and which statements of a rules file find
//! nothing there: `ksymrules check-rules --objects`.
//!
//! A glob that matches no type, an attribute no DIE has, a kABI target
//! that names nothing: such a statement changes no version, which is
//! almost always a mistake (a misspelt name, a type that was renamed).
//! Conditions (`when`) are not evaluated: a statement is reported only
//! when nothing in the objects could ever be what it names.

use crate::dwarf::Dwarf;
use crate::elf::ObjectFile;
use crate::Error;
use gimli::{DwAt, DwTag};
use ksymrules_grammar::model::{Glob, KabiRule, Origin, Rules, Tuning};
use std::collections::{BTreeMap, BTreeSet};

/// The names and attributes found in some objects.
#[derive(Debug, Default)]
pub struct Inventory {
    /// How many objects were read.
    pub objects: usize,
    /// Qualified names of structures, classes, unions, enumerations and
    /// typedefs (`a::b::name` inside scopes, as `fqn` reads them).
    pub types: BTreeSet<String>,
    /// Names of other DIEs, by tag (members, enumerators, parameters).
    pub names: BTreeMap<DwTag, BTreeSet<String>>,
    /// Attributes present, by tag.
    pub attrs: BTreeMap<DwTag, BTreeSet<DwAt>>,
    /// Names in the symbol tables.
    pub symbols: BTreeSet<String>,
}

const TYPE_TAGS: [DwTag; 5] = [
    gimli::DW_TAG_structure_type,
    gimli::DW_TAG_class_type,
    gimli::DW_TAG_union_type,
    gimli::DW_TAG_enumeration_type,
    gimli::DW_TAG_typedef,
];

impl Inventory {
    /// Adds what `obj` names.
    pub fn add(&mut self, obj: &ObjectFile) -> Result<(), Error> {
        self.objects += 1;
        for s in obj.symbols()? {
            self.symbols
                .insert(String::from_utf8_lossy(s.name).into_owned());
        }
        let dwarf = Dwarf::load(obj, false)?;
        for u in &dwarf.units {
            let mut cursor = u.cursor(None).map_err(crate::dwarf::dwarf_err)?;
            let mut entry = crate::dwarf::Entry::default();
            // Per depth: the scope prefix a DIE passes to its children.
            let mut scopes: Vec<Option<String>> = Vec::new();
            while cursor
                .next_dfs(&mut entry)
                .map_err(crate::dwarf::dwarf_err)?
            {
                let entry = &entry;
                let d = entry.depth().max(0) as usize;
                scopes.truncate(d);
                let tag = entry.tag();
                let attrs = self.attrs.entry(tag).or_default();
                let mut name = None;
                for a in entry.attrs() {
                    attrs.insert(a.name());
                    if a.name() == gimli::DW_AT_name {
                        if let Ok(s) = dwarf.dwarf.attr_string(&u.unit, a.value()) {
                            name = Some(String::from_utf8_lossy(&s).into_owned());
                        }
                    }
                }
                let parent = d
                    .checked_sub(1)
                    .and_then(|p| scopes.get(p).cloned().flatten());
                let fqn = match (&parent, &name) {
                    (Some(p), Some(n)) => Some(format!("{p}::{n}")),
                    (None, Some(n)) => Some(n.clone()),
                    _ => None,
                };
                let scope = matches!(
                    tag,
                    gimli::DW_TAG_namespace
                        | gimli::DW_TAG_class_type
                        | gimli::DW_TAG_structure_type
                );
                let passes = match (scope, &parent, &fqn) {
                    (true, _, Some(f)) => Some(f.clone()),
                    (true, Some(p), None) => Some(format!("{p}::<anonymous>")),
                    _ => None,
                };
                if TYPE_TAGS.contains(&tag) {
                    if let Some(f) = fqn {
                        self.types.insert(f);
                    }
                } else if let Some(n) = name {
                    self.names.entry(tag).or_default().insert(n);
                }
                scopes.push(passes);
            }
        }
        Ok(())
    }

    fn any_type(&self, g: &Glob) -> bool {
        self.types.iter().any(|t| g.is_match(t))
    }

    fn any_name(&self, tag: DwTag, g: &Glob) -> bool {
        self.names
            .get(&tag)
            .is_some_and(|ns| ns.iter().any(|n| g.is_match(n)))
    }

    fn has_attr(&self, tags: &[DwTag], at: DwAt) -> bool {
        self.attrs
            .iter()
            .filter(|(t, _)| tags.is_empty() || tags.contains(t))
            .any(|(_, ats)| ats.contains(&at))
    }
}

/// A statement that finds nothing in the objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    pub origin: Origin,
    pub message: String,
}

/// The tuning statements and kABI rules of `rules` that find nothing in
/// what `inv` holds.
pub fn unmatched(rules: &Rules, inv: &Inventory) -> Vec<Unmatched> {
    let n = inv.objects;
    let objects = if n == 1 {
        "1 object".to_string()
    } else {
        format!("{n} objects")
    };
    let mut out = Vec::new();
    let mut say = |origin: Origin, message: String| out.push(Unmatched { origin, message });
    let type_glob = |g: &Glob| (!inv.any_type(g)).then(|| g.pattern.clone());
    for t in rules.tunings.iter() {
        match t {
            Tuning::Drop {
                attrs,
                from,
                within,
                origin,
                ..
            } => {
                for at in attrs.iter() {
                    if !inv.has_attr(from, *at) {
                        say(
                            *origin,
                            format!(
                                "no DIE{} has {} in {objects}",
                                if from.is_empty() {
                                    ""
                                } else {
                                    " of these tags"
                                },
                                ksymrules_grammar::names::attr_name(*at)
                            ),
                        );
                    }
                }
                if let Some(g) = within.as_ref().and_then(type_glob) {
                    say(
                        *origin,
                        format!("glob \"{g}\" matched no type in {objects}"),
                    );
                }
            }
            Tuning::Opaque { globs, origin, .. } => {
                for g in globs.iter().filter_map(type_glob) {
                    say(
                        *origin,
                        format!("glob \"{g}\" matched no type in {objects}"),
                    );
                }
            }
            Tuning::Omit {
                tag,
                glob,
                within,
                origin,
                ..
            } => {
                if !inv.any_name(*tag, glob) {
                    say(
                        *origin,
                        format!(
                            "glob \"{}\" matched no {} in {objects}",
                            glob.pattern,
                            match *tag {
                                gimli::DW_TAG_formal_parameter => "parameter",
                                gimli::DW_TAG_enumerator => "enumerator",
                                _ => "member",
                            }
                        ),
                    );
                }
                if let Some(g) = within.as_ref().and_then(type_glob) {
                    say(
                        *origin,
                        format!("glob \"{g}\" matched no type in {objects}"),
                    );
                }
            }
        }
    }
    for (rule, origin) in rules.kabi.iter().zip(rules.kabi_origins.iter()) {
        let glob = |p: &str| Glob::new(p).ok();
        let missing_type = |p: &str| glob(p).is_some_and(|g| !inv.any_type(&g));
        let message = match rule {
            KabiRule::Declonly(t) | KabiRule::ByteSize(t, _) if missing_type(t) => {
                Some(format!("kABI target \"{t}\" matched no type in {objects}"))
            }
            KabiRule::EnumeratorIgnore(e, v) | KabiRule::EnumeratorValue(e, v, _) => {
                if missing_type(e) {
                    Some(format!("kABI target \"{e}\" matched no type in {objects}"))
                } else if glob(v).is_some_and(|g| !inv.any_name(gimli::DW_TAG_enumerator, &g)) {
                    Some(format!(
                        "kABI target \"{v}\" matched no enumerator in {objects}"
                    ))
                } else {
                    None
                }
            }
            KabiRule::TypeString(t, _) => {
                // `s#name` names a type, anything else a symbol. A type
                // that no longer exists may be defined this way for another
                // type_string that refers to it: that finds something.
                let typed = t.split_once('#').filter(|(p, _)| p.len() == 1);
                let referred = || {
                    rules.kabi.iter().any(|r| {
                        matches!(r, KabiRule::TypeString(u, s) if u != t
                            && s.split(' ').any(|w| w == t))
                    })
                };
                let found = match typed {
                    Some((_, name)) => !missing_type(name) || referred(),
                    None => glob(t).is_some_and(|g| inv.symbols.iter().any(|s| g.is_match(s))),
                };
                (!found).then(|| {
                    format!(
                        "kABI target \"{t}\" matched no {} in {objects}",
                        if typed.is_some() { "type" } else { "symbol" }
                    )
                })
            }
            _ => None,
        };
        if let Some(m) = message {
            say(*origin, m);
        }
    }
    out
}
