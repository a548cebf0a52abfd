//! ELF object reading for the DWARF reader.
//!
//! [`ObjectFile`] maps (or owns) an ELF file and parses its file header and
//! section header table once, with `object`'s low-level ELF API, into an owned
//! table. Section contents are then produced on demand and cached per section:
//!
//! * decompressed if the section is `SHF_COMPRESSED` (zlib or zstd) or uses the
//!   legacy `.zdebug_*` "ZLIB" header;
//! * for `ET_REL` objects (only), with the relocations of every `SHT_REL` /
//!   `SHT_RELA` section whose `sh_info` names it applied. Executables and shared
//!   objects linked with `--emit-relocs` carry relocation sections that are
//!   already applied, so they are left alone.
//!
//! Sections that need neither decompression nor relocation are returned as
//! slices of the mapped file, without copying.
//!
//! Parsing is bounds-checked throughout: arbitrary input gives an [`ElfError`],
//! never a panic.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader};
use object::Endianness;

/// Errors from reading an ELF object.
///
/// Messages are lowercase and do not name the file; callers prefix them
/// (`error: FILE: ...`).
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The file could not be opened, mapped or read.
    #[error("{}", lowercase_first(.0))]
    Io(#[from] std::io::Error),
    /// The file does not start with the ELF magic number.
    #[error("not an ELF file")]
    NotElf,
    /// The ELF headers or tables are inconsistent with the file.
    #[error("truncated or malformed ELF: {0}")]
    Malformed(String),
    /// A relocation type this reader does not know how to apply.
    #[error(
        "unsupported relocation type {rtype} for {} in {section}",
        machine_name(*.machine)
    )]
    UnsupportedRelocation {
        /// Raw `r_type`.
        rtype: u32,
        /// `e_machine`.
        machine: u16,
        /// Name of the section being relocated.
        section: String,
    },
    /// A relocation that does not fit inside the section it relocates.
    #[error("relocation at offset {offset:#x} outside {section} (size {size:#x})")]
    RelocationOutOfRange {
        /// `r_offset`.
        offset: u64,
        /// Name of the section being relocated.
        section: String,
        /// Size of that section.
        size: u64,
    },
    /// A relocation that references a symbol the symbol table does not have.
    #[error("symbol index {index} out of range in relocations of {section}")]
    SymbolOutOfRange {
        /// Symbol index from `r_info`.
        index: u64,
        /// Name of the section being relocated.
        section: String,
    },
    /// A compressed section that cannot be decompressed.
    #[error("cannot decompress {section}: {detail}")]
    Decompress {
        /// Section name.
        section: String,
        /// What went wrong.
        detail: String,
    },
    /// A well-formed feature this reader does not implement.
    #[error("unsupported {0}")]
    Unsupported(String),
}

impl ElfError {
    /// A copy of this error, for handing out errors cached in a `OnceLock`.
    fn duplicate(&self) -> ElfError {
        match self {
            ElfError::Io(e) => ElfError::Io(std::io::Error::new(e.kind(), e.to_string())),
            ElfError::NotElf => ElfError::NotElf,
            ElfError::Malformed(s) => ElfError::Malformed(s.clone()),
            ElfError::UnsupportedRelocation {
                rtype,
                machine,
                section,
            } => ElfError::UnsupportedRelocation {
                rtype: *rtype,
                machine: *machine,
                section: section.clone(),
            },
            ElfError::RelocationOutOfRange {
                offset,
                section,
                size,
            } => ElfError::RelocationOutOfRange {
                offset: *offset,
                section: section.clone(),
                size: *size,
            },
            ElfError::SymbolOutOfRange { index, section } => ElfError::SymbolOutOfRange {
                index: *index,
                section: section.clone(),
            },
            ElfError::Decompress { section, detail } => ElfError::Decompress {
                section: section.clone(),
                detail: detail.clone(),
            },
            ElfError::Unsupported(s) => ElfError::Unsupported(s.clone()),
        }
    }
}

fn lowercase_first(value: &dyn fmt::Display) -> String {
    let text = value.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// A human-readable name for an `e_machine` value, as used in error messages.
pub fn machine_name(machine: u16) -> String {
    let name = match elf::Machine(machine) {
        elf::EM_X86_64 => "x86-64",
        elf::EM_386 => "i386",
        elf::EM_AARCH64 => "AArch64",
        elf::EM_ARM => "ARM",
        elf::EM_RISCV => "RISC-V",
        elf::EM_PPC64 => "PowerPC64",
        elf::EM_PPC => "PowerPC",
        elf::EM_S390 => "s390",
        elf::EM_LOONGARCH => "LoongArch",
        _ => return format!("machine {machine}"),
    };
    name.to_string()
}

fn malformed(detail: impl Into<String>) -> ElfError {
    ElfError::Malformed(detail.into())
}

fn object_error(error: object::read::Error) -> ElfError {
    malformed(lowercase_first(&error))
}

fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// A defined, non-local symbol of `.symtab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfSymbol<'a> {
    /// Symbol name (not necessarily UTF-8), in the object's string table.
    pub name: &'a [u8],
    /// Raw `st_shndx`, or the `SHT_SYMTAB_SHNDX` entry for `SHN_XINDEX`.
    /// Reserved values such as `SHN_ABS` (0xfff1) and `SHN_COMMON` (0xfff2)
    /// are kept as they are.
    pub shndx: u32,
    /// `st_value`.
    pub value: u64,
    /// The type of `st_info` (`STT_FUNC`, `STT_OBJECT`, ...).
    pub kind: u8,
}

enum Backing {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Map(map) => map,
            Backing::Owned(data) => data,
        }
    }
}

/// One section header, owned.
#[derive(Debug, Clone)]
struct SectionInfo {
    /// Where the name is in the file (`ObjectFile::name`).
    name: std::ops::Range<usize>,
    sh_type: u32,
    flags: u64,
    link: u32,
    info: u32,
    entsize: u64,
    /// File range of the contents, validated against the file size. Empty for
    /// `SHT_NOBITS` and `SHT_NULL`.
    start: usize,
    end: usize,
    /// `SHT_NOBITS` or `SHT_NULL`: no contents in the file.
    no_data: bool,
}

impl SectionInfo {
    fn in_group(&self) -> bool {
        self.flags & elf::SHF_GROUP.0 != 0
    }

    fn is_compressed(&self) -> bool {
        self.flags & elf::SHF_COMPRESSED.0 != 0
    }
}

/// Cached (decompressed, unrelocated) section contents.
enum Contents {
    /// A range of the file data.
    File(usize, usize),
    /// Decompressed data.
    Owned(Vec<u8>),
}

/// Cached relocated section contents.
enum Relocated {
    /// Nothing to apply: same as the decompressed contents.
    Unchanged,
    Owned(Vec<u8>),
}

/// An ELF object file and lazily computed, cached section contents.
pub struct ObjectFile {
    data: Backing,
    big_endian: bool,
    is_64: bool,
    e_type: u16,
    machine: u16,
    sections: Vec<SectionInfo>,
    /// For each section index, the relocation sections (`SHT_REL`, `SHT_RELA`,
    /// `SHT_CREL`) whose `sh_info` names it, in header order.
    relocations: Vec<Vec<usize>>,
    contents: Vec<OnceLock<Result<Contents, ElfError>>>,
    relocated: Vec<OnceLock<Result<Relocated, ElfError>>>,
}

impl fmt::Debug for ObjectFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectFile")
            .field("size", &self.data.bytes().len())
            .field("is_64", &self.is_64)
            .field("big_endian", &self.big_endian)
            .field("e_type", &self.e_type)
            .field("machine", &self.machine)
            .field("sections", &self.sections.len())
            .finish()
    }
}

