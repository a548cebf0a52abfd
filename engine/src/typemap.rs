//! From the die map to symbol versions: the type map (the longest string
//! per type name), version strings with each reference expanded once, the
//! CRCs, and the symtypes file.

use crate::diemap::{DieMap, EntryId, Frag, State};
use crate::kabi::{split_type_string, TypeStringPiece};
use crate::stable::Kabi;
use crate::symbols::{SymState, Symbols};
use crate::Error;
use ksymrules_grammar::Rules;
use rustc_hash::{FxHashMap, FxHashSet};
use std::rc::Rc;

/// Deepest nesting of unnamed strings (or of references while expanding a
/// version) before the input is taken as malformed.
const MAX_DEPTH: usize = 4000;

/// A string as stored in the type map: its text, with references to named
/// types (`s#foo`) written as their names, and where those references are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    pub text: String,
    /// Byte ranges of `text` that are references.
    pub refs: Vec<(u32, u32)>,
}

impl Expansion {
    fn text(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn reference(&mut self, name: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(name);
        self.refs.push((start, self.text.len() as u32));
    }

    /// Length of the string, references counted by their names.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Text and references in order: (is_reference, text).
    pub fn pieces(&self) -> impl Iterator<Item = (bool, &str)> {
        let mut out = Vec::with_capacity(self.refs.len() * 2 + 1);
        let mut at = 0usize;
        for &(a, b) in &self.refs {
            let (a, b) = (a as usize, b as usize);
            if a > at {
                out.push((false, &self.text[at..a]));
            }
            out.push((true, &self.text[a..b]));
            at = b;
        }
        if at < self.text.len() {
            out.push((false, &self.text[at..]));
        }
        out.into_iter()
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
    map: FxHashMap<String, Rc<Expansion>>,
    /// Names whose longest strings tied with different text.
    ties: Vec<String>,
}

impl<'r> TypeMap<'r> {
    pub fn new(rules: &'r Rules, replace: Option<&'r Kabi>) -> Self {
        TypeMap {
            rules,
            replace,
            map: FxHashMap::default(),
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
                &Frag::Text(a, n) => out.text(dies.text(a, n)),
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
                        Some(name) => out.reference(&name),
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
                TypeStringPiece::Ref(r) => exp.reference(&r),
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
                    d.push_str(&format!("{name} {}\n", exp.text));
                }
                self.map.insert(name, Rc::new(exp));
            }
            Some(old) => {
                if exp.len() > old.len() {
                    if let Some(d) = dump {
                        d.push_str(&format!("{name} {}\n", exp.text));
                    }
                    *old = Rc::new(exp);
                } else if exp.len() == old.len() && exp != **old && !self.ties.contains(&name) {
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

    /// The type map's string for a reference, or a kABI `type_string`
    /// for a type that no longer exists (which then joins the map).
    fn lookup(&mut self, name: &str, symbol: &str) -> Result<Rc<Expansion>, Error> {
        if let Some(e) = self.map.get(name) {
            return Ok(e.clone());
        }
        let exp = self
            .replacement(name)?
            .ok_or_else(|| Error::new(format!("unknown type reference {name} in {symbol}")))?;
        self.add(name.to_string(), exp, None);
        Ok(self.map[name].clone())
    }

    /// Feeds the version string of `exp` to `crc`: each reference is
    /// replaced by its type's string the first time it is met, and kept as
    /// its name after that.
    fn version(
        &mut self,
        exp: &Rc<Expansion>,
        crc: &mut crc32fast::Hasher,
        mut text: Option<&mut String>,
        symbol: &str,
    ) -> Result<(), Error> {
        let mut seen: FxHashSet<*const Expansion> = FxHashSet::default();
        // (string, next reference index, position in its text)
        let mut stack: Vec<(Rc<Expansion>, usize, usize)> = vec![(exp.clone(), 0, 0)];
        while let Some((e, r, at)) = stack.pop() {
            let Some(&(a, b)) = e.refs.get(r) else {
                let rest = &e.text[at..];
                crc.update(rest.as_bytes());
                if let Some(t) = text.as_deref_mut() {
                    t.push_str(rest);
                }
                continue;
            };
            let (a, b) = (a as usize, b as usize);
            let before = &e.text[at..a];
            crc.update(before.as_bytes());
            if let Some(t) = text.as_deref_mut() {
                t.push_str(before);
            }
            let name = &e.text[a..b];
            let target = self.lookup(name, symbol)?;
            if seen.insert(Rc::as_ptr(&target)) {
                if stack.len() > MAX_DEPTH {
                    return Err(Error::new(format!(
                        "type references nested too deeply in {symbol}"
                    )));
                }
                stack.push((e.clone(), r + 1, b));
                stack.push((target, 0, 0));
            } else {
                crc.update(name.as_bytes());
                if let Some(t) = text.as_deref_mut() {
                    t.push_str(name);
                }
                stack.push((e, r + 1, b));
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
                self.version(&Rc::new(exp.clone()), &mut crc, text.as_mut(), &name)?;
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
                lines.push(format!("{n} {}\n", self.map[n].text));
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
