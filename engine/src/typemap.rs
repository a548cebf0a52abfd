//! From the die map to symbol versions: the type map (the longest string
//! per type name), version strings with each reference expanded once, the
//! CRCs, and the symtypes file.

use crate::diemap::{DieMap, EntryId, Frag, SlotId, State, NO_ENTRY};
use crate::dwarf::DieId;
use crate::kabi::{split_type_string, TypeStringPiece};
use crate::stable::Kabi;
use crate::symbols::{SymState, Symbols};
use crate::walk::{Consumer, Digester};
use crate::Error;
use ksymrules_grammar::Rules;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// Deepest nesting of unnamed strings (or of references while expanding a
/// version) before the input is taken as malformed.
const MAX_DEPTH: usize = 4000;

/// Longest string of one type or symbol (references not expanded). Real
/// kernels stay in the kilobytes; unnamed types that each use the previous
/// one twice would double it at every level.
const MAX_STRING: usize = 64 << 20;

/// When a string being built passes this length, the lengths of all the
/// strings of its die map are worked out (`Lengths`, once per map) and
/// one beyond `MAX_STRING` is refused before more is built. Real strings
/// stay far below (the longest of vmlinux is 34 KB), so ordinary inputs
/// never pay for the check (a fifth to a third of the time the strings
/// take, done for every map).
const CHECK_AT: usize = 256 << 10;

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
        self.reference_parts(&[name]);
    }

    /// A reference whose name is these pieces, one after the other.
    fn reference_parts(&mut self, parts: &[&str]) {
        let start = self.text.len() as u32;
        for p in parts {
            self.text.push_str(p);
        }
        self.refs.push((start, self.text.len() as u32));
    }

    /// Length of the string, references counted by their names.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Larger expansion buffers are not kept for the next string.
const MAX_SCRATCH: usize = 1 << 20;

/// A reference whose name is not (yet) in the type map.
const UNKNOWN: u32 = u32::MAX;

/// The type map numbered for the version pass.
#[derive(Default)]
struct Index {
    exps: Vec<Arc<Expansion>>,
    /// Per string: the numbers of the types it refers to, in order.
    refs: Vec<Box<[u32]>>,
    by_name: FxHashMap<String, u32>,
    /// Per type: its full version string when expanded from scratch, once
    /// a walk has met it so (see `version`).
    full: Vec<OnceLock<Full>>,
    /// The shortest full string remembered.
    full_min: u64,
}

/// A type's version string when it is expanded with nothing seen before:
/// its CRC and length, and the types it expands (itself first).
struct Full {
    crc: u32,
    len: u64,
    closure: Box<[u32]>,
}

/// Strings shorter than this are not remembered whole: the CRC goes
/// through them about as fast as the check that they can be reused.
const FULL_MIN: u64 = 2048;

/// A finished version walk — the CRC and, when asked, the text — or the
/// name of a type the map does not have.
type Walked = Result<(u32, Option<String>), String>;

/// Per type: the last version walk (epoch) that expanded it, and when in
/// that walk; one per thread, reused from symbol to symbol.
#[derive(Default)]
struct Seen {
    marks: Vec<u32>,
    /// Per type: its place in `order`, valid when marked in this walk.
    pos: Vec<u32>,
    /// The types expanded in this walk, in order.
    order: Vec<u32>,
    epoch: u32,
    /// The memory of the last walk's CRC buffer and frames, for the next.
    crc_buf: Vec<u8>,
    frames: Vec<Frame>,
}

impl Seen {
    fn start(&mut self, types: usize) {
        self.epoch += 1;
        if self.marks.len() < types {
            self.marks.resize(types, 0);
            self.pos.resize(types, 0);
        }
        self.order.clear();
    }

    fn mark(&mut self, t: u32) {
        self.marks[t as usize] = self.epoch;
        self.pos[t as usize] = self.order.len() as u32;
        self.order.push(t);
    }

    fn is_marked(&self, t: u32) -> bool {
        self.marks[t as usize] == self.epoch
    }
}

/// A string being walked.
struct Frame {
    /// The type whose string it is; `None` for the root.
    string: Option<u32>,
    /// The next reference, and where the text goes on.
    next: usize,
    at: usize,
    /// How many types were expanded when this one began, and the CRC and
    /// length so far then (when whole strings are remembered).
    start: usize,
    crc: u32,
    len: u64,
}

