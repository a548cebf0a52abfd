//! Printing syntax trees: what `print` writes parses back to the same tree
//! (positions aside), for the default rules and for random trees.

use ksymrules_grammar::ast::*;
use ksymrules_grammar::parse::parse;
use ksymrules_grammar::print::{erase_positions, erased};
use ksymrules_grammar::{load_str, Rules, DEFAULT_RULES};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Parses, prints and parses again; returns the printed text.
fn reprint(name: &str, text: &str) -> (File, String, File) {
    let first = parse(name, text).unwrap_or_else(|e| panic!("{e}"));
    let printed = first.to_string();
    let second = parse("printed.rules", &printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
    (first, printed, second)
}

// --------------------------------------------------------- default rules

#[test]
fn default_rules_print_and_parse_back_to_the_same_tree() {
    let (mut first, printed, mut second) = reprint("default.rules", DEFAULT_RULES);
    erase_positions(&mut first);
    erase_positions(&mut second);
    assert_eq!(first, second, "printed:\n{printed}");
    // Printing is stable: the printed text prints as itself.
    assert_eq!(second.to_string(), printed);
}

/// What the engine sees of compiled rules, positions aside. The model has
/// no `PartialEq` (globs), and its `Debug` shows patterns and structure
/// but no positions, so it stands for behaviour.
/// Debug text without the pieces' origins (a reprinted file puts them
/// elsewhere): `Origin { file: 0, pos: Pos { line: 3, col: 5 } }` -> `_`.
fn no_origins(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("Origin {") {
        out.push_str(&rest[..i]);
        out.push('_');
        let end = rest[i..].find("} }").expect("an origin ends with `} }`");
        rest = &rest[i + end + 3..];
    }
    out.push_str(rest);
    out
}

fn behaviour(rules: &Rules) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let s = &rules.settings;
    out.insert(
        "settings".to_string(),
        format!(
            "{:?} {:?} {:?}",
            s.symbol_pointer_prefix, s.follow_type_units, s.reference_quote
        ),
    );
    let refs: BTreeMap<String, &str> = rules
        .references
        .iter()
        .map(|(t, p)| (t.to_string(), &**p))
        .collect();
    out.insert("references".to_string(), format!("{refs:?}"));
    out.insert("expand".to_string(), format!("{:?}", rules.expand_tags));
    out.insert(
        "expand when".to_string(),
        format!("{:?}", rules.expand_when),
    );
    out.insert(
        "replace when".to_string(),
        format!("{:?}", rules.replace_when),
    );
    out.insert("kabi".to_string(), format!("{:?}", rules.kabi));
    out.insert(
        "subprogram".to_string(),
        no_origins(format!("{:?}", rules.subprogram.ops)),
    );
    out.insert(
        "variable".to_string(),
        no_origins(format!("{:?}", rules.variable.ops)),
    );
    for (tag, t) in &rules.types {
        out.insert(format!("type {tag}"), no_origins(format!("{:?}", t.ops)));
    }
    out
}

#[test]
fn printed_default_rules_compile_to_the_same_rules() {
    let original = load_str("default.rules", DEFAULT_RULES).unwrap();
    let (_, printed, _) = reprint("default.rules", DEFAULT_RULES);
    let again = load_str("printed.rules", &printed).unwrap_or_else(|e| panic!("{e}"));

    let tags = |r: &Rules| r.types.keys().map(|t| t.0).collect::<BTreeSet<_>>();
    assert_eq!(tags(&original), tags(&again));
    assert_eq!(tags(&again).len(), 26);
    let (a, b) = (&original.settings, &again.settings);
    assert_eq!(a.symbol_pointer_prefix, b.symbol_pointer_prefix);
    assert_eq!(a.follow_type_units, b.follow_type_units);
    assert_eq!(a.reference_quote, b.reference_quote);

    let (a, b) = (behaviour(&original), behaviour(&again));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert_eq!(v, &b[k], "{k} differs");
    }
}

// ------------------------------------------------------------ hand cases

