//! Tests of the kABI rules reader: the real sections of the golden kabi
//! objects (every architecture), each error, and robustness against
//! truncated and mutated sections.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ksymrules_engine::elf::ObjectFile;
use ksymrules_engine::kabi::{split_type_string, KabiError, KabiRules, TypeStringPiece};

const SECTION: &str = ".discard.gendwarfksyms.kabi_rules";

fn kabi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/golden/kabi")
}

/// Every variant of the kabi golden case, as (variant, directory).
fn variants() -> Vec<(String, PathBuf)> {
    let mut found: Vec<_> = std::fs::read_dir(kabi_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("input.o").is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    found.sort();
    assert!(found.len() >= 10, "kabi golden case not found");
    found
}

fn section_of(dir: &Path) -> Vec<u8> {
    let object = ObjectFile::open(&dir.join("input.o")).unwrap();
    object
        .section_data(SECTION)
        .unwrap()
        .unwrap_or_else(|| panic!("{}: no {SECTION}", dir.display()))
        .to_vec()
}

/// The distinct real sections (they differ only in record order).
fn distinct_sections() -> Vec<Vec<u8>> {
    let mut sections: Vec<Vec<u8>> = variants().iter().map(|(_, d)| section_of(d)).collect();
    sections.sort();
    sections.dedup();
    sections
}

/// Builds a section from records of four strings.
fn section(records: &[[&str; 4]]) -> Vec<u8> {
    let mut out = Vec::new();
    for record in records {
        for field in record {
            out.extend_from_slice(field.as_bytes());
            out.push(0);
        }
    }
    out
}

fn error(bytes: &[u8]) -> String {
    match KabiRules::parse(bytes) {
        Ok(rules) => panic!("parsed: {rules:?}"),
        Err(e) => e.to_string(),
    }
}

const OVERRIDDEN: &str = "structure_type overridden { member base_type int byte_size(4) \
                          encoding(5) whatever data_member_location(0) } byte_size(4)";

#[test]
fn real_sections_hold_the_case_rules_on_every_architecture() {
    let expected = KabiRules::parse(&section(&[
        ["1", "declonly", "hidden_def", ""],
        ["1", "enumerator_ignore", "state ST_NEW1", ""],
        ["1", "enumerator_ignore", "state ST_NEW2", ""],
        ["1", "enumerator_value", "state ST_MAX", "2"],
        ["1", "byte_size", "grown", "16"],
        ["1", "type_string", "s#overridden", OVERRIDDEN],
        ["1", "type_string", "legacy_sym", "variable s#overridden"],
    ]))
    .unwrap();
    for (variant, dir) in variants() {
        let rules =
            KabiRules::parse(&section_of(&dir)).unwrap_or_else(|e| panic!("{variant}: {e}"));
        assert_eq!(rules, expected, "{variant}");
    }
    let r = &expected;
    assert_eq!(r.len(), 7);
    assert!(r.is_declonly("hidden_def"));
    assert!(!r.is_declonly("grown"));
    assert!(r.is_enumerator_ignored("state", "ST_NEW1"));
    assert!(r.is_enumerator_ignored("state", "ST_NEW2"));
    assert!(!r.is_enumerator_ignored("state", "ST_MAX"));
    assert_eq!(r.enumerator_value("state", "ST_MAX"), Some(2));
    assert_eq!(r.enumerator_value("state", "ST_NEW1"), None);
    assert_eq!(r.byte_size("grown"), Some(16));
    assert_eq!(r.byte_size("hidden_def"), None);
    assert_eq!(r.type_string("s#overridden"), Some(OVERRIDDEN));
    assert_eq!(r.type_string("legacy_sym"), Some("variable s#overridden"));
    assert_eq!(r.type_string("overridden"), None);
    assert_eq!(
        split_type_string("variable s#overridden").unwrap(),
        vec![
            TypeStringPiece::Text("variable ".into()),
            TypeStringPiece::Ref("s#overridden".into())
        ]
    );
}

#[test]
fn record_order_differs_between_compilers() {
    // gcc -O2 emits the records in reverse: the same rules, another order.
    assert_eq!(distinct_sections().len(), 2);
}

/// symtypes lines by name: `name -> rest of the line`.
fn symtypes(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Checks each rule against the `--stable` (and plain) golden symtypes of
/// every variant; returns how many rule effects were seen.
fn check_effects(variant: &str, dir: &Path, rules: &KabiRules) -> usize {
    let stable = symtypes(&dir.join("expected/stable/symtypes"));
    let plain = symtypes(&dir.join("expected/symtypes"));
    let mut seen = 0;
    // declonly: the definition is dropped.
    if let Some(line) = stable.get("s#hidden_def") {
        assert!(rules.is_declonly("hidden_def"));
        assert_eq!(line, "structure_type hidden_def { }", "{variant}");
        assert!(plain["s#hidden_def"].contains("secret"), "{variant}");
        seen += 1;
    }
    // enumerator rules.
    if let Some(line) = stable.get("e#state") {
        for name in ["ST_NEW1", "ST_NEW2"] {
            assert!(rules.is_enumerator_ignored("state", name));
            assert!(!line.contains(name), "{variant}: {line}");
            assert!(plain["e#state"].contains(&format!("enumerator {name} =")));
            seen += 1;
        }
        let value = rules.enumerator_value("state", "ST_MAX").unwrap();
        assert!(
            line.contains(&format!("enumerator ST_MAX = {value} ")),
            "{variant}"
        );
        assert!(
            plain["e#state"].contains("enumerator ST_MAX = 4 "),
            "{variant}"
        );
        seen += 1;
    }
    // byte_size.
    if let Some(line) = stable.get("s#grown") {
        let size = rules.byte_size("grown").unwrap();
        assert!(
            line.ends_with(&format!("}} byte_size({size})")),
            "{variant}"
        );
        assert!(!plain["s#grown"].ends_with(&format!("}} byte_size({size})")));
        seen += 1;
    }
    // type_string: the line is the override, verbatim.
    for name in ["s#overridden", "legacy_sym"] {
        let value = rules.type_string(name).unwrap();
        assert_eq!(stable[name], value, "{variant}: {name}");
        seen += 1;
    }
    if let Some(line) = plain.get("s#overridden") {
        assert_ne!(line, OVERRIDDEN, "{variant}");
    }
    seen
}

#[test]
fn golden_stable_outputs_show_every_rule() {
    for (variant, dir) in variants() {
        let rules = KabiRules::parse(&section_of(&dir)).unwrap();
        let seen = check_effects(&variant, &dir, &rules);
        // The type-unit variants only show the type_string rules.
        if variant.contains("types") {
            assert!(seen >= 2, "{variant}");
        } else {
            assert_eq!(seen, rules.len(), "{variant}");
        }
    }
}

#[test]
fn merge_of_real_rules_is_idempotent() {
    let sections = distinct_sections();
    let a = KabiRules::parse(&sections[0]).unwrap();
    let mut b = KabiRules::parse(&sections[1]).unwrap();
    b.merge(a.clone());
    assert_eq!(a, b);
    assert!(KabiRules::parse(&[]).unwrap().is_empty());
}

// ---- errors ---------------------------------------------------------------

#[test]
fn error_unsupported_version() {
    assert_eq!(
        error(&section(&[["2", "declonly", "x", ""]])),
        "kABI rules at offset 0x0: unsupported rule version \"2\" (expected \"1\")"
    );
    // Offsets point at the offending record, here the second one.
    assert_eq!(
        error(&section(&[
            ["1", "declonly", "x", ""],
            ["", "declonly", "y", ""]
        ])),
        "kABI rules at offset 0xe: unsupported rule version \"\" (expected \"1\")"
    );
    assert_eq!(
        error(&section(&[["10", "declonly", "x", ""]])),
        "kABI rules at offset 0x0: unsupported rule version \"10\" (expected \"1\")"
    );
}

#[test]
fn error_unknown_type() {
    assert_eq!(
        error(&section(&[["1", "frobnicate", "x", ""]])),
        "kABI rules at offset 0x2: unknown rule type \"frobnicate\""
    );
    assert_eq!(
        error(b"1\0DeclOnly\xff\0x\0\0"),
        "kABI rules at offset 0x2: unknown rule type \"DeclOnly\\xff\""
    );
}

#[test]
fn error_record_cut_short() {
    assert_eq!(
        error(b"1\0declonly\0x\0"),
        "kABI rules at offset 0x0: record cut short: its value field is missing"
    );
    let mut bytes = section(&[["1", "declonly", "x", ""]]);
    bytes.extend_from_slice(b"1\0declonly\0");
    assert_eq!(
        error(&bytes),
        "kABI rules at offset 0xe: record cut short: its target field is missing"
    );
    assert_eq!(
        error(b"1\0"),
        "kABI rules at offset 0x0: record cut short: its type field is missing"
    );
}

#[test]
fn error_not_nul_terminated() {
    assert_eq!(
        error(b"1\0declonly\0x\0abc"),
        "kABI rules at offset 0xd: section is not NUL-terminated"
    );
    assert_eq!(
        error(b"1"),
        "kABI rules at offset 0x0: section is not NUL-terminated"
    );
}

#[test]
fn error_bad_numbers() {
    assert_eq!(
        error(&section(&[["1", "byte_size", "grown", "12a"]])),
        "kABI rules at offset 0x12: byte_size value \"12a\" for \"grown\" \
         is not a decimal number"
    );
    assert_eq!(
        error(&section(&[["1", "byte_size", "grown", ""]])),
        "kABI rules at offset 0x12: byte_size value \"\" for \"grown\" \
         is not a decimal number"
    );
    assert_eq!(
        error(&section(&[["1", "enumerator_value", "e A", "-1"]])),
        "kABI rules at offset 0x17: enumerator_value value \"-1\" for \"e A\" \
         is not a decimal number"
    );
    assert_eq!(
        error(&section(&[[
            "1",
            "enumerator_value",
            "e A",
            "18446744073709551616"
        ]])),
        "kABI rules at offset 0x17: enumerator_value value \"18446744073709551616\" \
         for \"e A\" does not fit in 64 bits"
    );
    let max = KabiRules::parse(&section(&[[
        "1",
        "enumerator_value",
        "e A",
        "18446744073709551615",
    ]]))
    .unwrap();
    assert_eq!(max.enumerator_value("e", "A"), Some(u64::MAX));
}

#[test]
fn error_empty_type_string() {
    assert_eq!(
        error(&section(&[["1", "type_string", "s#foo", ""]])),
        "kABI rules at offset 0x14: type_string value for \"s#foo\" is empty"
    );
}

#[test]
fn error_unterminated_quoted_reference() {
    assert_eq!(
        error(&section(&[[
            "1",
            "type_string",
            "s#foo",
            "variable s#'foo"
        ]])),
        "kABI rules at offset 0x14: type_string value for \"s#foo\": \
         unterminated quoted reference \"s#'foo\" at byte 9"
    );
}

#[test]
fn error_empty_reference_name() {
    assert_eq!(
        error(&section(&[["1", "type_string", "x", "a s# b"]])),
        "kABI rules at offset 0x10: type_string value for \"x\": \
         empty reference name \"s#\" at byte 2"
    );
    assert_eq!(
        error(&section(&[["1", "type_string", "x", "a u#"]])),
        "kABI rules at offset 0x10: type_string value for \"x\": \
         empty reference name \"u#\" at byte 2"
    );
    assert_eq!(
        error(&section(&[["1", "type_string", "x", "e#'' b"]])),
        "kABI rules at offset 0x10: type_string value for \"x\": \
         empty reference name \"e#''\" at byte 0"
    );
}

#[test]
fn error_target_not_utf8() {
    assert_eq!(
        error(b"1\0declonly\0ab\xc3\0\0"),
        "kABI rules at offset 0xb: declonly target \"ab\\xc3\" is not valid UTF-8"
    );
    assert_eq!(
        error(b"1\0type_string\0x\0\xff\0"),
        "kABI rules at offset 0x10: type_string value for \"x\" is not valid UTF-8: \"\\xff\""
    );
}

#[test]
fn first_error_wins_and_error_fields_are_public() {
    // A bad version comes before the unknown type of a later record.
    let bytes = section(&[["3", "declonly", "x", ""], ["1", "nope", "y", ""]]);
    let err = KabiRules::parse(&bytes).unwrap_err();
    assert_eq!(
        err,
        KabiError {
            offset: 0,
            message: "unsupported rule version \"3\" (expected \"1\")".into()
        }
    );
}

// ---- robustness -----------------------------------------------------------

/// Offsets just after each complete record of a well-formed section.
fn record_ends(section: &[u8]) -> Vec<usize> {
    section
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == 0)
        .map(|(i, _)| i + 1)
        .skip(3)
        .step_by(4)
        .collect()
}

/// Calls every lookup on names taken from the section, to make sure they
/// cope with whatever was parsed.
fn exercise(rules: &KabiRules, bytes: &[u8]) {
    for word in bytes.split(|&b| b == 0 || b == b' ').take(64) {
        let w = String::from_utf8_lossy(word);
        rules.is_declonly(&w);
        rules.is_enumerator_ignored(&w, &w);
        rules.enumerator_value(&w, "ST_MAX");
        rules.byte_size(&w);
        if let Some(t) = rules.type_string(&w) {
            split_type_string(t).expect("type strings are validated when parsed");
        }
    }
    let _ = rules.is_empty();
}

#[test]
fn truncations_never_panic_and_fail_exactly_inside_records() {
    for full in distinct_sections() {
        let ends = record_ends(&full);
        assert_eq!(ends.len(), 7);
        assert_eq!(ends.last(), Some(&full.len()));
        for cut in 0..=full.len() {
            let prefix = &full[..cut];
            let parsed = KabiRules::parse(prefix);
            if cut == 0 || ends.contains(&cut) {
                let rules = parsed.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
                let complete = ends.iter().filter(|&&e| e <= cut).count();
                assert_eq!(rules.len(), complete, "cut at {cut}");
                exercise(&rules, prefix);
            } else {
                let err = parsed.expect_err("a cut inside a record must fail");
                assert!(err.offset <= cut, "cut at {cut}: {err}");
            }
        }
    }
}

/// A small deterministic xorshift generator (no extra dependencies).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        // Favour the bytes the format and type strings care about.
        const INTERESTING: &[u8] = b"\0 '#suet1\xff\xc3";
        if self.next() & 1 == 0 {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next() as u8
        }
    }
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                bytes[i] = rng.byte();
            }
            1 if len > 0 => {
                let i = rng.below(len);
                bytes[i] = 0;
            }
            2 if len > 0 => {
                bytes.remove(rng.below(len));
            }
            3 => {
                let i = rng.below(len + 1);
                let b = rng.byte();
                bytes.insert(i, b);
            }
            4 if len > 0 => {
                let start = rng.below(len);
                let end = start + rng.below(len - start + 1);
                let copy = bytes[start..end].to_vec();
                let at = rng.below(len + 1);
                bytes.splice(at..at, copy);
            }
            _ => {
                let keep = rng.below(len + 1);
                bytes.truncate(keep);
            }
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    let sections = distinct_sections();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut failed) = (0, 0);
    for round in 0..6000 {
        let mut bytes = sections[round % sections.len()].clone();
        mutate(&mut rng, &mut bytes);
        match KabiRules::parse(&bytes) {
            Ok(rules) => {
                exercise(&rules, &bytes);
                ok += 1;
            }
            Err(e) => {
                assert!(e.offset <= bytes.len(), "{e}");
                assert!(!e.message.is_empty());
                failed += 1;
            }
        }
    }
    // Both outcomes are reached, so the mutations are neither too mild nor
    // too harsh to be useful.
    assert!(ok > 100 && failed > 100, "ok {ok}, failed {failed}");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..3000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        if let Ok(rules) = KabiRules::parse(&bytes) {
            exercise(&rules, &bytes);
        }
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = split_type_string(s);
        }
    }
}
