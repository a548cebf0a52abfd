//! Damaged inputs: every one ends in a result or in `error: <file>: <what>`
//! with exit status 1 — never a panic, a signal or a partial output file.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/golden")
        .join(rel)
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("malformed");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs ksymrules (with every output) on `obj`; checks that it either
/// succeeds or fails cleanly, and returns (exit code, stderr).
fn run_checked(obj: &Path, symbols: &[u8]) -> (i32, String) {
    // Beside the temporary copies, never beside a vendored object.
    let stem: String = obj
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let symtypes = tmp(&format!("{stem}.symtypes"));
    let _ = std::fs::remove_file(&symtypes);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .args(["--stable", "--dump-dies", "--dump-versions", "-T"])
        .arg(&symtypes)
        .arg(obj)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(symbols).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.signal().is_none(),
        "{}: killed by signal {:?}",
        obj.display(),
        out.status.signal()
    );
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}: exit {code}", obj.display());
    assert!(
        !stderr.contains("internal error"),
        "{}: {stderr}",
        obj.display()
    );
    if code == 1 {
        // The error names the file it is about: the object, or stdin.
        let want = format!("error: {}: ", obj.display());
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&want) || l.starts_with("error: <stdin>: ")),
            "{}: no `{want}` line in {stderr}",
            obj.display()
        );
        assert!(out.stdout.is_empty(), "no #SYMVER lines after an error");
        assert!(!symtypes.exists(), "no symtypes file after an error");
    }
    (code, stderr)
}

/// A copy of `obj` with `edit` applied, written under `name`.
fn edited(obj: &Path, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(obj).unwrap();
    edit(&mut bytes);
    let out = tmp(name);
    std::fs::write(&out, bytes).unwrap();
    out
}

/// Renames a section in place (same length), so it can no longer be found.
fn hide_section(bytes: &mut [u8], name: &[u8]) {
    let mut needle = name.to_vec();
    needle.push(0);
    let at = bytes
        .windows(needle.len())
        .rposition(|w| w == needle.as_slice())
        .expect("section name in .shstrtab");
    bytes[at + needle.len() - 2] = b'X';
}

const CASES: [&str; 5] = [
    "basic/gcc-dwarf5",
    "basic/riscv64",
    "multicu/armhf",
    "kabi/gcc-gz-zlib",
    "rust/rustc-debug",
];

#[test]
fn truncated_at_every_sixteenth() {
    for case in CASES {
        let dir = corpus(case);
        let obj = dir.join("input.o");
        let symbols = std::fs::read(dir.join("symbols")).unwrap();
        let len = std::fs::metadata(&obj).unwrap().len() as usize;
        let mut errors = 0;
        for k in 0..16 {
            let cut = len * k / 16;
            let name = format!("{}-cut{k}.o", case.replace('/', "-"));
            let o = edited(&obj, &name, |b| b.truncate(cut));
            errors += usize::from(run_checked(&o, &symbols).0 == 1);
        }
        // ELF section headers sit at the end: every cut loses them.
        assert_eq!(errors, 16, "{case}");
        assert_eq!(run_checked(&obj, &symbols).0, 0, "{case} whole");
    }
}

#[test]
fn missing_debug_abbrev_or_debug_info() {
    let dir = corpus("basic/gcc-dwarf5");
    let symbols = std::fs::read(dir.join("symbols")).unwrap();
    let o = edited(&dir.join("input.o"), "no-abbrev.o", |b| {
        hide_section(b, b".debug_abbrev")
    });
    let (code, err) = run_checked(&o, &symbols);
    assert_eq!(code, 1, "{err}");
    let o = edited(&dir.join("input.o"), "no-info.o", |b| {
        hide_section(b, b".debug_info")
    });
    let (code, err) = run_checked(&o, &symbols);
    assert_eq!(code, 1);
    assert!(err.contains("no debugging information"), "{err}");
}

#[test]
fn no_symbol_table_matches_by_name() {
    // Without .symtab there are no addresses, hence no aliases, but every
    // symbol with a DIE still gets its version.
    let dir = corpus("basic/gcc-dwarf5");
    let symbols = std::fs::read(dir.join("symbols")).unwrap();
    let o = edited(&dir.join("input.o"), "no-symtab.o", |b| {
        hide_section(b, b".symtab")
    });
    let (code, err) = run_checked(&o, &symbols);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("no information"), "{err}");
}