/// Walks a version string: the CRC of `root` with each reference replaced
/// by its type's string the first time it is met, and kept as its name
/// after that; the text too when `want_text`. `Ok(Err(name))` when a
/// reference is to a type not in the map (a kABI rule may give it).
///
/// Without the text, whole strings are remembered and reused. A type's
/// string depends on what was seen before it: it is the type's full
/// string (as expanded from scratch) exactly when none of the types that
/// one expands was seen. So when a type's expansion ends without having
/// met a type seen before it began, its CRC, length and expanded types are
/// remembered; a later walk that meets the type with none of those seen
/// appends the CRC instead of walking the string again.
fn version(
    idx: &Index,
    root: &Expansion,
    want_text: bool,
    seen: &mut Seen,
    symbol: &str,
) -> Result<Walked, Error> {
    seen.start(idx.exps.len());
    let whole = !want_text;
    let mut crc = CrcBuffer::with_buf(std::mem::take(&mut seen.crc_buf));
    let mut text = want_text.then(String::new);
    let root_refs = idx.resolve(root);
    let mut stack = std::mem::take(&mut seen.frames);
    stack.clear();
    stack.push(Frame {
        string: None,
        next: 0,
        at: 0,
        start: 0,
        crc: 0,
        len: 0,
    });
    // Frames from this depth on met a type seen before they began.
    let mut tainted = usize::MAX;
    while let Some(top) = stack.last_mut() {
        let (exp, refs): (&Expansion, &[u32]) = match top.string {
            None => (root, &root_refs),
            Some(id) => (&idx.exps[id as usize], &idx.refs[id as usize]),
        };
        let Some(&(a, b)) = exp.refs.get(top.next) else {
            let rest = &exp.text[top.at..];
            crc.update(rest.as_bytes());
            if let Some(t) = text.as_mut() {
                t.push_str(rest);
            }
            let done = stack.pop().expect("the top frame");
            let depth = stack.len();
            if let (Some(t), true) = (done.string, whole && depth < tainted) {
                let (now, len) = crc.value();
                let len = len - done.len;
                if len >= idx.full_min && idx.full[t as usize].get().is_none() {
                    let _ = idx.full[t as usize].set(Full {
                        crc: now ^ shifted(done.crc, len),
                        len,
                        closure: seen.order[done.start..].into(),
                    });
                }
            }
            if tainted >= depth {
                tainted = usize::MAX;
            }
            continue;
        };
        let (a, b) = (a as usize, b as usize);
        let before = &exp.text[top.at..a];
        crc.update(before.as_bytes());
        if let Some(t) = text.as_mut() {
            t.push_str(before);
        }
        let target = refs[top.next];
        if target == UNKNOWN {
            return Ok(Err(exp.text[a..b].to_string()));
        }
        top.next += 1;
        top.at = b;
        if seen.is_marked(target) {
            let name = &exp.text[a..b];
            crc.update(name.as_bytes());
            if let Some(t) = text.as_mut() {
                t.push_str(name);
            }
            if whole {
                // Frames that began after it was expanded are not whole.
                let p = seen.pos[target as usize] as usize;
                // tainted.min(the first frame that began after p), looked
                // for only below `tainted` (frames begin in stack order).
                let below = tainted.min(stack.len());
                tainted = if below > 0 && stack[below - 1].start > p {
                    stack[..below].partition_point(|f| f.start <= p)
                } else {
                    below
                };
            }
            continue;
        }
        if whole {
            if let Some(full) = idx.full[target as usize].get() {
                if full.closure.iter().all(|&t| !seen.is_marked(t)) {
                    for &t in full.closure.iter() {
                        seen.mark(t);
                    }
                    crc.append(full.crc, full.len);
                    continue;
                }
            }
        }
        if stack.len() > MAX_DEPTH {
            return Err(Error::new(format!(
                "type references nested too deeply in {symbol}"
            )));
        }
        let start = seen.order.len();
        seen.mark(target);
        let (c, l) = if whole { crc.value() } else { (0, 0) };
        // What the new string's references lead to is fetched at once
        // (the types are scattered over memory): whether each was seen,
        // its remembered full string, its string.
        for &t in idx.refs[target as usize].iter() {
            if t != UNKNOWN {
                crate::dwarf::prefetch(&seen.marks, t as usize);
                if whole {
                    crate::dwarf::prefetch(&idx.full, t as usize);
                }
                if let Some(e) = idx.exps.get(t as usize) {
                    crate::dwarf::prefetch(std::slice::from_ref(&**e), 0);
                }
            }
        }
        stack.push(Frame {
            string: Some(target),
            next: 0,
            at: 0,
            start,
            crc: c,
            len: l,
        });
    }
    let (value, buf) = crc.finish();
    seen.crc_buf = buf;
    seen.frames = stack;
    Ok(Ok((value, text)))
}

/// What the CRC of some bytes contributes to the CRC of a string in which
/// `len` more bytes follow them.
fn shifted(crc: u32, len: u64) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial_len(crc, 0);
    h.combine(&crc32fast::Hasher::new_with_initial_len(0, len));
    h.finalize()
}

impl Index {
    fn of(map: &FxHashMap<String, Arc<Expansion>>) -> Index {
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        let mut idx = Index {
            full_min: FULL_MIN,
            ..Index::default()
        };
        for n in names {
            let id = idx.exps.len() as u32;
            idx.by_name.insert(n.clone(), id);
            idx.exps.push(map[n].clone());
        }
        idx.refs = idx.exps.par_iter().map(|e| idx.resolve(e)).collect();
        idx.full = idx.exps.iter().map(|_| OnceLock::new()).collect();
        idx
    }

    fn resolve(&self, e: &Expansion) -> Box<[u32]> {
        e.refs
            .iter()
            .map(|&(a, b)| {
                let name = &e.text[a as usize..b as usize];
                self.by_name.get(name).copied().unwrap_or(UNKNOWN)
            })
            .collect()
    }
}

/// A CRC-32 fed through a buffer: version strings come in many short
/// pieces, and the CRC is fastest over long runs.
struct CrcBuffer {
    crc: crc32fast::Hasher,
    buf: Vec<u8>,
}

impl CrcBuffer {
    /// A CRC buffer in `buf`'s memory.
    fn with_buf(mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.reserve(CRC_CHUNK);
        CrcBuffer {
            crc: crc32fast::Hasher::new(),
            buf,
        }
    }
}

const CRC_CHUNK: usize = 1 << 12;

/// Pieces at least this long go to the CRC directly.
const CRC_DIRECT: usize = 256;

impl CrcBuffer {
    fn update(&mut self, bytes: &[u8]) {
        if bytes.len() >= CRC_DIRECT {
            // Long enough to be worth a call of its own: no copy.
            if !self.buf.is_empty() {
                self.crc.update(&self.buf);
                self.buf.clear();
            }
            self.crc.update(bytes);
            return;
        }
        if self.buf.len() + bytes.len() > CRC_CHUNK {
            self.crc.update(&self.buf);
            self.buf.clear();
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The CRC so far, and the length.
    fn value(&mut self) -> (u32, u64) {
        self.flush();
        (self.crc.clone().finalize(), self.crc.total_len())
    }

    /// Appends a string known by its CRC and length.
    fn append(&mut self, crc: u32, len: u64) {
        self.flush();
        self.crc
            .combine(&crc32fast::Hasher::new_with_initial_len(crc, len));
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.crc.update(&self.buf);
            self.buf.clear();
        }
    }

    /// The CRC, and the buffer's memory for the next one.
    fn finish(mut self) -> (u32, Vec<u8>) {
        self.flush();
        (self.crc.finalize(), self.buf)
    }
}

/// Options of the version pass.
pub struct Outputs<'o> {
    pub symtypes: Option<&'o mut Vec<String>>,
    pub versions: Option<&'o mut String>,
    /// The strings the symtypes file is written from, structured.
    pub strings: Option<&'o mut StringTable>,
}

/// What an object's symtypes file says, structured: the type map and the
/// strings of the symbols described, references marked. For tools that
/// compare versions (`ksymrules compare`); a version run never builds it
/// unless asked.
///
/// ```text
/// types:   s#list_head -> "structure_type list_head { member pointer_type { s#list_head } ... } byte_size(16)"
/// symbols: list_add    -> "subprogram ( formal_parameter pointer_type { s#list_head } byte_size(8) new , ... ) -> base_type void"
/// ```
#[derive(Clone, Debug, Default)]
pub struct StringTable {
    /// Named types (`s#foo`) to their strings (the longest of the object).
    pub types: FxHashMap<String, Arc<Expansion>>,
    /// The symbols described, each alias on its own, in visiting order,
    /// with their strings (a kABI `type_string` one where it applies).
    pub symbols: Vec<(String, Arc<Expansion>)>,
}

