//! kABI rules that keep the old versions: for each changed string, the
//! narrowest rule that turns the new string back into the old one.
//!
//! | the change | the rule |
//! |---|---|
//! | a declaration became a definition | `declonly` |
//! | enumerators added, values changed (a `*_MAX`) | `enumerator_ignore`, `enumerator_value` |
//! | only the size | `byte_size` |
//! | anything else, and an export's own string | `type_string` with the old string |
//!
//! Each narrow rule is checked before it is chosen: the new string, with
//! what the rule would do done to it, must be the old string exactly;
//! otherwise `type_string` is used. Types the old strings refer to that
//! no longer exist are defined by `type_string` too.

use crate::analysis::{Analysis, Change};
use crate::corpus::Corpus;
use crate::text::{self, Kind, Token};
use ksymrules_engine::typemap::Expansion;
use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    Declonly(String),
    EnumeratorIgnore(String, String),
    EnumeratorValue(String, String, String),
    ByteSize(String, String),
    TypeString(String, String),
}

impl Rule {
    /// The rule as a line of a kABI file.
    pub fn line(&self) -> String {
        match self {
            Rule::Declonly(t) => format!("kabi declonly {}", target(t)),
            Rule::EnumeratorIgnore(e, n) => {
                format!("kabi enumerator_ignore {} {}", target(e), target(n))
            }
            Rule::EnumeratorValue(e, n, v) => {
                format!("kabi enumerator_value {} {} {v}", target(e), target(n))
            }
            Rule::ByteSize(t, v) => format!("kabi byte_size {} {v}", target(t)),
            Rule::TypeString(t, s) => format!("kabi type_string {} {}", quote(t), quote(s)),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Declonly(_) => "declonly",
            Rule::EnumeratorIgnore(..) => "enumerator_ignore",
            Rule::EnumeratorValue(..) => "enumerator_value",
            Rule::ByteSize(..) => "byte_size",
            Rule::TypeString(..) => "type_string",
        }
    }
}

/// A string literal of the rules language.
fn quote(s: &str) -> String {
    ksymrules_grammar::print::quote(s)
}

/// A target that means exactly this name (targets with `*`, `?`, `[`, are
/// globs: those characters are escaped).
fn target(name: &str) -> String {
    if name.contains(['*', '?', '[', ']', '{', '}']) {
        let mut g = String::new();
        for c in name.chars() {
            match c {
                '*' | '?' | '[' | ']' | '{' | '}' => {
                    g.push('[');
                    g.push(c);
                    g.push(']');
                }
                c => g.push(c),
            }
        }
        quote(&g)
    } else {
        quote(name)
    }
}

/// The rules for one changed string.
#[derive(Clone, Debug)]
pub struct Suggested {
    /// In [`Analysis::changes`].
    pub change: usize,
    pub rules: Vec<Rule>,
    /// Strings (the change's own, or a type the new side lacks) that no
    /// `type_string` can give back (see [`expressible`]): not kept.
    pub unkept: Vec<String>,
}

/// A type's name without its prefix and quotes (`s#'a b'` → `a b`).
pub fn fqn(name: &str) -> &str {
    let bare = name.get(2..).unwrap_or("");
    bare.strip_prefix('\'')
        .and_then(|b| b.strip_suffix('\''))
        .unwrap_or(bare)
}

/// Rules for every change the analysis found (one set per name: the
/// first variant's).
pub fn suggest(a: &Analysis, old: &Corpus) -> Vec<Suggested> {
    let mut out: Vec<Suggested> = Vec::new();
    let mut named: std::collections::BTreeSet<String> = Default::default();
    for (id, c) in a.changes.iter().enumerate() {
        if !named.insert(c.name.clone()) {
            continue;
        }
        let mut rules = if c.is_symbol {
            vec![Rule::TypeString(c.name.clone(), c.old.text.clone())]
        } else {
            narrowest(c)
        };
        let mut unkept = Vec::new();
        if !expressible(&c.old) {
            let all = rules.len();
            rules.retain(|r| !matches!(r, Rule::TypeString(..)));
            if rules.len() < all {
                unkept.push(c.name.clone());
            }
        }
        for m in &c.missing_in_new {
            if named.insert(m.clone()) {
                if let Some(t) = old.units[c.units.0].types.get(m) {
                    if expressible(t) {
                        rules.push(Rule::TypeString(m.clone(), t.text.clone()));
                    } else {
                        unkept.push(m.clone());
                    }
                }
            }
        }
        out.push(Suggested {
            change: id,
            rules,
            unkept,
        });
    }
    out
}

