//! The cache of type strings built for DIEs in one object (gendwarfksyms'
//! `die_map`).
//!
//! An entry holds the pieces of one DIE's string in one state: text, line
//! breaks, and other DIEs by reference. Entries are found by (DIE, state);
//! when several entries exist for one key (a DIE re-entered while its
//! string was being built), the most recently created complete one wins.

use crate::dwarf::DieId;
use gimli::DwTag;
use rustc_hash::FxHashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Being built.
    Incomplete,
    /// An expand-once type met again in one symbol's walk (no members).
    Unexpanded,
    /// Built in full.
    Complete,
    /// An exported symbol's own string.
    Symbol,
}

/// A DIE's index in the die map (dense, unlike its offset).
pub type SlotId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frag {
    /// Text: a range of the die map's text arena.
    Text(u32, u32),
    Break(i8),
    Die(SlotId),
}

/// A fragment with its text resolved, for comparing strings.
#[derive(Debug, PartialEq, Eq)]
pub enum FragView {
    Text(String),
    Break(i8),
    Die(SlotId),
}

#[derive(Debug)]
pub struct Entry {
    pub slot: SlotId,
    pub state: State,
    /// The qualified name, once the rule has read it: a range of the text
    /// arena.
    fqn: Option<(u32, u32)>,
    /// The fragments, once complete: a range of the fragment arena.
    frags: (u32, u32),
}

pub type EntryId = u32;

/// Per DIE: the newest finished entry of each state, and how many entries
/// of each state are being built; 32 bytes, so that what the walk looks up
/// at every DIE it meets (tag, mark, entries) is one cache line.
#[derive(Debug, Clone, Copy)]
struct Slot {
    die: DieId,
    /// `NO_ENTRY`: none.
    newest: [EntryId; 3],
    building: [u16; 3],
    tag: DwTag,
    /// The walk's mark (see `DieMap::mark`).
    mark: u32,
}

/// No entry (in a slot's `newest`, and in `typemap`'s reference table).
pub const NO_ENTRY: EntryId = EntryId::MAX;

#[inline]
fn some_entry(e: EntryId) -> Option<EntryId> {
    (e != NO_ENTRY).then_some(e)
}

fn slot_index(state: State) -> usize {
    match state {
        State::Unexpanded => 0,
        State::Complete => 1,
        State::Symbol => 2,
        State::Incomplete => unreachable!("entries are looked up by a final state"),
    }
}

/// A unit's DIEs by offset: the slot number plus one (0: none yet).
#[derive(Debug)]
struct Dense {
    start: u64,
    /// The unit's size: `slots` may be longer (zeros beyond).
    len: u64,
    slots: Vec<u32>,
}

#[derive(Debug, Default)]
pub struct DieMap {
    pub entries: Vec<Entry>,
    slots: Vec<Slot>,
    /// Slots by DIE, for a map that covers DIEs anywhere.
    index: FxHashMap<DieId, SlotId>,
    /// Slots by offset, for a map that covers one unit (see `for_unit`).
    dense: Option<Dense>,
    /// The memory of `dense` once the map is finished, for reuse: all
    /// zeros (only the cells used are cleared, not the whole unit).
    dense_spare: Vec<u32>,
    /// The newest symbol entry of each DIE (kept after `finish`).
    symbols: FxHashMap<DieId, EntryId>,
    /// The text of every fragment and name.
    text: String,
    /// The fragments of every complete entry.
    frags: Vec<Frag>,
    /// The fragments of the entries being built, innermost last (builds
    /// nest: an entry's children are built before it goes on).
    building: Vec<(EntryId, Vec<Frag>)>,
    /// Emptied fragment lists, to be reused.
    spare: Vec<Vec<Frag>>,
    /// Bumped whenever a newer entry replaces the one a lookup used to
    /// find, so that anything derived from lookups can be recomputed.
    pub generation: u64,
    /// Where each fragment came from, by (entry, index among the entry's
    /// fragments), when asked for (`--explain`); text is then not merged.
    pub provenance: Option<FxHashMap<(EntryId, u32), Prov>>,
}

