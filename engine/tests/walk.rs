//! The units of an object are walked in parallel when no string reaches
//! from one unit into another, and in order otherwise; both ways must give
//! exactly the same results.

use ksymrules_engine::{run, Options, Symbols};
use std::path::{Path, PathBuf};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(rel)
}

/// Everything a run prints, and how the walk went (the `--debug` line).
fn outputs(
    obj: &Path,
    list: &str,
    stable: bool,
    sequential: bool,
) -> (Vec<u32>, String, String, String) {
    let rules = ksymrules_grammar::default_rules();
    let opts = Options {
        stable,
        symtypes: true,
        dump_versions: true,
        dump_types: true,
        debug: true,
        sequential_walk: sequential,
        ..Options::default()
    };
    let mut syms = Symbols::parse(list);
    let mut diag = Vec::new();
    let outcome = run(&rules, &opts, &mut syms, &[obj], &mut diag).unwrap();
    let diag = String::from_utf8(diag).unwrap();
    // Debug lines carry timings and the way the walk went; the rest must
    // be identical.
    let how = diag
        .lines()
        .find_map(|l| l.split_once("units walked ").map(|(_, h)| h.to_string()))
        .expect("--debug says how the units were walked");
    let rest: String = diag
        .lines()
        .filter(|l| !l.starts_with("debug: ") || l.contains(" = "))
        .map(|l| format!("{l}\n"))
        .collect();
    (
        syms.list.iter().map(|s| s.crc).collect(),
        outcome.symtypes.concat(),
        rest,
        how,
    )
}

fn both_ways(obj: &Path, list: &str, stable: bool, expected: &str) {
    let par = outputs(obj, list, stable, false);
    let seq = outputs(obj, list, stable, true);
    assert!(
        par.3.starts_with(expected),
        "{}: walked {:?}, expected {expected:?}",
        obj.display(),
        par.3
    );
    assert!(seq.3.starts_with("in order"), "{}", seq.3);
    assert_eq!(par.0, seq.0, "{}: CRCs", obj.display());
    assert_eq!(par.1, seq.1, "{}: symtypes", obj.display());
    assert_eq!(par.2, seq.2, "{}: dumps and warnings", obj.display());
    assert!(
        par.0.iter().all(|&c| c != 0),
        "{}: every symbol versioned",
        obj.display()
    );
}

#[test]
fn multi_unit_objects_walk_in_parallel_with_the_same_results() {
    for variant in ["gcc-dwarf5", "clang-dwarf4", "riscv64", "s390x", "gcc-O2"] {
        let dir = corpus(&format!("golden/multicu/{variant}"));
        let list = std::fs::read_to_string(dir.join("symbols")).unwrap();
        for stable in [false, true] {
            both_ways(&dir.join("input.o"), &list, stable, "in parallel");
        }
    }
}

#[test]
fn strings_that_cross_units_fall_back_to_the_ordered_walk() {
    // Link-time optimisation: the late units refer to the early ones with
    // DW_FORM_ref_addr (see corpus/walk/lto/build.sh).
    let dir = corpus("walk/lto");
    let list = std::fs::read_to_string(dir.join("symbols")).unwrap();
    both_ways(
        &dir.join("input.so"),
        &list,
        false,
        "in order (a string reaches into another unit)",
    );
}

#[test]
fn real_modules_walk_in_parallel_with_the_same_results() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden-ko");
    let Ok(dirs) = std::fs::read_dir(&shared) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ../shared/golden-ko"
        );
        eprintln!(
            "SKIPPED: {} is missing; real modules not compared",
            shared.display()
        );
        return;
    };
    let mut n = 0;
    for d in dirs {
        let dir = d.unwrap().path();
        let list = std::fs::read_to_string(dir.join("symbols")).unwrap();
        both_ways(&dir.join("input.o"), &list, false, "in parallel");
        n += 1;
    }
    assert!(n >= 4, "only {n} modules in {}", shared.display());
}

/// The outcome of a run: CRCs and symtypes, or the error.
fn outcome(obj: &Path, list: &str, sequential: bool) -> Result<(Vec<u32>, String), String> {
    let rules = ksymrules_grammar::default_rules();
    let opts = Options {
        symtypes: true,
        sequential_walk: sequential,
        ..Options::default()
    };
    let mut syms = Symbols::parse(list);
    let mut diag = Vec::new();
    let out = run(&rules, &opts, &mut syms, &[obj], &mut diag).map_err(|e| e.to_string())?;
    Ok((
        syms.list.iter().map(|s| s.crc).collect(),
        out.symtypes.concat(),
    ))
}

#[test]
fn damaged_multi_unit_objects_fail_or_succeed_alike_both_ways() {
    use object::{Object, ObjectSection};
    let dir = corpus("golden/multicu/gcc-dwarf5");
    let list = std::fs::read_to_string(dir.join("symbols")).unwrap();
    let bytes = std::fs::read(dir.join("input.o")).unwrap();
    let (start, size) = {
        let file = object::File::parse(&*bytes).unwrap();
        let s = file.section_by_name(".debug_info").unwrap();
        let (a, n) = s.file_range().unwrap();
        (a as usize, n as usize)
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("walk-damaged");
    std::fs::create_dir_all(&tmp).unwrap();
    let (mut same_errors, mut same_results) = (0, 0);
    // Every 7th byte of .debug_info, set to 0xff in turn.
    for at in (0..size).step_by(7) {
        let mut damaged = bytes.clone();
        damaged[start + at] = 0xff;
        let obj = tmp.join(format!("at-{at}.o"));
        std::fs::write(&obj, &damaged).unwrap();
        let par = outcome(&obj, &list, false);
        let seq = outcome(&obj, &list, true);
        assert_eq!(par, seq, "byte {at} of .debug_info set to 0xff");
        match par {
            Ok(_) => same_results += 1,
            Err(_) => same_errors += 1,
        }
        std::fs::remove_file(&obj).unwrap();
    }
    // Both kinds of outcome were compared.
    assert!(
        same_errors > 0 && same_results > 0,
        "{same_errors} errors, {same_results} results"
    );
}