/// CRCs of strings over a type map of one's choosing: the same version
/// walk as an object's, for strings that come from elsewhere (a symtypes
/// file, say).
pub struct Versioner {
    idx: Index,
}

impl Versioner {
    pub fn new(types: &FxHashMap<String, Arc<Expansion>>) -> Self {
        Versioner {
            idx: Index::of(types),
        }
    }

    /// The CRC of `root`'s version string, or the name of a type it
    /// reaches that the map does not have.
    pub fn crc(&self, root: &Expansion) -> Result<u32, String> {
        let mut seen = Seen::default();
        match version(&self.idx, root, false, &mut seen, "") {
            Ok(Ok((crc, _))) => Ok(crc),
            Ok(Err(missing)) => Err(format!("unknown type reference {missing}")),
            Err(e) => Err(e.into_message()),
        }
    }

    /// The version string itself (references expanded).
    pub fn text(&self, root: &Expansion) -> Result<String, String> {
        let mut seen = Seen::default();
        match version(&self.idx, root, true, &mut seen, "") {
            Ok(Ok((_, text))) => Ok(text.unwrap_or_default()),
            Ok(Err(missing)) => Err(format!("unknown type reference {missing}")),
            Err(e) => Err(e.into_message()),
        }
    }
}

/// How entries of a die map become type-map strings (shared by the
/// threads that digest die maps).
#[derive(Clone, Copy)]
pub struct Strings<'r> {
    rules: &'r Rules,
    /// kABI rules whose `type_string`s replace strings, when they apply.
    replace: Option<&'r Kabi>,
    /// The tags below 64 that have a reference prefix, as bits: most DIEs
    /// a string refers to are of other tags, and are told at once.
    reference_tags: u64,
}

impl<'r> Strings<'r> {
    fn new(rules: &'r Rules, replace: Option<&'r Kabi>) -> Self {
        let reference_tags = rules
            .references
            .keys()
            .filter(|t| t.0 < 64)
            .fold(0, |bits, t| bits | 1 << t.0);
        Strings {
            rules,
            replace,
            reference_tags,
        }
    }
}

pub struct TypeMap<'r> {
    strings: Strings<'r>,
    map: FxHashMap<String, Arc<Expansion>>,
    /// `map` for the digests of a parallel walk.
    kept: Arc<Kept>,
    /// Names whose longest strings tied with different text.
    ties: Vec<String>,
    /// The strings of the DIEs that describe symbols.
    symbols: FxHashMap<DieId, Expansion>,
    /// `--dump-types` output: names added or given a longer string.
    dump: Option<String>,
    /// The first error met digesting the die maps.
    error: Option<Error>,
}

/// The type map's strings as units' digests see them while the map is
/// filled (a copy of its entries, kept up to date as units are kept):
/// a string equal to the one kept for its name, or to any kept before it,
/// changes nothing, and is left out of the digest (see `unit_strings`).
#[derive(Default)]
pub struct Kept {
    map: std::sync::RwLock<FxHashMap<String, Arc<Expansion>>>,
}

impl Kept {
    /// `f` of the string kept for `name`, looked at in place (without a
    /// clone of its `Arc`, whose count the threads would take turns to
    /// write).
    fn with<T>(&self, name: &str, f: impl FnOnce(&Expansion) -> T) -> Option<T> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(name).map(|e| f(e))
    }

    fn set(&self, name: &str, exp: &Arc<Expansion>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(name) {
            Some(old) => *old = exp.clone(),
            None => {
                map.insert(name.to_string(), exp.clone());
            }
        }
    }

    fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Whether two slices of the same length are equal: the pieces of strings
/// are short, and a loop here is faster than a call to `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() > 32 {
        return a == b;
    }
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| {
        s.get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_ne_bytes)
    };
    let mut i = 0;
    while i + 8 <= a.len() {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    a[i..].iter().zip(&b[i..]).all(|(x, y)| x == y)
}

/// What `TypeMap::add` does with a string.
enum Judged {
    /// The first for its name.
    New,
    /// Longer than the one kept: replaces it.
    Longer,
    /// As long as the one kept, and different: a tie (the first is kept).
    Tie,
    /// Nothing: shorter, the same, or a tie already noted.
    Kept,
}

/// What a unit's die map gives the type map: its named strings in the
/// order their entries were made, and its symbols' strings.
pub struct UnitStrings {
    /// Every type's name and string, one after the other (one buffer for
    /// the unit rather than a few allocations per type: most of these
    /// strings are already in the type map and are only compared).
    text: String,
    /// Every type's references, as byte ranges of its string.
    refs: Vec<(u32, u32)>,
    types: Vec<TypeStrings>,
    symbols: Vec<(DieId, Expansion)>,
}

/// Where one type's name, string and references are in a `UnitStrings`:
/// ranges of its `text` (the first two) and of its `refs`.
struct TypeStrings {
    name: (usize, usize),
    string: (usize, usize),
    refs: (usize, usize),
}

impl UnitStrings {
    /// Appends a type's name and string.
    fn push(&mut self, name: &NameParts<'_>, exp: &Expansion) {
        let start = self.text.len();
        for p in name {
            self.text.push_str(p);
        }
        let middle = self.text.len();
        self.text.push_str(&exp.text);
        let refs = self.refs.len();
        self.refs.extend_from_slice(&exp.refs);
        self.types.push(TypeStrings {
            name: (start, middle),
            string: (middle, self.text.len()),
            refs: (refs, self.refs.len()),
        });
    }
}

/// A reference name in pieces: prefix, quote, name, quote (see
/// `reference_name_parts`).
type NameParts<'d> = [&'d str; 4];

/// What a reference to each slot of a die map stands for, for
/// `Strings::matches`: the entry it is assembled from (`DieMap::resolve`),
/// with `NAMED` set when that entry has a reference name, or `NO_ENTRY`;
/// and where that entry's fragments are. Looked up once per map rather
/// than at every reference.
struct Refs<'n> {
    slots: Vec<SlotRef>,
    /// Every entry's reference name.
    names: &'n [Option<NameParts<'n>>],
}

#[derive(Clone, Copy)]
struct SlotRef {
    entry: u32,
    /// `DieMap::frag_range` of the entry.
    frags: (u32, u32),
}

const NAMED: u32 = 1 << 31;

