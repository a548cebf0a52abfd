//! The command line as kbuild and people use it: errors, empty input,
//! atomic output files, split DWARF.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(rel)
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_empty_symbol_list_prints_nothing_and_opens_nothing() {
    let o = run(&["/nonexistent/object.o"], b"");
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
    let o = run(&["/nonexistent/object.o"], b"\n  \n");
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_objects_are_errors_naming_the_file() {
    let not_elf = corpus("golden/errors/not-elf/input.o");
    let o = run(&[not_elf.to_str().unwrap()], b"foo\n");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("error: {}: not an ELF file\n", not_elf.display())
    );
    assert!(o.stdout.is_empty());

    let o = run(&["/nonexistent/object.o"], b"foo\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: /nonexistent/object.o: "),
        "{}",
        stderr(&o)
    );

    let no_debug = corpus("golden/errors/no-debug-info/input.o");
    let o = run(&[no_debug.to_str().unwrap()], b"foo\n");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: no debugging information (no .debug_info units)\n",
            no_debug.display()
        )
    );
}

#[test]
fn a_symbol_list_that_is_not_text_is_an_error() {
    let obj = corpus("golden/basic/gcc-dwarf5/input.o");
    let o = run(&[obj.to_str().unwrap()], b"foo\n\xff\xfe\n");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: <stdin>: the symbol list is not text (invalid UTF-8 at byte 4)\n"
    );
}

#[test]
fn symvers_follow_the_input_order_and_missing_symbols_warn() {
    let obj = corpus("golden/basic/gcc-dwarf5/input.o");
    let o = run(
        &[obj.to_str().unwrap()],
        b"wire_buf\nno_such_symbol x y\ncounter64\nwire_buf\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "#SYMVER wire_buf 0x2f1384aa\n#SYMVER no_such_symbol 0x00000000\n#SYMVER counter64 0x1998bbc1\n"
    );
    assert_eq!(
        stderr(&o),
        "warning: no information for symbol no_such_symbol\n"
    );
}

#[test]
fn symtypes_never_write_through_a_link() {
    let dir = tmp_dir("link");
    let victim = dir.join("victim");
    std::fs::write(&victim, "not ours\n").unwrap();
    let out = dir.join("symtypes");
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    let good = corpus("golden/basic/gcc-dwarf5/input.o");
    let o = run(
        &["-T", out.to_str().unwrap(), good.to_str().unwrap()],
        b"wire_buf\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not ours\n");
    let meta = std::fs::symlink_metadata(&out).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link is replaced by the file"
    );
    assert!(std::fs::read_to_string(&out).unwrap().contains("wire_buf"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["symtypes", "victim"], "no temporary file is left");
}