struct ParsedHeaders {
    e_type: u16,
    machine: u16,
    sections: Vec<SectionInfo>,
}

fn parse_headers<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
) -> Result<ParsedHeaders, ElfError> {
    let header = Elf::parse(data).map_err(object_error)?;
    let endian = header.endian().map_err(object_error)?;
    let table = header.sections(endian, data).map_err(object_error)?;
    let file_len = data.len() as u64;
    let mut sections = Vec::with_capacity(table.len());
    for (index, section) in table.iter().enumerate() {
        let name = table
            .section_name(endian, section)
            .map_err(|_| malformed(format!("section {index} has an invalid name offset")))?;
        let sh_type = section.sh_type(endian).0;
        let no_data = sh_type == elf::SHT_NOBITS.0 || sh_type == elf::SHT_NULL.0;
        let (start, end) = if no_data {
            (0, 0)
        } else {
            let offset: u64 = section.sh_offset(endian).into();
            let size: u64 = section.sh_size(endian).into();
            match offset.checked_add(size) {
                Some(end) if end <= file_len => (offset as usize, end as usize),
                _ => {
                    return Err(malformed(format!(
                        "section {index} ({}) at offset {offset:#x} size {size:#x} extends past the end of the file (size {file_len:#x})",
                        lossy(name)
                    )))
                }
            }
        };
        // The name is a part of `data` (the section name table's).
        let name_start = (name.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
        debug_assert!(name_start + name.len() <= data.len());
        sections.push(SectionInfo {
            name: name_start..name_start + name.len(),
            sh_type,
            flags: section.sh_flags(endian).0,
            link: section.sh_link(endian),
            info: section.sh_info(endian),
            entsize: section.sh_entsize(endian).into(),
            start,
            end,
            no_data,
        });
    }
    Ok(ParsedHeaders {
        e_type: header.e_type(endian).0,
        machine: header.e_machine(endian).0,
        sections,
    })
}

impl ObjectFile {
    /// Opens and memory-maps `path` and parses its ELF headers.
    pub fn open(path: &Path) -> Result<ObjectFile, ElfError> {
        let file = File::open(path)?;
        let metadata = file.metadata()?;
        let backing = if metadata.is_file() && metadata.len() > 0 {
            // SAFETY: the mapping is read-only. As with any mmap-based reader,
            // the file must not be truncated or modified while it is mapped.
            Backing::Map(unsafe { memmap2::Mmap::map(&file)? })
        } else {
            // Empty files, pipes and other non-regular files: read them.
            let mut data = Vec::new();
            (&file).read_to_end(&mut data)?;
            Backing::Owned(data)
        };
        Self::from_backing(backing)
    }

    /// Parses an ELF object held in memory.
    pub fn from_bytes(data: Vec<u8>) -> Result<ObjectFile, ElfError> {
        Self::from_backing(Backing::Owned(data))
    }

    fn from_backing(data: Backing) -> Result<ObjectFile, ElfError> {
        let bytes = data.bytes();
        if bytes.len() < 4 || bytes[..4] != elf::ELFMAG {
            return Err(ElfError::NotElf);
        }
        let (Some(&class), Some(&encoding)) = (bytes.get(4), bytes.get(5)) else {
            return Err(malformed("file too short for the ELF identification"));
        };
        let is_64 = match elf::FileClass(class) {
            elf::ELFCLASS32 => false,
            elf::ELFCLASS64 => true,
            _ => return Err(malformed(format!("unsupported ELF class {class}"))),
        };
        let big_endian = match elf::DataEncoding(encoding) {
            elf::ELFDATA2LSB => false,
            elf::ELFDATA2MSB => true,
            _ => {
                return Err(malformed(format!(
                    "unsupported ELF data encoding {encoding}"
                )))
            }
        };
        let header_size = if is_64 { 64 } else { 52 };
        if bytes.len() < header_size {
            return Err(malformed(format!(
                "file size {:#x} is too small for the ELF header",
                bytes.len()
            )));
        }
        let parsed = if is_64 {
            parse_headers::<elf::FileHeader64<Endianness>>(bytes)?
        } else {
            parse_headers::<elf::FileHeader32<Endianness>>(bytes)?
        };

        let count = parsed.sections.len();
        let mut relocations = vec![Vec::new(); count];
        for (index, section) in parsed.sections.iter().enumerate() {
            let is_relocation = section.sh_type == elf::SHT_REL.0
                || section.sh_type == elf::SHT_RELA.0
                || section.sh_type == elf::SHT_CREL.0;
            let target = section.info as usize;
            if is_relocation && target != 0 && target != index && target < count {
                relocations[target].push(index);
            }
        }

        Ok(ObjectFile {
            big_endian,
            is_64,
            e_type: parsed.e_type,
            machine: parsed.machine,
            relocations,
            contents: (0..count).map(|_| OnceLock::new()).collect(),
            relocated: (0..count).map(|_| OnceLock::new()).collect(),
            sections: parsed.sections,
            data,
        })
    }

    /// True for `ELFDATA2LSB`.
    pub fn is_little_endian(&self) -> bool {
        !self.big_endian
    }

    /// True for `ELFCLASS64`.
    pub fn is_64(&self) -> bool {
        self.is_64
    }

    /// `e_machine`.
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// `e_type`.
    pub fn e_type(&self) -> u16 {
        self.e_type
    }

    /// True for `ET_REL` objects, whose debug sections get their relocations
    /// applied.
    pub fn is_relocatable(&self) -> bool {
        self.e_type == elf::ET_REL.0
    }

    /// The names of all sections, in section-header order (index 0 included).
    pub fn section_names(&self) -> impl Iterator<Item = &[u8]> {
        self.sections.iter().map(|s| self.name(s))
    }

    /// A DWARF section by name (".debug_info", ".debug_abbrev", ".debug_str",
    /// ...): decompressed if needed, and for `ET_REL` objects with its
    /// relocations applied. Only the instance that is not in a section group
    /// is returned (see [`Self::group_debug_sections`] for the others). If there
    /// is no ".debug_X" section, a legacy ".zdebug_X" one is used.
    ///
    /// Computed on first access and cached: later calls return the same slice.
    pub fn debug_section(&self, name: &str) -> Result<Option<&[u8]>, ElfError> {
        let find = |wanted: &[u8]| {
            self.sections
                .iter()
                .position(|s| self.name(s) == wanted && !s.in_group() && !s.no_data)
        };
        let index = find(name.as_bytes()).or_else(|| zdebug_name(name).and_then(|z| find(&z)));
        match index {
            Some(index) => self.relocated_contents(index).map(Some),
            None => Ok(None),
        }
    }

    /// The COMDAT-group instances (`SHF_GROUP`) of a DWARF section name, in
    /// section-header order, decompressed and relocated like
    /// [`Self::debug_section`].
    pub fn group_debug_sections(&self, name: &str) -> Result<Vec<&[u8]>, ElfError> {
        let zname = zdebug_name(name);
        let mut found = Vec::new();
        for (index, section) in self.sections.iter().enumerate() {
            let name_matches = self.name(section) == name.as_bytes()
                || zname.as_deref() == Some(self.name(section));
            if name_matches && section.in_group() && !section.no_data {
                found.push(self.relocated_contents(index)?);
            }
        }
        Ok(found)
    }

    /// Any section's contents by exact name (the first such section in
    /// header order), decompressed if needed but never relocated. `SHT_NOBITS`
    /// sections give an empty slice.
    /// Drops the pages of `data`, a part of this object's file mapping,
    /// from the process's resident memory: a pass over it is done, and it
    /// is not read again soon. They come back from the page cache if it is
    /// read again, so `data` and anything borrowed from it stay valid.
    /// Anything outside the mapping (relocated or decompressed copies, an
    /// object read into memory) is left alone.
    pub fn release(&self, data: &[u8]) {
        let Backing::Map(map) = &self.data else {
            return;
        };
        let Some(offset) = (data.as_ptr() as usize).checked_sub(map.as_ptr() as usize) else {
            return;
        };
        if data.is_empty() || offset + data.len() > map.len() {
            return;
        }
        // SAFETY: `Mmap::map` maps the file shared and read-only, so the
        // pages dropped are read again from the file when touched (not
        // zero-filled as in a private anonymous mapping): what borrows
        // them sees the same bytes.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, data.len())
        };
    }

    pub fn section_data(&self, name: &str) -> Result<Option<&[u8]>, ElfError> {
        match (self.sections.iter()).position(|s| self.name(s) == name.as_bytes()) {
            Some(index) => self.contents(index).map(Some),
            None => Ok(None),
        }
    }

    /// The defined, non-local, named symbols of `.symtab` (the `SHT_SYMTAB`
    /// section; `.dynsym` is not read), in table order. An object without a
    /// symbol table gives an empty list.
    pub fn symbols(&self) -> Result<Vec<ElfSymbol<'_>>, ElfError> {
        self.defined_symbols(false)
    }

    /// The names of the symbols the object exports, as kbuild marks them:
    /// `__export_symbol_<name>` in an object of Linux 6.11 or later, else
    /// `__ksymtab_<name>` in a linked module or vmlinux (both are local
    /// symbols). Sorted, each once.
    pub fn exported_names(&self) -> Result<Vec<String>, ElfError> {
        let symbols = self.defined_symbols(true)?;
        for prefix in [&b"__export_symbol_"[..], b"__ksymtab_"] {
            let mut names: Vec<String> = symbols
                .iter()
                .filter_map(|s| s.name.strip_prefix(prefix))
                .filter(|n| !n.is_empty())
                .map(lossy)
                .collect();
            if !names.is_empty() {
                names.sort();
                names.dedup();
                return Ok(names);
            }
        }
        Ok(Vec::new())
    }

    /// The defined, named symbols of `.symtab`, local ones too when asked.
    fn defined_symbols(&self, local: bool) -> Result<Vec<ElfSymbol<'_>>, ElfError> {
        let Some(symtab_index) = self
            .sections
            .iter()
            .position(|s| s.sh_type == elf::SHT_SYMTAB.0)
        else {
            return Ok(Vec::new());
        };
        let table = self.symbol_table(symtab_index)?;
        let symtab = &self.sections[symtab_index];
        let strtab_index = symtab.link as usize;
        if strtab_index == 0 || strtab_index >= self.sections.len() {
            return Err(malformed(format!(
                "{} has an invalid string table link {}",
                self.display_name(symtab),
                symtab.link
            )));
        }
        let strings = self.contents(strtab_index)?;
        let xindex =
            match self.sections.iter().position(|s| {
                s.sh_type == elf::SHT_SYMTAB_SHNDX.0 && s.link as usize == symtab_index
            }) {
                Some(index) => Some(self.contents(index)?),
                None => None,
            };

        let mut symbols = Vec::new();
        for index in 1..table.count {
            let Some(sym) = table.get(index) else {
                break;
            };
            if (!local && sym.info >> 4 == elf::STB_LOCAL.0) || sym.shndx == elf::SHN_UNDEF.0 {
                continue;
            }
            let name = c_string(strings, sym.name).ok_or_else(|| {
                malformed(format!(
                    "symbol {index} has an invalid name offset {:#x}",
                    sym.name
                ))
            })?;
            if name.is_empty() {
                continue;
            }
            let shndx = if sym.shndx == elf::SHN_XINDEX.0 {
                let entry = xindex.and_then(|data| {
                    let offset = index.checked_mul(4)?;
                    read_uint(data, offset, 4, self.big_endian)
                });
                match entry {
                    Some(shndx) => shndx as u32,
                    None => {
                        return Err(malformed(format!(
                            "symbol {index} uses SHN_XINDEX but has no SHT_SYMTAB_SHNDX entry"
                        )))
                    }
                }
            } else {
                u32::from(sym.shndx)
            };
            if shndx == 0 {
                continue;
            }
            symbols.push(ElfSymbol {
                name,
                shndx,
                value: sym.value,
                kind: sym.info & 0xf,
            });
        }
        Ok(symbols)
    }

    fn file_data(&self) -> &[u8] {
        self.data.bytes()
    }

    /// A section's name (not necessarily UTF-8).
    fn name(&self, section: &SectionInfo) -> &[u8] {
        self.file_data()
            .get(section.name.clone())
            .unwrap_or_default()
    }

    /// A section's name, for messages.
    fn display_name(&self, section: &SectionInfo) -> String {
        lossy(self.name(section))
    }

    /// Decompressed, unrelocated contents of section `index`.
    fn contents(&self, index: usize) -> Result<&[u8], ElfError> {
        let Some(cell) = self.contents.get(index) else {
            return Err(malformed(format!("section index {index} out of range")));
        };
        match cell.get_or_init(|| self.load_contents(index)) {
            Ok(Contents::File(start, end)) => self.file_data().get(*start..*end).ok_or_else(|| {
                malformed(format!("section {index} extends past the end of the file"))
            }),
            Ok(Contents::Owned(data)) => Ok(data),
            Err(error) => Err(error.duplicate()),
        }
    }

    fn load_contents(&self, index: usize) -> Result<Contents, ElfError> {
        let section = &self.sections[index];
        if section.no_data {
            return Ok(Contents::File(0, 0));
        }
        let raw = self
            .file_data()
            .get(section.start..section.end)
            .ok_or_else(|| {
                malformed(format!("section {index} extends past the end of the file"))
            })?;
        let decompress_error = |detail: String| ElfError::Decompress {
            section: self.display_name(section),
            detail,
        };
        if section.is_compressed() {
            // Elf32_Chdr: ch_type, ch_size, ch_addralign (4 bytes each);
            // Elf64_Chdr: ch_type, ch_reserved (4 bytes), ch_size, ch_addralign (8 bytes).
            let (header_size, size_width, size_offset) =
                if self.is_64 { (24, 8, 8) } else { (12, 4, 4) };
            if raw.len() < header_size {
                return Err(decompress_error(format!(
                    "section size {:#x} is too small for the compression header",
                    raw.len()
                )));
            }
            let ch_type = read_uint(raw, 0, 4, self.big_endian).unwrap_or(0) as u32;
            let ch_size = read_uint(raw, size_offset, size_width, self.big_endian).unwrap_or(0);
            let format = match elf::CompressionType(ch_type) {
                elf::ELFCOMPRESS_ZLIB => Compression::Zlib,
                elf::ELFCOMPRESS_ZSTD => Compression::Zstd,
                _ => {
                    return Err(decompress_error(format!(
                        "unsupported compression type {ch_type}"
                    )))
                }
            };
            let data =
                decompress(format, &raw[header_size..], ch_size).map_err(decompress_error)?;
            return Ok(Contents::Owned(data));
        }
        if self.name(section).starts_with(b".zdebug_")
            && raw.len() >= 12
            && raw.starts_with(b"ZLIB")
        {
            // Legacy GNU format: "ZLIB", 8-byte big-endian size, zlib stream.
            let size = read_uint(raw, 4, 8, true).unwrap_or(0);
            let data = decompress(Compression::Zlib, &raw[12..], size).map_err(decompress_error)?;
            return Ok(Contents::Owned(data));
        }
        Ok(Contents::File(section.start, section.end))
    }

    /// Decompressed contents of section `index`, relocated for `ET_REL`.
    fn relocated_contents(&self, index: usize) -> Result<&[u8], ElfError> {
        let Some(cell) = self.relocated.get(index) else {
            return Err(malformed(format!("section index {index} out of range")));
        };
        match cell.get_or_init(|| self.relocate(index)) {
            Ok(Relocated::Unchanged) => self.contents(index),
            Ok(Relocated::Owned(data)) => Ok(data),
            Err(error) => Err(error.duplicate()),
        }
    }

    fn relocate(&self, index: usize) -> Result<Relocated, ElfError> {
        if !self.is_relocatable() || self.relocations[index].is_empty() {
            return Ok(Relocated::Unchanged);
        }
        let mut data = self.contents(index)?.to_vec();
        for &relocation_section in &self.relocations[index] {
            self.apply_relocation_section(relocation_section, index, &mut data)?;
        }
        Ok(Relocated::Owned(data))
    }

    fn symbol_entry_size(&self) -> usize {
        if self.is_64 {
            24
        } else {
            16
        }
    }

    /// The symbol table in section `index`, which must be `SHT_SYMTAB` or
    /// `SHT_DYNSYM` with the entry size of the ELF class.
    fn symbol_table(&self, index: usize) -> Result<SymbolTable<'_>, ElfError> {
        let Some(section) = self
            .sections
            .get(index)
            .filter(|s| s.sh_type == elf::SHT_SYMTAB.0 || s.sh_type == elf::SHT_DYNSYM.0)
        else {
            return Err(malformed(format!("section {index} is not a symbol table")));
        };
        let entry_size = self.symbol_entry_size();
        if section.entsize != entry_size as u64 {
            return Err(malformed(format!(
                "{} has entry size {} (expected {entry_size})",
                self.display_name(section),
                section.entsize
            )));
        }
        let data = self.contents(index)?;
        Ok(SymbolTable {
            data,
            count: data.len() / entry_size,
            entry_size,
            is_64: self.is_64,
            big_endian: self.big_endian,
        })
    }

    fn apply_relocation_section(
        &self,
        relocation_index: usize,
        target_index: usize,
        data: &mut [u8],
    ) -> Result<(), ElfError> {
        let section = &self.sections[relocation_index];
        if section.sh_type == elf::SHT_CREL.0 {
            return Err(ElfError::Unsupported(format!(
                "compact relocations (SHT_CREL) in {} for {}",
                self.display_name(section),
                self.display_name(&self.sections[target_index])
            )));
        }
        let is_rela = section.sh_type == elf::SHT_RELA.0;
        let entry_size = match (self.is_64, is_rela) {
            (true, true) => 24,
            (true, false) => 16,
            (false, true) => 12,
            (false, false) => 8,
        };
        if section.entsize != 0 && section.entsize != entry_size as u64 {
            return Err(malformed(format!(
                "{} has entry size {} (expected {entry_size})",
                self.display_name(section),
                section.entsize
            )));
        }
        let entries = self.contents(relocation_index)?;
        if entries.len() % entry_size != 0 {
            return Err(malformed(format!(
                "{} size {:#x} is not a multiple of its entry size {entry_size}",
                self.display_name(section),
                entries.len()
            )));
        }
        let symtab = section.link as usize;
        match (self.is_64, is_rela) {
            (true, true) => self.apply_entries::<true, true>(entries, symtab, target_index, data),
            (true, false) => self.apply_entries::<true, false>(entries, symtab, target_index, data),
            (false, true) => self.apply_entries::<false, true>(entries, symtab, target_index, data),
            (false, false) => {
                self.apply_entries::<false, false>(entries, symtab, target_index, data)
            }
        }
    }

    /// Applies the relocation `entries` (of the 64-bit ELF class when
    /// `WIDE`, with explicit addends when `RELA`; symbols from the symbol
    /// table in section `symtab`) to `data`, the contents of section
    /// `target` (named in errors). One copy per entry layout, for the fields'
    /// widths to be constants (a module's `.debug_info` has a relocation
    /// every dozen bytes).
    fn apply_entries<const WIDE: bool, const RELA: bool>(
        &self,
        entries: &[u8],
        symtab: usize,
        target: usize,
        data: &mut [u8],
    ) -> Result<(), ElfError> {
        let entry_size = match (WIDE, RELA) {
            (true, true) => 24,
            (true, false) => 16,
            (false, true) => 12,
            (false, false) => 8,
        };
        let big = self.big_endian;
        let target_name = || self.display_name(&self.sections[target]);
        let mut symbols: Option<SymbolTable<'_>> = None;
        let mut last_op: Option<(u32, Op)> = None;
        for entry in entries.chunks_exact(entry_size) {
            let field =
                |offset: usize, width: usize| read_uint(entry, offset, width, big).unwrap_or(0);
            let (offset, symbol, rtype, addend) = if WIDE {
                let info = field(8, 8);
                let addend = if RELA { field(16, 8) } else { 0 };
                (field(0, 8), info >> 32, (info & 0xffff_ffff) as u32, addend)
            } else {
                let info = field(4, 4);
                // Sign-extend the 32-bit addend.
                let addend = if RELA {
                    field(8, 4) as u32 as i32 as i64 as u64
                } else {
                    0
                };
                (field(0, 4), info >> 8, (info & 0xff) as u32, addend)
            };
            // Sections use few types, mostly one: the last is kept.
            let op = match last_op {
                Some((t, op)) if t == rtype => op,
                _ => {
                    let op = relocation_op(self.machine, rtype).ok_or_else(|| {
                        ElfError::UnsupportedRelocation {
                            rtype,
                            machine: self.machine,
                            section: target_name(),
                        }
                    })?;
                    last_op = Some((rtype, op));
                    op
                }
            };
            if op == Op::Ignore {
                continue;
            }
            let symbol_value = if symbol == 0 {
                0
            } else {
                if symbols.is_none() {
                    symbols = Some(self.symbol_table(symtab)?);
                }
                let value = match &symbols {
                    Some(table) => usize::try_from(symbol).ok().and_then(|i| table.value(i)),
                    None => None,
                };
                value.ok_or_else(|| ElfError::SymbolOutOfRange {
                    index: symbol,
                    section: target_name(),
                })?
            };
            let size = data.len() as u64;
            let out_of_range = || ElfError::RelocationOutOfRange {
                offset,
                section: target_name(),
                size,
            };
            // Most of them: S + A, written little-endian (what
            // `apply_relocation` does, without its general case).
            if let (true, false, Op::Abs(width @ (4 | 8))) = (RELA, big, op) {
                let value = symbol_value.wrapping_add(addend);
                let at = usize::try_from(offset).map_err(|_| out_of_range())?;
                let bytes = (at.checked_add(width))
                    .and_then(|end| data.get_mut(at..end))
                    .ok_or_else(out_of_range)?;
                // (Each width a store of its own, not a call to memcpy.)
                match bytes {
                    [_, _, _, _] => bytes.copy_from_slice(&(value as u32).to_le_bytes()),
                    _ => bytes.copy_from_slice(&value.to_le_bytes()),
                }
                continue;
            }
            let addend = if RELA {
                Addend::Explicit(addend)
            } else {
                Addend::Implicit
            };
            apply_relocation(data, op, offset, symbol_value, addend, big)
                .ok_or_else(out_of_range)?;
        }
        Ok(())
    }
}

