//! Tests of the ELF reader against the vendored golden objects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gimli::{EndianSlice, RunTimeEndian};
use ksymrules_engine::elf::{ElfError, ObjectFile};
use object::{Object, ObjectSection, ObjectSymbol};

type Reader<'a> = EndianSlice<'a, RunTimeEndian>;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/golden")
}

fn golden(case: &str, variant: &str) -> PathBuf {
    golden_dir().join(case).join(variant).join("input.o")
}

/// Every golden input.o outside `errors/`, as (case, variant, path).
fn golden_objects() -> Vec<(String, String, PathBuf)> {
    let mut found = Vec::new();
    let mut cases: Vec<_> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "errors")
        .collect();
    cases.sort();
    for case in cases {
        let mut variants: Vec<_> = std::fs::read_dir(&case)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        variants.sort();
        for variant in variants {
            let input = variant.join("input.o");
            if input.is_file() {
                found.push((
                    case.file_name().unwrap().to_string_lossy().into_owned(),
                    variant.file_name().unwrap().to_string_lossy().into_owned(),
                    input,
                ));
            }
        }
    }
    assert!(found.len() > 50, "golden corpus not found");
    found
}

fn endian(object: &ObjectFile) -> RunTimeEndian {
    if object.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    }
}

fn load_dwarf(object: &ObjectFile) -> gimli::Dwarf<Reader<'_>> {
    let endian = endian(object);
    gimli::Dwarf::load(|id| -> Result<Reader<'_>, ElfError> {
        let data = object.debug_section(id.name())?.unwrap_or(&[]);
        Ok(EndianSlice::new(data, endian))
    })
    .unwrap()
}

fn string_of(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &gimli::Unit<Reader<'_>>,
    attr: gimli::AttributeValue<Reader<'_>>,
    what: &str,
) -> String {
    let value = dwarf
        .attr_string(unit, attr)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = std::str::from_utf8(value.slice())
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .to_string();
    assert!(!text.is_empty(), "{what}: empty string");
    assert!(
        text.chars().all(|c| !c.is_control()),
        "{what}: {text:?} has control characters"
    );
    text
}

/// Checks every DW_AT_name of `unit` and returns them. Also resolves the
/// unit's line-program file and directory names.
fn unit_names(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &gimli::Unit<Reader<'_>>,
    what: &str,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut entries = unit.entries();
    let mut count = 0;
    while let Some(entry) = entries.next_dfs().unwrap() {
        count += 1;
        if let Some(attr) = entry.attr_value(gimli::DW_AT_name) {
            names.insert(string_of(dwarf, unit, attr, what));
        }
    }
    assert!(count > 0, "{what}: unit has no entries");
    if let Some(program) = &unit.line_program {
        let header = program.header();
        for dir in header.include_directories() {
            string_of(dwarf, unit, *dir, &format!("{what}: line directory"));
        }
        let files = header.file_names();
        assert!(!files.is_empty(), "{what}: no line-program files");
        for file in files {
            string_of(dwarf, unit, file.path_name(), &format!("{what}: line file"));
        }
    }
    names
}

struct DwarfSummary {
    producer: String,
    cu_name: String,
    /// DW_AT_name values of all compilation units.
    names: BTreeSet<String>,
    units: usize,
}

fn summarize(object: &ObjectFile, what: &str) -> DwarfSummary {
    let dwarf = load_dwarf(object);
    let mut headers = dwarf.units();
    let mut summary: Option<DwarfSummary> = None;
    let mut units = 0;
    while let Some(header) = headers.next().unwrap() {
        let unit = dwarf.unit(header).unwrap();
        units += 1;
        let names = unit_names(&dwarf, &unit, what);
        match &mut summary {
            Some(s) => s.names.extend(names),
            None => {
                let mut entries = unit.entries();
                let root = entries.next_dfs().unwrap().unwrap();
                assert_eq!(root.tag(), gimli::DW_TAG_compile_unit, "{what}");
                let producer = string_of(
                    &dwarf,
                    &unit,
                    root.attr_value(gimli::DW_AT_producer)
                        .expect("DW_AT_producer"),
                    what,
                );
                let cu_name = string_of(
                    &dwarf,
                    &unit,
                    root.attr_value(gimli::DW_AT_name).expect("DW_AT_name"),
                    what,
                );
                summary = Some(DwarfSummary {
                    producer,
                    cu_name,
                    names,
                    units: 0,
                });
            }
        }
    }
    let mut summary = summary.unwrap_or_else(|| panic!("{what}: no compilation units"));
    summary.units = units;
    summary
}