/// Where a fragment came from: the DIE whose description printed it, and
/// the piece of the rules that did (none for a DIE listed as a child).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prov {
    pub die: DieId,
    pub origin: Option<ksymrules_grammar::model::Origin>,
}

impl DieMap {
    /// A die map sized for about `dies` DIEs.
    pub fn with_capacity(dies: usize) -> Self {
        let mut index = FxHashMap::default();
        index.reserve(dies);
        DieMap {
            entries: Vec::with_capacity(dies),
            slots: Vec::with_capacity(dies),
            frags: Vec::with_capacity(dies * 4),
            index,
            ..DieMap::default()
        }
    }

    /// A die map for the DIEs of one unit, `start..end`, sized for about
    /// `dies` of them. Its slots are found by offset, without hashing;
    /// DIEs outside the unit must not be given slots. The memory of the
    /// last map this thread recycled is reused.
    pub fn for_unit(start: u64, end: u64, dies: usize) -> Self {
        let mut m = RECYCLED.with(|r| r.borrow_mut().take()).unwrap_or_default();
        m.entries.reserve(dies);
        m.slots.reserve(dies);
        m.frags.reserve(dies * 4);
        let mut slots = std::mem::take(&mut m.dense_spare);
        let len = end - start;
        if (slots.len() as u64) < len {
            slots.resize(len as usize, 0);
        }
        m.dense = Some(Dense { start, len, slots });
        m
    }

    /// Empties the map and keeps its memory for this thread's next
    /// `for_unit` (unless it grew very large).
    pub fn recycle(mut self) {
        const KEEP: usize = 64 << 20;
        if self.text.capacity() > KEEP || self.frags.capacity() * 12 > KEEP {
            return;
        }
        self.finish();
        self.entries.clear();
        self.slots.clear();
        self.symbols.clear();
        self.text.clear();
        self.frags.clear();
        self.building.clear();
        self.generation = 0;
        RECYCLED.with(|r| *r.borrow_mut() = Some(self));
    }

    /// Whether `die` may be given a slot (a unit's map takes only its own).
    pub fn covers(&self, die: DieId) -> bool {
        match &self.dense {
            Some(d) => die >= d.start && die - d.start < d.len,
            None => true,
        }
    }

    /// Drops what is only needed while strings are built: DIEs are no
    /// longer looked up, except symbols (`symbol_entry`).
    pub fn finish(&mut self) {
        if let Some(mut d) = self.dense.take() {
            // Only the cells of the DIEs given slots are not zero.
            for s in &self.slots {
                d.slots[(s.die - d.start) as usize] = 0;
            }
            self.dense_spare = d.slots;
        }
        self.index = FxHashMap::default();
        self.spare = Vec::new();
    }

    /// The slot of a DIE that has (or had) an entry.
    pub fn slot_of(&self, die: DieId) -> Option<SlotId> {
        match &self.dense {
            Some(d) => {
                let i = die.checked_sub(d.start).filter(|&i| i < d.len)?;
                d.slots.get(i as usize)?.checked_sub(1)
            }
            None => self.index.get(&die).copied(),
        }
    }

    /// Asks for what `slot_of(die)` reads to be fetched into the cache.
    #[inline]
    pub fn prefetch_slot(&self, die: DieId) {
        if let Some(d) = &self.dense {
            if let Some(i) = die.checked_sub(d.start) {
                crate::dwarf::prefetch(&d.slots, i as usize);
            }
        }
    }

    /// The slot of a DIE, made if it has none yet.
    pub fn slot_for(&mut self, die: DieId, tag: DwTag) -> SlotId {
        let next = self.slots.len() as SlotId;
        let i = match &mut self.dense {
            Some(d) => {
                let cell = &mut d.slots[(die - d.start) as usize];
                if *cell == 0 {
                    *cell = next + 1;
                }
                *cell - 1
            }
            None => *self.index.entry(die).or_insert(next),
        };
        if i == next {
            self.slots.push(Slot {
                die,
                newest: [NO_ENTRY; 3],
                building: [0; 3],
                tag,
                mark: 0,
            });
        }
        i
    }