/// ".debug_X" -> ".zdebug_X".
fn zdebug_name(name: &str) -> Option<Vec<u8>> {
    name.strip_prefix(".debug_")
        .map(|rest| format!(".zdebug_{rest}").into_bytes())
}

/// The NUL-terminated string at `offset` of a string table.
fn c_string(table: &[u8], offset: u32) -> Option<&[u8]> {
    let rest = table.get(usize::try_from(offset).ok()?..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..len])
}

struct RawSymbol {
    name: u32,
    info: u8,
    shndx: u16,
    value: u64,
}

struct SymbolTable<'a> {
    data: &'a [u8],
    count: usize,
    entry_size: usize,
    is_64: bool,
    big_endian: bool,
}

impl SymbolTable<'_> {
    /// The bytes of symbol `index`.
    fn entry(&self, index: usize) -> Option<&[u8]> {
        if index >= self.count {
            return None;
        }
        let base = index.checked_mul(self.entry_size)?;
        self.data.get(base..base.checked_add(self.entry_size)?)
    }

    /// Symbol `index`'s value alone (what a relocation needs).
    fn value(&self, index: usize) -> Option<u64> {
        let (offset, width) = if self.is_64 { (8, 8) } else { (4, 4) };
        read_uint(self.entry(index)?, offset, width, self.big_endian)
    }

    fn get(&self, index: usize) -> Option<RawSymbol> {
        let entry = self.entry(index)?;
        let big = self.big_endian;
        let field = |offset: usize, width: usize| read_uint(entry, offset, width, big);
        // Elf32_Sym: name(4) value(4) size(4) info(1) other(1) shndx(2)
        // Elf64_Sym: name(4) info(1) other(1) shndx(2) value(8) size(8)
        let (info_offset, shndx_offset, value_offset, value_width) = if self.is_64 {
            (4, 6, 8, 8)
        } else {
            (12, 14, 4, 4)
        };
        Some(RawSymbol {
            name: field(0, 4)? as u32,
            info: *entry.get(info_offset)?,
            shndx: field(shndx_offset, 2)? as u16,
            value: field(value_offset, value_width)?,
        })
    }
}

