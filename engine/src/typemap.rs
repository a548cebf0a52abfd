//! From the die map to symbol versions: the type map (the longest string
//! per type name), version strings with each reference expanded once, the
//! CRCs, and the symtypes file.

use crate::diemap::{DieMap, EntryId, Frag, State};
use crate::kabi::{split_type_string, TypeStringPiece};
use crate::stable::Kabi;
use crate::symbols::{SymState, Symbols};
use crate::Error;
use ksymrules_grammar::Rules;
use std::collections::{HashMap, HashSet};

/// Deepest nesting of unnamed strings (or of references while expanding a
/// version) before the input is taken as malformed.
const MAX_DEPTH: usize = 4000;

/// A string as stored in the type map: text, and references to named
/// types (`s#foo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    pub pieces: Vec<Piece>,
    /// Length of the string, references counted by their names.
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(String),
}

impl Expansion {
    fn text(&mut self, s: &str) {
        self.len += s.len();
        if let Some(Piece::Text(t)) = self.pieces.last_mut() {
            t.push_str(s);
        } else {
            self.pieces.push(Piece::Text(s.to_string()));
        }
    }

    fn reference(&mut self, name: String) {
        self.len += name.len();
        self.pieces.push(Piece::Ref(name));
    }

    /// The string with references written as names (the symtypes form).
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(self.len);
        for p in &self.pieces {
            match p {
                Piece::Text(t) | Piece::Ref(t) => s.push_str(t),
            }
        }
        s
    }
}

/// Options of the version pass.
pub struct Outputs<'o> {
    pub symtypes: Option<&'o mut Vec<String>>,
    pub versions: Option<&'o mut String>,
    pub types: Option<&'o mut String>,
}

pub struct TypeMap<'r> {
    rules: &'r Rules,
    /// kABI rules whose `type_string`s replace strings, when they apply.
    replace: Option<&'r Kabi>,
    map: HashMap<String, Expansion>,
    /// Names whose longest strings tied with different text.
    ties: Vec<String>,
}

impl<'r> TypeMap<'r> {
    pub fn new(rules: &'r Rules, replace: Option<&'r Kabi>) -> Self {
        TypeMap {
            rules,
            replace,
            map: HashMap::new(),
            ties: Vec::new(),
        }
    }

    /// The reference name of an entry, if it is a named type.
    fn type_name(&self, dies: &DieMap, id: EntryId) -> Option<String> {
        let e = dies.entry(id);
        if !matches!(e.state, State::Complete | State::Unexpanded) {
            return None;
        }
        let fqn = e.fqn.as_deref().filter(|f| !f.is_empty())?;
        let prefix = self.rules.reference_prefix(e.tag)?;
        let q = if fqn.contains(' ') {
            self.rules.settings.reference_quote.as_str()
        } else {
            ""
        };
        Some(format!("{prefix}{q}{fqn}{q}"))
    }