impl<'n> Refs<'n> {
    fn new(dies: &DieMap, names: &'n [Option<NameParts<'n>>]) -> Self {
        let slots = (0..dies.slot_count() as SlotId)
            .map(|s| match dies.resolve(s) {
                // (An entry number this high is not matched: the string
                // is built and compared as it is.)
                Some(e) if e < NAMED - 1 => SlotRef {
                    entry: match names.get(e as usize) {
                        Some(Some(_)) => e | NAMED,
                        _ => e,
                    },
                    frags: dies.frag_range(e),
                },
                _ => SlotRef {
                    entry: NO_ENTRY,
                    frags: (0, 0),
                },
            })
            .collect();
        Refs { slots, names }
    }
}

/// The lengths of the strings `Strings::expand` builds, per entry of a die
/// map, worked out without building them: an entry's own text, a space
/// per run of breaks, and per DIE it refers to the reference's name or, for
/// an unnamed type (inlined), that entry's length, memoised. Exact, and
/// O(entries + fragments) for a whole die map, so that a string beyond
/// `MAX_STRING` is refused without being built (see `CHECK_AT`). Only ever
/// used to refuse: the strings are built as before.
struct Lengths {
    len: Vec<u64>,
    /// The entries being worked out, innermost last: the entry, its next
    /// fragment and its length so far.
    stack: Vec<(EntryId, u32, u64)>,
}

const LEN_NOT_YET: u64 = u64::MAX;
const LEN_BUSY: u64 = u64::MAX - 1;
/// No length: the string meets a cycle of unnamed types or a DIE without a
/// string, and `expand` fails with its own error.
const LEN_NONE: u64 = u64::MAX - 2;
/// Lengths saturate here, below the markers.
const LEN_CAP: u64 = u64::MAX - 3;

impl Lengths {
    fn new(dies: &DieMap) -> Self {
        Lengths {
            len: vec![LEN_NOT_YET; dies.entries.len()],
            stack: Vec::new(),
        }
    }
}

fn add_len(a: u64, b: u64) -> u64 {
    a.saturating_add(b).min(LEN_CAP)
}

/// The length check of the strings of one die map (see `CHECK_AT`): the
/// named entries to build, and the result, once it is known.
struct LengthCheck<'d> {
    named: &'d [(EntryId, NameParts<'d>)],
    result: OnceLock<Result<(), Error>>,
}

impl<'d> LengthCheck<'d> {
    fn new(named: &'d [(EntryId, NameParts<'d>)]) -> Self {
        LengthCheck {
            named,
            result: OnceLock::new(),
        }
    }
}

/// The reference name of an entry (`s#foo`, quoted when it holds a space),
/// if it is a named type, in pieces: prefix, quote, name, quote.
pub(crate) fn reference_name_parts<'d>(
    rules: &'d Rules,
    dies: &'d DieMap,
    id: EntryId,
) -> Option<[&'d str; 4]> {
    let e = dies.entry(id);
    if !matches!(e.state, State::Complete | State::Unexpanded) {
        return None;
    }
    let fqn = dies.fqn(id).filter(|f| !f.is_empty())?;
    let prefix = rules.reference_prefix(dies.entry_tag(id))?;
    let q = if fqn.contains(' ') {
        &*rules.settings.reference_quote
    } else {
        ""
    };
    Some([prefix, q, fqn, q])
}