/// Reads a `width`-byte (1..=8) unsigned integer at `offset`.
#[inline]
fn read_uint(data: &[u8], offset: usize, width: usize, big_endian: bool) -> Option<u64> {
    if width == 0 || width > 8 {
        return None;
    }
    let bytes = data.get(offset..offset.checked_add(width)?)?;
    // The common widths in one load (a relocation section is read 24 bytes
    // an entry, a symbol 8 bytes a value).
    Some(match (width, big_endian) {
        (8, false) => u64::from_le_bytes(bytes.try_into().ok()?),
        (8, true) => u64::from_be_bytes(bytes.try_into().ok()?),
        (4, false) => u32::from_le_bytes(bytes.try_into().ok()?).into(),
        (4, true) => u32::from_be_bytes(bytes.try_into().ok()?).into(),
        _ => {
            let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
            if big_endian {
                bytes.iter().fold(0, fold)
            } else {
                bytes.iter().rev().fold(0, fold)
            }
        }
    })
}

/// Writes the low `width` (1..=8) bytes of `value` at `offset`.
#[inline]
fn write_uint(
    data: &mut [u8],
    offset: usize,
    width: usize,
    big_endian: bool,
    value: u64,
) -> Option<()> {
    if width == 0 || width > 8 {
        return None;
    }
    let bytes = data.get_mut(offset..offset.checked_add(width)?)?;
    match (width, big_endian) {
        (8, false) => bytes.copy_from_slice(&value.to_le_bytes()),
        (8, true) => bytes.copy_from_slice(&value.to_be_bytes()),
        (4, false) => bytes.copy_from_slice(&(value as u32).to_le_bytes()),
        (4, true) => bytes.copy_from_slice(&(value as u32).to_be_bytes()),
        _ => {
            for (i, byte) in bytes.iter_mut().enumerate() {
                let shift = if big_endian { width - 1 - i } else { i } * 8;
                *byte = (value >> shift) as u8;
            }
        }
    }
    Some(())
}