#[test]
fn strings_without_their_nul() {
    // The last byte of .debug_str (a NUL) overwritten: the last string runs
    // into the next section.
    let dir = corpus("basic/gcc-dwarf5");
    let symbols = std::fs::read(dir.join("symbols")).unwrap();
    let obj = dir.join("input.o");
    let data = std::fs::read(&obj).unwrap();
    let file = object::File::parse(&*data).unwrap();
    use object::{Object, ObjectSection};
    let (start, size) = file
        .section_by_name(".debug_str")
        .unwrap()
        .file_range()
        .unwrap();
    let last = (start + size - 1) as usize;
    let o = edited(&obj, "str-no-nul.o", |b| b[last] = b'x');
    run_checked(&o, &symbols);
}

#[test]
fn every_byte_of_the_abbreviations_flipped() {
    // Each byte of .debug_abbrev in turn replaced: results or clean errors.
    let dir = corpus("basic/gcc-dwarf4");
    let symbols = std::fs::read(dir.join("symbols")).unwrap();
    let obj = dir.join("input.o");
    let data = std::fs::read(&obj).unwrap();
    let file = object::File::parse(&*data).unwrap();
    use object::{Object, ObjectSection};
    let (start, size) = file
        .section_by_name(".debug_abbrev")
        .unwrap()
        .file_range()
        .unwrap();
    let step = (size as usize / 40).max(1);
    for i in (0..size as usize).step_by(step) {
        let o = edited(&obj, &format!("abbrev-{i}.o"), |b| {
            b[start as usize + i] ^= 0x5a;
        });
        run_checked(&o, &symbols);
    }
}

#[test]
fn binary_symbol_lists_are_refused() {
    let dir = corpus("basic/gcc-dwarf5");
    let (code, err) = run_checked(&dir.join("input.o"), b"\x00\xff\xfe\x01binary\n");
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: <stdin>: the symbol list is not text"),
        "{err}"
    );
}

/// The file offset of the DW_AT_type value (a DW_FORM_ref4) of the first
/// typedef in `obj`'s first unit, and that typedef's unit offset.
fn first_typedef_type_ref(data: &[u8]) -> (usize, u32) {
    use object::{Object, ObjectSection};
    let file = object::File::parse(data).unwrap();
    let info = file.section_by_name(".debug_info").unwrap();
    let (info_start, _) = info.file_range().unwrap();
    let abbrev = file
        .section_by_name(".debug_abbrev")
        .unwrap()
        .data()
        .unwrap();
    let info_data = info.data().unwrap();
    let endian = gimli::RunTimeEndian::Little;
    let debug_info = gimli::DebugInfo::new(info_data, endian);
    let debug_abbrev = gimli::DebugAbbrev::new(abbrev, endian);
    let header = debug_info.units().next().unwrap().unwrap();
    let abbrevs = header.abbreviations(&debug_abbrev).unwrap();
    let unit_start = header.offset().0;
    let mut raw = header.entries_raw(&abbrevs, None).unwrap();
    while !raw.is_empty() {
        let die_offset = raw.next_offset();
        let Some(abbrev) = raw.read_abbreviation().unwrap() else {
            continue;
        };
        for spec in abbrev.attributes() {
            let at = raw.next_offset();
            raw.read_attribute(*spec).unwrap();
            if abbrev.tag() == gimli::DW_TAG_typedef
                && spec.name() == gimli::DW_AT_type
                && spec.form() == gimli::DW_FORM_ref4
            {
                return (info_start as usize + unit_start + at.0, die_offset.0 as u32);
            }
        }
    }
    panic!("no typedef with a DW_FORM_ref4 type");
}

#[test]
fn a_typedef_that_is_its_own_type() {
    let dir = corpus("basic/gcc-dwarf5");
    let symbols = std::fs::read(dir.join("symbols")).unwrap();
    let obj = dir.join("input.o");
    let data = std::fs::read(&obj).unwrap();
    let (at, self_offset) = first_typedef_type_ref(&data);
    let o = edited(&obj, "typedef-cycle.o", |b| {
        b[at..at + 4].copy_from_slice(&self_offset.to_le_bytes());
    });
    let (code, err) = run_checked(&o, &symbols);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nested more than"), "{err}");
}

