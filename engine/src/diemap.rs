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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frag {
    Text(String),
    Break(i8),
    Die(DieId),
}

#[derive(Debug)]
pub struct Entry {
    pub die: DieId,
    pub state: State,
    pub tag: DwTag,
    /// The qualified name, once the rule has read it.
    pub fqn: Option<String>,
    pub frags: Vec<Frag>,
}

pub type EntryId = u32;

/// Per DIE: the newest finished entry of each state, and how many entries
/// of each state are being built.
#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    newest: [Option<EntryId>; 3],
    building: [u16; 3],
    tag: Option<DwTag>,
}

fn slot_index(state: State) -> usize {
    match state {
        State::Unexpanded => 0,
        State::Complete => 1,
        State::Symbol => 2,
        State::Incomplete => unreachable!("entries are looked up by a final state"),
    }
}

#[derive(Debug, Default)]
pub struct DieMap {
    pub entries: Vec<Entry>,
    slots: FxHashMap<DieId, Slot>,
    /// Bumped whenever a newer entry replaces the one a lookup used to
    /// find, so that anything derived from lookups can be recomputed.
    pub generation: u64,
}

impl DieMap {
    /// The newest (by creation) finished entry for `die` in `state`.
    pub fn get(&self, die: DieId, state: State) -> Option<EntryId> {
        self.slots.get(&die)?.newest[slot_index(state)]
    }

    /// Whether an entry for (`die`, `state`) is being built right now.
    pub fn is_building(&self, die: DieId, state: State) -> bool {
        self.slots
            .get(&die)
            .is_some_and(|s| s.building[slot_index(state)] > 0)
    }

    /// A new, incomplete entry to be built into `state`.
    pub fn create(&mut self, die: DieId, state: State, tag: DwTag) -> EntryId {
        let id = self.entries.len() as EntryId;
        self.entries.push(Entry {
            die,
            state: State::Incomplete,
            tag,
            fqn: None,
            frags: Vec::new(),
        });
        let slot = self.slots.entry(die).or_default();
        slot.building[slot_index(state)] += 1;
        slot.tag = Some(tag);
        id
    }

    /// The tag of a DIE that has an entry.
    pub fn tag(&self, die: DieId) -> Option<DwTag> {
        self.slots.get(&die)?.tag
    }

    /// Marks an entry built, in `state` (the state it was created for).
    pub fn complete(&mut self, id: EntryId, state: State) {
        let e = &mut self.entries[id as usize];
        e.state = state;
        let slot = self.slots.entry(e.die).or_default();
        let i = slot_index(state);
        slot.building[i] = slot.building[i].saturating_sub(1);
        // The newest entry wins even when an older one finishes later (a
        // DIE re-entered while being built).
        match slot.newest[i] {
            None => slot.newest[i] = Some(id),
            Some(n) if n < id => {
                slot.newest[i] = Some(id);
                self.generation += 1;
            }
            Some(_) => {}
        }
    }

    pub fn entry(&self, id: EntryId) -> &Entry {
        &self.entries[id as usize]
    }

    pub fn entry_mut(&mut self, id: EntryId) -> &mut Entry {
        &mut self.entries[id as usize]
    }

    /// Appends text, merging it with text just before it.
    pub fn add_text(&mut self, id: EntryId, s: &str) {
        let frags = &mut self.entries[id as usize].frags;
        if let Some(Frag::Text(t)) = frags.last_mut() {
            t.push_str(s);
        } else {
            frags.push(Frag::Text(s.to_string()));
        }
    }

    pub fn add_break(&mut self, id: EntryId, n: i8) {
        self.entries[id as usize].frags.push(Frag::Break(n));
    }

    pub fn add_die(&mut self, id: EntryId, die: DieId) {
        self.entries[id as usize].frags.push(Frag::Die(die));
    }

    /// The entry a reference to `die` is assembled from: complete if
    /// there is one, else unexpanded.
    pub fn resolve(&self, die: DieId) -> Option<EntryId> {
        self.get(die, State::Complete)
            .or_else(|| self.get(die, State::Unexpanded))
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
        assert_eq!(m.resolve(7), Some(inner));
        assert_eq!(m.resolve(8), None);
    }

    #[test]
    fn text_merges_but_breaks_and_dies_do_not() {
        let mut m = DieMap::default();
        let e = m.create(1, State::Complete, gimli::DW_TAG_member);
        m.add_text(e, "member ");
        m.add_text(e, "");
        m.add_die(e, 5);
        m.add_text(e, " x");
        m.add_break(e, 0);
        m.add_text(e, "");
        assert_eq!(
            m.entry(e).frags,
            [
                Frag::Text("member ".into()),
                Frag::Die(5),
                Frag::Text(" x".into()),
                Frag::Break(0),
                Frag::Text(String::new()),
            ]
        );
    }
}
