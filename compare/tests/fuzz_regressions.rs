//! The `symtypes` fuzz target's entry point as an ordinary test: every
//! input kept in `fuzz/regressions/symtypes/` (inputs that once found a
//! bug) must run to an error or a result, and valid inputs must get all
//! the way through.

use ksymrules_compare::fuzzing;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn regressions() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root().join("fuzz/regressions/symtypes");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep") {
            let data = std::fs::read(&p).unwrap();
            out.push((p, data));
        }
    }
    out.sort();
    out
}

#[test]
fn symtypes_target() {
    let one = "s#foo structure_type foo { member base_type char byte_size(1) encoding(6) c data_member_location(0) } byte_size(1)\n\
               bar subprogram ( formal_parameter pointer_type { s#foo } byte_size(8) p ) -> base_type void\n";
    assert_eq!(fuzzing::symtypes(one.as_bytes()), Ok(1));
    let sides = format!("{one}==\n{}", one.replace("byte_size(1)", "byte_size(2)"));
    assert_eq!(fuzzing::symtypes(sides.as_bytes()), Ok(2));
    assert!(fuzzing::symtypes(b"bar variable s#nowhere\n").is_err());
    assert!(fuzzing::symtypes(b"\xff").is_err());
    let kept = regressions();
    assert!(!kept.is_empty(), "the symtypes findings are kept");
    for (p, data) in kept {
        let reached = fuzzing::symtypes(&data);
        eprintln!("{}: {:?}", p.display(), reached);
        // Two sides whose old byte_size is no number: once suggested as a
        // byte_size rule, a kABI file that does not load.
        if p.ends_with("byte-size-not-a-number") {
            assert_eq!(reached, Ok(8));
        }
        // An old string with `e#'` inside a word: suggested as a
        // type_string that the rules refuse (they read a reference there).
        if p.ends_with("type-string-reference-in-a-word") {
            assert_eq!(reached, Ok(2));
        }
        // The message quotes 40 bytes of the reference: once cut inside
        // a character (a panic).
        if p.ends_with("unterminated-quote-multibyte") {
            let e = reached.unwrap_err();
            assert!(e.contains("an unterminated quoted reference"), "{e}");
        }
    }
}

/// A type map in which each type refers twice to the one before: each
/// reference is expanded the first time only, so version strings grow
/// with the map, not twice per level; the walk is as deep as the map.
#[test]
fn a_doubling_type_map_is_versioned_in_linear_time() {
    use ksymrules_compare::symtypes;
    use ksymrules_engine::typemap::Versioner;
    let mut text = String::from("s#t0 structure_type t0 { } byte_size(1)\n");
    let levels = 3000;
    for i in 1..levels {
        text.push_str(&format!(
            "s#t{i} structure_type t{i} {{ member s#t{p} a , member s#t{p} b }}\n",
            p = i - 1
        ));
    }
    text.push_str(&format!(
        "f subprogram ( formal_parameter s#t{} x )\n",
        levels - 1
    ));
    let units = symtypes::complete(symtypes::parse(&text, "doubling").unwrap()).unwrap();
    let (unit, exports) = &units[0];
    let full = Versioner::new(&unit.types).text(&exports[0].2).unwrap();
    assert!(full.len() < text.len(), "{} bytes", full.len());
    // Each type is written out once, and referred to by name the second
    // time.
    assert_eq!(full.matches("structure_type").count(), levels);
    assert!(full.contains("member structure_type t0 { } byte_size(1) a , member s#t0 b }"));
    assert_eq!(fuzzing::symtypes(text.as_bytes()), Ok(1));
    // Deeper than the walk goes: an error, not a stack overflow.
    let deep: String = (1..5000)
        .map(|i| format!("s#d{i} structure_type d{i} {{ member s#d{} a }}\n", i - 1))
        .collect();
    let deep = format!("s#d0 structure_type d0 {{ }}\n{deep}g variable s#d4999\n");
    let e = fuzzing::symtypes(deep.as_bytes()).unwrap_err();
    assert!(e.contains("nested too deeply"), "{e}");
}