#[test]
fn every_golden_object_has_readable_dwarf() {
    for (case, variant, path) in golden_objects() {
        let what = format!("{case}/{variant}");
        let object = ObjectFile::open(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(object.is_relocatable(), "{what}");
        let summary = summarize(&object, &what);
        assert!(
            ["GNU", "clang", "rustc"]
                .iter()
                .any(|p| summary.producer.contains(p)),
            "{what}: producer {:?}",
            summary.producer
        );
        if case == "rust" {
            assert!(
                summary.cu_name.contains("case"),
                "{what}: {}",
                summary.cu_name
            );
        } else if case == "kmod" {
            assert!(
                summary.cu_name.ends_with(".c"),
                "{what}: {}",
                summary.cu_name
            );
        } else if case == "multicu" {
            // Two objects combined with ld -r.
            assert_eq!(summary.cu_name, "a.c", "{what}");
            assert_eq!(summary.units, 2, "{what}");
        } else {
            assert_eq!(summary.cu_name, "case.c", "{what}");
            assert_eq!(summary.units, 1, "{what}");
        }
        assert!(summary.names.len() > 3, "{what}: {:?}", summary.names);
    }
}

#[test]
fn type_unit_groups_are_separate_and_readable() {
    let mut checked = 0;
    for (case, variant, path) in golden_objects() {
        let what = format!("{case}/{variant}");
        let object = ObjectFile::open(&path).unwrap();
        let endian = endian(&object);
        let base = load_dwarf(&object);
        let info_groups = object.group_debug_sections(".debug_info").unwrap();
        let types_groups = object.group_debug_sections(".debug_types").unwrap();
        if variant == "gcc-types5" {
            assert!(!info_groups.is_empty(), "{what}: no COMDAT .debug_info");
        } else {
            assert!(
                info_groups.is_empty(),
                "{what}: unexpected COMDAT .debug_info"
            );
        }
        if variant == "gcc-types4" {
            assert!(!types_groups.is_empty(), "{what}: no COMDAT .debug_types");
            // All .debug_types sections are in groups.
            assert_eq!(
                object.debug_section(".debug_types").unwrap(),
                None,
                "{what}"
            );
        } else {
            assert!(types_groups.is_empty(), "{what}");
        }
        // The main .debug_info holds only the compilation unit(s).
        let mut headers = base.units();
        while let Some(header) = headers.next().unwrap() {
            assert_eq!(header.type_(), gimli::UnitType::Compilation, "{what}");
        }

        let all_names = summarize(&object, &what).names;
        let mut type_names = BTreeSet::new();
        for section in &info_groups {
            let mut dwarf = load_dwarf(&object);
            dwarf.debug_info = gimli::DebugInfo::new(section, endian);
            let mut headers = dwarf.units();
            let header = headers.next().unwrap().expect("a type unit");
            assert!(
                matches!(header.type_(), gimli::UnitType::Type { .. }),
                "{what}: {:?}",
                header.type_()
            );
            let unit = dwarf.unit(header).unwrap();
            type_names.extend(unit_names(&dwarf, &unit, &what));
            assert!(
                headers.next().unwrap().is_none(),
                "{what}: one unit per group"
            );
            checked += 1;
        }
        for section in &types_groups {
            let mut dwarf = load_dwarf(&object);
            dwarf.debug_types = gimli::DebugTypes::new(section, endian);
            let mut headers = dwarf.type_units();
            let header = headers.next().unwrap().expect("a type unit");
            let unit = dwarf.unit(header).unwrap();
            type_names.extend(unit_names(&dwarf, &unit, &what));
            checked += 1;
        }
        if !info_groups.is_empty() || !types_groups.is_empty() {
            assert!(!type_names.is_empty(), "{what}");
            // The type names are those missing from the compilation unit
            // compared with the same source built without type units.
            let plain = ObjectFile::open(&golden(&case, "gcc-dwarf5")).unwrap();
            let plain_names = summarize(&plain, &what).names;
            let combined: BTreeSet<_> = all_names.union(&type_names).cloned().collect();
            assert_eq!(combined, plain_names, "{what}");
        }
    }
    assert!(checked > 20, "only {checked} type units checked");
}

#[test]
fn names_agree_across_architectures() {
    let arches = ["aarch64", "armhf", "i686", "ppc64le", "riscv64", "s390x"];
    let expected_machine = [183u16, 40, 3, 21, 243, 22];
    let mut compared = 0;
    for case in ["basic", "kabi", "multicu"] {
        let reference = ObjectFile::open(&golden(case, "gcc-dwarf5")).unwrap();
        assert_eq!(reference.machine(), 62);
        let reference = summarize(&reference, case);
        for (arch, machine) in arches.iter().zip(expected_machine) {
            let path = golden(case, arch);
            if !path.exists() {
                continue;
            }
            let what = format!("{case}/{arch}");
            let object = ObjectFile::open(&path).unwrap();
            assert_eq!(object.machine(), machine, "{what}");
            assert_eq!(object.is_64(), !matches!(*arch, "armhf" | "i686"), "{what}");
            assert_eq!(object.is_little_endian(), *arch != "s390x", "{what}");
            let summary = summarize(&object, &what);
            assert!(summary.producer.contains("GNU"), "{what}");
            assert_eq!(summary.cu_name, reference.cu_name, "{what}");
            assert_eq!(summary.units, reference.units, "{what}");
            assert_eq!(summary.names, reference.names, "{what}");
            compared += 1;
        }
    }
    assert!(compared >= 15, "only {compared} comparisons");
}

#[test]
fn zlib_compressed_sections_match_uncompressed_build() {
    for case in ["basic", "kabi", "multicu"] {
        let compressed = ObjectFile::open(&golden(case, "gcc-gz-zlib")).unwrap();
        let plain = ObjectFile::open(&golden(case, "gcc-dwarf5")).unwrap();
        // The section really is compressed in the file; section_data gives
        // the decompressed (unrelocated) bytes.
        let data = std::fs::read(golden(case, "gcc-gz-zlib")).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let section = file.section_by_name(".debug_info").unwrap();
        let flags = match section.flags() {
            object::SectionFlags::Elf { sh_flags, .. } => sh_flags.0,
            _ => unreachable!(),
        };
        let (_, file_size) = section.file_range().unwrap();
        let unrelocated = compressed.section_data(".debug_info").unwrap().unwrap();
        let info = compressed.debug_section(".debug_info").unwrap().unwrap();
        if case != "multicu" {
            // (ld -r decompressed the sections of multicu.)
            assert_ne!(flags & object::elf::SHF_COMPRESSED.0, 0, "{case}");
            assert!(file_size < info.len() as u64, "{case}");
        }
        assert_eq!(unrelocated.len(), info.len(), "{case}");
        assert_eq!(
            unrelocated,
            plain.section_data(".debug_info").unwrap().unwrap(),
            "{case}"
        );
        // .debug_str differs (the producer string records -gz=zlib), so the
        // relocated .debug_info does too, but the unrelocated bytes of the
        // other sections are the same.
        for name in [".debug_abbrev", ".debug_line", ".debug_line_str"] {
            assert_eq!(
                compressed.debug_section(name).unwrap(),
                plain.debug_section(name).unwrap(),
                "{case} {name}"
            );
        }
        let compressed_producer = summarize(&compressed, case).producer;
        assert!(
            compressed_producer.contains("-gz=zlib"),
            "{compressed_producer}"
        );
        assert_eq!(
            summarize(&compressed, case).names,
            summarize(&plain, case).names
        );
    }
}

#[test]
fn sections_are_cached_and_unrelocated_ones_are_not_copied() {
    let object = ObjectFile::open(&golden("basic", "gcc-dwarf5")).unwrap();
    let info = object.debug_section(".debug_info").unwrap().unwrap();
    let again = object.debug_section(".debug_info").unwrap().unwrap();
    assert_eq!(info.as_ptr(), again.as_ptr());
    let raw = object.section_data(".debug_info").unwrap().unwrap();
    assert_eq!(raw.len(), info.len());
    assert_ne!(raw, info, "relocations must change .debug_info");
    assert_ne!(raw.as_ptr(), info.as_ptr());
    // .debug_str has no relocations: the same bytes as the raw section.
    let strings = object.debug_section(".debug_str").unwrap().unwrap();
    let raw_strings = object.section_data(".debug_str").unwrap().unwrap();
    assert_eq!(strings.as_ptr(), raw_strings.as_ptr());
    assert_eq!(object.debug_section(".debug_nonexistent").unwrap(), None);
    assert_eq!(object.section_data(".nonexistent").unwrap(), None);
    assert_eq!(object.section_data(".bss").unwrap(), Some(&[][..]));
}

#[test]
fn kabi_rules_section_is_readable() {
    let object = ObjectFile::open(&golden("kabi", "gcc-dwarf5")).unwrap();
    let rules = object
        .section_data(".discard.gendwarfksyms.kabi_rules")
        .unwrap()
        .expect("kabi rules section");
    assert!(!rules.is_empty());
    assert!(rules.split(|&b| b == 0).any(|r| !r.is_empty()));
}

#[test]
fn error_files() {
    let not_elf = ObjectFile::open(&golden_dir().join("errors/not-elf/input.o")).unwrap_err();
    assert!(matches!(not_elf, ElfError::NotElf));
    assert_eq!(not_elf.to_string(), "not an ELF file");

    let truncated = ObjectFile::open(&golden_dir().join("errors/truncated/input.o")).unwrap_err();
    assert!(matches!(truncated, ElfError::Malformed(_)), "{truncated:?}");
    assert!(
        truncated
            .to_string()
            .starts_with("truncated or malformed ELF: "),
        "{truncated}"
    );

    let no_debug = ObjectFile::open(&golden_dir().join("errors/no-debug-info/input.o")).unwrap();
    assert_eq!(no_debug.debug_section(".debug_info").unwrap(), None);
    assert!(no_debug
        .symbols()
        .unwrap()
        .iter()
        .any(|s| s.name == b"no_debug"));

    let missing = ObjectFile::open(Path::new("/nonexistent/ksymrules/input.o")).unwrap_err();
    assert!(matches!(missing, ElfError::Io(_)));
    assert!(missing.to_string().starts_with("no such file"), "{missing}");
}

#[test]
fn symbols_match_object_crate() {
    for (case, variant, path) in golden_objects() {
        let what = format!("{case}/{variant}");
        let data = std::fs::read(&path).unwrap();
        let expected: Vec<(Vec<u8>, u64)> = {
            let file = object::File::parse(&*data).unwrap();
            file.symbols()
                .filter(|s| {
                    s.is_global() && !s.is_undefined() && !s.name_bytes().unwrap().is_empty()
                })
                .map(|s| (s.name_bytes().unwrap().to_vec(), s.address()))
                .collect()
        };
        let object = ObjectFile::from_bytes(data).unwrap();
        let symbols = object.symbols().unwrap();
        let got: Vec<(Vec<u8>, u64)> = symbols.iter().map(|s| (s.name.to_vec(), s.value)).collect();
        assert_eq!(got, expected, "{what}");
        assert!(!symbols.is_empty(), "{what}");
        for symbol in &symbols {
            assert_ne!(symbol.shndx, 0, "{what}");
        }
    }
}

/// A golden object's bytes and the (offset, entry size) of the relocation
/// section for `target`, located with the `object` crate.
fn relocation_section(path: &Path, target: &str) -> (Vec<u8>, usize, usize, usize) {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let is_64 = file.is_64();
    let mut found = None;
    for name in [format!(".rela{target}"), format!(".rel{target}")] {
        if let Some(section) = file.section_by_name(&name) {
            let (offset, size) = section.file_range().unwrap();
            let rela = name.starts_with(".rela");
            let entsize = match (is_64, rela) {
                (true, true) => 24,
                (true, false) => 16,
                (false, true) => 12,
                (false, false) => 8,
            };
            found = Some((offset as usize, size as usize, entsize));
        }
    }
    let (offset, size, entsize) = found.expect("relocation section");
    drop(file);
    (data, offset, size, entsize)
}

fn put(data: &mut [u8], at: usize, width: usize, big: bool, value: u64) {
    for i in 0..width {
        let shift = if big { width - 1 - i } else { i } * 8;
        data[at + i] = (value >> shift) as u8;
    }
}

fn get(data: &[u8], at: usize, width: usize, big: bool) -> u64 {
    let mut value = 0;
    for i in 0..width {
        let shift = if big { width - 1 - i } else { i } * 8;
        value |= u64::from(data[at + i]) << shift;
    }
    value
}

/// Patches the first relocation entry of `.rel[a].debug_info`.
fn patched(case: &str, variant: &str, patch: impl Fn(&mut [u8], bool, bool)) -> ObjectFile {
    let path = golden(case, variant);
    let (mut data, offset, _, entsize) = relocation_section(&path, ".debug_info");
    let is_64 = data[4] == 2;
    let big = data[5] == 2;
    patch(&mut data[offset..offset + entsize], is_64, big);
    ObjectFile::from_bytes(data).unwrap()
}

fn set_type(entry: &mut [u8], is_64: bool, big: bool, rtype: u64) {
    if is_64 {
        let info = get(entry, 8, 8, big);
        put(entry, 8, 8, big, (info & !0xffff_ffff) | rtype);
    } else {
        let info = get(entry, 4, 4, big);
        put(entry, 4, 4, big, (info & !0xff) | rtype);
    }
}

#[test]
fn bad_relocation_types_are_errors() {
    let cases = [
        ("gcc-dwarf5", 250, "x86-64"),
        ("i686", 250, "i386"),
        ("armhf", 250, "ARM"),
        ("aarch64", 4000, "AArch64"),
        ("riscv64", 200, "RISC-V"),
        ("ppc64le", 250, "PowerPC64"),
        ("s390x", 250, "s390"),
    ];
    for (variant, rtype, machine) in cases {
        let object = patched("kabi", variant, |e, is_64, big| {
            set_type(e, is_64, big, rtype)
        });
        let error = object.debug_section(".debug_info").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("unsupported relocation type {rtype} for {machine} in .debug_info"),
            "{variant}"
        );
        // The error is cached and returned again.
        assert_eq!(
            object.debug_section(".debug_info").unwrap_err().to_string(),
            error.to_string()
        );
        // Other sections and the raw data are unaffected.
        assert!(object.debug_section(".debug_abbrev").unwrap().is_some());
        assert!(object.section_data(".debug_info").unwrap().is_some());
        // NONE is accepted.
        let object = patched("kabi", variant, |e, is_64, big| set_type(e, is_64, big, 0));
        assert!(object.debug_section(".debug_info").is_ok(), "{variant}");
    }
}

