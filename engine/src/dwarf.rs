//! Random access to the DIEs of one object's `.debug_info`, by global
//! offset, over gimli.
//!
//! A DIE is named by its offset in `.debug_info` ([`DieId`]), which is
//! unique within an object and cheap to store in the type cache. Values are
//! read the way gendwarfksyms reads them through libdw: constants are
//! unsigned (a negative `sdata` reads as its two's complement), references
//! may cross units (`DW_FORM_ref_addr`), and `DW_FORM_ref_sig8` is not
//! followed.

use crate::abbrev::{Abbreviation, Abbreviations};
use crate::elf::ObjectFile;
use crate::Error;
use gimli::{AttributeValue, DwAt, DwTag, EndianSlice, RunTimeEndian, UnitOffset};
use ksymrules_grammar::model::UnitField;
use rustc_hash::FxHashMap;

pub type Reader<'a> = EndianSlice<'a, RunTimeEndian>;
pub type Entry<'a> = gimli::DebuggingInformationEntry<Reader<'a>>;

/// A DIE: its offset in `.debug_info`.
pub type DieId = u64;

pub struct Unit<'a> {
    /// The DIE id of the unit's first byte, and one past its last.
    pub start: u64,
    pub end: u64,
    pub unit: gimli::Unit<Reader<'a>>,
    /// In `.debug_info` proper (not a type-unit section).
    pub main: bool,
    /// The unit's abbreviations (`unit.abbreviations`, gimli's, is empty:
    /// see `read_unit`).
    pub abbrevs: Abbreviations,
}

impl<'a> Unit<'a> {
    /// A cursor at the unit's DIE at `start` (its first DIE when `None`).
    pub fn cursor(&self, start: Option<UnitOffset>) -> gimli::Result<DieCursor<'_, 'a>> {
        DieCursor::new(&self.unit, &self.abbrevs, start)
    }
}

/// Reads the unit of `header` as gimli's `Dwarf::unit` reads it (the same
/// fields, from its first DIE; the same errors), except that its
/// abbreviations are parsed into an [`Abbreviations`], not gimli's (whose
/// set in the unit is left empty: every DIE is read with a [`DieCursor`]).
pub fn read_unit<'a>(
    dwarf: &gimli::Dwarf<Reader<'a>>,
    header: gimli::UnitHeader<Reader<'a>>,
) -> gimli::Result<(gimli::Unit<Reader<'a>>, Abbreviations)> {
    use gimli::Section;
    let encoding = header.encoding();
    let abbrevs = {
        let mut input = *dwarf.debug_abbrev.reader();
        gimli::Reader::skip(&mut input, header.debug_abbrev_offset().0)?;
        Abbreviations::parse(&mut input, encoding)?
    };
    let file = dwarf.file_type;
    let mut unit = gimli::Unit {
        abbreviations: empty_abbreviations(),
        name: None,
        comp_dir: None,
        low_pc: 0,
        str_offsets_base: gimli::DebugStrOffsetsBase::default_for_encoding_and_file(encoding, file),
        addr_base: gimli::DebugAddrBase(0),
        loclists_base: gimli::DebugLocListsBase::default_for_encoding_and_file(encoding, file),
        rnglists_base: gimli::DebugRngListsBase::default_for_encoding_and_file(encoding, file),
        line_program: None,
        dwo_id: match header.type_() {
            gimli::UnitType::Skeleton(id) | gimli::UnitType::SplitCompilation(id) => Some(id),
            _ => None,
        },
        header,
    };
    // The first DIE that is not a null entry. (A unit with no bytes of
    // DIEs has no place for a cursor to start: no DIE either.)
    let mut root = Entry::default();
    let mut cursor =
        DieCursor::new(&unit, &abbrevs, None).map_err(|_| gimli::Error::MissingUnitDie)?;
    if !cursor.next_dfs(&mut root)? {
        return Err(gimli::Error::MissingUnitDie);
    }
    let (mut name, mut comp_dir, mut line_program, mut low_pc) = (None, None, None, None);
    for attr in &root.attrs {
        match (attr.name(), attr.value()) {
            (gimli::DW_AT_name, v) => name = Some(v),
            (gimli::DW_AT_comp_dir, v) => comp_dir = Some(v),
            (gimli::DW_AT_low_pc, v) => low_pc = Some(v),
            (gimli::DW_AT_stmt_list, AttributeValue::DebugLineRef(o)) => line_program = Some(o),
            (gimli::DW_AT_str_offsets_base, AttributeValue::DebugStrOffsetsBase(b)) => {
                unit.str_offsets_base = b;
            }
            (
                gimli::DW_AT_addr_base | gimli::DW_AT_GNU_addr_base,
                AttributeValue::DebugAddrBase(b),
            ) => unit.addr_base = b,
            (gimli::DW_AT_loclists_base, AttributeValue::DebugLocListsBase(b)) => {
                unit.loclists_base = b;
            }
            (
                gimli::DW_AT_rnglists_base | gimli::DW_AT_GNU_ranges_base,
                AttributeValue::DebugRngListsBase(b),
            ) => unit.rnglists_base = b,
            (gimli::DW_AT_GNU_dwo_id, AttributeValue::DwoId(id)) => {
                unit.dwo_id = unit.dwo_id.or(Some(id));
            }
            _ => {}
        }
    }
    unit.name = name.and_then(|v| dwarf.attr_string(&unit, v).ok());
    unit.comp_dir = comp_dir.and_then(|v| dwarf.attr_string(&unit, v).ok());
    if let Some(offset) = line_program {
        unit.line_program = Some(dwarf.debug_line.program(
            offset,
            unit.header.address_size(),
            unit.comp_dir,
            unit.name,
        )?);
    }
    if let Some(v) = low_pc {
        if let Some(address) = dwarf.attr_address(&unit, v)? {
            unit.low_pc = address;
        }
    }
    Ok((unit, abbrevs))
}