    /// How many slots there are (slot ids are below this).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The DIE of a slot.
    pub fn die_of(&self, slot: SlotId) -> DieId {
        self.slots[slot as usize].die
    }

    /// The newest (by creation) finished entry for `die` in `state`.
    pub fn get(&self, die: DieId, state: State) -> Option<EntryId> {
        self.get_slot(self.slot_of(die)?, state)
    }

    /// The same, by slot.
    pub fn get_slot(&self, slot: SlotId, state: State) -> Option<EntryId> {
        some_entry(self.slots[slot as usize].newest[slot_index(state)])
    }

    /// Whether an entry for (`die`, `state`) is being built right now.
    pub fn is_building(&self, die: DieId, state: State) -> bool {
        self.slot_of(die)
            .is_some_and(|s| self.is_building_slot(s, state))
    }

    /// The same, by slot.
    pub fn is_building_slot(&self, slot: SlotId, state: State) -> bool {
        self.slots[slot as usize].building[slot_index(state)] > 0
    }

    /// A new, incomplete entry to be built into `state`.
    pub fn create(&mut self, die: DieId, state: State, tag: DwTag) -> EntryId {
        let slot = self.slot_for(die, tag);
        self.create_in(slot, state)
    }

    /// The same, by slot.
    pub fn create_in(&mut self, slot: SlotId, state: State) -> EntryId {
        let id = self.entries.len() as EntryId;
        self.slots[slot as usize].building[slot_index(state)] += 1;
        self.entries.push(Entry {
            slot,
            state: State::Incomplete,
            fqn: None,
            frags: (0, 0),
        });
        let scratch = self.spare.pop().unwrap_or_default();
        self.building.push((id, scratch));
        id
    }

    /// The tag of a slot's DIE.
    pub fn slot_tag(&self, slot: SlotId) -> Option<DwTag> {
        Some(self.slots[slot as usize].tag)
    }

    /// A number the walk keeps per slot (the last symbol that expanded the
    /// DIE), 0 at first; kept here, next to what the walk looks up with
    /// it.
    #[inline]
    pub fn mark(&mut self, slot: SlotId) -> &mut u32 {
        &mut self.slots[slot as usize].mark
    }

    /// Marks an entry built, in `state` (the state it was created for).
    pub fn complete(&mut self, id: EntryId, state: State) {
        if let Some(pos) = self.building.iter().rposition(|(b, _)| *b == id) {
            let (_, mut scratch) = self.building.remove(pos);
            let start = self.frags.len() as u32;
            self.frags.extend_from_slice(&scratch);
            self.entries[id as usize].frags = (start, scratch.len() as u32);
            scratch.clear();
            self.spare.push(scratch);
        }
        let e = &mut self.entries[id as usize];
        e.state = state;
        let slot = &mut self.slots[e.slot as usize];
        let i = slot_index(state);
        slot.building[i] = slot.building[i].saturating_sub(1);
        // The newest entry wins even when an older one finishes later (a
        // DIE re-entered while being built).
        match slot.newest[i] {
            NO_ENTRY => slot.newest[i] = id,
            n if n < id => {
                slot.newest[i] = id;
                self.generation += 1;
            }
            _ => {}
        }
        if state == State::Symbol {
            let newest = slot.newest[i];
            let die = slot.die;
            self.symbols.insert(die, newest);
        }
    }

    /// The newest finished symbol entry of `die`.
    pub fn symbol_entry(&self, die: DieId) -> Option<EntryId> {
        self.symbols.get(&die).copied()
    }