#[test]
fn relocation_offsets_and_symbols_are_checked() {
    for variant in ["gcc-dwarf5", "i686", "s390x"] {
        let object = patched("kabi", variant, |e, is_64, big| {
            put(e, 0, if is_64 { 8 } else { 4 }, big, 0xffff_fff0)
        });
        let size = object.section_data(".debug_info").unwrap().unwrap().len();
        assert_eq!(
            object.debug_section(".debug_info").unwrap_err().to_string(),
            format!("relocation at offset 0xfffffff0 outside .debug_info (size {size:#x})"),
            "{variant}"
        );

        let object = patched("kabi", variant, |e, is_64, big| {
            if is_64 {
                let info = get(e, 8, 8, big);
                put(e, 8, 8, big, (info & 0xffff_ffff) | (99999 << 32));
            } else {
                let info = get(e, 4, 4, big);
                put(e, 4, 4, big, (info & 0xff) | (99999 << 8));
            }
        });
        assert_eq!(
            object.debug_section(".debug_info").unwrap_err().to_string(),
            "symbol index 99999 out of range in relocations of .debug_info",
            "{variant}"
        );
    }
}

#[test]
fn relocations_are_not_applied_to_linked_objects() {
    let path = golden("basic", "gcc-dwarf5");
    let mut data = std::fs::read(&path).unwrap();
    let relocatable = ObjectFile::from_bytes(data.clone()).unwrap();
    // e_type = ET_EXEC (little-endian).
    data[16] = 2;
    data[17] = 0;
    let linked = ObjectFile::from_bytes(data).unwrap();
    assert!(!linked.is_relocatable());
    let raw = linked.section_data(".debug_info").unwrap().unwrap();
    let info = linked.debug_section(".debug_info").unwrap().unwrap();
    assert_eq!(info.as_ptr(), raw.as_ptr());
    assert_ne!(
        relocatable.debug_section(".debug_info").unwrap().unwrap(),
        info
    );
}

