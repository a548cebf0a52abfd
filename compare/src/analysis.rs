//! Why versions changed: the exports whose CRC differs, and their root
//! causes.
//!
//! A type's string names the types it refers to (`s#foo`) instead of
//! holding them, so a change to `struct device` changes the string of
//! `s#device` only; every export that reaches `s#device` changes its CRC
//! through it. The **root causes** of an export's change are the strings
//! it reaches on both sides that differ: the types' (`s#device`), and its
//! own. A changed CRC always has at least one (if every string reached on
//! both sides were the same, so would be the version strings).
//!
//! An edit that recurs is one cause: each changed string is diffed token
//! by token, each hunk is named by its old and new tokens and the tokens
//! before it back to the keyword that opens its description (`base_type
//! char byte_size(1)`, with nested groups shown as `{…}`), and a hunk met in
//! two strings or more is an [`Cause::Edit`] of its own, reaching the
//! exports of all of them: `-funsigned-char` turning `encoding(6)` into
//! `encoding(8)` in every `base_type char` is one cause, not one per type.

use crate::corpus::{Corpus, Export, Types};
use crate::text::{self, Kind, Token};
use ksymrules_engine::typemap::Expansion;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What differs between two corpora.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Exports on both sides whose CRCs differ, by name.
    pub changed: Vec<Changed>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Exports on both sides, changed or not.
    pub common: usize,
    /// Ranked: most exports reached first.
    pub causes: Vec<Cause>,
    /// The changed strings, which causes and suggestions refer to.
    pub changes: Vec<Change>,
    /// Per edit (`Hunk::edit`): whether it recurs, and so is a cause of
    /// its own rather than part of its string's.
    pub recurs: Vec<bool>,
}

#[derive(Debug, Clone)]
pub struct Changed {
    pub name: String,
    pub old_crc: u32,
    pub new_crc: u32,
    /// Indexes in [`Analysis::causes`], ranked as they are.
    pub causes: Vec<usize>,
}

/// A string that differs between the sides: a type's or an export's own.
#[derive(Debug, Clone)]
pub struct Change {
    /// `s#foo`, or the export's name.
    pub name: String,
    pub is_symbol: bool,
    pub old: Arc<Expansion>,
    pub new: Arc<Expansion>,
    /// The units it was first seen in, old and new (for provenance).
    pub units: (usize, usize),
    /// Its token hunks: old and new token ranges.
    pub hunks: Vec<Hunk>,
    /// Exports it reaches (changed ones), sorted.
    pub exports: Vec<String>,
    /// The old side's types it refers to that the new side lacks.
    pub missing_in_new: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub old: (usize, usize),
    pub new: (usize, usize),
    /// Index in the edit table, once named.
    pub edit: usize,
}

/// A hunk as named for recurrence: the tokens before it, and its old and
/// new tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    pub context: String,
    pub old: String,
    pub new: String,
}

