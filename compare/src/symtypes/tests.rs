//! The symtypes reader: the three forms, the CRCs it computes (checked
//! against what the real gendwarfksyms printed for the golden objects),
//! and malformed input.

use super::*;
use std::path::PathBuf;

fn one(text: &str) -> Vec<(Unit, Exports)> {
    complete(parse(text, "a.symtypes").expect("parses")).expect("complete")
}

fn err(text: &str) -> String {
    match parse(text, "a.symtypes").and_then(complete) {
        Ok(_) => panic!("{text:?} was accepted"),
        Err(e) => e.into_message(),
    }
}

#[test]
fn a_plain_file() {
    let units = one(
        "s#foo structure_type foo { member base_type int byte_size(4) encoding(5) a data_member_location(0) } byte_size(4)\n\
         s#'a b' structure_type 'a b' { }\n\
         bar subprogram ( formal_parameter pointer_type { s#foo } byte_size(8) p , formal_parameter s#'a b' q ) -> base_type void\n",
    );
    assert_eq!(units.len(), 1);
    let (unit, exports) = &units[0];
    assert_eq!(unit.name, "a.symtypes");
    assert_eq!(unit.types.len(), 2);
    assert_eq!(exports.len(), 1);
    let bar = &exports[0].2;
    let refs: Vec<&str> = bar
        .refs
        .iter()
        .map(|&(a, b)| &bar.text[a as usize..b as usize])
        .collect();
    assert_eq!(refs, ["s#foo", "s#'a b'"]);
    // The CRC is that of the expanded string.
    let expanded = "subprogram ( formal_parameter pointer_type { structure_type foo { member base_type int byte_size(4) encoding(5) a data_member_location(0) } byte_size(4) } byte_size(8) p , formal_parameter structure_type 'a b' { } q ) -> base_type void";
    assert_eq!(exports[0].1, crc32fast_hash(expanded));
}

/// CRC-32 of a string (the crc32 crate the engine uses, through the
/// engine's own versioner on a string without references).
fn crc32fast_hash(s: &str) -> u32 {
    Versioner::new(&Types::default())
        .crc(&Expansion {
            text: s.to_string(),
            refs: Vec::new(),
        })
        .unwrap()
}

#[test]
fn a_consolidated_file_inherits_types_and_declarations() {
    let text = "/* a.symtypes */\n\
                s#foo structure_type foo { member base_type int byte_size(4) encoding(5) m data_member_location(0) } byte_size(4)\n\
                u##bar\n\
                baz subprogram ( formal_parameter s#foo a1 , formal_parameter pointer_type { u#bar } byte_size(8) a2 ) -> base_type void\n\
                \n\
                /* b.symtypes */\n\
                u#bar union_type bar { } byte_size(4)\n\
                qux subprogram ( formal_parameter s#foo a1 , formal_parameter pointer_type { u#bar } byte_size(8) a2 ) -> base_type void\n";
    let units = one(text);
    assert_eq!(units.len(), 2);
    assert_eq!(units[0].0.name, "a.symtypes");
    assert_eq!(units[1].0.name, "b.symtypes");
    // b inherits s#foo from a; a's u#bar is its own declaration.
    assert_eq!(
        units[1].0.types["s#foo"].text,
        units[0].0.types["s#foo"].text
    );
    assert_eq!(units[0].0.types["u#bar"].text, "union bar { UNKNOWN }");
    assert_eq!(
        units[1].0.types["u#bar"].text,
        "union_type bar { } byte_size(4)"
    );
    // A declaration is for its section only: a later section that does not
    // define u#bar does not get it.
    let e = err("/* a */\nu##bar\nx variable u#bar\n/* b */\ny variable u#bar\n");
    assert!(e.contains("b: unknown type reference u#bar"), "{e}");
}

#[test]
fn malformed_input_is_an_error_with_its_line() {
    let cases: &[(&str, &str)] = &[
        ("s#foo\n", "line 1: s#foo: no string after the name"),
        ("s#foo \n", "line 1: s#foo: no string after the name"),
        ("bar\n", "line 1: bar: no string after the name"),
        (
            "x#foo structure_type foo { }\n",
            "line 1: unknown type prefix `x#`",
        ),
        (
            "bar variable q#foo\n",
            "line 1: bar: unknown reference prefix `q#`",
        ),
        (
            "bar variable s#'foo\n",
            "line 1: bar: an unterminated quoted reference",
        ),
        (
            // Cut to 40 bytes in the message, between characters.
            "bar variable s#'ééééééééééééééééééééééééééééééé\n",
            "line 1: bar: an unterminated quoted reference `s#'éééééééééééééééééé`",
        ),
        (
            "s#'' structure_type x\n",
            "line 1: an empty quoted type name",
        ),
        ("s# structure_type x\n", "line 1: an empty type name"),
        (" variable x\n", "line 1: a line that starts with a space"),
        ("a#b#c x\n", "line 1: unknown type prefix `a#`"),
        ("ba#r variable x\n", "line 1: `ba#r` is neither a type"),
        (
            "/* a.symtypes\nbar variable x\n",
            "line 1: a file header (`/* <file> */`) that does not end in `*/`",
        ),
        ("/* */\n", "line 1: a file header without a file name"),
        (
            "bar variable x\n/* b */\n",
            "line 2: a file header after lines that had none",
        ),
        (
            "bar variable x\nbar variable y\n",
            "line 2: bar is defined twice (first on line 1)",
        ),
        (
            "/* a */\ns#x y\ns##x\n",
            "line 3: s#x is defined twice (first on line 2)",
        ),
        (
            "/* a */\ns##x y\n",
            "line 2: s##x: a `##` declaration has no string",
        ),
        (
            "/* a */\nt##x\n",
            "line 2: t##x: only s##, u## and e## declarations exist",
        ),
        (
            "bar variable s#nowhere\n",
            "a.symtypes: unknown type reference s#nowhere",
        ),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(
            got.starts_with(want),
            "{text:?}: {got:?} does not start with {want:?}"
        );
    }
}

/// `../shared`, beside the workspace; `None` (the test passes) when it is
/// missing outside CI.
fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "../shared is missing under CI"
    );
    eprintln!("SKIPPING: no ../shared");
    None
}

/// The symtypes gendwarfksyms wrote for real objects give, read back, the
/// CRCs it printed for them.
#[test]
fn golden_symtypes_give_the_golden_crcs() {
    let Some(shared) = shared() else { return };
    let mut checked = 0;
    for set in ["golden-ko", "golden-kbuild", "golden-rust"] {
        let Ok(entries) = std::fs::read_dir(shared.join(set)) else {
            continue;
        };
        for e in entries {
            let dir = e.unwrap().path().join("expected");
            let (Ok(types), Ok(symvers)) = (
                std::fs::read_to_string(dir.join("symtypes")),
                std::fs::read_to_string(dir.join("symvers")),
            ) else {
                continue;
            };
            let units = complete(parse(&types, "symtypes").unwrap()).unwrap();
            let crcs: rustc_hash::FxHashMap<&str, u32> = units[0]
                .1
                .iter()
                .map(|(n, c, _)| (n.as_str(), *c))
                .collect();
            for line in symvers.lines() {
                let mut w = line.split_whitespace();
                let (Some("#SYMVER"), Some(name), Some(crc)) = (w.next(), w.next(), w.next())
                else {
                    continue;
                };
                let want = u32::from_str_radix(crc.trim_start_matches("0x"), 16).unwrap();
                assert_eq!(
                    crcs.get(name).copied(),
                    Some(want),
                    "{}: {name}",
                    dir.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} CRCs checked");
}