/// A condition as the printer writes it, after parsing `text`.
fn reprinted_cond(text: &str) -> String {
    let file = parse(
        "t.rules",
        &format!("ksymrules 1\nreplace strings when {text}\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    match &file.statements[0] {
        Statement::Replace { when, .. } => when.to_string(),
        s => panic!("not a replace: {s:?}"),
    }
}

#[test]
fn conditions_get_the_parentheses_they_need_and_no_more() {
    for (text, printed) in [
        ("stable", "stable"),
        ("((stable))", "stable"),
        ("not not stable", "not not stable"),
        ("not (a == 1 or b != 2)", "not (a == 1 or b != 2)"),
        (
            "not (a ~ \"x*\" and expanded)",
            "not (a ~ \"x*\" and expanded)",
        ),
        ("not a !~ \"*.c\"", "not a !~ \"*.c\""),
        (
            "(a == 1 or b == 2) and c == 3",
            "(a == 1 or b == 2) and c == 3",
        ),
        ("a == 1 and b == 2 or c == 3", "a == 1 and b == 2 or c == 3"),
        (
            "a == 1 and (b == 2 or c == 3)",
            "a == 1 and (b == 2 or c == 3)",
        ),
        // Explicitly nested lists stay nested.
        (
            "a == 1 or (b == 2 or c == 3)",
            "a == 1 or (b == 2 or c == 3)",
        ),
        (
            "(a == 1 and b == 2) and c == 3",
            "(a == 1 and b == 2) and c == 3",
        ),
        (
            "(a == 1 and b == 2) or c == 3",
            "a == 1 and b == 2 or c == 3",
        ),
        ("has(f(x, $v, 1 + 2))", "has(f(x, $v, 1 + 2))"),
        (
            "type.kabi_status == \"ignored\"",
            "type.kabi_status == \"ignored\"",
        ),
        ("a - 1 + 2 == 3-b", "a - 1 + 2 == 3 - b"),
    ] {
        assert_eq!(reprinted_cond(text), printed, "from {text}");
        // And the printed form parses to the same tree.
        let again = reprinted_cond(printed);
        assert_eq!(again, printed);
    }
}

#[test]
fn strings_are_escaped() {
    let file = File {
        version: 1,
        version_pos: Pos::default(),
        statements: vec![Statement::Include {
            path: "a\"b\\c\nd\te # {}\r é".to_string(),
            pos: Pos::default(),
        }],
    };
    let text = file.to_string();
    assert_eq!(
        text,
        "ksymrules 1\n\ninclude \"a\\\"b\\\\c\\nd\\te # {}\r é\"\n"
    );
    assert_eq!(erased(&parse("t.rules", &text).unwrap()), file);
}

#[test]
fn child_arms_print_as_children_when_they_can() {
    let text = "ksymrules 1\n\
        type array_type { each child { subrange_type => describe * => skip } }\n\
        type variant_part { children(*) }\n\
        type variant { each child { member => describe * => skip member => skip } }\n\
        type member { each child { * => error \"no\" } }\n";
    let (first, printed, second) = reprint("t.rules", text);
    assert_eq!(erased(&first), erased(&second));
    assert!(
        printed.contains("\n    children(subrange_type)\n"),
        "{printed}"
    );
    assert!(printed.contains("\n    children(*)\n"), "{printed}");
    assert!(
        printed.contains(
            "\n    each child {\n        member => describe\n        * => skip\n        member => skip\n    }\n"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("\n    each child { * => error \"no\" }\n"),
        "{printed}"
    );
}

#[test]
fn every_statement_and_piece_prints() {
    let text = r#"ksymrules 7
include "default"
set a = "x"
set b = 18446744073709551615
set c = true
reference structure_type, class_type as "s#"
expand union_type
expand union_type when expanded or stable
replace strings when not stable
kabi byte_size "s" 16
kabi enumerator_value "e" "E" 3
template t(p, q) {
    "text\t" p q.r value($v - 1 + f()) attr(x) newline indent dedent
    if has(x) { "a" } else if stable { } else if expanded { "c" } else { "d" }
    if has(y) { } else { if stable { "nested" } }
    separator { ", " }
    children(a, b)
    each child { a if x == 1 => skip }
    each child { }
    u("s", 1, false) v()
    set $a = 1 let $b = "two" clear $a
}
type base_type = t("x", 2)
type a, b {}
symbol variable { t() }
"#;
    let (first, printed, second) = reprint("t.rules", text);
    assert_eq!(erased(&first), erased(&second), "printed:\n{printed}");
    assert_eq!(second.to_string(), printed);
}

#[test]
fn trees_no_text_parses_to_print_as_errors() {
    // `a - (b - c)`: expressions have no parentheses, and printing it as
    // `a - b - c` would change its meaning.
    let name = |s: &str| Name::new(s);
    let e = Expr::Sub(
        Box::new(Expr::Field(name("a"))),
        Box::new(Expr::Sub(
            Box::new(Expr::Field(name("b"))),
            Box::new(Expr::Field(name("c"))),
        )),
    );
    assert_eq!(e.to_string(), "a - (b - c)");
    let file = File {
        version: 1,
        version_pos: Pos::default(),
        statements: vec![Statement::Replace {
            when: Cond::Has(e),
            pos: Pos::default(),
        }],
    };
    assert!(parse("t.rules", &file.to_string()).is_err());

    let with = |statement| File {
        version: 1,
        version_pos: Pos::default(),
        statements: vec![statement],
    };
    let template = |piece| Statement::Template {
        name: name("t"),
        params: vec![],
        body: vec![piece],
    };
    let p = Pos::default();
    for bad in [
        with(Statement::Replace {
            when: Cond::And(vec![]),
            pos: p,
        }),
        with(template(Piece::If {
            arms: vec![],
            otherwise: vec![Piece::Text("x".to_string(), p)],
            pos: p,
        })),
        with(template(Piece::Children(
            vec![Arm {
                tags: Some(vec![]),
                when: None,
                action: Action::Skip,
                pos: p,
            }],
            p,
        ))),
        with(Statement::Kabi {
            kind: name("declonly"),
            target: "s".to_string(),
            args: vec![Literal::Bool(true)],
        }),
    ] {
        let text = bad.to_string();
        assert!(parse("t.rules", &text).is_err(), "parsed:\n{text}");
    }
    // A one-element list means its element, and is printed as it.
    let one = Cond::Or(vec![Cond::Stable(p)]);
    assert_eq!(one.to_string(), "stable");
}

// --------------------------------------------------------- random trees

/// Every keyword of the grammar: the `kwa_` rules and the `any_keyword`
/// list of `rules.pest` (`type` is a statement keyword but not in that
/// list, so `type` can be a field).
fn keywords() -> &'static BTreeSet<String> {
    static KEYWORDS: OnceLock<BTreeSet<String>> = OnceLock::new();
    KEYWORDS.get_or_init(|| {
        let pest = include_str!("../src/rules.pest");
        let mut set = BTreeSet::new();
        for line in pest.lines() {
            if let Some(rest) = line.strip_prefix("kwa_") {
                let name = rest.split_whitespace().next().unwrap_or_default();
                set.insert(name.to_string());
            }
            if let Some(rest) = line.strip_prefix("any_keyword") {
                set.extend(rest.split('"').skip(1).step_by(2).map(str::to_string));
            }
        }
        set
    })
}

#[test]
fn keyword_list_is_read_from_the_grammar() {
    let k = keywords();
    for w in [
        "if", "type", "children", "child", "expanded", "strings", "let",
    ] {
        assert!(k.contains(w), "{w} missing from {k:?}");
    }
    assert!(!k.contains("ident_char") && !k.contains("fqn"), "{k:?}");
}

/// An identifier that is no keyword: a random one, or one that starts
/// like a keyword (`notable`, `if_`, `typedef`, `exp`), to test that
/// keywords are whole words.
fn ident() -> impl Strategy<Value = String> + Clone {
    let near_keyword =
        (keyword(), "[A-Za-z0-9_]{0,2}", any::<bool>()).prop_map(|(k, tail, cut)| {
            if cut {
                k[..k.len() - 1].to_string()
            } else {
                k + &tail
            }
        });
    prop_oneof![3 => "[A-Za-z_][A-Za-z0-9_]{0,6}", 1 => near_keyword]
        .prop_filter("a keyword", |s| !s.is_empty() && !keywords().contains(s))
}

/// A keyword, where the grammar takes any identifier (after `$`, after a
/// field's first `.`).
fn keyword() -> impl Strategy<Value = String> + Clone {
    prop::sample::select(keywords().iter().cloned().collect::<Vec<_>>())
}

fn name() -> impl Strategy<Value = Name> + Clone {
    ident().prop_map(Name::new)
}

fn names(max: usize) -> impl Strategy<Value = Vec<Name>> + Clone {
    prop::collection::vec(name(), 1..=max)
}

/// `f`, `type`, `a.b.c`, `type.if`.
fn field() -> impl Strategy<Value = Name> + Clone {
    let first = prop_oneof![4 => ident(), 1 => Just("type".to_string())];
    let rest = prop_oneof![3 => ident(), 1 => keyword()];
    (first, prop::collection::vec(rest, 0..3)).prop_map(|(f, rest)| {
        let mut s = f;
        for r in rest {
            s.push('.');
            s.push_str(&r);
        }
        Name::new(s)
    })
}

/// `$v`: the parser keeps the `$` in the name.
fn var() -> impl Strategy<Value = Name> + Clone {
    prop_oneof![4 => ident(), 1 => keyword()].prop_map(|v| Name::new(format!("${v}")))
}

/// Text with every character that needs escaping, and some that look
/// like syntax.
fn text() -> impl Strategy<Value = String> + Clone {
    let chars = prop::sample::select(vec![
        'a', 'Z', ' ', '"', '\\', '\n', '\t', '\r', '#', '{', '}', '(', '*', '$', 'é', '‿', 'n',
        't',
    ]);
    prop::collection::vec(chars, 0..7).prop_map(|cs| cs.into_iter().collect())
}

fn literal() -> impl Strategy<Value = Literal> + Clone {
    prop_oneof![
        text().prop_map(Literal::Str),
        any::<u64>().prop_map(Literal::Int),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn call() -> impl Strategy<Value = Call> + Clone {
    (name(), prop::collection::vec(literal(), 0..3)).prop_map(|(name, args)| Call { name, args })
}

/// `t (+|- t)*`, folded to the left as the parser does.
fn sum(term: impl Strategy<Value = Expr> + Clone) -> impl Strategy<Value = Expr> + Clone {
    (
        term.clone(),
        prop::collection::vec((any::<bool>(), term), 0..3),
    )
        .prop_map(|(first, rest)| {
            rest.into_iter().fold(first, |acc, (add, t)| {
                if add {
                    Expr::Add(Box::new(acc), Box::new(t))
                } else {
                    Expr::Sub(Box::new(acc), Box::new(t))
                }
            })
        })
}

fn expr() -> impl Strategy<Value = Expr> + Clone {
    let leaf = prop_oneof![
        any::<u64>().prop_map(|n| Expr::Int(n, Pos::default())),
        text().prop_map(|s| Expr::Str(s, Pos::default())),
        field().prop_map(Expr::Field),
        var().prop_map(Expr::Var),
    ];
    let term = leaf.prop_recursive(2, 8, 3, |term| {
        (name(), prop::collection::vec(sum(term), 0..3)).prop_map(|(n, args)| Expr::Func(n, args))
    });
    sum(term)
}

fn cmp_op() -> impl Strategy<Value = CmpOp> + Clone {
    prop::sample::select(vec![CmpOp::Eq, CmpOp::Ne, CmpOp::Match, CmpOp::NoMatch])
}

/// Any condition with `and`/`or` lists of two or more: nested lists,
/// negations of negations and so on are all written with parentheses.
fn cond() -> impl Strategy<Value = Cond> + Clone {
    let leaf = prop_oneof![
        expr().prop_map(Cond::Has),
        Just(Cond::Expanded(Pos::default())),
        Just(Cond::Stable(Pos::default())),
        (expr(), cmp_op(), expr()).prop_map(|(a, op, b)| Cond::Compare(a, op, b)),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Cond::And),
            prop::collection::vec(inner, 2..4).prop_map(Cond::Or),
        ]
    })
}