/// A golden ELF64 object with the `sh_entsize` of `.symtab` changed.
#[test]
fn symbol_table_entry_size_is_checked() {
    let path = golden("basic", "gcc-dwarf5");
    let data = std::fs::read(&path).unwrap();
    let (shoff, index) = {
        let file = object::read::elf::ElfFile64::<object::Endianness>::parse(&*data).unwrap();
        let symtab = file.section_by_name(".symtab").unwrap();
        (
            file.elf_header().e_shoff.get(object::Endianness::Little) as usize,
            symtab.index().0,
        )
    };
    let entsize_at = shoff + index * 64 + 56;
    let mut bad = data.clone();
    assert_eq!(get(&bad, entsize_at, 8, false), 24);
    put(&mut bad, entsize_at, 8, false, 16);
    let object = ObjectFile::from_bytes(bad).unwrap();
    let error = object.symbols().unwrap_err();
    assert!(error.to_string().contains("entry size 16"), "{error}");
    // Relocations need the symbol table too.
    assert!(object.debug_section(".debug_info").is_err());
}

/// Calls every accessor; must not panic whatever the input.
fn exercise(data: Vec<u8>) -> bool {
    let Ok(object) = ObjectFile::from_bytes(data) else {
        return false;
    };
    for name in [
        ".debug_info",
        ".debug_abbrev",
        ".debug_str",
        ".debug_line",
        ".debug_line_str",
        ".debug_str_offsets",
        ".debug_addr",
        ".debug_types",
        ".debug_rnglists",
        ".debug_aranges",
    ] {
        let _ = object.debug_section(name);
        let _ = object.group_debug_sections(name);
        let _ = object.section_data(name);
    }
    let _ = object.symbols();
    true
}