/// The empty set of gimli abbreviations every unit is given.
fn empty_abbreviations() -> std::sync::Arc<gimli::Abbreviations> {
    static EMPTY: std::sync::OnceLock<std::sync::Arc<gimli::Abbreviations>> =
        std::sync::OnceLock::new();
    EMPTY.get_or_init(Default::default).clone()
}

pub struct Dwarf<'a> {
    pub dwarf: gimli::Dwarf<Reader<'a>>,
    /// Every unit, ordered by DIE id: `.debug_info` first.
    pub units: Vec<Unit<'a>>,
    /// How many of `units` are in `.debug_info` proper.
    pub main_units: usize,
    /// Type signature -> the type's DIE, when type units are followed.
    /// Type units by signature (hashed without a random seed: asking the
    /// kernel for one is a system call a small object's run need not make).
    signatures: FxHashMap<u64, DieId>,
    follow_type_units: bool,
    obj: &'a ObjectFile,
    /// Whether `.debug_info` is large enough for `release_unit` to matter.
    releases: bool,
    /// Units whose pass is done but whose pages are still resident: they
    /// are released together (see `release_unit`).
    done: std::sync::Mutex<Done>,
    /// `.debug_str`.
    debug_str: &'a [u8],
}

/// `.debug_info` from this size on has its units' pages released after
/// each pass over them (see `Dwarf::release_unit`).
const RELEASE_FROM: usize = 32 << 20;

/// Units done with are released once this many of their bytes are waiting:
/// one system call for many units, for the kernel's every release of a
/// mapping's pages interrupts the other threads to flush their TLBs.
const RELEASE_BATCH: u64 = 8 << 20;

/// The `.debug_info` ranges of units done with, not yet released.
#[derive(Default)]
struct Done {
    ranges: Vec<(u64, u64)>,
    bytes: u64,
}

/// DIE ids carry their section in the bits above this: 0 for
/// `.debug_info`, then one number per type-unit section.
const SECTION_SHIFT: u32 = 48;