#[test]
fn symtypes_are_written_atomically() {
    let dir = tmp_dir("atomic");
    let out = dir.join("symtypes");
    std::fs::write(&out, "previous contents\n").unwrap();
    let good = corpus("golden/basic/gcc-dwarf5/input.o");
    let bad = corpus("golden/errors/not-elf/input.o");
    // An error in a later object leaves the old file as it was.
    let o = run(
        &[
            "-T",
            out.to_str().unwrap(),
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
        b"wire_buf\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "previous contents\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    // Success replaces it.
    let o = run(
        &["-T", out.to_str().unwrap(), good.to_str().unwrap()],
        b"wire_buf\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains("wire_buf variable array_type[16] { s#wire }\n"),
        "{written}"
    );
    // An unwritable destination is an error, and stdout stays empty.
    let o = run(
        &["-T", "/nonexistent/dir/symtypes", good.to_str().unwrap()],
        b"wire_buf\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).starts_with("error: /nonexistent/dir/symtypes: cannot write"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_crc_is_crc32_of_the_version_string() {
    // In gendwarfksyms' own output, each symbol's CRC is the CRC-32 of the
    // string --dump-versions shows: checks our understanding of the CRC.
    let mut checked = 0;
    for case in std::fs::read_dir(corpus("golden")).unwrap() {
        for variant in std::fs::read_dir(case.unwrap().path()).unwrap() {
            let exp = variant.unwrap().path().join("expected");
            let (Ok(versions), Ok(symvers)) = (
                std::fs::read_to_string(exp.join("versions")),
                std::fs::read_to_string(exp.join("symvers")),
            ) else {
                continue;
            };
            let crcs: std::collections::HashMap<&str, &str> = symvers
                .lines()
                .filter_map(|l| l.strip_prefix("#SYMVER "))
                .filter_map(|l| l.split_once(' '))
                .collect();
            for line in versions.lines().filter(|l| !l.starts_with("error: ")) {
                let (name, s) = line.split_once(' ').unwrap();
                let want = crcs[name];
                assert_eq!(
                    format!("0x{:08x}", crc32fast::hash(s.as_bytes())),
                    want,
                    "{name} in {}",
                    exp.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 400, "only {checked} versions checked");
}

#[test]
fn split_dwarf_is_refused_clearly() {
    // Built here with gcc; gcc is part of the machine CI runs on.
    let dir = tmp_dir("split");
    let src = dir.join("a.c");
    std::fs::write(
        &src,
        "struct s { int a; };\nint f(struct s *p) { return p->a; }\n",
    )
    .unwrap();
    for (flag, obj) in [("-gdwarf-5", "a5.o"), ("-gdwarf-4", "a4.o")] {
        let status = Command::new("gcc")
            .args([flag, "-gsplit-dwarf", "-c", "a.c", "-o", obj])
            .current_dir(&dir)
            .status();
        match status {
            Ok(s) if s.success() => {}
            other if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPING split_dwarf_is_refused_clearly: gcc unavailable ({other:?})");
                return;
            }
            other => panic!("gcc is needed for this test: {other:?}"),
        }
        let o = run(&[dir.join(obj).to_str().unwrap()], b"f\n");
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(err.contains("split DWARF: the types are in a"), "{err}");
        assert!(err.contains(".dwo, which ksymrules does not read"), "{err}");
        assert!(o.stdout.is_empty(), "no silent CRC 0");
    }
}

#[test]
fn a_kabi_string_may_refer_to_a_type_only_kabi_rules_give() {
    // s#overridden's replacement refers to s#ghost, which exists only as a
    // replacement: it must be found (this used to loop for ever).
    let dir = tmp_dir("kabi-ghost");
    let kabi = dir.join("ghost.kabi");
    std::fs::write(
        &kabi,
        "ksymrules 1\n\
         kabi type_string \"s#overridden\" \"structure_type overridden { member s#ghost g } byte_size(4)\"\n\
         kabi type_string \"s#ghost\" \"structure_type ghost { member base_type int x }\"\n\
         kabi type_string \"legacy_sym\" \"variable s#overridden\"\n",
    )
    .unwrap();
    let obj = corpus("golden/kabi/gcc-dwarf5/input.o");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ksymrules"))
        .args(["--stable", "--dump-versions", "--kabi"])
        .arg(&kabi)
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
        .write_all(b"legacy_sym\n")
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("ksymrules did not finish within a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let version = "variable structure_type overridden { member structure_type ghost \
                   { member base_type int x } g } byte_size(4)";
    assert!(
        stderr(&out).contains(&format!("legacy_sym {version}\n")),
        "{}",
        stderr(&out)
    );
    let want = format!(
        "#SYMVER legacy_sym 0x{:08x}\n",
        crc32fast::hash(version.as_bytes())
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    // A large input (the object padded past 64 MiB, sparsely) with stderr
    // piped, as kbuild runs us: stderr holds what it holds for the small
    // object, nothing more.
    let dir = tmp_dir("no-progress");
    let case = corpus("golden/basic/gcc-dwarf5");
    let big = dir.join("big.o");
    std::fs::copy(case.join("input.o"), &big).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
    file.set_len(65 << 20).unwrap();
    drop(file);
    let symbols = std::fs::read(case.join("symbols")).unwrap();
    let small = run(&[case.join("input.o").to_str().unwrap()], &symbols);
    let large = run(&[big.to_str().unwrap()], &symbols);
    assert!(small.status.success() && large.status.success());
    assert_eq!(small.stdout, large.stdout);
    let small_err = stderr(&small).replace(case.join("input.o").to_str().unwrap(), "OBJ");
    let large_err = stderr(&large).replace(big.to_str().unwrap(), "OBJ");
    assert_eq!(small_err, large_err);
}

/// kbuild runs us with its own command line: the environment adds rules.
#[test]
fn the_environment_gives_rules_and_kabi_files() {
    let dir = tmp_dir("env");
    let rules = dir.join("tune.rules");
    std::fs::write(
        &rules,
        "ksymrules 1\ninclude \"default\"\ntype base_type { \"BASE\" qualified() }\n",
    )
    .unwrap();
    let obj = corpus("golden/basic/gcc-dwarf5/input.o");
    let obj = obj.to_str().unwrap();
    let with_env = |vars: &[(&str, &std::path::Path)], args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ksymrules"));
        cmd.args(args)
            .env_remove("KSYMRULES_RULES")
            .env_remove("KSYMRULES_KABI");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let symbols: &[u8] = if args.contains(&"--stable") {
            b"the_user\nuse_state\nlegacy_sym\n"
        } else {
            b"wire_buf\n"
        };
        // A rules error stops it before it reads the list.
        let _ = child.stdin.take().unwrap().write_all(symbols);
        child.wait_with_output().unwrap()
    };
    let default = with_env(&[], &[obj]);
    let flag = with_env(&[], &["--rules", rules.to_str().unwrap(), obj]);
    let env = with_env(&[("KSYMRULES_RULES", &rules)], &[obj]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    assert_eq!(env.stdout, flag.stdout);
    assert_ne!(env.stdout, default.stdout, "the rules change the CRC");

    // kABI files, several separated by `:`, as with --kabi given twice.
    let k1 = dir.join("one.kabi");
    let k2 = dir.join("two.kabi");
    std::fs::write(&k1, "ksymrules 1\nkabi byte_size \"grown\" 99\n").unwrap();
    std::fs::write(&k2, "ksymrules 1\nkabi declonly \"hidden_def\"\n").unwrap();
    let kobj = corpus("golden/kabi/gcc-dwarf5/input.o");
    let kobj = kobj.to_str().unwrap();
    let both = std::ffi::OsString::from(format!("{}:{}", k1.display(), k2.display()));
    let flags = with_env(
        &[],
        &[
            "--stable",
            "--kabi",
            k1.to_str().unwrap(),
            "--kabi",
            k2.to_str().unwrap(),
            kobj,
        ],
    );
    let env = with_env(
        &[("KSYMRULES_KABI", std::path::Path::new(&both))],
        &["--stable", kobj],
    );
    let plain = with_env(&[], &["--stable", kobj]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    assert_eq!(env.stdout, flags.stdout);
    assert_ne!(env.stdout, plain.stdout, "the kABI rules change a CRC");

    // A broken file named by the environment is an error naming it.
    let broken = dir.join("broken.rules");
    std::fs::write(&broken, "ksymrules 1\ntype base_type {\n").unwrap();
    let o = with_env(&[("KSYMRULES_RULES", &broken)], &[obj]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("error: {}:", broken.display())),
        "{}",
        stderr(&o)
    );
    let o = with_env(&[("KSYMRULES_KABI", &broken)], &[obj]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("broken.rules"), "{}", stderr(&o));
}

/// Types moved to type units (`-fdebug-types-section`) are printed as
/// `base_type void`, as gendwarfksyms prints them: the versions then do not
/// depend on them, which is said on stderr (the CRCs stay gendwarfksyms').
#[test]
fn type_units_are_said_to_be_left_out() {
    let warned = |case: &str, args: &[&str]| {
        let dir = corpus(&format!("golden/basic/{case}"));
        let symbols = std::fs::read(dir.join("symbols")).unwrap();
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push(dir.join("input.o").to_str().unwrap().to_string());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let o = run(&all, &symbols);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stderr(&o)
            .lines()
            .filter(|l| l.contains("types are in type units"))
            .count()
    };
    assert_eq!(warned("gcc-types5", &[]), 1);
    assert_eq!(warned("gcc-types4", &[]), 1);
    assert_eq!(warned("gcc-dwarf5", &[]), 0);
    // clang keeps C types in the unit.
    assert_eq!(warned("clang-types5", &[]), 0);
    let dir = tmp_dir("follow");
    let rules = dir.join("follow.rules");
    std::fs::write(
        &rules,
        "ksymrules 1\ninclude \"default\"\nset follow_type_units = true\n",
    )
    .unwrap();
    assert_eq!(
        warned("gcc-types5", &["--rules", rules.to_str().unwrap()]),
        0
    );
}
