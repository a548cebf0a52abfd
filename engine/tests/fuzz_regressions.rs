//! The fuzz targets' entry points as ordinary tests: every input kept in
//! `fuzz/regressions/<target>/` (inputs that once found a bug) must run to
//! an error or a result, and valid inputs must get all the way through.

use ksymrules_engine::fuzzing::{self, Base};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn leak(p: PathBuf) -> &'static [u8] {
    Box::leak(std::fs::read(p).unwrap().into_boxed_slice())
}

fn leak_str(p: PathBuf) -> &'static str {
    Box::leak(std::fs::read_to_string(p).unwrap().into_boxed_str())
}

/// The bases of the `dwarf` target, in its order.
fn bases() -> Vec<Base> {
    let src = std::fs::read_to_string(root().join("fuzz/fuzz_targets/dwarf.rs")).unwrap();
    let cases: Vec<&str> = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix("base!(\""))
        .filter_map(|l| l.strip_suffix("\"),"))
        .collect();
    assert!(cases.len() >= 4, "could not read the dwarf target's bases");
    cases
        .iter()
        .map(|c| {
            let dir = root().join("corpus/golden").join(c);
            Base {
                object: leak(dir.join("input.o")),
                symbols: leak_str(dir.join("symbols")),
            }
        })
        .collect()
}

fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root().join("fuzz/regressions").join(target);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep") {
            let data = std::fs::read(&p).unwrap();
            out.push((p, data));
        }
    }
    out
}

#[test]
fn object_target() {
    let basic = std::fs::read(root().join("corpus/golden/basic/gcc-dwarf5/input.o")).unwrap();
    let n = fuzzing::object(&basic).expect("a golden object versions");
    assert!(n >= 10, "only {n} symbols versioned");
    assert!(fuzzing::object(b"\x7fELF").is_err());
    let kept = regressions("object");
    assert!(!kept.is_empty(), "the object findings are kept");
    for (p, data) in kept {
        if p.ends_with("unnamed-type-doubling-24") {
            // An input of even length is dumped too: the dump's limit
            // stops it; one more byte, and the type string's does.
            assert_eq!(data.len() % 2, 0);
            let e = fuzzing::object(&data).unwrap_err();
            assert!(
                e.contains("--dump-dies output for one symbol grows beyond"),
                "{e}"
            );
            let mut odd = data.clone();
            odd.push(0);
            let e = fuzzing::object(&odd).unwrap_err();
            assert!(e.contains("the type string of a symbol (DIE"), "{e}");
            assert!(e.contains("grows beyond 64 MiB"), "{e}");
        }
        eprintln!(
            "{}: {:?}",
            p.display(),
            fuzzing::object(&data).map_err(|e| e.len())
        );
    }
}

#[test]
fn dwarf_target() {
    let bases = bases();
    for pick in 0..bases.len() as u8 {
        let n = fuzzing::dwarf(&bases, &[pick]).expect("an unchanged base versions");
        assert!(n > 0, "base {pick}");
    }
    // One edit: the first bytes of .debug_abbrev zeroed.
    let edited = fuzzing::dwarf(&bases, &[0, 1, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    assert!(edited.is_err(), "{edited:?}");
    for (p, data) in regressions("dwarf") {
        eprintln!(
            "{}: {:?}",
            p.display(),
            fuzzing::dwarf(&bases, &data).map_err(|e| e.len())
        );
    }
}

#[test]
fn rules_target() {
    let dir = root().join("corpus/golden/basic/gcc-dwarf5");
    let object = std::fs::read(dir.join("input.o")).unwrap();
    let symbols = std::fs::read_to_string(dir.join("symbols")).unwrap();
    let default = std::fs::read(root().join("rules/gendwarfksyms.rules")).unwrap();
    assert_eq!(fuzzing::rules(&default, &object, &symbols), Ok(12));
    let include = fuzzing::rules(b"ksymrules 1\ninclude \"/etc/passwd\"\n", &object, &symbols);
    assert!(include
        .unwrap_err()
        .contains("not reading /etc/passwd while fuzzing"));
    let kept = regressions("rules");
    assert!(kept.len() >= 3, "the rules findings are kept");
    for (p, data) in kept {
        let reached = fuzzing::rules(&data, &object, &symbols);
        eprintln!(
            "{}: {:?}",
            p.display(),
            reached.as_ref().map_err(|e| e.len())
        );
        // Rules that recurse without end once overflowed the stack; they
        // now stop at the depth limit with an error.
        if p.ends_with("deep-walk-stack-overflow") {
            let e = reached.unwrap_err();
            assert!(e.contains("nested more than 2000 deep"), "{e}");
        }
    }
}

#[test]
fn kabi_target() {
    assert_eq!(fuzzing::kabi(b"1\0declonly\0foo\0\0"), Ok(1));
    assert!(fuzzing::kabi(b"2\0declonly\0foo\0\0").is_err());
    for (p, data) in regressions("kabi") {
        eprintln!("{}: {:?}", p.display(), fuzzing::kabi(&data));
    }
}

#[test]
fn abbrev_target() {
    // An abbreviation (code 1, base type, no children, a name of form
    // strp), then the null one: parsed alike by ksymrules and gimli.
    assert_eq!(
        fuzzing::abbrev(b"\x06\x01\x24\x00\x03\x0e\x00\x00\x00"),
        Ok(1)
    );
    // A duplicate code: both fail.
    let e = fuzzing::abbrev(b"\x06\x01\x24\x00\x00\x00\x01\x24\x00\x00\x00\x00").unwrap_err();
    assert!(e.contains("uplicate"), "{e}");
    for (p, data) in regressions("abbrev") {
        eprintln!("{}: {:?}", p.display(), fuzzing::abbrev(&data));
    }
}
