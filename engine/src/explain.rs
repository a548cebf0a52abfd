//! Where every piece of a symbol's type string comes from: the DIE whose
//! description printed it and the piece of the rules that did
//! (`ksymrules --explain SYMBOL`).
//!
//! The object is walked once more, in order, with provenance recorded in
//! the die map (`DieMap::provenance`); the kbuild path never records it.
//! The symbol's string is then assembled as the type map assembles it:
//! named types as references (`s#foo`), each explained in turn, unnamed
//! ones inline, a line break as one space.
//!
//! ```text
//! symbol xt_register_match (DIE 0x2a41, subprogram xt_register_match, x_tables.c:301)
//!   "subprogram ("           0x2a41 subprogram xt_register_match     <default rules>:60:5
//!   "formal_parameter "      0x2a5c formal_parameter match           <default rules>:75:5
//!   "s#xt_match"             0x1f3d structure_type xt_match          <default rules>:84:5
//!   ...
//! ```

use crate::diemap::{DieMap, EntryId, Frag, Prov};
use crate::dwarf::{DieId, Dwarf};
use crate::walk::{self, Consumer, Digester};
use crate::{elf, Error, Symbols};
use ksymrules_grammar::Rules;
use std::collections::BTreeSet;

/// One symbol's string and those of the named types it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub symbol: String,
    /// The symbol's string first, then each named type's, in the order
    /// they are first referred to.
    pub strings: Vec<Explained>,
}

/// A string: the symbol's, or a named type's (`s#foo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The symbol's name, or the type's reference name.
    pub name: String,
    /// The DIE the string describes.
    pub die: DieDesc,
    pub pieces: Vec<Piece>,
}

/// A piece of a string and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    /// The DIE whose description printed it.
    pub die: DieDesc,
    /// The piece of the rules that printed it: file, line, column (none
    /// for the space a line break becomes, or a child listed).
    pub rule: Option<(String, u32, u32)>,
}

/// A DIE as a person finds it: offset, tag, name, declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DieDesc {
    pub offset: DieId,
    pub tag: String,
    pub name: Option<String>,
    /// `decl_file:decl_line`, when the DIE has them.
    pub decl: Option<String>,
}

