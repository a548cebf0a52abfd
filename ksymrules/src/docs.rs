//! The documentation generated from the command-line definition: the man
//! page `ksymrules.1` (clap_mangen) and shell completions (clap_complete).
//! `ksymrules-rules.5`, the rules language, is written by hand in
//! `docs/man/`. Regenerate with
//!
//! ```text
//! cargo run -p ksymrules --example docs
//! ```
//!
//! which rewrites `docs/man/ksymrules.1` and `docs/completions/*`; a test
//! fails when the checked-in files are stale.

use clap::CommandFactory;
use std::path::{Path, PathBuf};

/// The generated files, as (path relative to the repository's `docs/`,
/// contents).
pub fn generated() -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let cmd = crate::cli::Cli::command();
    let mut out = Vec::new();

    let mut man = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .date("2026-12-01")
        .manual("ksymrules manual")
        .render(&mut man)?;
    out.push((PathBuf::from("man/ksymrules.1"), man));

    for (shell, name) in [
        (clap_complete::Shell::Bash, "ksymrules.bash"),
        (clap_complete::Shell::Zsh, "_ksymrules"),
        (clap_complete::Shell::Fish, "ksymrules.fish"),
    ] {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "ksymrules", &mut text);
        out.push((Path::new("completions").join(name), text));
    }
    Ok(out)
}
