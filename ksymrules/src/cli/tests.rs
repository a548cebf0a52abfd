//! `Cli::kbuild_form` reads what clap reads, or leaves it to clap.

use super::*;
use clap::CommandFactory;
use proptest::prelude::*;

fn args(words: &[&str]) -> Vec<OsString> {
    std::iter::once("ksymrules")
        .chain(words.iter().copied())
        .map(OsString::from)
        .collect()
}

fn no_env(_: &str) -> bool {
    false
}

/// Both parsers' results, printed (`Cli` is `Debug`, every field).
fn both(words: &[&str]) -> (Option<String>, Result<String, clap::error::ErrorKind>) {
    let args = args(words);
    let fast = Cli::kbuild_form(&args, no_env).map(|c| format!("{c:?}"));
    let clap = Cli::try_parse_from(&args)
        .map(|c| format!("{c:?}"))
        .map_err(|e| e.kind());
    (fast, clap)
}

#[test]
fn kbuild_command_lines_are_read_without_clap_as_clap_reads_them() {
    // What kbuild's Makefile.build runs, with and without its options.
    for words in [
        &["vmlinux.o"][..],
        &["lib/string.o"],
        &["--stable", "a.o"],
        &["--symtypes", "lib/string.symtypes", "lib/string.o"],
        &["--symtypes", "a.symtypes", "--stable", "a.o"],
        &["-s", "-T", "a.symtypes", "a.o", "b.o"],
        &["a.o", "--stable"],
    ] {
        let (fast, clap) = both(words);
        assert!(fast.is_some(), "{words:?} is kbuild's form");
        assert_eq!(fast.map(Ok), Some(clap), "{words:?}");
    }
}

#[test]
fn everything_else_is_left_to_clap() {
    for words in [
        &[][..],
        &["--stable"],
        &["-T", "x.symtypes"],
        &["-d", "a.o"],
        &["--help"],
        &["--version"],
        &["--print-rules"],
        &["compare", "a.o", "b.o"],
        &["check-rules"],
        &["help"],
        &["a.o", "compare"],
        &["-"],
        &["--", "a.o"],
        &[""],
        &["-T", "", "a.o"],
        &["-T", "-d", "a.o"],
        &["-T"],
        &["a.o", "-T"],
        &["--symtypes=x", "a.o"],
        &["-Tx", "a.o"],
        &["-sT", "x", "a.o"],
        &["--stable", "--stable", "a.o"],
        &["-T", "x", "-T", "y", "a.o"],
        &["--rules", "r", "a.o"],
        &["--kabi", "k", "a.o"],
    ] {
        assert_eq!(both(words).0, None, "{words:?}");
    }
}

#[test]
fn the_environment_clap_reads_is_left_to_clap() {
    for var in ENV_VARS {
        let set = |v: &str| v == var;
        assert!(Cli::kbuild_form(&args(&["a.o"]), set).is_none(), "{var}");
    }
    // The list is every variable clap reads.
    let mut cmd = Cli::command();
    cmd.build();
    let mut read: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    read.sort();
    assert_eq!(read, ENV_VARS);
}

#[test]
fn the_subcommand_names_are_clap_s() {
    let mut cmd = Cli::command();
    cmd.build();
    let mut names: Vec<&str> = cmd
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
        .collect();
    names.sort();
    assert_eq!(names, SUBCOMMANDS);
}

/// Words a command line is made of: kbuild's and their near misses.
fn word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a.o",
        "b.o",
        "x.symtypes",
        "--stable",
        "-s",
        "-T",
        "--symtypes",
        "-d",
        "--",
        "-",
        "",
        "compare",
        "help",
        "-Tx",
        "--symtypes=x",
        "--dump-dies",
        "--rules",
        "-sT",
    ])
}

proptest! {
    /// Whatever the command line, the fast path reads it as clap does or
    /// not at all.
    #[test]
    fn the_fast_path_agrees_with_clap(words in prop::collection::vec(word(), 0..7)) {
        let (fast, clap) = both(&words);
        if let Some(fast) = fast {
            prop_assert_eq!(Ok(fast), clap);
        }
    }
}