/// Whether a `type_string` rule can give this string: the rules read the
/// references of a `type_string` value as gendwarfksyms does (a `s#`, `u#`,
/// `e#` or `t#` anywhere, even in a word, starts one; a quoted name ends at
/// the next quote), and they must be exactly the string's own. A symtypes
/// string (references only at the start of a token, `E#` too) may be read
/// otherwise, or not at all.
pub fn expressible(exp: &Expansion) -> bool {
    use ksymrules_engine::kabi::{split_type_string, TypeStringPiece};
    let Ok(pieces) = split_type_string(&exp.text) else {
        return false;
    };
    let mut at = 0usize;
    let mut refs = Vec::new();
    for p in pieces {
        match p {
            TypeStringPiece::Text(t) => at += t.len(),
            TypeStringPiece::Ref(r) => {
                refs.push((at as u32, (at + r.len()) as u32));
                at += r.len();
            }
        }
    }
    refs == exp.refs
}

/// The narrowest rules that turn `c.new` into `c.old`.
fn narrowest(c: &Change) -> Vec<Rule> {
    let (o, n) = (text::tokens(&c.old), text::tokens(&c.new));
    let name = fqn(&c.name).to_string();
    let fallback = || vec![Rule::TypeString(c.name.clone(), c.old.text.clone())];
    let (Some(oo), Some(no)) = (text::first_open(&o), text::first_open(&n)) else {
        return fallback();
    };
    let head_o = text::join(&o[..oo]);
    let head_n = text::join(&n[..no]);
    if head_o != head_n {
        return fallback();
    }
    // A declaration that became a definition.
    if c.old.text == format!("{head_n} {{ }}") && c.new.text != c.old.text {
        return vec![Rule::Declonly(name)];
    }
    // Enumerators added or revalued, and the size.
    let mut rules = Vec::new();
    let o_items = text::items(&o, oo);
    let n_items = text::items(&n, no);
    let mut kept: Vec<String> = Vec::new();
    let is_enum = head_n.starts_with("enumeration_type");
    for &(a, b) in &n_items {
        let item = &n[a..b];
        let shown = text::join(item);
        if is_enum && item.first().is_some_and(|t| t.text == "enumerator") {
            let ename = item.get(1).map_or("", |t| t.text);
            let old_item = o_items
                .iter()
                .map(|&(x, y)| &o[x..y])
                .find(|it| it.get(1).is_some_and(|t| t.text == ename));
            match old_item {
                None => {
                    rules.push(Rule::EnumeratorIgnore(name.clone(), ename.to_string()));
                    continue;
                }
                Some(it) => {
                    let (ov, nv) = (value(it), value(item));
                    if let (Some(ov), Some(nv)) = (ov, nv) {
                        if ov != nv && is_number(ov) {
                            rules.push(Rule::EnumeratorValue(
                                name.clone(),
                                ename.to_string(),
                                ov.to_string(),
                            ));
                            kept.push(shown.replacen(&format!("= {nv}"), &format!("= {ov}"), 1));
                            continue;
                        }
                    }
                }
            }
        }
        kept.push(shown);
    }
    let close = text::group_end(&n, no);
    let mut tail: Vec<String> = n[(close + 1).min(n.len())..]
        .iter()
        .map(|t| t.text.to_string())
        .collect();
    let old_close = text::group_end(&o, oo);
    let old_size = size(&o[(old_close + 1).min(o.len())..]);
    let new_size = size(&n[(close + 1).min(n.len())..]);
    if let (Some(os), Some(ns)) = (old_size, new_size) {
        if os != ns && is_number(os) {
            rules.push(Rule::ByteSize(name.clone(), os.to_string()));
            for t in &mut tail {
                if *t == format!("byte_size({ns})") {
                    *t = format!("byte_size({os})");
                }
            }
        }
    }
    // The new string with the rules applied must be the old one.
    let mut rebuilt = format!("{head_n} {{");
    if !kept.is_empty() {
        rebuilt.push(' ');
        rebuilt.push_str(&kept.join(" , "));
    }
    rebuilt.push_str(" }");
    for t in &tail {
        rebuilt.push(' ');
        rebuilt.push_str(t);
    }
    if rules.is_empty() || rebuilt != c.old.text {
        return fallback();
    }
    rules
}

/// A value a rule can give: a number as the rules print it (a kABI rule's
/// value is a 64-bit number, printed in decimal).
fn is_number(v: &str) -> bool {
    v.parse::<u64>().is_ok_and(|n| n.to_string() == v)
}

