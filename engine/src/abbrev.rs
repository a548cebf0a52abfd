//! A unit's abbreviations (`.debug_abbrev`): what the DIEs of the unit
//! are made of, by abbreviation code.
//!
//! gimli parses a unit's abbreviations into one 112-byte record each, with
//! a vector of its own for an abbreviation of more than five attributes.
//! That parse is a tenth of what a run over a small object does (kbuild
//! runs one process per object); this one keeps the same abbreviations in
//! two vectors, and works out once per abbreviation what [`DieCursor`]
//! skips DIEs by: the size of their attributes when the forms fix it.
//!
//! The bytes are read with gimli's reader, in the order gimli reads them,
//! so that malformed abbreviations fail with gimli's errors (see the tests:
//! every unit of the golden objects, cut short at every byte).
//!
//! For example, the abbreviations
//!
//! ```text
//! 1  DW_TAG_base_type  no children   DW_AT_byte_size data1, DW_AT_name strp
//! 2  DW_TAG_pointer_type  no children  DW_AT_byte_size implicit_const 8, DW_AT_type ref4
//! ```
//!
//! of a 32-bit DWARF unit are `dense[0]` = (base_type, specs 0..2, size 5)
//! and `dense[1]` = (pointer_type, specs 2..4, size 4), with the four
//! attribute specifications side by side in `specs`.
//!
//! [`DieCursor`]: crate::dwarf::DieCursor

use gimli::{AttributeSpecification, DwTag, Encoding, Reader, ReaderOffset};
use rustc_hash::FxHashMap;

/// The abbreviations of one unit.
#[derive(Debug, Default)]
pub struct Abbreviations {
    /// Codes 1, 2, 3... in the order they were listed, while they are
    /// listed so (as compilers list them).
    dense: Vec<Record>,
    /// The others, by code.
    sparse: FxHashMap<u64, Record>,
    /// Every abbreviation's attribute specifications, one after another.
    specs: Vec<AttributeSpecification>,
}

#[derive(Clone, Copy, Debug)]
struct Record {
    tag: DwTag,
    has_children: bool,
    /// The abbreviation's attribute specifications: `specs[first..][..count]`.
    first: u32,
    count: u32,
    /// The size of the attributes of a DIE of this abbreviation, when its
    /// forms fix it; `VARYING` otherwise.
    size: u32,
}

/// In `Record::size`: the size is not fixed.
const VARYING: u32 = u32::MAX;

/// One abbreviation, as [`Abbreviations::get`] finds it.
#[derive(Clone, Copy, Debug)]
pub struct Abbreviation<'u> {
    code: u64,
    record: &'u Record,
    attributes: &'u [AttributeSpecification],
}

impl<'u> Abbreviation<'u> {
    pub fn code(&self) -> u64 {
        self.code
    }

    pub fn tag(&self) -> DwTag {
        self.record.tag
    }

    pub fn has_children(&self) -> bool {
        self.record.has_children
    }

    pub fn attributes(&self) -> &'u [AttributeSpecification] {
        self.attributes
    }

    /// The size of a DIE's attributes, when the forms fix it (see
    /// [`form_size`]).
    #[inline]
    pub fn fixed_size(&self) -> Option<usize> {
        match self.record.size {
            VARYING => None,
            n => Some(n as usize),
        }
    }
}

impl Abbreviations {
    /// Parses the abbreviations at the start of `input` (up to a null
    /// abbreviation, or to the end of `input`), for a unit of `encoding`,
    /// and leaves `input` after them. Fails as gimli's
    /// `Abbreviations::parse` fails.
    pub fn parse<R: Reader>(input: &mut R, encoding: Encoding) -> gimli::Result<Abbreviations> {
        // Room for a table as long as the rest of the input, up to a point
        // (a unit's table ends the section in an object file; a vmlinux has
        // thousands of tables): a specification takes at least 2 bytes, an
        // abbreviation 4 and three of them on average.
        let room = input.len().into_u64().min(1 << 13) as usize;
        let mut abbrevs = Abbreviations {
            dense: Vec::with_capacity(room / 12),
            specs: Vec::with_capacity(room / 3),
            ..Default::default()
        };
        // (A missing null abbreviation at the end is forgiven, as gimli
        // forgives it.)
        while !input.is_empty() {
            let code = input.read_uleb128()?;
            if code == 0 {
                break;
            }
            let tag = input.read_uleb128_u16()?;
            if tag == 0 {
                return Err(gimli::Error::AbbreviationTagZero);
            }
            let has_children = match gimli::DwChildren(input.read_u8()?) {
                gimli::DW_CHILDREN_no => false,
                gimli::DW_CHILDREN_yes => true,
                other => return Err(gimli::Error::InvalidAbbreviationChildren(other)),
            };
            let first = abbrevs.specs.len();
            let mut size = Some(0u32);
            loop {
                let name = input.read_uleb128_u16()?;
                let form = input.read_uleb128_u16()?;
                match (name, form) {
                    (0, 0) => break,
                    (0, _) => return Err(gimli::Error::AttributeNameZero),
                    (_, 0) => return Err(gimli::Error::AttributeFormZero),
                    _ => {}
                }
                let form = gimli::DwForm(form);
                let implicit = if form == gimli::DW_FORM_implicit_const {
                    Some(input.read_sleb128()?)
                } else {
                    None
                };
                size = size
                    .zip(form_size(form, encoding))
                    .and_then(|(n, s)| n.checked_add(u32::from(s)));
                abbrevs.specs.push(AttributeSpecification::new(
                    gimli::DwAt(name),
                    form,
                    implicit,
                ));
            }
            let too_many = || gimli::Error::UnsupportedOffset;
            let record = Record {
                tag: DwTag(tag),
                has_children,
                first: u32::try_from(first).map_err(|_| too_many())?,
                count: u32::try_from(abbrevs.specs.len() - first).map_err(|_| too_many())?,
                size: size.filter(|&n| n != VARYING).unwrap_or(VARYING),
            };
            if !abbrevs.insert(code, record) {
                return Err(gimli::Error::DuplicateAbbreviationCode(code));
            }
        }
        Ok(abbrevs)
    }