/// Reads the ULEB128 at the start of `data`: its value (wrapping past 64
/// bits) and encoded length.
fn read_uleb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().enumerate() {
        let shift = i.saturating_mul(7);
        if shift < 64 {
            value |= u64::from(byte & 0x7f) << shift;
        }
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Rewrites `slot` as a ULEB128 of exactly its length holding `value`
/// (truncated to the bits that fit).
fn write_uleb128(slot: &mut [u8], value: u64) {
    let last = slot.len().saturating_sub(1);
    for (i, byte) in slot.iter_mut().enumerate() {
        let shift = i.saturating_mul(7);
        let bits = if shift < 64 {
            (value >> shift) & 0x7f
        } else {
            0
        };
        *byte = bits as u8 | if i < last { 0x80 } else { 0 };
    }
}

#[derive(Clone, Copy)]
enum Compression {
    Zlib,
    Zstd,
}

/// Upper bound on the up-front allocation for decompressed data; the
/// buffer grows beyond it only as data is actually produced.
const MAX_INITIAL_RESERVE: usize = 64 << 20;

/// Decompresses `input`, which must expand to exactly `size` bytes. Memory use
/// is bounded by the smaller of `size` and what the data really expands to.
fn decompress(format: Compression, input: &[u8], size: u64) -> Result<Vec<u8>, String> {
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= isize::MAX as usize / 2)
        .ok_or_else(|| format!("uncompressed size {size:#x} is too large"))?;
    // Read at most one byte more than announced, to detect overlong data.
    let limit = size as u64 + 1;
    let initial = size
        .min(input.len().saturating_mul(16).max(4096))
        .min(MAX_INITIAL_RESERVE);
    let mut out = Vec::new();
    out.try_reserve_exact(initial)
        .map_err(|_| format!("cannot allocate {initial:#x} bytes"))?;
    match format {
        Compression::Zlib => {
            flate2::read::ZlibDecoder::new(input)
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| format!("invalid zlib data: {}", lowercase_first(&e)))?;
        }
        Compression::Zstd => {
            // A zstd stream may hold several frames.
            let mut source = input;
            while !source.is_empty() && out.len() < size {
                let before = source.len();
                let decoder = ruzstd::decoding::StreamingDecoder::new(&mut source)
                    .map_err(|e| format!("invalid zstd data: {}", lowercase_first(&e)))?;
                let remaining = limit.saturating_sub(out.len() as u64);
                decoder
                    .take(remaining)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("invalid zstd data: {}", lowercase_first(&e)))?;
                if source.len() == before {
                    break;
                }
            }
        }
    }
    if out.len() != size {
        return Err(format!(
            "data expands to {}{:#x} bytes, but the header says {size:#x}",
            if out.len() > size { "more than " } else { "" },
            out.len().min(size)
        ));
    }
    Ok(out)
}

/// What a relocation type does to the bytes at its offset. Widths are in
/// bytes. S is the symbol value, A the addend, P the relocation offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Nothing (NONE, RISC-V RELAX, ...).
    Ignore,
    /// S + A.
    Abs(usize),
    /// S + A - P.
    Pcrel(usize),
    /// *loc + (S + A).
    Add(usize),
    /// *loc - (S + A).
    Sub(usize),
    /// Low 6 bits of the byte: *loc + (S + A).
    Add6,
    /// Low 6 bits of the byte: *loc - (S + A).
    Sub6,
    /// Low 6 bits of the byte: S + A.
    Set6,
    /// ULEB128 of unchanged length: S + A.
    SetUleb128,
    /// ULEB128 of unchanged length: *loc + (S + A).
    AddUleb128,
    /// ULEB128 of unchanged length: *loc - (S + A).
    SubUleb128,
}

