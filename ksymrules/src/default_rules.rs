//! The embedded default rules, compiled when ksymrules was built (see
//! `build.rs`): no parsing at run time.

use ksymrules_grammar::Rules;

/// The default rules, as `ksymrules_grammar::default_rules()` compiles them
/// from `rules/gendwarfksyms.rules`.
pub fn rules() -> Rules {
    include!(concat!(env!("OUT_DIR"), "/default_rules.rs"))
}

#[cfg(test)]
mod tests {
    /// The build-time rules are the ones the source compiles to, field for
    /// field (`Debug` prints every field of the model).
    #[test]
    fn built_rules_are_the_compiled_source() {
        let built = format!("{:#?}", super::rules());
        let compiled = format!("{:#?}", ksymrules_grammar::default_rules());
        assert!(built.len() > 10_000, "the default rules are not empty");
        assert_eq!(built, compiled);
    }
}