impl Edit {
    /// Whether the edit says what it is about: its context names a type
    /// (a `*_type` keyword), or it replaces one type reference by another.
    pub fn is_specific(&self) -> bool {
        let one_ref = |s: &str| !s.contains(' ') && s.as_bytes().get(1) == Some(&b'#');
        self.context.split(' ').any(|w| w.ends_with("_type"))
            || (one_ref(&self.old) && one_ref(&self.new))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CauseKind {
    /// A type's own string changed (its hunks that do not recur).
    Type,
    /// An export's own string changed.
    Symbol,
    /// The same edit in several strings.
    Edit,
}

#[derive(Debug, Clone)]
pub struct Cause {
    pub kind: CauseKind,
    /// `s#foo`, an export's name, or the edit written out.
    pub name: String,
    /// For a type or symbol: its change, in [`Analysis::changes`]. For an
    /// edit: the changes it occurs in (the first is its example).
    pub changes: Vec<usize>,
    /// For an edit: the edit, and its number (`Hunk::edit`).
    pub edit: Option<Edit>,
    pub edit_index: Option<usize>,
    /// Changed exports it reaches, sorted.
    pub exports: Vec<String>,
}

impl Cause {
    /// Whether a hunk of one of its changes is part of this cause: the
    /// edit's hunks for an edit, the hunks that do not recur otherwise.
    pub fn owns(&self, a: &Analysis, h: &Hunk) -> bool {
        match self.edit_index {
            Some(e) => h.edit == e,
            None => !a.recurs.get(h.edit).copied().unwrap_or(false),
        }
    }
}

/// A unit's type map numbered for walks.
struct Graph {
    index: FxHashMap<String, u32>,
    names: Vec<String>,
    exps: Vec<Arc<Expansion>>,
    edges: Vec<Vec<u32>>,
}

impl Graph {
    fn new(types: &Types) -> Graph {
        let mut names: Vec<&String> = types.keys().collect();
        names.sort();
        let index: FxHashMap<String, u32> = names
            .iter()
            .enumerate()
            .map(|(i, n)| ((*n).clone(), i as u32))
            .collect();
        let exps: Vec<Arc<Expansion>> = names.iter().map(|n| types[*n].clone()).collect();
        let edges = exps.iter().map(|e| refs_of(&index, e)).collect();
        Graph {
            index,
            names: names.into_iter().cloned().collect(),
            exps,
            edges,
        }
    }

    /// The types reachable from a string, in the order first met (`marks`
    /// is scratch space, reused from call to call).
    fn reach(&self, root: &Expansion, marks: &mut Marks) -> Vec<u32> {
        marks.start(self.names.len());
        let mut order = Vec::new();
        let mut stack: Vec<u32> = refs_of(&self.index, root);
        stack.reverse();
        while let Some(t) = stack.pop() {
            if !marks.mark(t) {
                continue;
            }
            order.push(t);
            stack.extend(self.edges[t as usize].iter().rev().copied());
        }
        order
    }
}

/// Which types a walk has met: an epoch per type, so that a new walk
/// starts without clearing.
#[derive(Default)]
struct Marks {
    epoch: u32,
    seen: Vec<u32>,
}

impl Marks {
    fn start(&mut self, n: usize) {
        if self.seen.len() < n {
            self.seen.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
    }

    /// Marks `t`; false if it was marked in this walk already.
    fn mark(&mut self, t: u32) -> bool {
        let s = &mut self.seen[t as usize];
        if *s == self.epoch {
            return false;
        }
        *s = self.epoch;
        true
    }
}

fn refs_of(index: &FxHashMap<String, u32>, e: &Expansion) -> Vec<u32> {
    e.refs
        .iter()
        .filter_map(|&(a, b)| index.get(&e.text[a as usize..b as usize]).copied())
        .collect()
}

/// Compares two corpora.
pub fn analyse(old: &Corpus, new: &Corpus) -> Analysis {
    let mut a = Analysis::default();
    let mut pairs: Vec<(&String, &Export, &Export)> = Vec::new();
    for (name, o) in &old.exports {
        match new.exports.get(name) {
            None => a.removed.push(name.clone()),
            Some(n) => {
                a.common += 1;
                if o.crc != n.crc {
                    pairs.push((name, o, n));
                }
            }
        }
    }
    a.added = new
        .exports
        .keys()
        .filter(|n| !old.exports.contains_key(*n))
        .cloned()
        .collect();

    // The units' graphs, once each.
    let old_units: FxHashSet<usize> = pairs.iter().map(|p| p.1.unit).collect();
    let new_units: FxHashSet<usize> = pairs.iter().map(|p| p.2.unit).collect();
    let graphs = |c: &Corpus, units: &FxHashSet<usize>| -> FxHashMap<usize, Graph> {
        let v: Vec<usize> = units.iter().copied().collect();
        v.par_iter()
            .map(|&u| (u, Graph::new(&c.units[u].types)))
            .collect()
    };
    let (og, ng) = rayon::join(|| graphs(old, &old_units), || graphs(new, &new_units));

    // Per changed export: the differing strings it reaches on both sides.
    let reached: Vec<Vec<Differing>> = pairs
        .par_iter()
        .map_init(
            || (Marks::default(), Marks::default()),
            |(mo, mn), (_, o, n)| {
                let (go, gn) = (&og[&o.unit], &ng[&n.unit]);
                gn.reach(&n.string, mn);
                go.reach(&o.string, mo)
                    .into_iter()
                    .filter_map(|t| {
                        let name = &go.names[t as usize];
                        let j = *gn.index.get(name)?;
                        let (a, b) = (&go.exps[t as usize], &gn.exps[j as usize]);
                        // Reached on the new side too (marked in its walk).
                        let on_new = mn.seen[j as usize] == mn.epoch;
                        (on_new && !Arc::ptr_eq(a, b) && a.text != b.text)
                            .then(|| (name.clone(), a.clone(), b.clone()))
                    })
                    .collect()
            },
        )
        .collect();

    // The distinct changes, and which exports each reaches.
    let mut by_key: FxHashMap<(String, u64, u64), usize> = FxHashMap::default();
    let mut export_changes: Vec<Vec<usize>> = Vec::with_capacity(pairs.len());
    for ((name, o, n), types) in pairs.iter().zip(reached) {
        let mut mine = Vec::new();
        let mut add = |a: &mut Analysis,
                       cname: &str,
                       is_symbol: bool,
                       x: &Arc<Expansion>,
                       y: &Arc<Expansion>| {
            let key = (cname.to_string(), hash(&x.text), hash(&y.text));
            let id = *by_key.entry(key).or_insert_with(|| {
                a.changes.push(Change {
                    name: cname.to_string(),
                    is_symbol,
                    old: x.clone(),
                    new: y.clone(),
                    units: (o.unit, n.unit),
                    hunks: Vec::new(),
                    exports: Vec::new(),
                    missing_in_new: Vec::new(),
                });
                a.changes.len() - 1
            });
            a.changes[id].exports.push((*name).clone());
            mine.push(id);
        };
        if o.string.text != n.string.text {
            add(&mut a, name, true, &o.string, &n.string);
        }
        for (t, x, y) in &types {
            add(&mut a, t, false, x, y);
        }
        export_changes.push(mine);
    }

    // Types the old strings refer to that the new side lacks (a
    // suggestion must define them).
    for c in &mut a.changes {
        let (ou, nu) = c.units;
        let old_types = &old.units[ou].types;
        let new_types = &new.units[nu].types;
        c.missing_in_new = missing_closure(&c.old, old_types, new_types);
    }

    // Hunks, and the edits that recur.
    let hunks: Vec<Vec<(Hunk, Edit)>> = a
        .changes
        .par_iter()
        .map(|c| token_hunks(&c.old, &c.new))
        .collect();
    let mut edits: BTreeMap<Edit, Vec<usize>> = BTreeMap::new();
    for (id, hs) in hunks.iter().enumerate() {
        for (_, e) in hs {
            let v = edits.entry(e.clone()).or_default();
            if v.last() != Some(&id) {
                v.push(id);
            }
        }
    }
    let edit_list: Vec<(Edit, Vec<usize>)> = edits.into_iter().collect();
    let edit_index: FxHashMap<&Edit, usize> = edit_list
        .iter()
        .enumerate()
        .map(|(i, (e, _))| (e, i))
        .collect();
    // An edit recurs when strings of different names have it, and it says
    // what it is about: its context names a type (`base_type char`), or it
    // puts one type for another (`t#atomic_t` → `t#refcount_t`). A bare
    // `member [x → y]` in two structures is two changes that look alike.
    let recurs: Vec<bool> = edit_list
        .iter()
        .map(|(e, ids)| {
            let names: FxHashSet<&str> = ids.iter().map(|&i| a.changes[i].name.as_str()).collect();
            names.len() > 1 && e.is_specific()
        })
        .collect();
    a.recurs = recurs.clone();
    for (c, hs) in a.changes.iter_mut().zip(hunks) {
        c.hunks = hs
            .into_iter()
            .map(|(mut h, e)| {
                h.edit = edit_index[&e];
                h
            })
            .collect();
    }

    // Causes: a change's own hunks, and each recurring edit.
    let mut causes: Vec<Cause> = Vec::new();
    let mut own_cause: Vec<Option<usize>> = vec![None; a.changes.len()];
    let mut edit_cause: FxHashMap<usize, usize> = FxHashMap::default();
    let mut names_seen: FxHashMap<String, usize> = FxHashMap::default();
    for (id, c) in a.changes.iter().enumerate() {
        // A change with no hunk at all cannot happen (the texts differ);
        // one whose hunks all recur is explained by its edits.
        let own = c.hunks.is_empty() || c.hunks.iter().any(|h| !recurs[h.edit]);
        if own {
            let n = names_seen.entry(c.name.clone()).or_default();
            *n += 1;
            let name = if *n == 1 {
                c.name.clone()
            } else {
                format!("{} ({})", c.name, old.units[c.units.0].name)
            };
            own_cause[id] = Some(causes.len());
            causes.push(Cause {
                kind: if c.is_symbol {
                    CauseKind::Symbol
                } else {
                    CauseKind::Type
                },
                name,
                changes: vec![id],
                edit: None,
                edit_index: None,
                exports: Vec::new(),
            });
        }
        for h in &c.hunks {
            if recurs[h.edit] && !edit_cause.contains_key(&h.edit) {
                let (e, ids) = &edit_list[h.edit];
                edit_cause.insert(h.edit, causes.len());
                causes.push(Cause {
                    kind: CauseKind::Edit,
                    name: edit_name(e),
                    changes: ids.clone(),
                    edit: Some(e.clone()),
                    edit_index: Some(h.edit),
                    exports: Vec::new(),
                });
            }
        }
    }

    // Each export's causes, and each cause's exports.
    let mut changed: Vec<(Changed, Vec<usize>)> = Vec::with_capacity(pairs.len());
    for ((name, o, n), ids) in pairs.iter().zip(export_changes) {
        let mut cs: Vec<usize> = Vec::new();
        for id in ids {
            if let Some(k) = own_cause[id] {
                cs.push(k);
            }
            for h in &a.changes[id].hunks {
                if let Some(&k) = edit_cause.get(&h.edit) {
                    cs.push(k);
                }
            }
        }
        cs.sort_unstable();
        cs.dedup();
        for &k in &cs {
            causes[k].exports.push((*name).clone());
        }
        changed.push((
            Changed {
                name: (*name).clone(),
                old_crc: o.crc,
                new_crc: n.crc,
                causes: Vec::new(),
            },
            cs,
        ));
    }
    for c in &mut causes {
        c.exports.sort();
        c.exports.dedup();
    }
    for c in &mut a.changes {
        c.exports.sort();
        c.exports.dedup();
    }

    // Rank: most exports first, then types before symbols before edits of
    // equal reach, then by name.
    let mut order: Vec<usize> = (0..causes.len()).collect();
    let rank = |k: &CauseKind| match k {
        CauseKind::Edit => 0,
        CauseKind::Type => 1,
        CauseKind::Symbol => 2,
    };
    order.sort_by(|&x, &y| {
        let (a, b) = (&causes[x], &causes[y]);
        b.exports
            .len()
            .cmp(&a.exports.len())
            .then(rank(&a.kind).cmp(&rank(&b.kind)))
            .then(a.name.cmp(&b.name))
    });
    let mut new_place = vec![0; causes.len()];
    for (place, &old_index) in order.iter().enumerate() {
        new_place[old_index] = place;
    }
    let mut slots: Vec<Option<Cause>> = causes.into_iter().map(Some).collect();
    a.causes = order
        .iter()
        .map(|&i| slots[i].take().expect("once"))
        .collect();
    a.changed = changed
        .into_iter()
        .map(|(mut c, cs)| {
            let mut cs: Vec<usize> = cs.into_iter().map(|k| new_place[k]).collect();
            cs.sort_unstable();
            c.causes = cs;
            c
        })
        .collect();
    a
}

/// A type reached on both sides whose strings differ: name, old, new.
type Differing = (String, Arc<Expansion>, Arc<Expansion>);

/// A hunk's old and new token ranges.
type Span = ((usize, usize), (usize, usize));

fn hash(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    s.hash(&mut h);
    s.len().hash(&mut h);
    h.finish()
}

/// The types `root` reaches in `old` that `new` does not have.
fn missing_closure(root: &Expansion, old: &Types, new: &Types) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut stack: Vec<&Expansion> = vec![root];
    while let Some(e) = stack.pop() {
        for &(a, b) in &e.refs {
            let name = &e.text[a as usize..b as usize];
            if new.contains_key(name) || !seen.insert(name) {
                continue;
            }
            if let Some(t) = old.get(name) {
                out.push(name.to_string());
                stack.push(t);
            }
        }
    }
    out.sort();
    out
}

/// The written name of an edit: `context [old → new]`.
pub fn edit_name(e: &Edit) -> String {
    let show = |s: &str| {
        if s.is_empty() {
            "(nothing)".to_string()
        } else {
            s.to_string()
        }
    };
    let body = format!("{} → {}", show(&e.old), show(&e.new));
    if e.context.is_empty() {
        format!("[{body}]")
    } else {
        format!("{} [{body}]", e.context)
    }
}

/// `c.old` with only the hunks `keep` selects applied: the part of the
/// change one cause makes. `None` when the string cannot be rebuilt from
/// its tokens (it is not single-spaced).
pub fn partial(c: &Change, keep: impl Fn(&Hunk) -> bool) -> Option<Expansion> {
    let (ot, nt) = (text::tokens(&c.old), text::tokens(&c.new));
    let rebuild = |pick: &dyn Fn(&Hunk) -> bool| {
        let mut words: Vec<&str> = Vec::new();
        let mut at = 0;
        for h in c.hunks.iter().filter(|h| pick(h)) {
            words.extend(ot[at..h.old.0].iter().map(|t| t.text));
            words.extend(nt[h.new.0..h.new.1].iter().map(|t| t.text));
            at = h.old.1;
        }
        words.extend(ot[at..].iter().map(|t| t.text));
        words.join(" ")
    };
    // The tokens must give the strings back exactly.
    if rebuild(&|_| false) != c.old.text || rebuild(&|_| true) != c.new.text {
        return None;
    }
    crate::symtypes::parse_string(&rebuild(&keep)).ok()
}

/// The most context an edit is named with, in tokens.
const MAX_CONTEXT: usize = 12;

/// The token hunks of a change, each with its edit.
pub fn token_hunks(old: &Expansion, new: &Expansion) -> Vec<(Hunk, Edit)> {
    let (ot, nt) = (text::tokens(old), text::tokens(new));
    let ow: Vec<&str> = ot.iter().map(|t| t.text).collect();
    let nw: Vec<&str> = nt.iter().map(|t| t.text).collect();
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &ow, &nw);
    let mut out: Vec<(Hunk, Edit)> = Vec::new();
    let mut cur: Option<Span> = None;
    let mut flush = |cur: &mut Option<Span>| {
        if let Some((o, n)) = cur.take() {
            let edit = Edit {
                context: context(&ot, o.0),
                old: text::join(&ot[o.0..o.1]),
                new: text::join(&nt[n.0..n.1]),
            };
            out.push((
                Hunk {
                    old: o,
                    new: n,
                    edit: 0,
                },
                edit,
            ));
        }
    };
    // Hunks a short run of tokens apart, within one item, are one edit
    // (`const_type {` and its `}` around a pointee; `long` and the size of
    // a base type).
    let mut gap: Option<(usize, usize)> = None;
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            let plain = o.len() <= MERGE_GAP && ot[o.clone()].iter().all(|t| t.kind != Kind::Sep);
            if cur.is_some() && plain {
                gap = Some((o.len(), n.len()));
            } else {
                flush(&mut cur);
                gap = None;
            }
            continue;
        }
        cur = Some(match cur {
            None => ((o.start, o.end), (n.start, n.end)),
            Some((co, cn)) => ((co.0, o.end.max(co.1)), (cn.0, n.end.max(cn.1))),
        });
        gap = None;
    }
    let _ = gap;
    flush(&mut cur);
    out
}

/// Hunks at most this many tokens apart (no separator) are merged.
const MERGE_GAP: usize = 2;

/// The tokens before token `at`, back to the keyword that opens the
/// description they are part of (nested groups as `{…}`), at most
/// `MAX_CONTEXT` of them; not past the separator or group that holds
/// them.
fn context(tokens: &[Token<'_>], at: usize) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut i = at;
    while i > 0 && parts.len() < MAX_CONTEXT {
        i -= 1;
        let t = &tokens[i];
        match t.kind {
            Kind::Sep | Kind::Open => break,
            Kind::Close => {
                // Skip the group back to its opening token.
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match tokens[j].kind {
                        Kind::Close => depth += 1,
                        Kind::Open => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    if j == 0 {
                        break;
                    }
                    j -= 1;
                }
                parts.push(if tokens[i].text == ")" {
                    "(…)"
                } else {
                    "{…}"
                });
                i = j;
            }
            _ => {
                parts.push(t.text);
                if t.is_type_keyword() || t.text == "enumerator" {
                    break;
                }
            }
        }
    }
    parts.reverse();
    parts.join(" ")
}

#[cfg(test)]
mod tests;
