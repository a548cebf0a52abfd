//! The embedded default rules, compiled when ksymrules was built (see
//! `build.rs`) into `static` data: a run with them parses nothing, builds
//! nothing and allocates nothing for them; they are read in place from
//! the program's read-only memory (one page fault brings in many of their
//! pages, where building them touched a dozen fresh ones).

use ksymrules_grammar::Rules;

/// The default rules, as `ksymrules_grammar::default_rules()` compiles them
/// from `rules/gendwarfksyms.rules`.
static DEFAULT: Rules = include!(concat!(env!("OUT_DIR"), "/default_rules.rs"));

/// [`DEFAULT`] specialised for `--stable` (`Rules::specialize`).
static STABLE: Rules = include!(concat!(env!("OUT_DIR"), "/default_rules_stable.rs"));

/// [`DEFAULT`] specialised for a run without `--stable`.
static PLAIN: Rules = include!(concat!(env!("OUT_DIR"), "/default_rules_plain.rs"));

/// The default rules.
pub fn rules() -> &'static Rules {
    &DEFAULT
}

/// The default rules specialised for `--stable` or not
/// (`Rules::specialize`).
pub fn specialized(stable: bool) -> &'static Rules {
    if stable {
        &STABLE
    } else {
        &PLAIN
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