impl<'r> Strings<'r> {
    /// The reference name of an entry, if it is a named type, in pieces:
    /// prefix, quote, name, quote.
    fn type_name_parts<'d>(&self, dies: &'d DieMap, id: EntryId) -> Option<[&'d str; 4]>
    where
        'r: 'd,
    {
        let tag = dies.entry_tag(id);
        if tag.0 < 64 && self.reference_tags & 1 << tag.0 == 0 {
            return None;
        }
        reference_name_parts(self.rules, dies, id)
    }

    /// The length of the string `expand` builds for `root`: `None` when
    /// `expand` fails (a cycle of unnamed types, a DIE without a string).
    fn length(&self, dies: &DieMap, lens: &mut Lengths, root: EntryId) -> Option<u64> {
        match lens.len[root as usize] {
            LEN_NOT_YET => {}
            LEN_NONE | LEN_BUSY => return None,
            n => return Some(n),
        }
        lens.len[root as usize] = LEN_BUSY;
        lens.stack.clear();
        lens.stack.push((root, 0, 0));
        let failed = loop {
            let Some(top) = lens.stack.last_mut() else {
                break false;
            };
            let (e, i) = (top.0, top.1 as usize);
            let frags = dies.frags(e);
            let Some(f) = frags.get(i) else {
                let n = top.2;
                lens.stack.pop();
                lens.len[e as usize] = n;
                if let Some(parent) = lens.stack.last_mut() {
                    parent.2 = add_len(parent.2, n);
                }
                continue;
            };
            top.1 += 1;
            let d = match *f {
                Frag::Text(_, n) => {
                    top.2 = add_len(top.2, u64::from(n));
                    continue;
                }
                Frag::Break(_) => {
                    if !matches!(frags.get(i + 1), Some(Frag::Break(_))) {
                        top.2 = add_len(top.2, 1);
                    }
                    continue;
                }
                Frag::Die(d) => d,
            };
            let Some(child) = dies.resolve(d) else {
                break true;
            };
            if let Some(name) = self.type_name_parts(dies, child) {
                let n = name.iter().map(|p| p.len() as u64).sum();
                top.2 = add_len(top.2, n);
                continue;
            }
            match lens.len[child as usize] {
                LEN_NOT_YET => {
                    lens.len[child as usize] = LEN_BUSY;
                    lens.stack.push((child, 0, 0));
                }
                LEN_BUSY | LEN_NONE => break true,
                n => top.2 = add_len(top.2, n),
            }
        };
        if failed {
            for (e, _, _) in lens.stack.drain(..) {
                lens.len[e as usize] = LEN_NONE;
            }
            return None;
        }
        Some(lens.len[root as usize])
    }

    /// Refuses a string longer than `MAX_STRING` before it is built: the
    /// string of entry `id`, which is `what`.
    fn check_length(
        &self,
        dies: &DieMap,
        lens: &mut Lengths,
        id: EntryId,
        what: &dyn Fn() -> String,
    ) -> Result<(), Error> {
        match self.length(dies, lens, id) {
            Some(n) if n > MAX_STRING as u64 => {
                let size = if n >= LEN_CAP {
                    "more than 2^64 bytes".to_string()
                } else {
                    format!("{n} bytes")
                };
                Err(Error::new(format!(
                    "the type string of {} (DIE {:#x}) grows beyond {} MiB: it would be {size} \
                     (unnamed types that each use the previous one several times over?)",
                    what(),
                    dies.die(id),
                    MAX_STRING >> 20
                )))
            }
            _ => Ok(()),
        }
    }

    /// Checks the length of every string of a die map that is to be
    /// built (named types without a kABI replacement, then symbols): the
    /// first beyond `MAX_STRING` is an error.
    fn check_lengths(
        &self,
        dies: &DieMap,
        named: &[(EntryId, NameParts<'_>)],
    ) -> Result<(), Error> {
        let mut lens = Lengths::new(dies);
        for (id, name) in named {
            let replaced = self
                .replace
                .is_some_and(|k| k.type_string(&name.concat()).is_some());
            if !replaced {
                self.check_length(dies, &mut lens, *id, &|| name.concat())?;
            }
        }
        for (_, id) in dies.symbol_entries() {
            let what = || match dies.fqn(id) {
                Some(n) if !n.is_empty() => format!("symbol {n}"),
                _ => "a symbol".to_string(),
            };
            self.check_length(dies, &mut lens, id, &what)?;
        }
        Ok(())
    }

    /// An entry's string, with named types as references.
    fn expand(
        &self,
        dies: &DieMap,
        id: EntryId,
        out: &mut Expansion,
        depth: usize,
        check: &LengthCheck<'_>,
    ) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new(
                "type strings nested too deeply (a cycle of unnamed types?)",
            ));
        }
        if out.text.len() > CHECK_AT {
            check
                .result
                .get_or_init(|| self.check_lengths(dies, check.named))
                .clone()?;
            // Strings without a length (see `length`) end here.
            if out.text.len() > MAX_STRING {
                return Err(Error::new(format!(
                    "a type string grows beyond {} MiB (unnamed types that refer to each \
                     other many times over?)",
                    MAX_STRING >> 20
                )));
            }
        }
        let frags = dies.frags(id);
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
                    match self.type_name_parts(dies, child) {
                        Some(name) => out.reference_parts(&name),
                        None => crate::walk::deep(depth, || {
                            self.expand(dies, child, out, depth + 1, check)
                        })?,
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `expand` would build exactly `old` for entry `id`, without
    /// building it. `false` too wherever `expand` might fail or check
    /// lengths (then the string is built, and fails or not, as before).
    fn is_expansion(&self, dies: &DieMap, refs: &Refs<'_>, id: EntryId, old: &Expansion) -> bool {
        let mut at = (0, 0);
        self.matches(dies, refs, dies.frags(id), old, &mut at, 0)
            && at == (old.text.len(), old.refs.len())
    }

    /// Whether the string of an entry whose fragments are `frags` is in
    /// `old` at `at` (a text position and a reference number), which it
    /// moves past it.
    fn matches(
        &self,
        dies: &DieMap,
        refs: &Refs<'_>,
        frags: &[Frag],
        old: &Expansion,
        at: &mut (usize, usize),
        depth: usize,
    ) -> bool {
        if depth > MAX_DEPTH || at.0 > CHECK_AT {
            return false;
        }
        let text = old.text.as_bytes();
        let arena = dies.text_bytes();
        let all = dies.frag_arena();
        // What the references lead to is fetched at once rather than one
        // after the other (it is scattered over the map).
        for f in frags {
            if let Frag::Die(d) = *f {
                if let Some(r) = refs.slots.get(d as usize) {
                    if r.entry & NAMED == 0 {
                        crate::dwarf::prefetch(all, r.frags.0 as usize);
                    } else {
                        crate::dwarf::prefetch(refs.names, (r.entry & !NAMED) as usize);
                    }
                }
            }
        }
        let take = |at: &mut (usize, usize), s: &[u8]| {
            let end = at.0 + s.len();
            match text.get(at.0..end) {
                Some(t) if same_bytes(t, s) => {
                    at.0 = end;
                    true
                }
                _ => false,
            }
        };
        for (i, f) in frags.iter().enumerate() {
            match *f {
                Frag::Text(a, n) => {
                    let Some(s) = arena.get(a as usize..a as usize + n as usize) else {
                        return false;
                    };
                    if !take(at, s) {
                        return false;
                    }
                }
                Frag::Break(_) => {
                    if !matches!(frags.get(i + 1), Some(Frag::Break(_))) && !take(at, b" ") {
                        return false;
                    }
                }
                Frag::Die(d) => {
                    let Some(r) = refs.slots.get(d as usize).filter(|r| r.entry != NO_ENTRY) else {
                        return false;
                    };
                    let child = r.entry & !NAMED;
                    if r.entry & NAMED != 0 {
                        let Some(Some(name)) = refs.names.get(child as usize) else {
                            return false;
                        };
                        let start = at.0;
                        if !name.iter().all(|p| take(at, p.as_bytes())) {
                            return false;
                        }
                        if old.refs.get(at.1) != Some(&(start as u32, at.0 as u32)) {
                            return false;
                        }
                        at.1 += 1;
                    } else {
                        let (a, n) = (r.frags.0 as usize, r.frags.1 as usize);
                        let Some(inner) = all.get(a..a + n) else {
                            return false;
                        };
                        let inner = crate::walk::deep(depth, || {
                            self.matches(dies, refs, inner, old, at, depth + 1)
                        });
                        if !inner {
                            return false;
                        }
                    }
                }
            }
        }
        true
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
    fn expand_named(
        &self,
        dies: &DieMap,
        name: &NameParts<'_>,
        id: EntryId,
        check: &LengthCheck<'_>,
    ) -> Result<Expansion, Error> {
        self.with_named(dies, name, id, check, Expansion::clone)
    }

    /// Gives `f` the string of a named entry (or symbol), built in a buffer
    /// kept per thread: a kABI replacement, or the entry's own.
    fn with_named<T>(
        &self,
        dies: &DieMap,
        name: &NameParts<'_>,
        id: EntryId,
        check: &LengthCheck<'_>,
        f: impl FnOnce(&Expansion) -> T,
    ) -> Result<T, Error> {
        if self.replace.is_some() {
            if let Some(exp) = self.replacement(&name.concat())? {
                return Ok(f(&exp));
            }
        }
        thread_local! {
            static SCRATCH: std::cell::RefCell<Expansion> = std::cell::RefCell::default();
        }
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.text.clear();
            scratch.refs.clear();
            let built = self.expand(dies, id, &mut scratch, 0, check);
            let out = built.map(|()| f(&scratch));
            if scratch.text.capacity() > MAX_SCRATCH {
                *scratch = Expansion::default();
            }
            out
        })
    }

    /// The named entries of a die map to put in the type map, in the order
    /// they were made, with their names.
    fn named_entries<'d>(&self, dies: &'d DieMap) -> Vec<(EntryId, NameParts<'d>)>
    where
        'r: 'd,
    {
        // Names worked out as entries are met: a list of every entry's
        // name (64 bytes each) would be most of a small object's memory.
        self.named_entries_of(dies, |id| self.type_name_parts(dies, id))
    }

    /// The reference name of every entry of a die map (`type_name_parts`).
    fn reference_names<'d>(&self, dies: &'d DieMap) -> Vec<Option<NameParts<'d>>>
    where
        'r: 'd,
    {
        (0..dies.entries.len() as EntryId)
            .map(|id| self.type_name_parts(dies, id))
            .collect()
    }

    /// `named_entries`, with an entry's reference name given by `name`.
    fn named_entries_of<'d>(
        &self,
        dies: &'d DieMap,
        name: impl Fn(EntryId) -> Option<NameParts<'d>>,
    ) -> Vec<(EntryId, NameParts<'d>)> {
        let mut mapped = vec![false; dies.entries.len()];
        let mut todo = Vec::new();
        for start in 0..dies.entries.len() {
            if mapped[start] {
                continue;
            }
            mapped[start] = true;
            let mut id = start as EntryId;
            let e = dies.entry(id);
            // A complete string of the same DIE supersedes an unexpanded one.
            if e.state == State::Unexpanded {
                if let Some(c) = dies.get_slot(e.slot, State::Complete) {
                    if mapped[c as usize] {
                        continue;
                    }
                    mapped[c as usize] = true;
                    id = c;
                }
            }
            if let Some(name) = name(id) {
                todo.push((id, name));
            }
        }
        todo
    }

    /// The strings of a die map's symbol entries.
    fn symbol_strings(
        &self,
        dies: &DieMap,
        check: &LengthCheck<'_>,
    ) -> Result<Vec<(DieId, Expansion)>, Error> {
        let mut out: Vec<(DieId, Expansion)> = Vec::new();
        // Built in one buffer that grows once, then copied at their size.
        let mut exp = Expansion::default();
        for (die, id) in dies.symbol_entries() {
            exp.text.clear();
            exp.refs.clear();
            self.expand(dies, id, &mut exp, 0, check)?;
            out.push((die, exp.clone()));
        }
        Ok(out)
    }

    /// The strings of a unit's die map, all on this thread. With `kept`,
    /// a named string equal to one the type map has had for its name is
    /// left out: the map keeps what it has (strings are only ever replaced
    /// by longer ones), and notes no tie.
    fn unit_strings(&self, dies: &DieMap, kept: Option<&Kept>) -> Result<UnitStrings, Error> {
        let names = self.reference_names(dies);
        let named = self.named_entries_of(dies, |id| names[id as usize]);
        let refs = (kept.is_some() && self.replace.is_none()).then(|| Refs::new(dies, &names));
        let check = LengthCheck::new(&named);
        let mut out = UnitStrings {
            text: String::new(),
            refs: Vec::new(),
            types: Vec::with_capacity(named.len()),
            symbols: Vec::new(),
        };
        let mut full = String::new();
        for (id, name) in &named {
            if let (Some(kept), Some(refs)) = (kept, &refs) {
                full.clear();
                name.iter().for_each(|p| full.push_str(p));
                let same = kept.with(&full, |old| self.is_expansion(dies, refs, *id, old));
                if same == Some(true) {
                    continue;
                }
            }
            self.with_named(dies, name, *id, &check, |exp| out.push(name, exp))?;
        }
        out.symbols = self.symbol_strings(dies, &check)?;
        Ok(out)
    }
}