    /// An entry's string, with named types as references.
    fn expand(
        &self,
        dies: &DieMap,
        id: EntryId,
        out: &mut Expansion,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new(
                "type strings nested too deeply (a cycle of unnamed types?)",
            ));
        }
        let frags = &dies.entry(id).frags;
        for (i, f) in frags.iter().enumerate() {
            match f {
                Frag::Text(s) => out.text(s),
                Frag::Break(_) => {
                    // Consecutive breaks make one space.
                    if !matches!(frags.get(i + 1), Some(Frag::Break(_))) {
                        out.text(" ");
                    }
                }
                &Frag::Die(d) => {
                    let child = dies
                        .resolve(d)
                        .ok_or_else(|| Error::new(format!("no string was built for DIE {d:#x}")))?;
                    match self.type_name(dies, child) {
                        Some(name) => out.reference(name),
                        None => self.expand(dies, child, out, depth + 1)?,
                    }
                }
            }
        }
        Ok(())
    }

    /// The replacement string a kABI `type_string` rule gives `name`.
    fn replacement(&self, name: &str) -> Result<Option<Expansion>, Error> {
        let Some(s) = self.replace.and_then(|k| k.type_string(name)) else {
            return Ok(None);
        };
        let pieces = split_type_string(s)
            .map_err(|e| Error::new(format!("kABI type_string for {name}: {e}")))?;
        let mut exp = Expansion::default();
        for p in pieces {
            match p {
                TypeStringPiece::Text(t) => exp.text(&t),
                TypeStringPiece::Ref(r) => exp.reference(r),
            }
        }
        Ok(Some(exp))
    }

    /// The string of a named entry (or symbol): a kABI replacement, or the
    /// entry's own.
    fn expand_named(&self, dies: &DieMap, name: &str, id: EntryId) -> Result<Expansion, Error> {
        if let Some(exp) = self.replacement(name)? {
            return Ok(exp);
        }
        let mut exp = Expansion::default();
        self.expand(dies, id, &mut exp, 0)?;
        Ok(exp)
    }

    /// Keeps the longest string seen for `name`.
    fn add(&mut self, name: String, exp: Expansion, dump: Option<&mut String>) {
        match self.map.get_mut(&name) {
            None => {
                if let Some(d) = dump {
                    d.push_str(&format!("{name} {}\n", exp.render()));
                }
                self.map.insert(name, exp);
            }
            Some(old) => {
                if exp.len > old.len {
                    if let Some(d) = dump {
                        d.push_str(&format!("{name} {}\n", exp.render()));
                    }
                    *old = exp;
                } else if exp.len == old.len && exp != *old && !self.ties.contains(&name) {
                    self.ties.push(name);
                }
            }
        }
    }

    /// Fills the type map from every entry of the die map, in the order
    /// the entries were made.
    pub fn collect(&mut self, dies: &DieMap, mut dump: Option<&mut String>) -> Result<(), Error> {
        let mut mapped = vec![false; dies.entries.len()];
        for start in 0..dies.entries.len() {
            if mapped[start] {
                continue;
            }
            mapped[start] = true;
            let mut id = start as EntryId;
            let e = dies.entry(id);
            // A complete string of the same DIE supersedes an unexpanded one.
            if e.state == State::Unexpanded {
                if let Some(c) = dies.get(e.die, State::Complete) {
                    if mapped[c as usize] {
                        continue;
                    }
                    mapped[c as usize] = true;
                    id = c;
                }
            }
            let Some(name) = self.type_name(dies, id) else {
                continue;
            };
            let exp = self.expand_named(dies, &name, id)?;
            self.add(name, exp, dump.as_deref_mut());
        }
        Ok(())
    }

    /// Feeds the version string of `exp` to `crc`, expanding each
    /// reference the first time it is met.
    fn version(
        &mut self,
        exp: &Expansion,
        crc: &mut crc32fast::Hasher,
        text: &mut Option<&mut String>,
        seen: &mut HashSet<String>,
        symbol: &str,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new(format!(
                "type references nested too deeply in {symbol}"
            )));
        }
        for p in &exp.pieces {
            match p {
                Piece::Text(t) => {
                    crc.update(t.as_bytes());
                    if let Some(s) = text {
                        s.push_str(t);
                    }
                }
                Piece::Ref(name) => {
                    if seen.contains(name) {
                        crc.update(name.as_bytes());
                        if let Some(s) = text {
                            s.push_str(name);
                        }
                    } else {
                        if !self.map.contains_key(name) {
                            // A type that no longer exists may be given by
                            // a kABI rule.
                            let exp = self.replacement(name)?.ok_or_else(|| {
                                Error::new(format!("unknown type reference {name} in {symbol}"))
                            })?;
                            self.add(name.clone(), exp, None);
                        }
                        let e = self.map[name].clone();
                        seen.insert(name.clone());
                        self.version(&e, crc, text, seen, symbol, depth + 1)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Computes the CRCs of the symbols described in `object`, and the
    /// symtypes lines and version dump when asked.
    pub fn versions(
        &mut self,
        dies: &DieMap,
        syms: &mut Symbols,
        object: usize,
        out: &mut Outputs<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<(), Error> {
        let order = syms.visiting_order().to_vec();
        for i in order {
            let sym = &syms.list[i];
            if out.symtypes.is_none() && sym.state == SymState::Processed {
                continue;
            }
            let Some((obj, die)) = sym.die else { continue };
            if obj != object {
                continue;
            }
            let Some(id) = dies.get(die, State::Symbol) else {
                continue;
            };
            let exp = self.expand_named(dies, &sym.name.clone(), id)?;
            if sym.state != SymState::Processed {
                let name = sym.name.clone();
                let mut crc = crc32fast::Hasher::new();
                let mut text = out.versions.as_ref().map(|_| String::new());
                let mut seen = HashSet::new();
                self.version(&exp, &mut crc, &mut text.as_mut(), &mut seen, &name, 0)?;
                warnings.extend(syms.set_crc(i, crc.finalize()));
                if let (Some(v), Some(t)) = (out.versions.as_deref_mut(), text) {
                    v.push_str(&name);
                    v.push(' ');
                    v.push_str(&t);
                    v.push('\n');
                }
            }
            if out.symtypes.is_some() {
                let name = syms.list[i].name.clone();
                self.add(name, exp, out.types.as_deref_mut());
            }
        }
        if let Some(lines) = out.symtypes.as_deref_mut() {
            let mut names: Vec<&String> = self.map.keys().collect();
            names.sort();
            for n in names {
                lines.push(format!("{n} {}\n", self.map[n].render()));
            }
        }
        for name in &self.ties {
            warnings.push(format!(
                "type {name} has different strings of the same, longest length; \
                 the first one met is used (gendwarfksyms' choice depends on memory addresses)"
            ));
        }
        Ok(())
    }
}