    /// The DIEs with symbol entries, and those entries.
    pub fn symbol_entries(&self) -> impl Iterator<Item = (DieId, EntryId)> + '_ {
        self.symbols.iter().map(|(&d, &e)| (d, e))
    }

    pub fn entry(&self, id: EntryId) -> &Entry {
        &self.entries[id as usize]
    }

    /// The DIE an entry describes.
    pub fn die(&self, id: EntryId) -> DieId {
        self.slots[self.entries[id as usize].slot as usize].die
    }

    /// The tag of the DIE an entry describes.
    pub fn entry_tag(&self, id: EntryId) -> DwTag {
        self.slots[self.entries[id as usize].slot as usize].tag
    }

    /// An entry's qualified name, once its rule has read it.
    pub fn fqn(&self, id: EntryId) -> Option<&str> {
        let (a, n) = self.entries[id as usize].fqn?;
        Some(self.text(a, n))
    }

    pub fn set_fqn(&mut self, id: EntryId, fqn: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(fqn);
        self.entries[id as usize].fqn = Some((start, fqn.len() as u32));
    }

    /// Where a complete entry's fragments are in `frag_arena`: start and
    /// count.
    pub fn frag_range(&self, id: EntryId) -> (u32, u32) {
        self.entries[id as usize].frags
    }

    /// The fragments of every complete entry.
    pub fn frag_arena(&self) -> &[Frag] {
        &self.frags
    }

    /// A complete entry's fragments.
    pub fn frags(&self, id: EntryId) -> &[Frag] {
        let (a, n) = self.entries[id as usize].frags;
        &self.frags[a as usize..(a + n) as usize]
    }

    /// The fragments of an entry being built.
    fn scratch(&mut self, id: EntryId) -> &mut Vec<Frag> {
        let pos = self
            .building
            .iter()
            .rposition(|(b, _)| *b == id)
            .expect("fragments are added to an entry being built");
        &mut self.building[pos].1
    }

    /// Appends text, merging it with text just before it when that text
    /// ends the arena.
    pub fn add_text(&mut self, id: EntryId, s: &str) {
        let end = self.text.len() as u32;
        if self.provenance.is_some() {
            // Each piece its own fragment, so that each has its origin.
            self.scratch(id).push(Frag::Text(end, s.len() as u32));
            self.text.push_str(s);
            return;
        }
        let frags = self.scratch(id);
        match frags.last_mut() {
            Some(Frag::Text(start, len)) if *start + *len == end => *len += s.len() as u32,
            _ => frags.push(Frag::Text(end, s.len() as u32)),
        }
        self.text.push_str(s);
    }

    /// How much text the map holds: every fragment's and name's, once.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The text arena, whole (text fragments are ranges of it).
    pub fn text_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// A text fragment's text.
    pub fn text(&self, start: u32, len: u32) -> &str {
        &self.text[start as usize..(start + len) as usize]
    }

    /// An entry's fragments with their text (adjacent text joined), for
    /// comparing strings.
    pub fn view(&self, id: EntryId) -> Vec<FragView> {
        let mut out: Vec<FragView> = Vec::new();
        for f in self.frags(id) {
            match *f {
                Frag::Text(a, n) => {
                    let t = self.text(a, n);
                    match out.last_mut() {
                        Some(FragView::Text(prev)) => prev.push_str(t),
                        _ => out.push(FragView::Text(t.to_string())),
                    }
                }
                Frag::Break(b) => out.push(FragView::Break(b)),
                Frag::Die(d) => out.push(FragView::Die(d)),
            }
        }
        out
    }

    /// Notes where the next fragment of entry `id` comes from (when
    /// provenance is recorded).
    pub fn note(&mut self, id: EntryId, prov: Prov) {
        if self.provenance.is_none() {
            return;
        }
        let i = self.scratch(id).len() as u32;
        if let Some(p) = &mut self.provenance {
            p.insert((id, i), prov);
        }
    }

    pub fn add_break(&mut self, id: EntryId, n: i8) {
        self.scratch(id).push(Frag::Break(n));
    }

    pub fn add_die(&mut self, id: EntryId, slot: SlotId) {
        self.scratch(id).push(Frag::Die(slot));
    }

    /// The entry a reference to a slot's DIE is assembled from: complete
    /// if there is one, else unexpanded.
    pub fn resolve(&self, slot: SlotId) -> Option<EntryId> {
        self.get_slot(slot, State::Complete)
            .or_else(|| self.get_slot(slot, State::Unexpanded))
    }
}

thread_local! {
    /// A map emptied by `recycle`, for this thread's next unit.
    static RECYCLED: std::cell::RefCell<Option<DieMap>> = const { std::cell::RefCell::new(None) };
}