impl<'r> TypeMap<'r> {
    pub fn new(rules: &'r Rules, replace: Option<&'r Kabi>, dump: bool) -> Self {
        TypeMap {
            strings: Strings::new(rules, replace),
            map: FxHashMap::default(),
            kept: Arc::default(),
            ties: Vec::new(),
            symbols: FxHashMap::default(),
            dump: dump.then(String::new),
            error: None,
        }
    }

    /// Names whose longest strings tied with different text.
    pub fn ties(&self) -> &[String] {
        &self.ties
    }

    /// The `--dump-types` output.
    pub fn take_dump(&mut self) -> Option<String> {
        self.dump.take()
    }

    /// The first error met while taking the die maps.
    pub fn check(&mut self) -> Result<(), Error> {
        self.error.take().map_or(Ok(()), Err)
    }

    /// Keeps the longest string seen for `name`.
    fn add(&mut self, name: String, exp: Expansion) {
        let judged = self.judge(&name, &exp.text, &exp.refs);
        self.keep_string(&name, judged, || exp);
    }

    /// What `add` does with a string, given by its text and references.
    fn judge(&self, name: &str, text: &str, refs: &[(u32, u32)]) -> Judged {
        match self.map.get(name) {
            None => Judged::New,
            Some(old) if text.len() > old.len() => Judged::Longer,
            Some(old)
                if text.len() == old.len()
                    && (text != old.text || refs != old.refs)
                    && !self.ties.iter().any(|t| t == name) =>
            {
                Judged::Tie
            }
            Some(_) => Judged::Kept,
        }
    }

    /// Does what `judge` said (`make` builds the string, only when it is
    /// kept).
    fn keep_string(&mut self, name: &str, judged: Judged, make: impl FnOnce() -> Expansion) {
        match judged {
            Judged::New | Judged::Longer => {
                let exp = Arc::new(make());
                if let Some(d) = &mut self.dump {
                    d.push_str(&format!("{name} {}\n", exp.text));
                }
                if Arc::strong_count(&self.kept) > 1 {
                    // A parallel walk's digests look.
                    self.kept.set(name, &exp);
                }
                match self.map.get_mut(name) {
                    Some(old) => *old = exp,
                    None => {
                        self.map.insert(name.to_string(), exp);
                    }
                }
            }
            Judged::Tie => self.ties.push(name.to_string()),
            Judged::Kept => {}
        }
    }

    /// Fills the type map from every entry of a die map, in the order the
    /// entries were made, on all cores.
    fn collect(&mut self, dies: &DieMap) -> Result<(), Error> {
        // The strings on all cores; then kept in order, so that the
        // longest-wins rule (and its ties) is decided as if sequentially.
        // In chunks, so that only a chunk's strings wait to be kept.
        const CHUNK: usize = 1 << 14;
        let todo = self.strings.named_entries(dies);
        let check = LengthCheck::new(&todo);
        for chunk in todo.chunks(CHUNK) {
            let this = self.strings;
            let check = &check;
            let strings: Vec<Result<Expansion, Error>> = chunk
                .par_iter()
                .map(|(id, name)| this.expand_named(dies, name, *id, check))
                .collect();
            for ((_, name), exp) in chunk.iter().zip(strings) {
                self.add(name.concat(), exp?);
            }
        }
        let symbols = self.strings.symbol_strings(dies, &check)?;
        self.symbols.extend(symbols);
        Ok(())
    }