fn pattern() -> impl Strategy<Value = Option<Vec<Name>>> + Clone {
    prop_oneof![1 => Just(None), 3 => names(3).prop_map(Some)]
}

fn arm() -> impl Strategy<Value = Arm> + Clone {
    let action = prop_oneof![
        Just(Action::Describe),
        Just(Action::Skip),
        text().prop_map(|t| Action::Error(t.into())),
    ];
    (pattern(), prop::option::of(cond()), action).prop_map(|(tags, when, action)| Arm {
        tags,
        when,
        action,
        pos: Pos::default(),
    })
}

/// The arms `children(x)` parses to.
fn children_arms(tags: Option<Vec<Name>>) -> Vec<Arm> {
    let arm = |tags, action| Arm {
        tags,
        when: None,
        action,
        pos: Pos::default(),
    };
    vec![arm(tags, Action::Describe), arm(None, Action::Skip)]
}

fn piece() -> impl Strategy<Value = Piece> + Clone {
    let p = Pos::default();
    let brk = prop::sample::select(vec![Break::Newline, Break::Indent, Break::Dedent]);
    let leaf = prop_oneof![
        3 => text().prop_map(move |s| Piece::Text(s, p)),
        3 => field().prop_map(Piece::Field),
        1 => expr().prop_map(move |e| Piece::Value(e, p)),
        1 => name().prop_map(Piece::Attr),
        2 => brk.prop_map(move |b| Piece::Break(b, p)),
        1 => call().prop_map(Piece::Call),
        1 => (var(), expr()).prop_map(|(v, e)| Piece::SetVar(v, e)),
        1 => (var(), expr()).prop_map(|(v, e)| Piece::LetVar(v, e)),
        1 => var().prop_map(Piece::ClearVar),
        1 => pattern().prop_map(move |t| Piece::Children(children_arms(t), p)),
        1 => prop::collection::vec(arm(), 0..4).prop_map(move |a| Piece::Children(a, p)),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        let block = prop::collection::vec(inner, 0..4);
        prop_oneof![
            (
                prop::collection::vec((cond(), block.clone()), 1..3),
                block.clone()
            )
                .prop_map(move |(arms, otherwise)| Piece::If {
                    arms,
                    otherwise,
                    pos: p,
                }),
            block.prop_map(move |b| Piece::Separator(b, p)),
        ]
    })
}