#[test]
fn truncated_files_are_errors_not_panics() {
    for variant in ["i686", "riscv64", "s390x", "gcc-gz-zlib", "gcc-types5"] {
        let data = std::fs::read(golden("kabi", variant)).unwrap();
        for len in (0..data.len()).step_by(7) {
            let parsed = exercise(data[..len].to_vec());
            // The section headers are at the end: any real truncation fails.
            assert!(
                !parsed || len > data.len() - 64 * 3,
                "{variant} cut to {len}"
            );
        }
        let error = ObjectFile::from_bytes(data[..3000.min(data.len() - 1)].to_vec()).unwrap_err();
        assert!(
            matches!(error, ElfError::Malformed(_)),
            "{variant}: {error}"
        );
    }
}

#[test]
fn corrupted_files_do_not_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut parsed = 0;
    for variant in [
        "gcc-dwarf5",
        "i686",
        "riscv64",
        "s390x",
        "gcc-gz-zlib",
        "gcc-types5",
    ] {
        let data = std::fs::read(golden("kabi", variant)).unwrap();
        for _ in 0..300 {
            let mut copy = data.clone();
            let flips = 1 + next() % 8;
            for _ in 0..flips {
                let at = (next() % copy.len() as u64) as usize;
                copy[at] = match next() % 4 {
                    0 => 0xff,
                    1 => 0,
                    _ => next() as u8,
                };
            }
            if exercise(copy) {
                parsed += 1;
            }
        }
    }
    assert!(parsed > 100, "only {parsed} mutated files parsed");
}