/// The operation for relocation type `rtype` of machine `machine`, or `None`
/// if it is not supported.
fn relocation_op(machine: u16, rtype: u32) -> Option<Op> {
    use Op::*;
    let r = elf::RelocationType(rtype);
    let op = match elf::Machine(machine) {
        elf::EM_X86_64 => match r {
            elf::R_X86_64_NONE => Ignore,
            elf::R_X86_64_64 | elf::R_X86_64_DTPOFF64 => Abs(8),
            elf::R_X86_64_32 | elf::R_X86_64_32S | elf::R_X86_64_DTPOFF32 => Abs(4),
            elf::R_X86_64_16 => Abs(2),
            elf::R_X86_64_8 => Abs(1),
            elf::R_X86_64_PC64 => Pcrel(8),
            elf::R_X86_64_PC32 => Pcrel(4),
            elf::R_X86_64_PC16 => Pcrel(2),
            elf::R_X86_64_PC8 => Pcrel(1),
            _ => return None,
        },
        elf::EM_386 => match r {
            elf::R_386_NONE => Ignore,
            elf::R_386_32 | elf::R_386_TLS_LDO_32 => Abs(4),
            elf::R_386_16 => Abs(2),
            elf::R_386_8 => Abs(1),
            elf::R_386_PC32 => Pcrel(4),
            elf::R_386_PC16 => Pcrel(2),
            elf::R_386_PC8 => Pcrel(1),
            _ => return None,
        },
        elf::EM_AARCH64 => match r {
            // 256 is the old R_AARCH64_NULL, also a no-op.
            elf::R_AARCH64_NONE | elf::RelocationType(256) => Ignore,
            elf::R_AARCH64_ABS64 | elf::R_AARCH64_TLS_DTPREL => Abs(8),
            elf::R_AARCH64_ABS32 => Abs(4),
            elf::R_AARCH64_ABS16 => Abs(2),
            elf::R_AARCH64_PREL64 => Pcrel(8),
            elf::R_AARCH64_PREL32 => Pcrel(4),
            elf::R_AARCH64_PREL16 => Pcrel(2),
            _ => return None,
        },
        elf::EM_ARM => match r {
            elf::R_ARM_NONE => Ignore,
            // R_ARM_TARGET1 is treated as R_ARM_ABS32 on Linux.
            elf::R_ARM_ABS32 | elf::R_ARM_TLS_LDO32 | elf::R_ARM_TARGET1 => Abs(4),
            elf::R_ARM_ABS16 => Abs(2),
            elf::R_ARM_ABS8 => Abs(1),
            elf::R_ARM_REL32 => Pcrel(4),
            _ => return None,
        },
        elf::EM_RISCV => match r {
            elf::R_RISCV_NONE | elf::R_RISCV_RELAX => Ignore,
            elf::R_RISCV_64 | elf::R_RISCV_TLS_DTPREL64 => Abs(8),
            elf::R_RISCV_32 | elf::R_RISCV_TLS_DTPREL32 | elf::R_RISCV_SET32 => Abs(4),
            elf::R_RISCV_SET16 => Abs(2),
            elf::R_RISCV_SET8 => Abs(1),
            elf::R_RISCV_32_PCREL => Pcrel(4),
            elf::R_RISCV_ADD8 => Add(1),
            elf::R_RISCV_ADD16 => Add(2),
            elf::R_RISCV_ADD32 => Add(4),
            elf::R_RISCV_ADD64 => Add(8),
            elf::R_RISCV_SUB8 => Sub(1),
            elf::R_RISCV_SUB16 => Sub(2),
            elf::R_RISCV_SUB32 => Sub(4),
            elf::R_RISCV_SUB64 => Sub(8),
            elf::R_RISCV_SUB6 => Sub6,
            elf::R_RISCV_SET6 => Set6,
            elf::R_RISCV_SET_ULEB128 => SetUleb128,
            elf::R_RISCV_SUB_ULEB128 => SubUleb128,
            _ => return None,
        },
        elf::EM_LOONGARCH => match r {
            elf::R_LARCH_NONE | elf::R_LARCH_RELAX => Ignore,
            elf::R_LARCH_64 | elf::R_LARCH_TLS_DTPREL64 => Abs(8),
            elf::R_LARCH_32 | elf::R_LARCH_TLS_DTPREL32 => Abs(4),
            elf::R_LARCH_32_PCREL => Pcrel(4),
            elf::R_LARCH_64_PCREL => Pcrel(8),
            elf::R_LARCH_ADD8 => Add(1),
            elf::R_LARCH_ADD16 => Add(2),
            elf::R_LARCH_ADD24 => Add(3),
            elf::R_LARCH_ADD32 => Add(4),
            elf::R_LARCH_ADD64 => Add(8),
            elf::R_LARCH_SUB8 => Sub(1),
            elf::R_LARCH_SUB16 => Sub(2),
            elf::R_LARCH_SUB24 => Sub(3),
            elf::R_LARCH_SUB32 => Sub(4),
            elf::R_LARCH_SUB64 => Sub(8),
            elf::R_LARCH_ADD6 => Add6,
            elf::R_LARCH_SUB6 => Sub6,
            elf::R_LARCH_ADD_ULEB128 => AddUleb128,
            elf::R_LARCH_SUB_ULEB128 => SubUleb128,
            _ => return None,
        },
        elf::EM_PPC64 => match r {
            elf::R_PPC64_NONE => Ignore,
            elf::R_PPC64_ADDR64 | elf::R_PPC64_UADDR64 | elf::R_PPC64_DTPREL64 => Abs(8),
            elf::R_PPC64_ADDR32 | elf::R_PPC64_UADDR32 => Abs(4),
            elf::R_PPC64_ADDR16 | elf::R_PPC64_UADDR16 => Abs(2),
            elf::R_PPC64_REL64 => Pcrel(8),
            elf::R_PPC64_REL32 => Pcrel(4),
            _ => return None,
        },
        elf::EM_PPC => match r {
            elf::R_PPC_NONE => Ignore,
            elf::R_PPC_ADDR32 | elf::R_PPC_UADDR32 | elf::R_PPC_DTPREL32 => Abs(4),
            elf::R_PPC_ADDR16 | elf::R_PPC_UADDR16 => Abs(2),
            elf::R_PPC_REL32 => Pcrel(4),
            _ => return None,
        },
        elf::EM_S390 => match r {
            elf::R_390_NONE => Ignore,
            elf::R_390_64 | elf::R_390_TLS_LDO64 => Abs(8),
            elf::R_390_32 | elf::R_390_TLS_LDO32 => Abs(4),
            elf::R_390_16 => Abs(2),
            elf::R_390_8 => Abs(1),
            elf::R_390_PC64 => Pcrel(8),
            elf::R_390_PC32 => Pcrel(4),
            elf::R_390_PC16 => Pcrel(2),
            _ => return None,
        },
        _ => return None,
    };
    Some(op)
}

#[derive(Debug, Clone, Copy)]
enum Addend {
    /// RELA: the entry's `r_addend`.
    Explicit(u64),
    /// REL: for absolute and PC-relative types, the value already at the
    /// location; the accumulating types (ADD/SUB/...) use 0.
    Implicit,
}

