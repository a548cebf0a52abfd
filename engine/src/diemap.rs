//! The cache of type strings built for DIEs in one object (gendwarfksyms'
//! `die_map`).
//!
//! An entry holds the pieces of one DIE's string in one state: text, line
//! breaks, and other DIEs by reference. Entries are found by (DIE, state);
//! when several entries exist for one key (a DIE re-entered while its
//! string was being built), the most recently created complete one wins.

use crate::dwarf::DieId;
use gimli::DwTag;
use std::collections::HashMap;

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
    /// Already considered for the type map.
    pub mapped: bool,
}

pub type EntryId = u32;

#[derive(Debug, Default)]
pub struct DieMap {
    pub entries: Vec<Entry>,
    /// (DIE, state it was created for) -> entries, oldest first.
    index: HashMap<(DieId, State), Vec<EntryId>>,
}

impl DieMap {
    /// The newest entry for `die` that is in `state`.
    pub fn get(&self, die: DieId, state: State) -> Option<EntryId> {
        self.index
            .get(&(die, state))?
            .iter()
            .rev()
            .copied()
            .find(|&id| self.entries[id as usize].state == state)
    }

    /// Whether an entry for (`die`, `state`) is being built right now.
    pub fn is_building(&self, die: DieId, state: State) -> bool {
        self.index.get(&(die, state)).is_some_and(|ids| {
            ids.iter()
                .any(|&id| self.entries[id as usize].state == State::Incomplete)
        })
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
            mapped: false,
        });
        self.index.entry((die, state)).or_default().push(id);
        id
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
        m.entry_mut(inner).state = State::Complete;
        assert_eq!(m.get(7, State::Complete), Some(inner));
        m.entry_mut(outer).state = State::Complete;
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