/// Function symbols (name -> (value, size)) found by the `object` crate.
fn function_symbols(path: &Path) -> Vec<(String, u64, u64)> {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.symbols()
        .filter(|s| s.kind() == object::SymbolKind::Text && !s.is_undefined())
        .map(|s| (s.name().unwrap().to_string(), s.address(), s.size()))
        .collect()
}

/// Checks relocated addresses and label differences against the symbol
/// table: subprogram DW_AT_low_pc/DW_AT_high_pc, line-program sequences and
/// .debug_frame FDEs. On RISC-V the lengths are ADD/SUB relocation pairs
/// (ADD64/SUB64 in .debug_info and .debug_frame, ADD16/SUB16 in .debug_line,
/// SET6/SUB6 in .debug_frame).
#[test]
fn addresses_and_lengths_match_symbols() {
    let mut subprograms = 0;
    let mut fdes = 0;
    let mut sequences = 0;
    for case in ["basic", "kabi", "multicu"] {
        for variant in [
            "gcc-dwarf5",
            "riscv64",
            "aarch64",
            "i686",
            "armhf",
            "s390x",
            "ppc64le",
        ] {
            let path = golden(case, variant);
            if !path.exists() {
                continue;
            }
            let what = format!("{case}/{variant}");
            let mut functions = function_symbols(&path);
            assert!(!functions.is_empty(), "{what}");
            if variant == "armhf" {
                // Thumb function symbols have bit 0 set.
                for function in &mut functions {
                    function.1 &= !1;
                }
            }
            let text_end = functions.iter().map(|f| f.1 + f.2).max().unwrap();
            let object = ObjectFile::open(&path).unwrap();
            let dwarf = load_dwarf(&object);
            let mut headers = dwarf.units();
            while let Some(header) = headers.next().unwrap() {
                let unit = dwarf.unit(header).unwrap();
                let mut entries = unit.entries();
                while let Some(entry) = entries.next_dfs().unwrap() {
                    if entry.tag() != gimli::DW_TAG_subprogram {
                        continue;
                    }
                    let Some(gimli::AttributeValue::Addr(low)) =
                        entry.attr_value(gimli::DW_AT_low_pc)
                    else {
                        continue;
                    };
                    let len = match entry.attr_value(gimli::DW_AT_high_pc).unwrap() {
                        gimli::AttributeValue::Addr(high) => high - low,
                        other => other.udata_value().unwrap(),
                    };
                    let name = dwarf
                        .attr_string(&unit, entry.attr_value(gimli::DW_AT_name).unwrap())
                        .unwrap();
                    let name = std::str::from_utf8(name.slice()).unwrap();
                    assert!(
                        functions
                            .iter()
                            .any(|f| f.0 == name && f.1 == low && f.2 == len),
                        "{what}: {name} at {low:#x} length {len:#x} not in {functions:?}"
                    );
                    subprograms += 1;
                }

                // Line program: monotonic sequences ending at the end of a
                // function.
                let program = unit.line_program.clone().unwrap();
                let mut rows = program.rows();
                let mut last = 0;
                while let Some((_, row)) = rows.next_row().unwrap() {
                    assert!(row.address() >= last, "{what}: line rows go backwards");
                    assert!(row.address() <= text_end, "{what}: line row past .text");
                    last = row.address();
                    if row.end_sequence() {
                        assert!(
                            functions.iter().any(|f| f.1 + f.2 == row.address()),
                            "{what}: sequence ends at {:#x}",
                            row.address()
                        );
                        sequences += 1;
                        last = 0;
                    }
                }
            }

            // .debug_frame (not every target emits it).
            if let Some(frame) = object.debug_section(".debug_frame").unwrap() {
                use gimli::UnwindSection;
                let mut debug_frame = gimli::DebugFrame::new(frame, endian(&object));
                debug_frame.set_address_size(if object.is_64() { 8 } else { 4 });
                let bases = gimli::BaseAddresses::default();
                let mut entries = debug_frame.entries(&bases);
                while let Some(entry) = entries.next().unwrap() {
                    let gimli::CieOrFde::Fde(partial) = entry else {
                        continue;
                    };
                    let fde = partial.parse(gimli::DebugFrame::cie_from_offset).unwrap();
                    assert!(
                        functions
                            .iter()
                            .any(|f| f.1 == fde.initial_address() && f.2 == fde.len()),
                        "{what}: FDE {:#x}+{:#x}",
                        fde.initial_address(),
                        fde.len()
                    );
                    let align = fde.cie().code_alignment_factor();
                    let mut advanced = 0;
                    let mut instructions = fde.instructions(&debug_frame, &bases);
                    while let Some(instruction) = instructions.next().unwrap() {
                        if let gimli::CallFrameInstruction::AdvanceLoc { delta } = instruction {
                            assert!(delta > 0, "{what}");
                            advanced += u64::from(delta) * align;
                        }
                    }
                    assert!(
                        advanced > 0 && advanced < fde.len(),
                        "{what}: {advanced:#x}"
                    );
                    fdes += 1;
                }
            }
        }
    }
    assert!(subprograms > 30, "{subprograms}");
    assert!(sequences > 10, "{sequences}");
    assert!(fdes > 5, "{fdes}");
}
