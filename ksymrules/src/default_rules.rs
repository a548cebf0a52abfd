//! The embedded default rules, compiled when ksymrules was built (see
//! `build.rs`): no parsing at run time, and, for a run that adds no kABI
//! file, no specialising either.

use ksymrules_grammar::Rules;

/// The default rules, as `ksymrules_grammar::default_rules()` compiles them
/// from `rules/gendwarfksyms.rules`.
pub fn rules() -> Rules {
    include!(concat!(env!("OUT_DIR"), "/default_rules.rs"))
}

/// The default rules specialised for `--stable` or not
/// (`Rules::specialize`).
pub fn specialized(stable: bool) -> Rules {
    if stable {
        include!(concat!(env!("OUT_DIR"), "/default_rules_stable.rs"))
    } else {
        include!(concat!(env!("OUT_DIR"), "/default_rules_plain.rs"))
    }
}

#[cfg(test)]
mod tests {
    /// The build-time rules are the ones the source compiles to, field for
    /// field (`Debug` prints every field of the model), and so are their
    /// specialisations.
    #[test]
    fn built_rules_are_the_compiled_source() {
        let built = format!("{:#?}", super::rules());
        let compiled = format!("{:#?}", ksymrules_grammar::default_rules());
        assert!(built.len() > 10_000, "the default rules are not empty");
        assert_eq!(built, compiled);
        for stable in [false, true] {
            let built = format!("{:#?}", super::specialized(stable));
            let compiled = format!(
                "{:#?}",
                ksymrules_grammar::default_rules().specialize(stable)
            );
            assert_eq!(built, compiled, "stable = {stable}");
        }
    }
}