/// `ranges` sorted, those that touch joined.
fn coalesce(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if last.1 == start => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Whether [`Dwarf::load`] reads (and relocates) this section; the others
/// are left empty. Location and range lists are never read: not
/// relocating them saves most of the relocation work on a module. (Type
/// units are read from their sections when they are followed.)
pub fn reads_section(id: gimli::SectionId) -> bool {
    !matches!(
        id,
        gimli::SectionId::DebugTypes
            | gimli::SectionId::DebugLoc
            | gimli::SectionId::DebugLocLists
            | gimli::SectionId::DebugRanges
            | gimli::SectionId::DebugRngLists
            | gimli::SectionId::DebugAranges
    )
}

pub(crate) fn dwarf_err(e: gimli::Error) -> Error {
    Error::new(format!("malformed DWARF: {e}"))
}

impl<'a> Dwarf<'a> {
    /// Reads the unit headers of `obj`'s DWARF. An object without
    /// `.debug_info` units is an error (nothing can be versioned from it).
    /// With `follow_type_units`, the type units of `.debug_types` and of
    /// `.debug_info` sections in COMDAT groups are read too, so that
    /// `DW_FORM_ref_sig8` references can be followed.
    pub fn load(obj: &'a ObjectFile, follow_type_units: bool) -> Result<Dwarf<'a>, Error> {
        let endian = if obj.is_little_endian() {
            RunTimeEndian::Little
        } else {
            RunTimeEndian::Big
        };
        let dwarf = gimli::Dwarf::load(|id| -> Result<Reader<'a>, Error> {
            let data = if reads_section(id) {
                obj.debug_section(id.name()).map_err(Error::from)?
            } else {
                None
            };
            Ok(EndianSlice::new(data.unwrap_or(&[]), endian))
        })?;
        let mut this = Dwarf {
            units: Vec::new(),
            main_units: 0,
            signatures: FxHashMap::default(),
            follow_type_units,
            obj,
            releases: false,
            done: Default::default(),
            debug_str: {
                use gimli::Section;
                dwarf.debug_str.reader().slice()
            },
            dwarf,
        };
        // The headers in order; the units (abbreviations, line tables) on
        // all cores.
        let mut headers = Vec::new();
        let mut it = this.dwarf.units();
        // An error after the good headers is reported after theirs.
        let bad_header = loop {
            match it.next() {
                Ok(Some(header)) => headers.push(header),
                Ok(None) => break None,
                Err(e) => break Some(dwarf_err(e)),
            }
        };
        type Read<'a> = Result<(gimli::Unit<Reader<'a>>, Abbreviations), Error>;
        let units: Vec<Read<'a>> = {
            use rayon::prelude::*;
            let dwarf = &this.dwarf;
            headers
                .par_iter()
                .map(|h| read_unit(dwarf, *h).map_err(dwarf_err))
                .collect()
        };
        for (header, unit) in headers.into_iter().zip(units) {
            this.push_unit(header, unit?, 0, true);
        }
        if let Some(e) = bad_header {
            return Err(e);
        }
        this.main_units = this.units.len();
        this.releases = this.info().len() >= RELEASE_FROM;
        if this.releases {
            // Reading each unit's root entry brought in the pages around
            // it too (fault-around): about 64 KB a unit.
            obj.release(this.info());
        }
        if this.units.is_empty() {
            return Err(Error::new(
                "no debugging information (no .debug_info units)",
            ));
        }
        if follow_type_units {
            let mut section = 1u64;
            for data in obj.group_debug_sections(".debug_info")? {
                let mut it = gimli::DebugInfo::new(data, endian).units();
                while let Some(header) = it.next().map_err(dwarf_err)? {
                    this.add_unit(header, section, false)?;
                }
                section += 1;
            }
            let mut types: Vec<&'a [u8]> = obj.debug_section(".debug_types")?.into_iter().collect();
            types.extend(obj.group_debug_sections(".debug_types")?);
            for data in types {
                let mut it = gimli::DebugTypes::new(data, endian).units();
                while let Some(header) = it.next().map_err(dwarf_err)? {
                    this.add_unit(header, section, false)?;
                }
                section += 1;
            }
        }
        Ok(this)
    }

    fn add_unit(
        &mut self,
        header: gimli::UnitHeader<Reader<'a>>,
        section: u64,
        main: bool,
    ) -> Result<(), Error> {
        let unit = read_unit(&self.dwarf, header).map_err(dwarf_err)?;
        self.push_unit(header, unit, section, main);
        Ok(())
    }

    fn push_unit(
        &mut self,
        header: gimli::UnitHeader<Reader<'a>>,
        (unit, abbrevs): (gimli::Unit<Reader<'a>>, Abbreviations),
        section: u64,
        main: bool,
    ) {
        let offset = header.offset().0 as u64;
        let start = (section << SECTION_SHIFT) | offset;
        let end = start + header.length_including_self() as u64;
        let signature = match header.type_() {
            gimli::UnitType::Type {
                type_signature,
                type_offset,
            }
            | gimli::UnitType::SplitType {
                type_signature,
                type_offset,
            } => Some((type_signature.0, start + type_offset.0 as u64)),
            _ => None,
        };
        if let Some((sig, die)) = signature {
            self.signatures.entry(sig).or_insert(die);
        }
        self.units.push(Unit {
            start,
            end,
            unit,
            main,
            abbrevs,
        });
    }

    /// The index of the unit holding `die`.
    pub fn unit_index(&self, die: DieId) -> Result<usize, Error> {
        let i = self.units.partition_point(|u| u.start <= die);
        if i == 0 || die >= self.units[i - 1].end {
            return Err(Error::new(format!(
                "DIE reference {die:#x} is outside every unit"
            )));
        }
        Ok(i - 1)
    }

    /// The index of the unit holding `die`, trying `hint` first.
    pub fn unit_index_near(&self, hint: usize, die: DieId) -> Result<usize, Error> {
        match self.units.get(hint) {
            Some(u) if u.start <= die && die < u.end => Ok(hint),
            _ => self.unit_index(die),
        }
    }

    /// The DIE at `die` with its attributes.
    /// A field of unit `ui`, read from its root DIE (see `UnitField`).
    pub fn unit_field(&self, ui: usize, f: UnitField) -> Result<Option<String>, Error> {
        let u = &self.units[ui];
        let root = u.start + u.unit.header.header_size() as u64;
        let (rui, entry) = self.entry(root)?;
        Ok(match f {
            UnitField::Language => Dwarf::constant(&entry, gimli::DW_AT_language)
                .map(|l| UnitField::language_name(l as u16)),
            UnitField::Producer => self
                .string(rui, &entry, gimli::DW_AT_producer)?
                .map(|s| String::from_utf8_lossy(s).into_owned()),
            UnitField::Name => self
                .string(rui, &entry, gimli::DW_AT_name)?
                .map(|s| String::from_utf8_lossy(s).into_owned()),
        })
    }

    pub fn entry(&self, die: DieId) -> Result<(usize, Entry<'a>), Error> {
        let mut e = Entry::default();
        let ui = self.read_entry(usize::MAX, die, &mut e)?;
        Ok((ui, e))
    }

    /// Reads the DIE at `die` into `entry` (reusing its memory); its unit
    /// is looked for from `hint`. Returns the unit's index.
    pub fn read_entry(
        &self,
        hint: usize,
        die: DieId,
        entry: &mut Entry<'a>,
    ) -> Result<usize, Error> {
        let ui = self.unit_index_near(hint, die)?;
        let u = &self.units[ui];
        let off = UnitOffset((die - u.start) as usize);
        let fail = |e: gimli::Error| Error::new(format!("cannot read the DIE at {die:#x}: {e}"));
        let mut cursor = u.cursor(Some(off)).map_err(fail)?;
        let Some(abbrev) = cursor.read_abbreviation().map_err(fail)? else {
            return Err(fail(gimli::Error::NoEntryAtGivenOffset(off.0 as u64)));
        };
        entry_header(entry, abbrev, off, 0);
        cursor
            .read_attributes(abbrev, &mut entry.attrs)
            .map_err(fail)?;
        Ok(ui)
    }

    /// `read_entry`, keeping only the attributes of `wanted` for the DIE's
    /// tag (all of them for a tag it does not list): the others read as
    /// absent. Only attributes of fixed-size forms are left out, skipped
    /// as gimli skips them; on any error the DIE is read whole, so that
    /// what fails, and how, is the same.
    pub fn read_entry_only(
        &self,
        hint: usize,
        die: DieId,
        entry: &mut Entry<'a>,
        wanted: &TagAttrs<'_>,
    ) -> Result<usize, Error> {
        match self.read_wanted(hint, die, entry, wanted) {
            Some(ui) => Ok(ui),
            None => self.read_entry(hint, die, entry),
        }
    }

    fn read_wanted(
        &self,
        hint: usize,
        die: DieId,
        entry: &mut Entry<'a>,
        wanted: &TagAttrs<'_>,
    ) -> Option<usize> {
        let ui = self.unit_index_near(hint, die).ok()?;
        let u = &self.units[ui];
        let off = UnitOffset((die - u.start) as usize);
        let mut cursor = u.cursor(Some(off)).ok()?;
        let abbrev = cursor.read_abbreviation().ok()??;
        cursor.with_raw(|raw| read_attrs(raw, abbrev, off, entry, wanted, self.debug_str))?;
        Some(ui)
    }

    /// `children_into`, reading the attributes of each child of a tag
    /// `read` takes too, as `read_entry_only` would, into `entries` (one
    /// per child, `None` for the others; from `spare`). `false`, with
    /// nothing added, on any error: the caller lists the children the
    /// plain way, which reports it.
    #[allow(clippy::too_many_arguments)]
    pub fn children_entries_into(
        &self,
        ui: usize,
        die: DieId,
        out: &mut Vec<(DieId, DwTag)>,
        entries: &mut Vec<Option<Entry<'a>>>,
        spare: &mut Vec<Entry<'a>>,
        wanted: &TagAttrs<'_>,
        read: impl Fn(DwTag) -> bool,
    ) -> bool {
        let start = out.len();
        let first = entries.len();
        if self
            .children_read(ui, die, out, entries, spare, wanted, read)
            .is_some()
        {
            return true;
        }
        out.truncate(start);
        spare.extend(entries.drain(first..).flatten());
        false
    }

    #[allow(clippy::too_many_arguments)]
    fn children_read(
        &self,
        ui: usize,
        die: DieId,
        out: &mut Vec<(DieId, DwTag)>,
        entries: &mut Vec<Option<Entry<'a>>>,
        spare: &mut Vec<Entry<'a>>,
        wanted: &TagAttrs<'_>,
        read: impl Fn(DwTag) -> bool,
    ) -> Option<()> {
        let u = &self.units[ui];
        let off = UnitOffset((die - u.start) as usize);
        let mut cursor = u.cursor(Some(off)).ok()?;
        let parent = cursor.read_abbreviation().ok()??;
        cursor.skip_attributes(parent).ok()?;
        if !parent.has_children() {
            return Some(());
        }
        let mut depth = 0usize;
        while !cursor.is_empty() {
            let at = cursor.next_offset();
            match cursor.read_abbreviation().ok()? {
                None if depth == 0 => return Some(()),
                None => depth -= 1,
                Some(a) => {
                    if depth == 0 && !read(a.tag()) {
                        cursor.skip_attributes(a).ok()?;
                        out.push((u.start + at.0 as u64, a.tag()));
                        entries.push(None);
                    } else if depth == 0 {
                        let mut e = spare.pop().unwrap_or_default();
                        let done = cursor
                            .with_raw(|raw| read_attrs(raw, a, at, &mut e, wanted, self.debug_str));
                        if done.is_none() {
                            spare.push(e);
                            return None;
                        }
                        out.push((u.start + at.0 as u64, a.tag()));
                        entries.push(Some(e));
                    } else {
                        cursor.skip_attributes(a).ok()?;
                    }
                    if a.has_children() {
                        depth += 1;
                    }
                }
            }
        }
        Some(())
    }

    /// The unit's root DIE.
    pub fn unit_root(&self, ui: usize) -> DieId {
        let u = &self.units[ui];
        u.start + u.unit.header.root_offset().0 as u64
    }

    /// The offsets of `die`'s children, in order.
    pub fn children(&self, ui: usize, die: DieId) -> Result<Vec<(DieId, DwTag)>, Error> {
        let mut out = Vec::new();
        self.children_into(ui, die, &mut out)?;
        Ok(out)
    }

    /// Appends the offsets and tags of `die`'s children to `out`, in order,
    /// reading only abbreviations (attributes are skipped, not parsed).
    pub fn children_into(
        &self,
        ui: usize,
        die: DieId,
        out: &mut Vec<(DieId, DwTag)>,
    ) -> Result<(), Error> {
        let u = &self.units[ui];
        let off = UnitOffset((die - u.start) as usize);
        let mut cursor = u.cursor(Some(off)).map_err(dwarf_err)?;
        let Some(parent) = cursor.read_abbreviation().map_err(dwarf_err)? else {
            return Err(Error::new(format!("no DIE at {die:#x} (a null entry)")));
        };
        cursor.skip_attributes(parent).map_err(dwarf_err)?;
        if !parent.has_children() {
            return Ok(());
        }
        // Depth relative to the children's level.
        let mut depth = 0usize;
        // The end of the unit ends every open list.
        while !cursor.is_empty() {
            let at = u.start + cursor.next_offset().0 as u64;
            match cursor.read_abbreviation().map_err(dwarf_err)? {
                None if depth == 0 => return Ok(()),
                None => depth -= 1,
                Some(a) => {
                    if depth == 0 {
                        out.push((at, a.tag()));
                    }
                    cursor.skip_attributes(a).map_err(dwarf_err)?;
                    if a.has_children() {
                        depth += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// A reference attribute, resolved to the DIE it names. `None` when the
    /// attribute is missing or cannot be followed (type-unit signatures,
    /// unless type units are followed). When they are, a skeleton
    /// declaration that only carries a signature stands for its type.
    /// Whether a DIE of `.debug_info` may refer to a type unit by its
    /// signature (`DW_FORM_ref_sig8`, from `-fdebug-types-section`): some
    /// abbreviation of a unit uses that form.
    pub fn refers_to_type_units(&self) -> bool {
        self.units[..self.main_units]
            .iter()
            .any(|u| u.abbrevs.uses_form(gimli::DW_FORM_ref_sig8))
    }

    /// Asks for the first bytes of the DIEs an entry of unit `ui` refers
    /// to within its unit to be fetched into the cache, and gives `also`
    /// each of them: a DIE the walk reads is mostly described right after
    /// the DIEs that refer to it.
    #[inline]
    pub fn prefetch_refs(&self, ui: usize, entry: &Entry<'a>, mut also: impl FnMut(DieId)) {
        let u = &self.units[ui];
        for a in &entry.attrs {
            if let AttributeValue::UnitRef(o) = a.raw_value() {
                let id = u.start + o.0 as u64;
                if id < u.end {
                    if u.main {
                        prefetch(self.info(), id as usize);
                    }
                    also(id);
                }
            }
        }
    }

    /// `.debug_info` proper.
    fn info(&self) -> &'a [u8] {
        use gimli::Section;
        self.dwarf.debug_info.reader().slice()
    }

    /// Says that a pass over unit `ui` is done (the scan, or its walk): on
    /// a large object, its bytes leave the resident memory until they are
    /// read again (see `ObjectFile::release`). Units are read in passes, a
    /// few at a time, so a vmlinux need not keep all of `.debug_info`
    /// resident at once. Units done with are released in batches of about
    /// `RELEASE_BATCH` bytes, neighbours together.
    pub fn release_unit(&self, ui: usize) {
        let Some(u) = self.units.get(ui).filter(|u| u.main && self.releases) else {
            return;
        };
        let ranges = {
            let Ok(mut done) = self.done.lock() else {
                return;
            };
            done.ranges.push((u.start, u.end));
            done.bytes += u.end - u.start;
            if done.bytes < RELEASE_BATCH {
                return;
            }
            done.bytes = 0;
            std::mem::take(&mut done.ranges)
        };
        for (start, end) in coalesce(ranges) {
            if let Some(bytes) = self.info().get(start as usize..end as usize) {
                self.obj.release(bytes);
            }
        }
    }

    pub fn reference(
        &self,
        ui: usize,
        entry: &Entry<'a>,
        at: DwAt,
    ) -> Result<Option<DieId>, Error> {
        let target = self.reference_raw(ui, entry, at)?;
        if !self.follow_type_units {
            return Ok(target);
        }
        let Some(id) = target else { return Ok(None) };
        let (tui, te) = self.entry(id)?;
        if at != gimli::DW_AT_signature && te.attr(gimli::DW_AT_signature).is_some() {
            if let Some(real) = self.reference_raw(tui, &te, gimli::DW_AT_signature)? {
                return Ok(Some(real));
            }
        }
        Ok(Some(id))
    }

    fn reference_raw(
        &self,
        ui: usize,
        entry: &Entry<'a>,
        at: DwAt,
    ) -> Result<Option<DieId>, Error> {
        let u = &self.units[ui];
        Ok(match entry.attr_value_raw(at) {
            Some(AttributeValue::UnitRef(o)) => {
                let id = u.start + o.0 as u64;
                if id >= u.end {
                    return Err(Error::new(format!(
                        "DIE reference {id:#x} is outside its unit"
                    )));
                }
                Some(id)
            }
            Some(AttributeValue::DebugInfoRef(o)) => {
                // Within its own section for a type-unit section of
                // `.debug_info` kind; otherwise in `.debug_info` proper.
                let section = if u.main { 0 } else { u.start >> SECTION_SHIFT };
                let id = (section << SECTION_SHIFT) | o.0 as u64;
                self.unit_index(id)?;
                Some(id)
            }
            Some(AttributeValue::DebugTypesRef(sig)) => self.signatures.get(&sig.0).copied(),
            _ => None,
        })
    }

    /// A string attribute (any string form). `None` when missing or not a
    /// string.
    pub fn string(
        &self,
        ui: usize,
        entry: &Entry<'a>,
        at: DwAt,
    ) -> Result<Option<&'a [u8]>, Error> {
        let Some(value) = entry.attr_value_raw(at) else {
            return Ok(None);
        };
        let u = &self.units[ui];
        if let AttributeValue::DebugStrRef(o) = value {
            // Most names: found at once (gimli looks for the NUL byte by
            // byte). Anything amiss is left to gimli, and its error.
            if let Some(tail) = self.debug_str.get(o.0..) {
                if let Some(n) = memchr::memchr(0, tail) {
                    return Ok(Some(&tail[..n]));
                }
            }
        }
        match value {
            AttributeValue::String(_)
            | AttributeValue::DebugStrRef(_)
            | AttributeValue::DebugStrOffsetsIndex(_)
            | AttributeValue::DebugLineStrRef(_) => {
                let s = self
                    .dwarf
                    .attr_string(&u.unit, value)
                    .map_err(|e| Error::new(format!("cannot read a string attribute: {e}")))?;
                Ok(Some(s.slice()))
            }
            _ => Ok(None),
        }
    }

    /// Whether an attribute is present with a string form (what makes
    /// `string` give `Some`, unless the string cannot be read).
    pub fn has_string(entry: &Entry<'a>, at: DwAt) -> bool {
        matches!(
            entry.attr_value_raw(at),
            Some(
                AttributeValue::String(_)
                    | AttributeValue::DebugStrRef(_)
                    | AttributeValue::DebugStrOffsetsIndex(_)
                    | AttributeValue::DebugLineStrRef(_)
            )
        )
    }

    /// A flag attribute: present and set.
    pub fn flag(entry: &Entry<'a>, at: DwAt) -> bool {
        matches!(entry.attr_value_raw(at), Some(AttributeValue::Flag(true)))
    }

    /// A constant attribute, read as unsigned the way libdw's
    /// `dwarf_formudata` does.
    pub fn constant(entry: &Entry<'a>, at: DwAt) -> Option<u64> {
        match entry.attr_value_raw(at)? {
            AttributeValue::Data1(v) => Some(v.into()),
            AttributeValue::Data2(v) => Some(v.into()),
            AttributeValue::Data4(v) => Some(v.into()),
            AttributeValue::Data8(v) => Some(v),
            AttributeValue::Udata(v) => Some(v),
            AttributeValue::Sdata(v) => Some(v as u64),
            _ => None,
        }
    }

    /// The path of file `index` of the unit's line table, as written there
    /// (DWARF 5 counts from 0, earlier versions from 1).
    pub fn file_name(&self, ui: usize, index: u64) -> Result<Vec<u8>, Error> {
        let u = &self.units[ui];
        let missing = || {
            Error::new(format!(
                "file index {index} is not in the unit's line table"
            ))
        };
        let program = u.unit.line_program.as_ref().ok_or_else(missing)?;
        let header = program.header();
        if header.version() <= 4 && index == 0 {
            // libdw names the unused entry 0 "???".
            return Ok(b"???".to_vec());
        }
        let file = header.file(index).ok_or_else(missing)?;
        let name = self
            .dwarf
            .attr_string(&u.unit, file.path_name())
            .map_err(|e| Error::new(format!("cannot read a file name: {e}")))?;
        Ok(name.slice().to_vec())
    }

    /// The `.dwo` file a split-DWARF skeleton unit points to.
    pub fn dwo_name(&self, ui: usize) -> Option<String> {
        let u = &self.units[ui];
        // The unit's first entry (gimli's `Unit::dwo_name`).
        let (_, entry) = self.entry(self.unit_root(ui)).ok()?;
        let at = match u.unit.header.version() {
            ..=4 => gimli::DW_AT_GNU_dwo_name,
            _ => gimli::DW_AT_dwo_name,
        };
        let value = entry.attr_value(at)?;
        let s = self.dwarf.attr_string(&u.unit, value).ok()?;
        Some(String::from_utf8_lossy(s.slice()).into_owned())
    }

    /// Whether the unit is a split-DWARF skeleton (its DIEs are in a .dwo).
    pub fn is_skeleton(&self, ui: usize) -> bool {
        let u = &self.units[ui];
        matches!(
            u.unit.header.type_(),
            gimli::UnitType::Skeleton(_) | gimli::UnitType::SplitCompilation(_)
        ) || u.unit.dwo_id.is_some()
    }
}

/// Attributes of a DIE, by number: the standard ones (below 256) in a
/// bitmap; any other always counts as included.
#[derive(Clone, Copy, Debug, Default)]
pub struct AttrSet {
    bits: [u64; 4],
}

impl AttrSet {
    pub fn new(attrs: impl IntoIterator<Item = DwAt>) -> Self {
        let mut set = AttrSet::default();
        for at in attrs {
            set.insert(at);
        }
        set
    }

    /// A set of standard attributes, made at compile time.
    pub const fn of(attrs: &[DwAt]) -> Self {
        let mut bits = [0u64; 4];
        let mut i = 0;
        while i < attrs.len() {
            let at = attrs[i].0;
            assert!(at < 256, "a standard attribute");
            bits[(at >> 6) as usize] |= 1 << (at & 63);
            i += 1;
        }
        AttrSet { bits }
    }

    pub fn insert(&mut self, at: DwAt) {
        if at.0 < 256 {
            self.bits[usize::from(at.0 >> 6)] |= 1 << (at.0 & 63);
        }
    }

    #[inline]
    pub fn contains(&self, at: DwAt) -> bool {
        at.0 >= 256 || self.bits[usize::from(at.0 >> 6)] & (1 << (at.0 & 63)) != 0
    }
}

/// Per tag, the attributes to read of its DIEs (`Dwarf::read_entry_only`);
/// tags without a set are read whole. A tag's set is worked out the first
/// time a DIE of the tag is read: a small object meets few of the tags a
/// rules file describes, and kbuild runs one process per object.
pub struct TagAttrs<'r> {
    /// Indexed by tag number, for the tags below `tags` (at most the 256
    /// standard ones).
    sets: Vec<std::sync::OnceLock<Option<AttrSet>>>,
    /// A tag's set.
    of: Box<dyn Fn(DwTag) -> Option<AttrSet> + Send + Sync + 'r>,
}

impl<'r> TagAttrs<'r> {
    /// Sets for the tags below `tags` (clamped to the standard 256) that
    /// `of` gives one; every other tag is read whole. A table no larger
    /// than the rules need: every page a tiny object's run touches costs
    /// it a fault.
    pub fn new(tags: u16, of: impl Fn(DwTag) -> Option<AttrSet> + Send + Sync + 'r) -> Self {
        TagAttrs {
            sets: (0..tags.min(256))
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            of: Box::new(of),
        }
    }

    #[inline]
    fn get(&self, tag: DwTag) -> Option<&AttrSet> {
        self.sets
            .get(usize::from(tag.0))?
            .get_or_init(|| (self.of)(tag))
            .as_ref()
    }
}

/// Reads the attributes of a DIE whose abbreviation was just read (at
/// `offset`) into `entry`, those of `wanted` only (see `read_entry_only`).
/// The strings of `.debug_str` it refers to (`debug_str`) are fetched into
/// the cache meanwhile: the rules read most of them (names) soon after,
/// and they are scattered over a large section.
fn read_attrs<'a>(
    raw: &mut gimli::EntriesRaw<'_, Reader<'a>>,
    abbrev: Abbreviation<'_>,
    offset: UnitOffset,
    entry: &mut Entry<'a>,
    wanted: &TagAttrs<'_>,
    debug_str: &[u8],
) -> Option<()> {
    entry_header(entry, abbrev, offset, 0);
    entry.attrs.clear();
    let specs = abbrev.attributes();
    let Some(set) = wanted.get(abbrev.tag()) else {
        return raw.read_attributes(specs, &mut entry.attrs).ok();
    };
    let skipped =
        |s: &gimli::AttributeSpecification| !set.contains(s.name()) && fixed_size(s.form());
    let mut i = 0;
    while i < specs.len() {
        if skipped(&specs[i]) {
            let run = specs[i..].iter().take_while(|s| skipped(s)).count();
            raw.skip_attributes(&specs[i..i + run]).ok()?;
            i += run;
        } else {
            let attr = raw.read_attribute_inline(specs[i]).ok()?;
            if let AttributeValue::DebugStrRef(o) = attr.raw_value() {
                prefetch(debug_str, o.0);
            }
            entry.attrs.push(attr);
            i += 1;
        }
    }
    Some(())
}

/// Gives `entry` what the abbreviation of a DIE at `offset`, at `depth`,
/// says of it (its attributes are read apart).
#[inline]
fn entry_header(entry: &mut Entry<'_>, abbrev: Abbreviation<'_>, offset: UnitOffset, depth: isize) {
    entry.depth = depth;
    entry.offset = offset;
    entry.tag = abbrev.tag();
    entry.has_children = abbrev.has_children();
}

/// Asks for the cache line of `items[at]` to be fetched (nothing when `at`
/// is beyond `items`, or on other architectures).
#[inline]
pub(crate) fn prefetch<T>(items: &[T], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(b) = items.get(at) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of x86_64; a prefetch reads nothing and
        // cannot fault, and the address is of a byte of the slice.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(b).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, at);
}

/// A cursor over the DIEs of one unit, which reads abbreviation codes
/// itself (looked up in the unit's [`Abbreviations`]), and skips the
/// attributes of a DIE whose abbreviation gives them a fixed size (most
/// DIEs: references, string offsets, constants of a fixed width) by that
/// size. Attributes read, or skipped one by one, go through gimli's
/// reader; on the same bytes it fails as `gimli::EntriesRaw` does with
/// gimli's abbreviations (see `walk`'s tests).
pub struct DieCursor<'u, 'a> {
    unit: &'u gimli::Unit<Reader<'a>>,
    abbrevs: &'u Abbreviations,
    /// The unit's DIEs, from its first.
    entries: Reader<'a>,
    /// The unit offset of `entries`' first byte.
    base: usize,
    /// The next DIE's position in `entries`.
    pos: usize,
    /// The next DIE's depth, relative to where the cursor began.
    depth: isize,
}

impl<'u, 'a> DieCursor<'u, 'a> {
    /// A cursor at the unit's DIE at `start` (its first DIE when `None`),
    /// reading the DIEs with `abbrevs`.
    pub fn new(
        unit: &'u gimli::Unit<Reader<'a>>,
        abbrevs: &'u Abbreviations,
        start: Option<UnitOffset>,
    ) -> gimli::Result<Self> {
        let root = unit.header.root_offset();
        let mut cursor = DieCursor {
            unit,
            abbrevs,
            entries: unit.header.range_from(root..)?,
            base: root.0,
            pos: 0,
            depth: 0,
        };
        cursor.jump(start.unwrap_or(root))?;
        Ok(cursor)
    }

    /// Goes on at the DIE at `offset`, at depth 0 again.
    pub fn jump(&mut self, offset: UnitOffset) -> gimli::Result<()> {
        // Checked as gimli checks where its cursors begin.
        let rest = self.unit.header.range_from(offset..)?;
        self.pos = self.entries.len() - rest.len();
        self.depth = 0;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.entries.len()
    }

    pub fn next_offset(&self) -> UnitOffset {
        UnitOffset(self.base + self.pos)
    }

    pub fn next_depth(&self) -> isize {
        self.depth
    }

    /// The next DIE's abbreviation, `None` for a null entry (the end of a
    /// list of children).
    #[inline]
    pub fn read_abbreviation(&mut self) -> gimli::Result<Option<Abbreviation<'u>>> {
        let code = match self.entries.slice().get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                u64::from(b)
            }
            _ => {
                let mut r = self.rest();
                let code = gimli::Reader::read_uleb128(&mut r)?;
                self.pos = self.entries.len() - r.len();
                code
            }
        };
        if code == 0 {
            self.depth -= 1;
            return Ok(None);
        }
        let abbrev = self
            .abbrevs
            .get(code)
            .ok_or(gimli::Error::InvalidAbbreviationCode(code))?;
        if abbrev.has_children() {
            self.depth += 1;
        }
        Ok(Some(abbrev))
    }

    /// Skips the attributes of the DIE whose abbreviation was just read.
    #[inline]
    pub fn skip_attributes(&mut self, abbrev: Abbreviation<'_>) -> gimli::Result<()> {
        if let Some(n) = abbrev.fixed_size() {
            if self.pos + n <= self.entries.len() {
                self.pos += n;
                return Ok(());
            }
        }
        self.with_raw(|raw| raw.skip_attributes(abbrev.attributes()))
    }

    /// Reads the attributes of the DIE whose abbreviation was just read.
    pub fn read_attributes(
        &mut self,
        abbrev: Abbreviation<'_>,
        attrs: &mut Vec<gimli::Attribute<Reader<'a>>>,
    ) -> gimli::Result<()> {
        self.with_raw(|raw| raw.read_attributes(abbrev.attributes(), attrs))
    }

    /// Reads those of the attributes of the DIE whose abbreviation was
    /// just read that `wanted` names, and goes past the others (skipped
    /// when their size is fixed, else read as gimli reads them, so that
    /// they fail alike). The same loop as the walk's `read_attrs`: one
    /// helper for both, taking a closure or a vector, cost the walk 0.4 to
    /// 2.4 % more instructions (callgrind, lib/bitmap.o).
    pub fn read_attributes_in(
        &mut self,
        abbrev: Abbreviation<'_>,
        wanted: &AttrSet,
        attrs: &mut Vec<gimli::Attribute<Reader<'a>>>,
    ) -> gimli::Result<()> {
        attrs.clear();
        let specs = abbrev.attributes();
        let skipped =
            |s: &gimli::AttributeSpecification| !wanted.contains(s.name()) && fixed_size(s.form());
        self.with_raw(|raw| {
            let mut i = 0;
            while i < specs.len() {
                if skipped(&specs[i]) {
                    let run = specs[i..].iter().take_while(|s| skipped(s)).count();
                    raw.skip_attributes(&specs[i..i + run])?;
                    i += run;
                } else {
                    let attr = raw.read_attribute_inline(specs[i])?;
                    if wanted.contains(attr.name()) {
                        attrs.push(attr);
                    }
                    i += 1;
                }
            }
            Ok(())
        })
    }

    /// Reads the next DIE that is not a null entry into `entry` (its depth
    /// relative to where the cursor began, as gimli's `next_dfs` gives
    /// it); `false` at the end of the unit.
    pub fn next_dfs(&mut self, entry: &mut Entry<'a>) -> gimli::Result<bool> {
        while !self.is_empty() {
            let depth = self.depth;
            let offset = self.next_offset();
            if let Some(abbrev) = self.read_abbreviation()? {
                entry_header(entry, abbrev, offset, depth);
                self.read_attributes(abbrev, &mut entry.attrs)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Runs `read` on a gimli cursor where this one is (at the attributes
    /// of the DIE whose abbreviation was just read), and goes on from where
    /// that one stopped.
    #[inline]
    pub fn with_raw<T>(
        &mut self,
        read: impl FnOnce(&mut gimli::EntriesRaw<'u, Reader<'a>>) -> T,
    ) -> T {
        let mut raw = gimli::EntriesRaw::new(
            self.rest(),
            self.unit.encoding(),
            &self.unit.abbreviations,
            self.next_offset(),
        );
        let out = read(&mut raw);
        self.pos = raw.next_offset().0 - self.base;
        out
    }

    fn rest(&self) -> Reader<'a> {
        let mut r = self.entries;
        let _ = gimli::Reader::skip(&mut r, self.pos.min(self.entries.len()));
        r
    }
}

/// Whether attributes of this form are skipped exactly as they are read:
/// a fixed size, nothing to check but that the bytes are there. (An
/// address is one: gimli checks a unit's address size when it reads the
/// unit's header.)
fn fixed_size(form: gimli::DwForm) -> bool {
    matches!(
        form,
        gimli::DW_FORM_addr
            | gimli::DW_FORM_data1
            | gimli::DW_FORM_data2
            | gimli::DW_FORM_data4
            | gimli::DW_FORM_data8
            | gimli::DW_FORM_flag
            | gimli::DW_FORM_flag_present
            | gimli::DW_FORM_implicit_const
            | gimli::DW_FORM_ref1
            | gimli::DW_FORM_ref2
            | gimli::DW_FORM_ref4
            | gimli::DW_FORM_ref8
            | gimli::DW_FORM_sec_offset
            | gimli::DW_FORM_strp
            | gimli::DW_FORM_line_strp
            | gimli::DW_FORM_strx1
            | gimli::DW_FORM_strx2
            | gimli::DW_FORM_strx4
    )
}

#[cfg(test)]
mod tests {
    use super::coalesce;

    #[test]
    fn coalesce_joins_touching_ranges_in_order() {
        // Units done by two threads, out of order, with a gap where a unit
        // is still being walked.
        let done = vec![(30, 40), (0, 10), (50, 60), (10, 20), (40, 50)];
        assert_eq!(coalesce(done), vec![(0, 20), (30, 60)]);
        assert_eq!(coalesce(Vec::new()), vec![]);
    }
}