fn value<'a>(item: &[Token<'a>]) -> Option<&'a str> {
    let eq = item.iter().position(|t| t.text == "=")?;
    item.get(eq + 1).map(|t| t.text)
}

fn size<'a>(tail: &[Token<'a>]) -> Option<&'a str> {
    tail.iter().filter(|t| t.kind == Kind::Word).find_map(|t| {
        t.attribute()
            .filter(|(n, _)| *n == "byte_size")
            .map(|(_, v)| v)
    })
}

/// The kABI file: a header, then each change's rules under a comment
/// naming it, what changed and the exports it restores.
pub fn render(a: &Analysis, suggested: &[Suggested], summaries: &[String]) -> String {
    let mut out = String::new();
    out.push_str("ksymrules 1\n\n");
    out.push_str(
        "# kABI rules suggested by `ksymrules compare`: with --stable, they keep the\n\
         # old versions of the exports below. Review each: a rule hides a change.\n",
    );
    for s in suggested {
        let c = &a.changes[s.change];
        let _ = writeln!(out);
        let _ = writeln!(out, "# {}: {}", c.name, summaries[s.change]);
        if c.is_symbol {
            let _ = writeln!(
                out,
                "# The export's own string changed: only a type_string on it keeps its version.\n\
                 # Make sure its users are still compatible."
            );
        }
        let shown: Vec<&str> = c.exports.iter().take(8).map(String::as_str).collect();
        let more = c.exports.len().saturating_sub(shown.len());
        for u in &s.unkept {
            let _ = writeln!(
                out,
                "# Not kept: no type_string gives back the old string of {u}\n\
                 # (the rules would read its references otherwise)."
            );
        }
        let _ = writeln!(
            out,
            "# {}: {}{}",
            if s.unkept.is_empty() {
                "Restores"
            } else {
                "Would restore"
            },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        for r in &s.rules {
            if let Rule::TypeString(t, _) = r {
                if *t != c.name {
                    let _ = writeln!(
                        out,
                        "# {t} is gone from NEW; the old string above refers to it, so it is \
                         defined here as it was."
                    );
                }
            }
            let _ = writeln!(out, "{}", r.line());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> Change {
        let p = |s: &str| std::sync::Arc::new(crate::symtypes::parse_string(s).unwrap());
        Change {
            name: "s#foo".into(),
            is_symbol: false,
            old: p(old),
            new: p(new),
            units: (0, 0),
            hunks: Vec::new(),
            exports: Vec::new(),
            missing_in_new: Vec::new(),
        }
    }

    fn kinds(old: &str, new: &str) -> Vec<&'static str> {
        narrowest(&change(old, new))
            .iter()
            .map(Rule::kind)
            .collect()
    }

    /// A rule's value is a number, printed in decimal: other old values
    /// (symtypes text is anything) are kept by a type_string.
    #[test]
    fn narrow_rules_give_numbers_only() {
        let s = |size: &str| format!("structure_type foo {{ }} byte_size({size})");
        assert_eq!(kinds(&s("8"), &s("4")), ["byte_size"]);
        for odd in ["08", "8x", "-8", "T\0\08", "18446744073709551616"] {
            assert_eq!(kinds(&s(odd), &s("4")), ["type_string"], "{odd}");
        }
        let e = |v: &str| {
            format!(
                "enumeration_type foo {{ enumerator A = 0 , enumerator MAX = {v} }} byte_size(4)"
            )
        };
        assert_eq!(kinds(&e("1"), &e("2")), ["enumerator_value"]);
        assert_eq!(kinds(&e("x1"), &e("2")), ["type_string"]);
    }

    /// A string is given back by a type_string only when the rules read
    /// its references as the symtypes reader did.
    #[test]
    fn type_strings_must_split_alike() {
        let ok = |s: &str| expressible(&crate::symtypes::parse_string(s).unwrap());
        assert!(ok(
            "structure_type foo { member s#bar b , member s#'a b' c }"
        ));
        assert!(ok("base_type int byte_size(4)"));
        // A reference in a word; an unterminated one; E#; a quote inside.
        assert!(!ok("member xs#bar b"));
        assert!(!ok("member bytee#'x y"));
        assert!(!ok("enumerator E#FOO"));
        assert!(!ok("member s#'a'b c' d"));
    }

    #[test]
    fn targets_and_strings_are_quoted() {
        assert_eq!(target("foo"), "\"foo\"");
        assert_eq!(target("Option<[u8]>"), "\"Option<[[]u8[]]>\"");
        assert_eq!(quote("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
        assert_eq!(fqn("s#'a b'"), "a b");
        assert_eq!(fqn("e#state"), "state");
    }
}
