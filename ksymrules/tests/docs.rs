//! The checked-in man page and completions are what the command-line
//! definition generates (regenerate: `cargo run -p ksymrules --example docs`).

use std::path::Path;

#[test]
fn generated_docs_are_current() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let mut stale = Vec::new();
    for (rel, text) in ksymrules::docs::generated().unwrap() {
        let path = docs.join(&rel);
        if std::fs::read(&path).ok().as_deref() != Some(&text[..]) {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale in docs/: {stale:?}; run `cargo run -p ksymrules --example docs`"
    );
    // The generated page documents every option and the environment.
    let man = std::fs::read_to_string(docs.join("man/ksymrules.1")).unwrap();
    for word in [
        "\\-\\-symtypes",
        "\\-\\-stable",
        "KSYMRULES_RULES",
        "KSYMRULES_KABI",
    ] {
        assert!(man.contains(word), "ksymrules.1 lacks {word}");
    }
    assert!(docs.join("man/ksymrules-rules.5").is_file());
}