    /// Numbers the type map's names and resolves every reference to a
    /// number, so that version strings are walked without hashing names.
    fn index(&self) -> Index {
        Index::of(&self.map)
    }

    /// Adds a kABI `type_string` for a type that no longer exists to the
    /// map (and the index), so that references to it resolve.
    fn add_replacement(&mut self, idx: &mut Index, name: &str, symbol: &str) -> Result<(), Error> {
        let exp = self
            .strings
            .replacement(name)?
            .ok_or_else(|| Error::new(format!("unknown type reference {name} in {symbol}")))?;
        self.add(name.to_string(), exp);
        let exp = self.map[name].clone();
        idx.by_name.insert(name.to_string(), idx.exps.len() as u32);
        let refs = idx.resolve(&exp);
        idx.exps.push(exp);
        idx.refs.push(refs);
        idx.full.push(OnceLock::new());
        // Strings that referred to it by name now reach it.
        for i in 0..idx.exps.len() {
            if idx.refs[i].contains(&UNKNOWN) {
                idx.refs[i] = idx.resolve(&idx.exps[i]);
            }
        }
        Ok(())
    }

    /// A symbol's CRC (and version string when asked), adding kABI
    /// replacements for missing types as they are met.
    fn version_adding(
        &mut self,
        idx: &mut Index,
        root: &Expansion,
        want_text: bool,
        symbol: &str,
    ) -> Result<(u32, Option<String>), Error> {
        loop {
            let mut seen = Seen::default();
            match version(idx, root, want_text, &mut seen, symbol)? {
                Ok(done) => return Ok(done),
                Err(missing) => self.add_replacement(idx, &missing, symbol)?,
            }
        }
    }

