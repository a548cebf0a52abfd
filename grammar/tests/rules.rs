//! The rules language: the default rules load, and bad rules files are
//! refused with a precise position and message.

use ksymrules_grammar::{default_rules, load_str, DEFAULT_RULES};

#[test]
fn default_rules_compile_with_every_tag_gendwarfksyms_knows() {
    let rules = default_rules();
    for tag in [
        "base_type",
        "pointer_type",
        "const_type",
        "volatile_type",
        "restrict_type",
        "atomic_type",
        "immutable_type",
        "packed_type",
        "reference_type",
        "rvalue_reference_type",
        "shared_type",
        "template_type_parameter",
        "typedef",
        "subroutine_type",
        "formal_parameter",
        "member",
        "structure_type",
        "class_type",
        "union_type",
        "enumeration_type",
        "enumerator",
        "array_type",
        "subrange_type",
        "variant_part",
        "variant",
        "unspecified_type",
    ] {
        let t = ksymrules_grammar::names::tag_by_name(tag).unwrap();
        assert!(rules.types.contains_key(&t), "no rule for {tag}");
    }
    assert_eq!(rules.types.len(), 26);
    assert_eq!(rules.settings.symbol_pointer_prefix, "__gendwarfksyms_ptr_");
    assert_eq!(rules.expand_tags.len(), 4);
}

fn err(text: &str) -> String {
    load_str("t.rules", text).unwrap_err().to_string()
}

#[test]
fn unknown_tag_gets_a_hint_and_a_position() {
    let e = err("ksymrules 1\ntype structre_type { \"x\" }\n");
    assert_eq!(
        e,
        "t.rules:2:6: unknown DWARF tag `structre_type` (did you mean `structure_type`?)"
    );
}

#[test]
fn unknown_attribute_gets_a_hint() {
    let text = DEFAULT_RULES.replace("attr(encoding)", "attr(encodng)");
    let e = err(&text);
    assert!(
        e.contains("unknown DWARF attribute `encodng` (did you mean `encoding`?)"),
        "{e}"
    );
    assert!(e.starts_with("t.rules:"), "{e}");
}

#[test]
fn wrong_version_is_refused() {
    assert_eq!(
        err("ksymrules 2\n"),
        "t.rules:1:11: rules version 2 is not supported: this ksymrules reads version 1"
    );
}

#[test]
fn syntax_errors_say_what_was_expected() {
    let e = err("ksymrules 1\ntype base_type { \"x\" \n");
    assert!(e.starts_with("t.rules:3:1: expected"), "{e}");
    let e = err("type base_type {}");
    assert!(e.starts_with("t.rules:1:1: expected the header"), "{e}");
}

#[test]
fn expanded_outside_expand_tags_can_never_hold() {
    let text = DEFAULT_RULES.replace(
        "\"base_type\" qualified()",
        "\"base_type\" if expanded { \"!\" } qualified()",
    );
    let e = err(&text);
    assert!(e.contains("`expanded` can never hold here"), "{e}");
}

#[test]
fn duplicate_definitions_in_one_file_are_refused_but_includes_override() {
    let e = err("ksymrules 1\ntype base_type { \"a\" }\ntype base_type { \"b\" }\n");
    assert_eq!(e, "t.rules:3:6: `base_type` is already defined at 2:6");
    let r = load_str(
        "t.rules",
        "ksymrules 1\ninclude \"default\"\ntype base_type { \"b\" }\n",
    )
    .unwrap();
    let t = ksymrules_grammar::names::tag_by_name("base_type").unwrap();
    assert_eq!(r.files[r.types[&t].origin.file as usize], "t.rules");
}

#[test]
fn templates_are_checked() {
    let e = err("ksymrules 1\ntype base_type = wraper(\"x\")\n");
    assert!(e.contains("unknown template `wraper`"), "{e}");
    let e = err(&format!("{DEFAULT_RULES}\ntype base_type = wrapper()\n"));
    assert!(
        e.contains("already defined") || e.contains("takes 1 argument"),
        "{e}"
    );
    let e = err("ksymrules 1\ninclude \"default\"\ntype base_type = wrapper()\n");
    assert!(
        e.contains("template `wrapper` takes 1 argument(s), 0 given"),
        "{e}"
    );
}

#[test]
fn flags_cannot_be_printed_and_globs_must_be_strings() {
    let e = err("ksymrules 1\ninclude \"default\"\ntype base_type { declaration }\n");
    assert!(e.contains("`declaration` is a flag"), "{e}");
    let e = err("ksymrules 1\ninclude \"default\"\ntype base_type { if name ~ 3 { \"x\" } }\n");
    assert!(e.contains("needs a glob string"), "{e}");
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    // Found by fuzzing: 40,000 nested parentheses overflowed the parser.
    let text = format!(
        "ksymrules 1\ntype base_type {{ if {}has(name){} {{ \"x\" }} }}\n",
        "(".repeat(40_000),
        ")".repeat(40_000)
    );
    let e = err(&text);
    assert_eq!(e, "t.rules:2:148: nested more than 128 deep");
    // Parentheses in strings and comments do not count.
    let fine = format!("{DEFAULT_RULES}\n# {}\n", "(".repeat(500));
    assert!(load_str("t.rules", &fine).is_ok());
}

#[test]
fn exponential_templates_are_refused() {
    // Found by fuzzing: each template using the previous one twice.
    let mut text = String::from("ksymrules 1\ninclude \"default\"\ntemplate t0() { \"x\" }\n");
    for i in 1..=30 {
        text.push_str(&format!("template t{i}() {{ t{0}() t{0}() }}\n", i - 1));
    }
    text.push_str("type base_type = t30()\n");
    let e = err(&text);
    assert!(
        e.contains("templates expand to more than 100000 pieces"),
        "{e}"
    );
}

#[test]
fn statement_keywords_can_name_attributes() {
    // DW_AT_reference is spelt like the `reference` statement.
    let r = load_str(
        "t.rules",
        "ksymrules 1\ninclude \"default\"\ntype base_type { if has(reference) { \"r\" } attr(reference) }\n",
    );
    assert!(r.is_ok(), "{r:?}");
    // Piece keywords still cannot.
    let e = err("ksymrules 1\ninclude \"default\"\ntype base_type { if has(newline) { \"r\" } }\n");
    assert!(e.contains("expected"), "{e}");
}