    /// Adds the abbreviation of `code`; `false` if the code was taken.
    fn insert(&mut self, code: u64, record: Record) -> bool {
        let next = self.dense.len() as u64 + 1;
        if code < next {
            return false;
        }
        if code == next && !self.sparse.contains_key(&code) {
            self.dense.push(record);
            return true;
        }
        self.sparse.insert(code, record).is_none()
    }

    /// The abbreviation of `code`.
    #[inline]
    pub fn get(&self, code: u64) -> Option<Abbreviation<'_>> {
        let record = match usize::try_from(code).ok().and_then(|c| c.checked_sub(1)) {
            Some(i) if i < self.dense.len() => &self.dense[i],
            _ => self.sparse.get(&code)?,
        };
        Some(Abbreviation {
            code,
            record,
            attributes: &self.specs[record.first as usize..][..record.count as usize],
        })
    }

    /// Whether any abbreviation has an attribute of `form`.
    pub fn uses_form(&self, form: gimli::DwForm) -> bool {
        self.specs.iter().any(|s| s.form() == form)
    }
}

/// The size of an attribute of this form when the form fixes it (DWARF 5,
/// section 7.5.6), as gimli skips it.
pub fn form_size(form: gimli::DwForm, encoding: Encoding) -> Option<u8> {
    use gimli::constants as dw;
    Some(match form {
        dw::DW_FORM_flag_present | dw::DW_FORM_implicit_const => 0,
        dw::DW_FORM_data1
        | dw::DW_FORM_ref1
        | dw::DW_FORM_flag
        | dw::DW_FORM_strx1
        | dw::DW_FORM_addrx1 => 1,
        dw::DW_FORM_data2 | dw::DW_FORM_ref2 | dw::DW_FORM_strx2 | dw::DW_FORM_addrx2 => 2,
        dw::DW_FORM_strx3 | dw::DW_FORM_addrx3 => 3,
        dw::DW_FORM_data4
        | dw::DW_FORM_ref4
        | dw::DW_FORM_ref_sup4
        | dw::DW_FORM_strx4
        | dw::DW_FORM_addrx4 => 4,
        dw::DW_FORM_data8 | dw::DW_FORM_ref8 | dw::DW_FORM_ref_sig8 | dw::DW_FORM_ref_sup8 => 8,
        dw::DW_FORM_data16 => 16,
        dw::DW_FORM_addr => encoding.address_size,
        dw::DW_FORM_sec_offset
        | dw::DW_FORM_strp
        | dw::DW_FORM_line_strp
        | dw::DW_FORM_strp_sup
        | dw::DW_FORM_GNU_ref_alt
        | dw::DW_FORM_GNU_strp_alt => encoding.format.word_size(),
        dw::DW_FORM_ref_addr if encoding.version == 2 => encoding.address_size,
        dw::DW_FORM_ref_addr => encoding.format.word_size(),
        _ => return None,
    })
}

/// Parses `data` (a unit's abbreviations, for a unit of `encoding`) as
/// gimli does and as [`Abbreviations::parse`] does, and panics unless both
/// fail with the same error or give the same abbreviation for every code
/// ours has (and none for the codes just past them): what the tests and
/// the `abbrev` fuzz target check. The number of abbreviations, or the
/// error.
pub(crate) fn compare_with_gimli(data: &[u8], encoding: Encoding) -> Result<usize, String> {
    use gimli::{EndianSlice, RunTimeEndian};
    let input = EndianSlice::new(data, RunTimeEndian::Little);
    let theirs = gimli::DebugAbbrev::from(input).abbreviations(gimli::DebugAbbrevOffset(0));
    let ours = Abbreviations::parse(&mut input.clone(), encoding);
    let (theirs, ours) = match (theirs, ours) {
        (Err(t), Err(o)) => {
            assert_eq!(o.to_string(), t.to_string(), "{data:02x?}");
            return Err(o.to_string());
        }
        (Ok(t), Ok(o)) => (t, o),
        (t, o) => panic!("gimli: {t:?}\nours: {o:?}\n{data:02x?}"),
    };
    let dense = ours.dense.len() as u64;
    let codes: Vec<u64> = (1..=dense + 2)
        .chain(ours.sparse.keys().flat_map(|&c| [c, c.wrapping_add(1)]))
        .collect();
    for code in codes {
        match (theirs.get(code), ours.get(code)) {
            (None, None) => {}
            (Some(t), Some(o)) => {
                assert_eq!(o.code(), t.code());
                assert_eq!(o.tag(), t.tag(), "code {code}");
                assert_eq!(o.has_children(), t.has_children(), "code {code}");
                assert_eq!(o.attributes(), t.attributes(), "code {code}");
                let size: Option<u32> = t.attributes().iter().try_fold(0u32, |n, s| {
                    n.checked_add(u32::from(form_size(s.form(), encoding)?))
                });
                let size = size.filter(|&n| n != VARYING).map(|n| n as usize);
                assert_eq!(o.fixed_size(), size, "code {code}");
            }
            (t, o) => panic!("code {code}: gimli {t:?}, ours {o:?}"),
        }
    }
    Ok(dense as usize + ours.sparse.len())
}

#[cfg(test)]
mod tests;
