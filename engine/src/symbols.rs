//! The listed (exported) symbols: their ELF addresses, alias groups, the
//! DIE that describes them, their CRCs, and the order gendwarfksyms visits
//! them in.

use crate::dwarf::DieId;
use hashbrown::HashTable;
use rustc_hash::FxHashMap as HashMap;
use std::hash::BuildHasher;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymState {
    /// No DIE found yet.
    Unprocessed,
    /// A DIE was found (in object `object`); no CRC yet.
    Mapped,
    /// The CRC is known.
    Processed,
}

/// An address: (section index, value) of a defined ELF symbol.
pub type Addr = (u32, u64);

#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub addr: Option<Addr>,
    pub state: SymState,
    /// The DIE it is described from, with the index of its object.
    pub die: Option<(usize, DieId)>,
    /// A symbol pointer's target DIE, with the index of its object.
    pub ptr_die: Option<(usize, DieId)>,
    pub crc: u32,
}

/// The symbol list, in input order.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    pub list: Vec<Symbol>,
    /// Indices into `list`, by name (each name kept once, in `list`).
    by_name: HashTable<usize>,
    /// The symbols at each address, most recently added first.
    by_addr: HashMap<Addr, Group>,
    /// Symbol indices in gendwarfksyms' visiting order.
    order: Vec<usize>,
}

/// gendwarfksyms' string hash (32-bit FNV-1a over bytes read as signed
/// `char`, so bytes >= 0x80 are sign-extended before the xor).
pub fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in s.as_bytes() {
        h ^= b as i8 as i32 as u32;
        h = h.wrapping_mul(16_777_619);
    }
    h
}

const NAME_BUCKETS: u32 = 4096;

impl Symbols {
    /// Builds the list from the text given on stdin: the first word of each
    /// line names a symbol; repeats and blank lines are ignored. Words are
    /// split as gendwarfksyms' `sscanf("%s")` splits them: at the
    /// whitespace of C's `isspace` (ASCII only), and a line ends at a NUL
    /// byte as a C string does.
    pub fn parse(text: &str) -> Symbols {
        let mut s = Symbols::default();
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
        s.list.reserve(lines);
        s.by_name.reserve(lines, |&i| name_hash(&s.list[i].name));
        for line in text.split('\n') {
            let Some(name) = first_word(line) else {
                continue;
            };
            let hash = name_hash(name);
            let list = &s.list;
            match s.by_name.entry(
                hash,
                |&i| list[i].name == name,
                |&i| name_hash(&list[i].name),
            ) {
                hashbrown::hash_table::Entry::Occupied(_) => continue,
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(list.len());
                }
            }
            s.list.push(Symbol {
                name: name.to_string(),
                addr: None,
                state: SymState::Unprocessed,
                die: None,
                ptr_die: None,
                crc: 0,
            });
        }
        // Buckets in ascending order; inside a bucket, the most recently
        // listed symbol first.
        // (Each name hashed once: sorting asks for keys many times over.)
        let mut keyed: Vec<(u32, std::cmp::Reverse<usize>)> = (s.list.iter().enumerate())
            .map(|(i, sym)| (fnv1a(&sym.name) % NAME_BUCKETS, std::cmp::Reverse(i)))
            .collect();
        keyed.sort_unstable();
        s.order = keyed.into_iter().map(|(_, i)| i.0).collect();
        s
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Symbol indices in gendwarfksyms' visiting order.
    pub fn visiting_order(&self) -> &[usize] {
        &self.order
    }

    /// The listed symbol called `name` (a symbol pointer's name is taken as
    /// the name of the symbol it points to).
    pub fn find(&self, name: &str, ptr_prefix: &str) -> Option<usize> {
        let name = name.strip_prefix(ptr_prefix).unwrap_or(name);
        (self.by_name)
            .find(name_hash(name), |&i| self.list[i].name == name)
            .copied()
    }

    /// `i` and the symbols sharing its address (its alias group), `i` first.
    pub fn group(&self, i: usize) -> Vec<usize> {
        self.members(i).collect()
    }