fn block() -> impl Strategy<Value = Vec<Piece>> + Clone {
    prop::collection::vec(piece(), 0..5)
}

fn body() -> impl Strategy<Value = Body> + Clone {
    prop_oneof![block().prop_map(Body::Block), call().prop_map(Body::Call)]
}

fn statement() -> impl Strategy<Value = Statement> {
    let p = Pos::default();
    let kabi_arg = prop_oneof![
        text().prop_map(Literal::Str),
        any::<u64>().prop_map(Literal::Int),
    ];
    prop_oneof![
        text().prop_map(move |path| Statement::Include { path, pos: p }),
        (name(), literal()).prop_map(|(name, value)| Statement::Set { name, value }),
        (names(3), text()).prop_map(|(tags, prefix)| Statement::Reference { tags, prefix }),
        (names(3), prop::option::of(cond()))
            .prop_map(|(tags, when)| Statement::Expand { tags, when }),
        cond().prop_map(move |when| Statement::Replace { when, pos: p }),
        (name(), text(), prop::collection::vec(kabi_arg, 0..3))
            .prop_map(|(kind, target, args)| Statement::Kabi { kind, target, args }),
        (name(), prop::collection::vec(name(), 0..3), block())
            .prop_map(|(name, params, body)| Statement::Template { name, params, body }),
        (names(3), body()).prop_map(|(tags, body)| Statement::Type { tags, body }),
        (name(), body()).prop_map(|(kind, body)| Statement::Symbol { kind, body }),
        (
            names(3),
            prop::collection::vec(name(), 0..3),
            prop::option::of(glob()),
            prop::option::of(cond())
        )
            .prop_map(|(attrs, from, within, when)| Statement::Drop {
                attrs,
                from,
                within,
                when
            }),
        (
            prop::collection::vec(glob(), 1..3),
            prop::option::of(cond())
        )
            .prop_map(|(globs, when)| Statement::Opaque { globs, when }),
        (
            name(),
            glob(),
            prop::option::of(glob()),
            prop::option::of(cond())
        )
            .prop_map(|(kind, glob, within, when)| Statement::Omit {
                kind,
                glob,
                within,
                when
            }),
    ]
}

/// A glob as the tree holds it: a string, as a name.
fn glob() -> impl Strategy<Value = Name> + Clone {
    text().prop_map(Name::new)
}

fn file() -> impl Strategy<Value = File> {
    (any::<u32>(), prop::collection::vec(statement(), 0..6)).prop_map(|(version, statements)| {
        File {
            version,
            version_pos: Pos::default(),
            statements,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Failing cases are printed; no regression files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_trees_print_and_parse_back(file in file()) {
        let text = file.to_string();
        let parsed = parse("random.rules", &text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&erased(&parsed), &file, "printed:\n{}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }
}