impl std::fmt::Display for DieDesc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x} {}", self.offset, self.tag)?;
        if let Some(n) = &self.name {
            write!(f, " {n}")?;
        }
        if let Some(d) = &self.decl {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

/// Explains `symbol` as described by `path` with `rules`. `None` when no
/// DIE of the object describes the symbol.
pub fn explain(
    rules: &Rules,
    stable: bool,
    path: &std::path::Path,
    symbol: &str,
) -> Result<Option<Explanation>, Error> {
    Ok(explain_all(rules, stable, path, &[symbol], None)?
        .into_iter()
        .next())
}

/// Explains each of `symbols` that a DIE of the object describes, from one
/// walk, in the order given: its own string, and those of the named types
/// it reaches (when `only` is given: only those it names, and for each
/// only the entry whose string is the one it gives), each entry once
/// across all the symbols.
pub fn explain_all(
    rules: &Rules,
    stable: bool,
    path: &std::path::Path,
    symbols: &[&str],
    only: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Vec<Explanation>, Error> {
    let obj = elf::ObjectFile::open(path)?;
    let mut syms = Symbols::parse(&symbols.join("\n"));
    crate::read_symbols(rules, &mut syms, &obj)?;
    let kabi = crate::read_kabi(rules, stable, &obj)?;
    let dwarf = Dwarf::load(&obj, rules.settings.follow_type_units)?;
    let cfg = walk::WalkConfig {
        dwarf: &dwarf,
        rules,
        kabi: &kabi,
        object: 0,
        stable,
        dump: false,
        debug: false,
        sequential: true,
        progress: None,
        provenance: true,
    };
    let mut capture = Capture {
        rules,
        dwarf: &dwarf,
        result: Vec::new(),
        only,
        found: Default::default(),
        described: Default::default(),
    };
    let (_, walked) = walk::walk_object(cfg, &mut syms, &mut capture, &mut std::io::sink());
    walked?;
    // The symbols' DIEs are known once the walk is done.
    let mut by_die: rustc_hash::FxHashMap<DieId, Result<Explanation, Error>> =
        capture.result.into_iter().collect();
    let mut out = Vec::new();
    for name in symbols {
        let Some(i) = syms.find(name, &rules.settings.symbol_pointer_prefix) else {
            continue;
        };
        let Some((_, die)) = syms.list[i].die else {
            continue;
        };
        // Aliases share a DIE: the first listed gets its explanation.
        let Some(found) = by_die.remove(&die) else {
            continue;
        };
        let mut x = found?;
        x.symbol = name.to_string();
        if let Some(first) = x.strings.first_mut() {
            first.name = name.to_string();
        }
        out.push(x);
    }
    Ok(out)
}

/// Takes the map of the walk (in order, so there is one) and assembles an
/// explanation for each symbol entry of it, by DIE (named afterwards).
struct Capture<'a, 'r> {
    rules: &'r Rules,
    dwarf: &'a Dwarf<'a>,
    result: Vec<(DieId, Result<Explanation, Error>)>,
    /// The named types to explain, with the string wanted for each (all
    /// when `None`): the others are only gone through, to the types they
    /// refer to.
    only: Option<&'r std::collections::BTreeMap<String, String>>,
    /// Names of `only` whose wanted string was found.
    found: std::cell::RefCell<BTreeSet<String>>,
    /// DIEs described so far (a DIE is met once per piece it printed).
    described: std::cell::RefCell<rustc_hash::FxHashMap<DieId, DieDesc>>,
}

struct Nothing;

impl Digester for Nothing {
    type Digest = ();
    fn digest(&self, _: &DieMap) {}
}

impl Consumer for Capture<'_, '_> {
    type Digester = Nothing;

    fn digester(&self) -> Nothing {
        Nothing
    }

    fn keep(&mut self, _: ()) {}

    fn take_whole(&mut self, map: &DieMap) {
        // Each entry is explained once, under the first symbol (in DIE
        // order) that reaches it; one name may have several entries (its
        // DIEs in several units), each explained.
        let mut done: BTreeSet<EntryId> = BTreeSet::new();
        let mut entries: Vec<(DieId, EntryId)> = map.symbol_entries().collect();
        entries.sort_unstable();
        self.result = entries
            .into_iter()
            .map(|(die, id)| (die, self.assemble(map, "", id, &mut done)))
            .collect();
    }

    fn reset(&mut self) {
        self.result.clear();
    }
}

impl Capture<'_, '_> {
    fn assemble(
        &self,
        map: &DieMap,
        name: &str,
        symbol: EntryId,
        done: &mut BTreeSet<EntryId>,
    ) -> Result<Explanation, Error> {
        let mut named: BTreeSet<String> = BTreeSet::new();
        let mut strings = Vec::new();
        let mut queue = vec![(name.to_string(), symbol)];
        let mut first = true;
        while let Some((name, id)) = queue.pop() {
            let root = std::mem::replace(&mut first, false);
            let mut refs = Vec::new();
            let want = self.only.and_then(|o| o.get(&name));
            let explain = root
                || self.only.is_none()
                || (want.is_some() && !self.found.borrow().contains(&name));
            if explain {
                let mut pieces = Vec::new();
                self.pieces(map, id, &mut pieces, &mut refs, 0)?;
                // With `only`, a type's string is kept when it is the one
                // asked for (one name may have several entries).
                let keep = match want {
                    _ if root || self.only.is_none() => true,
                    Some(w) => {
                        let text: String = pieces.iter().map(|p| p.text.as_str()).collect();
                        let same = *w == text;
                        if same {
                            self.found.borrow_mut().insert(name.clone());
                        }
                        same
                    }
                    None => false,
                };
                if keep {
                    strings.push(Explained {
                        name,
                        die: self.describe(map.die(id))?,
                        pieces,
                    });
                }
            } else {
                self.refs(map, id, &mut refs, 0)?;
            }
            // Referred types, first met first (the queue is a stack).
            for (n, r) in refs.into_iter().rev() {
                if named.insert(n.clone()) && done.insert(r) {
                    queue.push((n, r));
                }
            }
        }
        Ok(Explanation {
            symbol: name.to_string(),
            strings,
        })
    }

    /// The named types entry `id`'s string refers to (through its unnamed
    /// ones), as [`Self::pieces`] finds them, without the pieces.
    fn refs(
        &self,
        map: &DieMap,
        id: EntryId,
        refs: &mut Vec<(String, EntryId)>,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > 2000 {
            return Err(Error::new("types nested too deeply to explain"));
        }
        for f in map.frags(id) {
            if let Frag::Die(slot) = *f {
                let Some(child) = map.resolve(slot) else {
                    return Err(Error::new(format!(
                        "no string was built for DIE {:#x}",
                        map.die_of(slot)
                    )));
                };
                match self.reference(map, child) {
                    Some(name) => refs.push((name, child)),
                    None => self.refs(map, child, refs, depth + 1)?,
                }
            }
        }
        Ok(())
    }

    /// The pieces of entry `id`'s string: unnamed types inline, named ones
    /// as references (added to `refs`).
    fn pieces(
        &self,
        map: &DieMap,
        id: EntryId,
        out: &mut Vec<Piece>,
        refs: &mut Vec<(String, EntryId)>,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > 2000 {
            return Err(Error::new("types nested too deeply to explain"));
        }
        let frags = map.frags(id);
        let prov = |i: usize| {
            map.provenance
                .as_ref()
                .and_then(|p| p.get(&(id, i as u32)).copied())
        };
        for (i, f) in frags.iter().enumerate() {
            match *f {
                Frag::Text(a, n) => {
                    let p = prov(i).unwrap_or(Prov {
                        die: map.die(id),
                        origin: None,
                    });
                    out.push(self.piece(map.text(a, n), p)?);
                }
                Frag::Break(_) => {
                    // Consecutive breaks make one space.
                    if !matches!(frags.get(i + 1), Some(Frag::Break(_))) {
                        out.push(self.piece(
                            " ",
                            Prov {
                                die: map.die(id),
                                origin: None,
                            },
                        )?);
                    }
                }
                Frag::Die(slot) => {
                    let Some(child) = map.resolve(slot) else {
                        return Err(Error::new(format!(
                            "no string was built for DIE {:#x}",
                            map.die_of(slot)
                        )));
                    };
                    match self.reference(map, child) {
                        Some(name) => {
                            let p = Prov {
                                die: map.die(child),
                                origin: prov(i).and_then(|p| p.origin),
                            };
                            out.push(self.piece(&name, p)?);
                            refs.push((name, child));
                        }
                        None => self.pieces(map, child, out, refs, depth + 1)?,
                    }
                }
            }
        }
        Ok(())
    }

    /// A named type's reference name (`s#foo`), as the type map writes it.
    fn reference(&self, map: &DieMap, id: EntryId) -> Option<String> {
        crate::typemap::reference_name_parts(self.rules, map, id).map(|p| p.concat())
    }

    fn piece(&self, text: &str, p: Prov) -> Result<Piece, Error> {
        Ok(Piece {
            text: text.to_string(),
            die: self.describe(p.die)?,
            rule: p.origin.map(|o| {
                (
                    self.rules
                        .files
                        .get(o.file as usize)
                        .map(|f| f.to_string())
                        .unwrap_or_default(),
                    o.pos.line,
                    o.pos.col,
                )
            }),
        })
    }

    fn describe(&self, die: DieId) -> Result<DieDesc, Error> {
        if let Some(d) = self.described.borrow().get(&die) {
            return Ok(d.clone());
        }
        let d = self.describe_anew(die)?;
        self.described.borrow_mut().insert(die, d.clone());
        Ok(d)
    }

    fn describe_anew(&self, die: DieId) -> Result<DieDesc, Error> {
        let (ui, e) = self.dwarf.entry(die)?;
        let name = self
            .dwarf
            .string(ui, &e, gimli::DW_AT_name)?
            .map(|s| String::from_utf8_lossy(s).into_owned());
        let file = match Dwarf::constant(&e, gimli::DW_AT_decl_file) {
            Some(i) => self
                .dwarf
                .file_name(ui, i)
                .ok()
                .map(|f| String::from_utf8_lossy(&f).into_owned()),
            None => None,
        };
        let line = Dwarf::constant(&e, gimli::DW_AT_decl_line);
        let decl = match (file, line) {
            (Some(f), Some(l)) => Some(format!("{f}:{l}")),
            (Some(f), None) => Some(f),
            _ => None,
        };
        Ok(DieDesc {
            offset: die,
            tag: ksymrules_grammar::names::tag_name(e.tag()),
            name,
            decl,
        })
    }
}