    /// `group`, without making a list of it.
    pub fn members(&self, i: usize) -> impl DoubleEndedIterator<Item = usize> + '_ {
        members(&self.list, &self.by_addr, i)
    }

    /// Records an ELF symbol's address for the listed symbol of that name.
    /// Returns a warning when a different address was already recorded.
    pub fn set_addr(&mut self, name: &str, addr: Addr, ptr_prefix: &str) -> Option<String> {
        let i = self.find(name, ptr_prefix)?;
        match self.list[i].addr {
            None => {
                self.list[i].addr = Some(addr);
                // Most recently added first, like the reference's hash chains.
                match self.by_addr.entry(addr) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(Group::One(i));
                    }
                    std::collections::hash_map::Entry::Occupied(mut o) => match o.get_mut() {
                        Group::One(j) => *o.get_mut() = Group::Many(vec![i, *j]),
                        Group::Many(members) => members.insert(0, i),
                    },
                }
                None
            }
            Some(a) if a != addr => Some(format!(
                "multiple addresses for symbol {}",
                self.list[i].name
            )),
            Some(_) => None,
        }
    }

    /// The listed symbol a DIE named `name` describes, if it (or one of its
    /// aliases) has no DIE yet.
    pub fn unprocessed(&self, name: &str, ptr_prefix: &str) -> Option<usize> {
        if name.is_empty() {
            return None;
        }
        let i = self.find(name, ptr_prefix)?;
        self.members(i)
            .rev()
            .find(|&m| self.list[m].state == SymState::Unprocessed)
    }

    /// Gives the group of `i` its DIE.
    pub fn set_die(&mut self, i: usize, object: usize, die: DieId) {
        for m in members(&self.list, &self.by_addr, i) {
            self.list[m].die = Some((object, die));
            self.list[m].state = SymState::Mapped;
        }
    }

    /// Gives the group of `i` a symbol pointer's target.
    pub fn set_ptr(&mut self, i: usize, object: usize, die: DieId) {
        for m in members(&self.list, &self.by_addr, i) {
            self.list[m].ptr_die = Some((object, die));
        }
    }

    /// Gives the group of `i` its CRC; returns warnings for members that
    /// had a different one.
    pub fn set_crc(&mut self, i: usize, crc: u32) -> Vec<String> {
        let mut warnings = Vec::new();
        for m in members(&self.list, &self.by_addr, i) {
            let s = &mut self.list[m];
            if s.state == SymState::Processed && s.crc != crc {
                warnings.push(format!(
                    "overriding version for symbol {} (crc {:x} vs. {:x})",
                    s.name, s.crc, crc
                ));
            }
            s.state = SymState::Processed;
            s.crc = crc;
        }
        warnings
    }
}

/// The first word of `line` as C's `sscanf("%s")` reads it (see
/// `Symbols::parse`).
fn first_word(line: &str) -> Option<&str> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let bytes = line.as_bytes();
    let line_end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
    let start = bytes[..line_end].iter().position(|b| !is_space(b))?;
    let len = bytes[start..line_end]
        .iter()
        .position(is_space)
        .unwrap_or(line_end - start);
    // Both ends are at ASCII bytes (or the end): character boundaries.
    Some(&line[start..start + len])
}

/// The hash of a symbol name in `Symbols::by_name`.
fn name_hash(name: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(name)
}

/// The symbols at one address: most often one, kept without a vector.
#[derive(Clone, Debug)]
enum Group {
    One(usize),
    Many(Vec<usize>),
}

impl Group {
    fn as_slice(&self) -> &[usize] {
        match self {
            Group::One(i) => std::slice::from_ref(i),
            Group::Many(v) => v,
        }
    }
}

/// Symbol `i` of `list` and the others at its address, `i` first (the
/// list itself is not borrowed by what is returned, so that the group's
/// symbols can be changed while it is gone through).
fn members<'m>(
    list: &[Symbol],
    by_addr: &'m HashMap<Addr, Group>,
    i: usize,
) -> impl DoubleEndedIterator<Item = usize> + 'm {
    let others = list[i]
        .addr
        .and_then(|a| by_addr.get(&a))
        .map_or(&[][..], Group::as_slice);
    std::iter::once(i).chain(others.iter().copied().filter(move |&m| m != i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_known_values() {
        // FNV-1a reference vectors.
        assert_eq!(fnv1a(""), 0x811c9dc5);
        assert_eq!(fnv1a("a"), 0xe40c292c);
        assert_eq!(fnv1a("foobar"), 0xbf9cf968);
        // Bytes >= 0x80 are sign-extended: differs from plain FNV-1a.
        assert_ne!(fnv1a("\u{e9}"), 0x811c9dc5);
    }

    #[test]
    fn parse_takes_first_words_and_drops_repeats() {
        let s = Symbols::parse("foo extra\nbar\n\nfoo\n  baz  \n");
        let names: Vec<_> = s.list.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["foo", "bar", "baz"]);
    }

    #[test]
    fn parse_splits_words_as_c_isspace_does() {
        // \v and \f are C whitespace; a no-break space (U+00A0) is not, and
        // a NUL byte ends the line. (gendwarfksyms 7.3 reads these lines,
        // without the blank ones, which it rejects, as these three names.)
        let s = Symbols::parse("\x0bfoo\x0cx\r\nbar\u{a0}baz qux\n\0skipped\nab\0c d\n\t \r\n");
        let names: Vec<_> = s.list.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["foo", "bar\u{a0}baz", "ab"]);
    }

    #[test]
    fn aliases_share_an_address() {
        let mut s = Symbols::parse("a\nb\nc\n");
        assert!(s.set_addr("a", (1, 0x10), "__p_").is_none());
        assert!(s.set_addr("b", (1, 0x10), "__p_").is_none());
        assert!(s.set_addr("c", (2, 0x10), "__p_").is_none());
        assert_eq!(s.group(0), [0, 1]);
        assert_eq!(s.group(2), [2]);
        assert!(s
            .set_addr("a", (3, 0), "__p_")
            .unwrap()
            .contains("multiple addresses"));
        s.set_die(1, 0, 42);
        assert_eq!(s.list[0].die, Some((0, 42)));
        assert_eq!(s.unprocessed("a", "__p_"), None);
        assert_eq!(s.unprocessed("__p_c", "__p_"), Some(2));
    }
}