/// Applies one relocation to `data`. `None` if the location is outside
/// `data` (or, for ULEB128 types, holds no terminated ULEB128).
fn apply_relocation(
    data: &mut [u8],
    op: Op,
    offset: u64,
    symbol: u64,
    addend: Addend,
    big: bool,
) -> Option<()> {
    let at = usize::try_from(offset).ok()?;
    let explicit = match addend {
        Addend::Explicit(a) => a,
        Addend::Implicit => 0,
    };
    let s_plus_a = symbol.wrapping_add(explicit);
    match op {
        Op::Ignore => Some(()),
        Op::Abs(width) | Op::Pcrel(width) => {
            let a = match addend {
                Addend::Explicit(a) => a,
                Addend::Implicit => read_uint(data, at, width, big)?,
            };
            let mut value = symbol.wrapping_add(a);
            if let Op::Pcrel(_) = op {
                value = value.wrapping_sub(offset);
            }
            write_uint(data, at, width, big, value)
        }
        Op::Add(width) => {
            let current = read_uint(data, at, width, big)?;
            write_uint(data, at, width, big, current.wrapping_add(s_plus_a))
        }
        Op::Sub(width) => {
            let current = read_uint(data, at, width, big)?;
            write_uint(data, at, width, big, current.wrapping_sub(s_plus_a))
        }
        Op::Add6 | Op::Sub6 | Op::Set6 => {
            let current = read_uint(data, at, 1, big)?;
            let low = match op {
                Op::Add6 => current.wrapping_add(s_plus_a),
                Op::Sub6 => current.wrapping_sub(s_plus_a),
                _ => s_plus_a,
            };
            write_uint(data, at, 1, big, (current & 0xc0) | (low & 0x3f))
        }
        Op::SetUleb128 | Op::AddUleb128 | Op::SubUleb128 => {
            let (current, len) = read_uleb128(data.get(at..)?)?;
            let value = match op {
                Op::SetUleb128 => s_plus_a,
                Op::AddUleb128 => current.wrapping_add(s_plus_a),
                _ => current.wrapping_sub(s_plus_a),
            };
            write_uleb128(data.get_mut(at..at.checked_add(len)?)?, value);
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_round_trip_both_endians() {
        let mut buf = [0u8; 8];
        write_uint(&mut buf, 1, 4, false, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(buf, [0, 0x88, 0x77, 0x66, 0x55, 0, 0, 0]);
        assert_eq!(read_uint(&buf, 1, 4, false), Some(0x5566_7788));
        write_uint(&mut buf, 0, 8, true, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(buf, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(read_uint(&buf, 5, 3, true), Some(0x060708));
        assert_eq!(read_uint(&buf, 5, 4, true), None);
        assert_eq!(read_uint(&buf, usize::MAX, 2, true), None);
        assert_eq!(write_uint(&mut buf, 7, 2, true, 0), None);
    }

    /// Every width, both byte orders, every offset that fits: what is read
    /// is the bytes taken most significant first (big) or last (little),
    /// and what is written reads back as the value's low bytes.
    #[test]
    fn uint_every_width_matches_the_bytes() {
        let bytes: Vec<u8> = (1..=12).map(|i| i * 17).collect();
        for width in 0..=9 {
            for offset in 0..=bytes.len() {
                for big in [false, true] {
                    let got = read_uint(&bytes, offset, width, big);
                    let want = (1..=8).contains(&width).then_some(()).and_then(|_| {
                        let b = bytes.get(offset..offset + width)?;
                        let f = |acc: u64, &x: &u8| acc << 8 | u64::from(x);
                        Some(if big {
                            b.iter().fold(0, f)
                        } else {
                            b.iter().rev().fold(0, f)
                        })
                    });
                    assert_eq!(got, want, "width {width} offset {offset} big {big}");
                    let mut buf = bytes.clone();
                    let value = 0x8877_6655_4433_2211u64;
                    if write_uint(&mut buf, offset, width, big, value).is_some() {
                        let mask = if width == 8 {
                            !0
                        } else {
                            (1 << (8 * width)) - 1
                        };
                        assert_eq!(read_uint(&buf, offset, width, big), Some(value & mask));
                        assert_eq!(buf[..offset], bytes[..offset], "bytes before kept");
                        assert_eq!(buf[offset + width..], bytes[offset + width..], "after kept");
                    } else {
                        assert_eq!(want, None, "width {width} offset {offset}: not written");
                    }
                }
            }
        }
    }

    #[test]
    fn absolute_and_pc_relative() {
        let mut buf = [0u8; 16];
        apply_relocation(
            &mut buf,
            Op::Abs(8),
            0,
            0x1000,
            Addend::Explicit(0x23),
            false,
        )
        .unwrap();
        assert_eq!(read_uint(&buf, 0, 8, false), Some(0x1023));
        // S + A - P with P = 8.
        apply_relocation(&mut buf, Op::Pcrel(4), 8, 0x100, Addend::Explicit(4), false).unwrap();
        assert_eq!(read_uint(&buf, 8, 4, false), Some(0xfc));
        // Negative results wrap and are truncated to the field.
        apply_relocation(&mut buf, Op::Pcrel(4), 12, 0, Addend::Explicit(0), true).unwrap();
        assert_eq!(read_uint(&buf, 12, 4, true), Some(0xffff_fff4));
        // Big-endian 32-bit absolute, negative addend.
        let mut buf = [0u8; 4];
        apply_relocation(
            &mut buf,
            Op::Abs(4),
            0,
            0x10,
            Addend::Explicit(-4i64 as u64),
            true,
        )
        .unwrap();
        assert_eq!(buf, [0, 0, 0, 0x0c]);
    }

    #[test]
    fn rel_uses_implicit_addend() {
        let mut buf = [0x34, 0x12, 0, 0, 0xff, 0xff, 0xff, 0xff];
        apply_relocation(&mut buf, Op::Abs(4), 0, 0x1_0000, Addend::Implicit, false).unwrap();
        assert_eq!(read_uint(&buf, 0, 4, false), Some(0x1_1234));
        // Implicit -1 at offset 4, PC-relative: S + A - P = 0x20 - 1 - 4.
        apply_relocation(&mut buf, Op::Pcrel(4), 4, 0x20, Addend::Implicit, false).unwrap();
        assert_eq!(read_uint(&buf, 4, 4, false), Some(0x1b));
    }

    #[test]
    fn riscv_add_sub_pairs() {
        // A typical label difference: ADD then SUB at the same location.
        let mut buf = [0u8; 10];
        apply_relocation(&mut buf, Op::Add(8), 0, 0x40, Addend::Explicit(2), false).unwrap();
        apply_relocation(&mut buf, Op::Sub(8), 0, 0x10, Addend::Explicit(0), false).unwrap();
        assert_eq!(read_uint(&buf, 0, 8, false), Some(0x32));
        apply_relocation(&mut buf, Op::Add(2), 8, 0x5, Addend::Explicit(0), false).unwrap();
        apply_relocation(&mut buf, Op::Sub(2), 8, 0x7, Addend::Explicit(0), false).unwrap();
        assert_eq!(read_uint(&buf, 8, 2, false), Some(0xfffe));
        assert_eq!(
            apply_relocation(&mut buf, Op::Add(2), 9, 0, Addend::Explicit(0), false),
            None
        );
    }

    #[test]
    fn six_bit_operations_keep_the_top_bits() {
        // DW_CFA_advance_loc style byte: 0x40 | delta.
        let mut buf = [0x40u8 | 0x05];
        apply_relocation(&mut buf, Op::Sub6, 0, 2, Addend::Explicit(0), false).unwrap();
        assert_eq!(buf[0], 0x43);
        apply_relocation(&mut buf, Op::Sub6, 0, 4, Addend::Explicit(0), false).unwrap();
        assert_eq!(buf[0], 0x40 | 0x3f);
        apply_relocation(&mut buf, Op::Set6, 0, 0x7, Addend::Explicit(0x40), false).unwrap();
        assert_eq!(buf[0], 0x47);
        apply_relocation(&mut buf, Op::Add6, 0, 0x3a, Addend::Explicit(0), false).unwrap();
        assert_eq!(buf[0], 0x41);
    }

    #[test]
    fn uleb128_rewritten_in_place() {
        // Padded two-byte ULEB128 of 0 followed by another byte.
        let mut buf = [0x80, 0x00, 0xaa];
        apply_relocation(
            &mut buf,
            Op::SetUleb128,
            0,
            0x100,
            Addend::Explicit(0x2c),
            false,
        )
        .unwrap();
        assert_eq!(read_uleb128(&buf), Some((0x12c, 2)));
        assert_eq!(buf, [0xac, 0x02, 0xaa]);
        apply_relocation(
            &mut buf,
            Op::SubUleb128,
            0,
            0x100,
            Addend::Explicit(0),
            false,
        )
        .unwrap();
        assert_eq!(read_uleb128(&buf), Some((0x2c, 2)));
        apply_relocation(&mut buf, Op::AddUleb128, 0, 1, Addend::Explicit(0), false).unwrap();
        assert_eq!(read_uleb128(&buf), Some((0x2d, 2)));
        // Value too large for the encoded length: truncated, length kept.
        apply_relocation(
            &mut buf,
            Op::SetUleb128,
            0,
            0x1_0000,
            Addend::Explicit(1),
            false,
        )
        .unwrap();
        assert_eq!(read_uleb128(&buf), Some((1, 2)));
        assert_eq!(buf[2], 0xaa);
        // Unterminated ULEB128 at the end of the section.
        let mut buf = [0x80, 0x80];
        assert_eq!(
            apply_relocation(&mut buf, Op::SetUleb128, 0, 1, Addend::Explicit(0), false),
            None
        );
        assert_eq!(
            apply_relocation(&mut buf, Op::SetUleb128, 5, 1, Addend::Explicit(0), false),
            None
        );
    }

    #[test]
    fn relocation_table_uses_machine() {
        assert_eq!(relocation_op(62, 1), Some(Op::Abs(8)));
        assert_eq!(relocation_op(62, 10), Some(Op::Abs(4)));
        assert_eq!(relocation_op(62, 2), Some(Op::Pcrel(4)));
        assert_eq!(relocation_op(62, 0), Some(Op::Ignore));
        assert_eq!(relocation_op(62, 250), None);
        assert_eq!(relocation_op(3, 1), Some(Op::Abs(4)));
        assert_eq!(relocation_op(3, 32), Some(Op::Abs(4)));
        assert_eq!(relocation_op(183, 257), Some(Op::Abs(8)));
        assert_eq!(relocation_op(183, 256), Some(Op::Ignore));
        assert_eq!(relocation_op(183, 1), None);
        assert_eq!(relocation_op(40, 2), Some(Op::Abs(4)));
        assert_eq!(relocation_op(40, 106), Some(Op::Abs(4)));
        assert_eq!(relocation_op(243, 36), Some(Op::Add(8)));
        assert_eq!(relocation_op(243, 40), Some(Op::Sub(8)));
        assert_eq!(relocation_op(243, 52), Some(Op::Sub6));
        assert_eq!(relocation_op(243, 53), Some(Op::Set6));
        assert_eq!(relocation_op(243, 57), Some(Op::Pcrel(4)));
        assert_eq!(relocation_op(243, 60), Some(Op::SetUleb128));
        assert_eq!(relocation_op(243, 61), Some(Op::SubUleb128));
        assert_eq!(relocation_op(243, 51), Some(Op::Ignore));
        assert_eq!(relocation_op(243, 43), None);
        assert_eq!(relocation_op(21, 38), Some(Op::Abs(8)));
        assert_eq!(relocation_op(21, 1), Some(Op::Abs(4)));
        assert_eq!(relocation_op(21, 78), Some(Op::Abs(8)));
        assert_eq!(relocation_op(22, 22), Some(Op::Abs(8)));
        assert_eq!(relocation_op(22, 52), Some(Op::Abs(4)));
        assert_eq!(relocation_op(22, 53), Some(Op::Abs(8)));
        assert_eq!(relocation_op(0, 1), None);
    }

    #[test]
    fn decompress_checks_size() {
        use std::io::Write;
        let payload: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&payload).unwrap();
        let compressed = encoder.finish().unwrap();
        assert_eq!(
            decompress(Compression::Zlib, &compressed, payload.len() as u64).unwrap(),
            payload
        );
        let short = decompress(Compression::Zlib, &compressed, 4000).unwrap_err();
        assert!(short.contains("more than"), "{short}");
        let long = decompress(Compression::Zlib, &compressed, 6000).unwrap_err();
        assert!(long.contains("header says 0x1770"), "{long}");
        assert!(decompress(Compression::Zlib, &compressed[..20], 5000).is_err());
        assert!(decompress(Compression::Zlib, b"garbage", 5).is_err());
        assert!(decompress(Compression::Zstd, b"garbage", 5).is_err());
        assert!(decompress(Compression::Zlib, &compressed, u64::MAX).is_err());
    }

    #[test]
    fn error_messages() {
        assert_eq!(ElfError::NotElf.to_string(), "not an ELF file");
        let e = ElfError::UnsupportedRelocation {
            rtype: 57,
            machine: 243,
            section: ".debug_info".into(),
        };
        assert_eq!(
            e.to_string(),
            "unsupported relocation type 57 for RISC-V in .debug_info"
        );
        assert_eq!(e.duplicate().to_string(), e.to_string());
        let e = ElfError::RelocationOutOfRange {
            offset: 0x1234,
            section: ".debug_info".into(),
            size: 0x100,
        };
        assert_eq!(
            e.to_string(),
            "relocation at offset 0x1234 outside .debug_info (size 0x100)"
        );
        let e = ElfError::SymbolOutOfRange {
            index: 99,
            section: ".debug_info".into(),
        };
        assert_eq!(
            e.to_string(),
            "symbol index 99 out of range in relocations of .debug_info"
        );
        let e = ElfError::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(e.to_string(), e.to_string().to_lowercase());
        assert_eq!(machine_name(9999), "machine 9999");
    }

    #[test]
    fn tiny_inputs() {
        assert!(matches!(
            ObjectFile::from_bytes(vec![]),
            Err(ElfError::NotElf)
        ));
        assert!(matches!(
            ObjectFile::from_bytes(b"\x7fEL".to_vec()),
            Err(ElfError::NotElf)
        ));
        assert!(matches!(
            ObjectFile::from_bytes(b"\x7fELF".to_vec()),
            Err(ElfError::Malformed(_))
        ));
        let mut header = vec![0u8; 64];
        header[..4].copy_from_slice(&elf::ELFMAG);
        header[4] = 3;
        header[5] = 1;
        assert_eq!(
            ObjectFile::from_bytes(header.clone())
                .unwrap_err()
                .to_string(),
            "truncated or malformed ELF: unsupported ELF class 3"
        );
        header[4] = 2;
        header[6] = 1; // EV_CURRENT
                       // A bare header with no sections is a valid, empty object.
        let object = ObjectFile::from_bytes(header).unwrap();
        assert!(object.is_64());
        assert!(object.is_little_endian());
        assert_eq!(object.debug_section(".debug_info").unwrap(), None);
        assert!(object.symbols().unwrap().is_empty());
    }
}
