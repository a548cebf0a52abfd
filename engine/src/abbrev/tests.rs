use super::*;
use gimli::{EndianSlice, RunTimeEndian};

type R<'a> = EndianSlice<'a, RunTimeEndian>;

fn encoding() -> Encoding {
    Encoding {
        format: gimli::Format::Dwarf32,
        version: 5,
        address_size: 8,
    }
}

fn compare(data: &[u8], encoding: Encoding) -> Result<usize, String> {
    compare_with_gimli(data, encoding)
}

/// Every unit of the golden objects: its abbreviations, and the same bytes
/// cut short at every length (most cuts fail, alike).
#[test]
fn parses_golden_abbreviations_as_gimli_does() {
    let (mut tables, mut abbrevs, mut cuts, mut failed) = (0, 0, 0, 0);
    for path in crate::test_objects::golden_objects() {
        let Ok(obj) = crate::elf::ObjectFile::open(&path) else {
            continue;
        };
        let Ok(dwarf) = crate::dwarf::Dwarf::load(&obj, false) else {
            continue;
        };
        use gimli::Section;
        let section = dwarf.dwarf.debug_abbrev.reader().slice();
        for u in &dwarf.units {
            let h = &u.unit.header;
            let Some(data) = section.get(h.debug_abbrev_offset().0..) else {
                continue;
            };
            tables += 1;
            abbrevs += compare(data, h.encoding()).expect("the table parses");
            let mut rest = R::new(data, RunTimeEndian::Little);
            Abbreviations::parse(&mut rest, h.encoding()).unwrap();
            for n in 0..data.len() - rest.len() {
                cuts += 1;
                failed += usize::from(compare(&data[..n], h.encoding()).is_err());
            }
        }
    }
    assert!(
        tables > 50 && abbrevs > 2000 && cuts > 10_000 && failed > 5000,
        "{tables} tables, {abbrevs} abbreviations, {cuts} cuts, {failed} failed"
    );
}

/// Malformed tables, made by hand: each fails as gimli's parse does, or
/// parses to what gimli parses.
#[test]
fn fails_on_malformed_tables_as_gimli_does() {
    let base = [0x01, 0x24, 0x00, 0x0b, 0x0b, 0x03, 0x0e, 0x00, 0x00];
    let cases: &[(&[u8], &str)] = &[
        (&base, ""),
        // Duplicate codes: dense, sparse, a sparse code met by the dense
        // ones, and a dense code given again sparsely.
        (&[0x01, 0x24, 0, 0, 0, 0x01, 0x24, 0, 0, 0, 0], "Duplicate"),
        (&[0x05, 0x24, 0, 0, 0, 0x05, 0x24, 0, 0, 0, 0], "Duplicate"),
        (
            &[
                0x02, 0x24, 0, 0, 0, 0x01, 0x24, 0, 0, 0, 0x02, 0x24, 0, 0, 0, 0,
            ],
            "Duplicate",
        ),
        (
            &[
                0x02, 0x24, 0, 0, 0, 0x01, 0x24, 0, 0, 0, 0x03, 0x24, 0, 0, 0, 0,
            ],
            "",
        ),
        (
            &[0x80, 0x80, 0x04, 0x24, 0, 0, 0, 0x01, 0x24, 0, 0, 0, 0],
            "",
        ),
        // A zero tag, a children byte other than 0 and 1, a zero name or
        // form, an implicit constant, and no null abbreviation at the end.
        (&[0x01, 0x00, 0x00, 0x00, 0x00, 0x00], "tag"),
        (&[0x01, 0x24, 0x02, 0x00, 0x00, 0x00], "children"),
        (&[0x01, 0x24, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00], "name"),
        (&[0x01, 0x24, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00], "form"),
        (
            &[
                0x01, 0x24, 0x00, 0x0b, 0x21, 0x7f, 0x03, 0x0e, 0x00, 0x00, 0x00,
            ],
            "",
        ),
        (&[0x01, 0x24, 0x00, 0x0b, 0x0b, 0x00, 0x00], ""),
        // A tag past 16 bits.
        (&[0x01, 0x80, 0x80, 0x04, 0x00, 0x00, 0x00], "overflow"),
    ];
    for (data, what) in cases {
        match compare(data, encoding()) {
            Ok(_) => assert!(what.is_empty(), "{data:02x?} parsed; expected {what:?}"),
            Err(e) => {
                assert!(!what.is_empty(), "{data:02x?}: {e}");
                assert!(
                    e.contains(what) || e.to_lowercase().contains(&what.to_lowercase()),
                    "{e} / {what}"
                );
            }
        }
    }
}
