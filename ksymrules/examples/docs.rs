//! Writes the man page and the shell completions generated from the
//! command-line definition into `docs/` (see `ksymrules::docs`):
//!
//!     cargo run -p ksymrules --example docs [DOCS-DIR]
//!
//! Install them with, for example:
//!
//!     install -m 644 docs/man/ksymrules.1 /usr/local/share/man/man1/
//!     install -m 644 docs/man/ksymrules-rules.5 /usr/local/share/man/man5/
//!     install -m 644 docs/completions/ksymrules.bash \
//!         /usr/local/share/bash-completion/completions/ksymrules

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let docs = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs")));
    for (rel, text) in ksymrules::docs::generated()? {
        let path = docs.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        println!("{}", path.display());
    }
    Ok(())
}