    /// Computes the CRCs of the symbols described in `object`, and the
    /// symtypes lines and version dump when asked.
    pub fn versions(
        &mut self,
        syms: &mut Symbols,
        object: usize,
        out: &mut Outputs<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<(), Error> {
        // The symbols' expansions are lent to the jobs below (taken out of
        // the map, so that it can grow meanwhile), and copied only where
        // the symtypes or the strings keep them.
        let symbols = std::mem::take(&mut self.symbols);
        let result = self.symbol_versions(&symbols, syms, object, out, warnings);
        self.symbols = symbols;
        result?;
        if let Some(t) = out.strings.as_deref_mut() {
            let symbols: rustc_hash::FxHashSet<&str> =
                t.symbols.iter().map(|(s, _)| s.as_str()).collect();
            t.types = self
                .map
                .iter()
                .filter(|(n, _)| !symbols.contains(n.as_str()))
                .map(|(n, e)| (n.clone(), e.clone()))
                .collect();
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

    /// The CRCs (and version dump) of `versions`, and the symbols' strings
    /// kept for the symtypes and the strings, from the expansions of
    /// `symbols`.
    fn symbol_versions(
        &mut self,
        symbols: &FxHashMap<DieId, Expansion>,
        syms: &mut Symbols,
        object: usize,
        out: &mut Outputs<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<(), Error> {
        // The symbols to expand, in visiting order, and which of them get a
        // CRC: the first of each alias group not already done.
        let mut done: Vec<bool> = syms
            .list
            .iter()
            .map(|s| s.state == SymState::Processed)
            .collect();
        let mut jobs: Vec<(usize, Cow<'_, Expansion>, bool)> = Vec::new();
        for &i in syms.visiting_order() {
            let sym = &syms.list[i];
            if out.symtypes.is_none() && out.strings.is_none() && done[i] {
                continue;
            }
            let Some((obj, die)) = sym.die else { continue };
            if obj != object {
                continue;
            }
            let Some(own) = symbols.get(&die) else {
                continue;
            };
            let exp = match self.strings.replacement(&sym.name)? {
                Some(exp) => Cow::Owned(exp),
                None => Cow::Borrowed(own),
            };
            let compute = !done[i];
            if compute {
                for m in syms.members(i) {
                    done[m] = true;
                }
            }
            jobs.push((i, exp, compute));
        }

        // The CRCs on all cores; a symbol that meets a type only a kABI
        // rule can give is redone below, in order.
        let mut idx = self.index();
        let want_text = out.versions.is_some();
        let results: Vec<Option<Result<Walked, Error>>> = {
            let idx = &idx;
            jobs.par_iter()
                .map_init(Seen::default, |seen, (i, exp, compute)| {
                    compute.then(|| version(idx, exp, want_text, seen, &syms.list[*i].name))
                })
                .collect()
        };

        for ((i, exp, _), result) in jobs.into_iter().zip(results) {
            if let Some(result) = result {
                let name = &syms.list[i].name;
                let (crc, text) = match result? {
                    Ok(done) => done,
                    Err(_) => self.version_adding(&mut idx, &exp, want_text, name)?,
                };
                if let (Some(v), Some(t)) = (out.versions.as_deref_mut(), text) {
                    v.push_str(name);
                    v.push(' ');
                    v.push_str(&t);
                    v.push('\n');
                }
                warnings.extend(syms.set_crc(i, crc));
            }
            let name = &syms.list[i].name;
            if let Some(t) = out.strings.as_deref_mut() {
                t.symbols
                    .push((name.clone(), Arc::new(exp.as_ref().clone())));
            }
            if out.symtypes.is_some() {
                self.add(name.clone(), exp.into_owned());
            }
        }
        Ok(())
    }
}

/// Digests units' die maps for a type map, leaving out the strings it
/// already has (see `Strings::unit_strings`).
pub struct UnitDigester<'r> {
    strings: Strings<'r>,
    kept: Arc<Kept>,
}

impl Digester for UnitDigester<'_> {
    type Digest = Result<UnitStrings, Error>;

    fn digest(&self, map: &DieMap) -> Self::Digest {
        self.strings.unit_strings(map, Some(&self.kept))
    }
}

impl<'r> Consumer for TypeMap<'r> {
    type Digester = UnitDigester<'r>;

    fn digester(&self) -> UnitDigester<'r> {
        UnitDigester {
            strings: self.strings,
            kept: self.kept.clone(),
        }
    }

    fn keep(&mut self, digest: Result<UnitStrings, Error>) {
        if self.error.is_some() {
            return;
        }
        match digest {
            Ok(strings) => {
                for t in &strings.types {
                    let name = &strings.text[t.name.0..t.name.1];
                    let text = &strings.text[t.string.0..t.string.1];
                    let refs = &strings.refs[t.refs.0..t.refs.1];
                    let judged = self.judge(name, text, refs);
                    self.keep_string(name, judged, || Expansion {
                        text: text.to_string(),
                        refs: refs.to_vec(),
                    });
                }
                self.symbols.extend(strings.symbols);
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn take_whole(&mut self, map: &DieMap) {
        if let Err(e) = self.collect(map) {
            self.error.get_or_insert(e);
        }
    }

    fn reset(&mut self) {
        self.map.clear();
        self.kept.clear();
        self.ties.clear();
        self.symbols.clear();
        if let Some(d) = &mut self.dump {
            d.clear();
        }
        self.error = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::constants as dw;

    /// A die map of complete entries: DIE `die` gets `frags`, built from
    /// text, breaks and other DIEs; `name` makes it a named type.
    struct Builder {
        map: DieMap,
    }

    enum F<'s> {
        T(&'s str),
        B(i8),
        D(DieId),
    }

    impl Builder {
        fn new() -> Self {
            Builder {
                map: DieMap::default(),
            }
        }

        fn entry(&mut self, die: DieId, tag: gimli::DwTag, name: Option<&str>, frags: &[F]) {
            let id = self.map.create(die, State::Complete, tag);
            if let Some(n) = name {
                self.map.set_fqn(id, n);
            }
            for f in frags {
                match *f {
                    F::T(s) => self.map.add_text(id, s),
                    F::B(n) => self.map.add_break(id, n),
                    F::D(d) => {
                        let slot = self.map.slot_for(d, dw::DW_TAG_pointer_type);
                        self.map.add_die(id, slot);
                    }
                }
            }
            self.map.complete(id, State::Complete);
        }
    }

    fn expanded_len(strings: &Strings<'_>, dies: &DieMap, id: EntryId) -> Result<usize, Error> {
        let mut out = Expansion::default();
        strings.expand(dies, id, &mut out, 0, &LengthCheck::new(&[]))?;
        Ok(out.len())
    }

    #[test]
    fn lengths_are_those_of_the_strings_built() {
        let rules = ksymrules_grammar::default_rules();
        let strings = Strings::new(&rules, None);
        let mut b = Builder::new();
        // Leaves first, as the walk completes them.
        b.entry(1, dw::DW_TAG_base_type, None, &[F::T("base_type int")]);
        b.entry(
            2,
            dw::DW_TAG_structure_type,
            Some("has space"),
            &[F::T("structure_type x {"), F::D(1), F::T("}")],
        );
        b.entry(
            3,
            dw::DW_TAG_pointer_type,
            None,
            &[
                F::T("pointer_type {"),
                F::D(1),
                F::B(1),
                F::B(-1),
                F::T("}"),
            ],
        );
        b.entry(
            4,
            dw::DW_TAG_subroutine_type,
            None,
            &[
                F::T("("),
                F::D(3),
                F::B(0),
                F::T(","),
                F::D(3),
                F::D(2),
                F::B(0),
            ],
        );
        let dies = &b.map;
        let mut out = Expansion::default();
        let last = dies.entries.len() as EntryId - 1;
        strings
            .expand(dies, last, &mut out, 0, &LengthCheck::new(&[]))
            .unwrap();
        assert_eq!(
            out.text,
            "(pointer_type {base_type int } ,pointer_type {base_type int }s#'has space' "
        );
        let mut lens = Lengths::new(dies);
        for id in 0..dies.entries.len() as EntryId {
            let want = expanded_len(&strings, dies, id).unwrap() as u64;
            assert_eq!(
                strings.length(dies, &mut lens, id),
                Some(want),
                "entry {id}"
            );
        }
    }

    #[test]
    fn cycles_and_missing_strings_have_no_length() {
        let rules = ksymrules_grammar::default_rules();
        let strings = Strings::new(&rules, None);
        let mut b = Builder::new();
        // 2 refers to 3, which is never given a string; 4 and 5 refer to
        // each other (unnamed, so each inlines the other).
        b.entry(2, dw::DW_TAG_pointer_type, None, &[F::T("p"), F::D(3)]);
        b.entry(5, dw::DW_TAG_pointer_type, None, &[F::T("q"), F::D(4)]);
        b.entry(4, dw::DW_TAG_pointer_type, None, &[F::T("r"), F::D(5)]);
        b.entry(6, dw::DW_TAG_const_type, None, &[F::D(4)]);
        let dies = &b.map;
        let mut lens = Lengths::new(dies);
        for id in 0..dies.entries.len() as EntryId {
            assert_eq!(strings.length(dies, &mut lens, id), None, "entry {id}");
            assert!(expanded_len(&strings, dies, id).is_err(), "entry {id}");
        }
    }

    #[test]
    fn doubling_strings_are_refused_before_they_are_built() {
        let rules = ksymrules_grammar::default_rules();
        let strings = Strings::new(&rules, None);
        // 59 levels, each taking the previous one twice: 3 * 2^59 bytes.
        let mut b = Builder::new();
        b.entry(100, dw::DW_TAG_base_type, None, &[F::T("int")]);
        for d in 101..160 {
            b.entry(
                d,
                dw::DW_TAG_pointer_type,
                None,
                &[F::D(d - 1), F::D(d - 1)],
            );
        }
        let dies = &b.map;
        let top = dies.resolve(dies.slot_of(159).unwrap()).unwrap();
        let named = [(top, ["t#top", "", "", ""])];
        let e = strings.check_lengths(dies, &named).unwrap_err();
        assert!(e.message().contains("grows beyond 64 MiB"), "{e}");
        assert!(e.message().contains("t#top (DIE 0x9f)"), "{e}");
        // Building it stops as soon as it passes CHECK_AT.
        let check = LengthCheck::new(&named);
        let e = strings
            .expand_named(dies, &["t#top", "", "", ""], top, &check)
            .unwrap_err();
        assert!(
            e.message().contains("would be 1729382256910270464 bytes"),
            "{e}"
        );
        // A string below the limit is built, whatever the others are.
        let small = dies.resolve(dies.slot_of(110).unwrap()).unwrap();
        let exp = strings
            .expand_named(
                dies,
                &["t#small", "", "", ""],
                small,
                &LengthCheck::new(&[]),
            )
            .unwrap();
        assert_eq!(exp.len(), 3 << 10);
    }
}