/// Sizes of die maps, for `--debug`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub entries: usize,
    pub slots: usize,
    pub frags: usize,
    pub text: usize,
    /// Heap bytes reserved (capacities).
    pub bytes: usize,
}

impl Stats {
    pub fn sum(all: impl Iterator<Item = Stats>) -> Stats {
        all.fold(Stats::default(), |a, b| Stats {
            entries: a.entries + b.entries,
            slots: a.slots + b.slots,
            frags: a.frags + b.frags,
            text: a.text + b.text,
            bytes: a.bytes + b.bytes,
        })
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cached strings of {} DIEs, {} fragments, {} bytes of text, {} MB reserved (all maps together)",
            self.entries,
            self.slots,
            self.frags,
            self.text,
            self.bytes >> 20
        )
    }
}

impl DieMap {
    pub fn stats(&self) -> Stats {
        use std::mem::size_of;
        Stats {
            entries: self.entries.len(),
            slots: self.slots.len(),
            frags: self.frags.len(),
            text: self.text.len(),
            bytes: self.entries.capacity() * size_of::<Entry>()
                + self.slots.capacity() * size_of::<Slot>()
                + self.frags.capacity() * size_of::<Frag>()
                + self.text.capacity(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_complete_entry_wins() {
        let mut m = DieMap::default();
        let t = gimli::DW_TAG_subroutine_type;
        let outer = m.create(7, State::Complete, t);
        assert_eq!(m.get(7, State::Complete), None);
        assert!(m.is_building(7, State::Complete));
        let inner = m.create(7, State::Complete, t);
        m.complete(inner, State::Complete);
        assert!(m.is_building(7, State::Complete));
        assert_eq!(m.get(7, State::Complete), Some(inner));
        m.complete(outer, State::Complete);
        assert!(!m.is_building(7, State::Complete));
        assert_eq!(m.get(7, State::Complete), Some(inner));
        assert_eq!(m.resolve(m.slot_of(7).unwrap()), Some(inner));
        assert_eq!(m.slot_of(8), None);
    }

    #[test]
    fn a_unit_map_finds_slots_by_offset_and_keeps_symbols_after_finishing() {
        let mut m = DieMap::for_unit(100, 200, 8);
        assert!(m.covers(100) && m.covers(199));
        assert!(!m.covers(99) && !m.covers(200));
        assert_eq!(m.slot_of(150), None);
        assert_eq!(m.slot_of(7), None);
        let a = m.slot_for(150, gimli::DW_TAG_base_type);
        let b = m.slot_for(100, gimli::DW_TAG_subprogram);
        assert_eq!((a, b), (0, 1));
        assert_eq!(m.slot_for(150, gimli::DW_TAG_base_type), a);
        assert_eq!(m.slot_of(100), Some(b));
        let s = m.create_in(b, State::Symbol);
        m.complete(s, State::Symbol);
        m.finish();
        assert_eq!(m.symbol_entry(100), Some(s));
        assert_eq!(m.symbol_entry(150), None);
        assert_eq!(m.die_of(a), 150);
    }

    #[test]
    fn text_merges_but_breaks_and_dies_do_not() {
        let mut m = DieMap::default();
        let e = m.create(1, State::Complete, gimli::DW_TAG_member);
        let c = m.create(5, State::Complete, gimli::DW_TAG_base_type);
        m.add_text(e, "member ");
        m.add_text(e, "");
        m.add_text(c, "base_type int");
        m.add_die(e, m.slot_of(5).unwrap());
        m.add_text(e, " x");
        m.add_break(e, 0);
        m.add_text(e, "");
        m.complete(c, State::Complete);
        m.complete(e, State::Complete);
        assert_eq!(
            m.view(e),
            [
                FragView::Text("member ".into()),
                FragView::Die(m.slot_of(5).unwrap()),
                FragView::Text(" x".into()),
                FragView::Break(0),
                FragView::Text(String::new()),
            ]
        );
        assert_eq!(m.view(c), [FragView::Text("base_type int".into())]);
        assert_eq!(m.die_of(m.slot_of(5).unwrap()), 5);
    }
}
