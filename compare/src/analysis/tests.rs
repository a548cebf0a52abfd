//! Root causes on small corpora written as symtypes.

use super::*;
use crate::corpus::{Corpus, Origin};

fn corpus(text: &str) -> Corpus {
    let mut c = Corpus::new("test".into(), Origin::Symtypes);
    let sections = crate::symtypes::parse(text, "t.symtypes").unwrap();
    for (unit, exports) in crate::symtypes::complete(sections).unwrap() {
        c.add_unit(unit, exports);
    }
    c
}

const INT: &str = "base_type int byte_size(4) encoding(5)";
const CHAR6: &str = "base_type char byte_size(1) encoding(6)";
const CHAR8: &str = "base_type char byte_size(1) encoding(8)";

fn cause_names(a: &Analysis, export: &str) -> Vec<String> {
    let c = a.changed.iter().find(|c| c.name == export).unwrap();
    c.causes.iter().map(|&k| a.causes[k].name.clone()).collect()
}

#[test]
fn a_type_change_is_one_cause_for_every_export_it_reaches() {
    let old = corpus(&format!(
        "s#dev structure_type dev {{ member {INT} id data_member_location(0) }} byte_size(4)\n\
         s#wrap structure_type wrap {{ member s#dev d data_member_location(0) }} byte_size(4)\n\
         a variable s#dev\nb variable s#wrap\nc variable {INT}\nd variable {INT}\n"
    ));
    let new = corpus(&format!(
        "s#dev structure_type dev {{ member {INT} id data_member_location(0) , member {INT} flags data_member_location(4) }} byte_size(8)\n\
         s#wrap structure_type wrap {{ member s#dev d data_member_location(0) }} byte_size(4)\n\
         a variable s#dev\nb variable s#wrap\nc variable {INT}\ne variable {INT}\n"
    ));
    let a = analyse(&old, &new);
    let changed: Vec<&str> = a.changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(changed, ["a", "b"]);
    assert_eq!(a.added, ["e"]);
    assert_eq!(a.removed, ["d"]);
    assert_eq!(a.common, 3);
    // s#wrap's own string is the same: only s#dev is a cause.
    assert_eq!(a.causes.len(), 1);
    assert_eq!(a.causes[0].name, "s#dev");
    assert_eq!(a.causes[0].kind, CauseKind::Type);
    assert_eq!(a.causes[0].exports, ["a", "b"]);
    assert_eq!(cause_names(&a, "b"), ["s#dev"]);
}

#[test]
fn a_recurring_edit_is_one_cause() {
    let text = |ch: &str| {
        format!(
            "s#x structure_type x {{ member pointer_type {{ {ch} }} byte_size(8) name data_member_location(0) }} byte_size(8)\n\
             s#y structure_type y {{ member {ch} c data_member_location(0) , member {INT} n data_member_location(4) }} byte_size(8)\n\
             s#z structure_type z {{ member {INT} n data_member_location(0) }} byte_size(4)\n\
             fx variable s#x\nfy variable s#y\nfs subprogram ( formal_parameter pointer_type {{ {ch} }} byte_size(8) s ) -> base_type void\n\
             fz variable s#z\n"
        )
    };
    let old = corpus(&text(CHAR6));
    let mut new_text = text(CHAR8);
    // s#y also gets a change of its own.
    new_text = new_text.replace("n data_member_location(4) } byte_size(8)", "n data_member_location(4) , member base_type int byte_size(4) encoding(5) m data_member_location(8) } byte_size(12)");
    let new = corpus(&new_text);
    let a = analyse(&old, &new);
    let changed: Vec<&str> = a.changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(changed, ["fs", "fx", "fy"]);
    let edit = &a.causes[0];
    assert_eq!(edit.kind, CauseKind::Edit);
    assert_eq!(
        edit.name,
        "base_type char byte_size(1) [encoding(6) → encoding(8)]"
    );
    assert_eq!(edit.exports, ["fs", "fx", "fy"]);
    assert_eq!(edit.changes.len(), 3, "in s#x, s#y and fs's own string");
    // s#y's other change is its own cause; s#x and fs have no other.
    assert_eq!(a.causes.len(), 2);
    assert_eq!(a.causes[1].name, "s#y");
    assert_eq!(
        cause_names(&a, "fy"),
        [edit.name.clone(), "s#y".to_string()]
    );
    assert_eq!(cause_names(&a, "fx"), std::slice::from_ref(&edit.name));
    assert_eq!(cause_names(&a, "fs"), std::slice::from_ref(&edit.name));
}

#[test]
fn an_export_whose_own_string_changed_is_its_own_cause() {
    let old = corpus(&format!(
        "f subprogram ( formal_parameter {INT} a ) -> base_type void\n"
    ));
    let new = corpus(&format!(
        "f subprogram ( formal_parameter {INT} a , formal_parameter {INT} b ) -> base_type void\n"
    ));
    let a = analyse(&old, &new);
    assert_eq!(a.causes.len(), 1);
    assert_eq!(a.causes[0].kind, CauseKind::Symbol);
    assert_eq!(a.causes[0].name, "f");
    assert_eq!(
        crate::summary::summarize(&a.changes[0].old, &a.changes[0].new),
        "parameter 'b' added at the end"
    );
}

#[test]
fn a_type_reached_on_one_side_only_is_not_a_cause() {
    // s#old is replaced by s#new in f's string; s#old also changed, but the
    // new version no longer reaches it.
    let old = corpus(&format!(
        "s#old structure_type old {{ member {INT} a data_member_location(0) }} byte_size(4)\n\
         f variable s#old\ng variable s#old\n"
    ));
    let new = corpus(
        "s#old structure_type old { }\n\
         s#new structure_type new { }\n\
         f variable s#new\ng variable s#old\n",
    );
    let a = analyse(&old, &new);
    assert_eq!(cause_names(&a, "f"), ["f"]);
    assert_eq!(cause_names(&a, "g"), ["s#old"]);
}

#[test]
fn nothing_differs() {
    let text = format!("s#x structure_type x {{ member {INT} a data_member_location(0) }} byte_size(4)\nf variable s#x\n");
    let a = analyse(&corpus(&text), &corpus(&text));
    assert!(a.changed.is_empty() && a.causes.is_empty() && a.added.is_empty());
    assert_eq!(a.common, 1);
}