#[test]
fn ten_thousand_nested_typedefs() {
    // A legal but absurd program: a chain of 10,000 typedefs. The walk's
    // depth limit turns it into an error instead of a stack overflow.
    let dir = tmp("deep");
    std::fs::create_dir_all(&dir).unwrap();
    let mut src = String::from("typedef int t0;\n");
    for i in 1..=10_000 {
        src.push_str(&format!("typedef t{} t{i};\n", i - 1));
    }
    src.push_str("t10000 deep_var;\n");
    std::fs::write(dir.join("deep.c"), src).unwrap();
    let status = Command::new("gcc")
        .args(["-g", "-c", "deep.c", "-o", "deep.o"])
        .current_dir(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPING ten_thousand_nested_typedefs: gcc unavailable ({other:?})");
            return;
        }
        other => panic!("gcc is needed for this test: {other:?}"),
    }
    let (code, err) = run_checked(&dir.join("deep.o"), b"deep_var\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nested more than"), "{err}");
}

#[test]
fn unnamed_types_doubling_at_every_level() {
    // Each function-pointer type takes two of the previous one: the type
    // string doubles per level (in gendwarfksyms too). A length limit
    // turns it into an error instead of gigabytes.
    let dir = tmp("doubling");
    std::fs::create_dir_all(&dir).unwrap();
    let mut src = String::from("void (*v0)(int);\n");
    for i in 1..=24 {
        src.push_str(&format!(
            "void (*v{i})(__typeof__(v{0}), __typeof__(v{0}));\n",
            i - 1
        ));
    }
    src.push_str("__typeof__(v24) exported;\n");
    std::fs::write(dir.join("dag.c"), src).unwrap();
    let status = Command::new("gcc")
        .args(["-g", "-c", "dag.c", "-o", "dag.o"])
        .current_dir(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other if std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPING unnamed_types_doubling_at_every_level: gcc unavailable ({other:?})"
            );
            return;
        }
        other => panic!("gcc is needed for this test: {other:?}"),
    }
    let (code, err) = run_checked(&dir.join("dag.o"), b"exported\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("grows beyond"), "{err}");
}

#[test]
fn the_kept_doubling_input_fails_fast_in_every_mode() {
    // fuzz/regressions/object/unnamed-type-doubling-24: 24 levels of
    // unnamed types, each taking two of the previous one. Its strings and
    // its --dump-dies output would be gigabytes; the limits refuse them
    // from estimates, before the work is done (it once wrote 767 MB of
    // dump before failing).
    let obj = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/object/unnamed-type-doubling-24");
    let data = std::fs::read(&obj).unwrap();
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(&*data).unwrap();
    let mut symbols = String::new();
    for s in file
        .symbols()
        .filter(|s| s.is_global() && s.is_definition())
    {
        symbols.push_str(s.name().unwrap());
        symbols.push('\n');
    }
    assert!(symbols.contains("v24\n"), "{symbols}");
    let symtypes = tmp("doubling-kept.symtypes");
    let t = symtypes.to_str().unwrap();
    let modes: [&[&str]; 7] = [
        &[],
        &["--stable"],
        &["--dump-versions"],
        &["--dump-types"],
        &["-T", t],
        &["--dump-dies"],
        &["--stable", "--dump-dies", "--dump-versions", "-T", t],
    ];
    for args in modes {
        let _ = std::fs::remove_file(&symtypes);
        let mut child = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
            .args(args)
            .arg(&obj)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(symbols.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: no #SYMVER lines");
        assert!(!symtypes.exists(), "{args:?}: no symtypes file");
        // The dump stops after a few of its levels: the symbols before
        // the one refused write about 400 KB in all.
        let limit = if args.contains(&"--dump-dies") {
            4 << 20
        } else {
            4096
        };
        assert!(
            out.stderr.len() < limit,
            "{args:?}: {} bytes of stderr",
            out.stderr.len()
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        let want = format!("error: {}: ", obj.display());
        assert!(last.starts_with(&want), "{args:?}: {last}");
        let what = if args.contains(&"--dump-dies") {
            "--dump-dies output for one symbol grows beyond "
        } else {
            "grows beyond 64 MiB: it would be "
        };
        assert!(last.contains(what), "{args:?}: {last}");
        assert!(last.contains("DIE 0x"), "{args:?}: {last}");
    }
}
