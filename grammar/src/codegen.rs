//! Compiled rules as Rust source, so that a build script can embed the
//! default rules already compiled: a run with the embedded default then
//! parses nothing and builds nothing (the kbuild case: thousands of runs
//! on small objects).
//!
//! [`rust_expr`] writes one constant Rust expression that evaluates to the
//! same [`Rules`] value, fit to initialise a `static`: every list, text
//! and node is borrowed (`Cow::Borrowed(&[...])`, [`Node::Static`]), so
//! the rules are data in the program's read-only memory, used in place. It
//! names items through `::ksymrules_grammar`, so it compiles in any crate
//! that depends on this one. The matches below are exhaustive on purpose:
//! a new variant in [`crate::model`] does not build until it can be
//! written here.

use crate::ast::{Action, Pos};
use crate::model::*;
use crate::names::AttrClass;
use gimli::{DwAt, DwTag};
use std::borrow::Cow;
use std::fmt::Write;

/// A constant Rust expression of `rules`, for a `static`.
pub fn rust_expr(rules: &Rules) -> String {
    let mut out = String::new();
    rules.rust(&mut out);
    out
}

const M: &str = "::ksymrules_grammar::model::";

trait Rust {
    fn rust(&self, out: &mut String);
}

impl Rust for Cow<'static, str> {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "::std::borrow::Cow::Borrowed({:?})", &**self);
    }
}

impl Rust for bool {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Rust for u64 {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "{self}u64");
    }
}

impl Rust for i8 {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "{self}i8");
    }
}

impl Rust for DwTag {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "::ksymrules_grammar::gimli::DwTag({:#x})", self.0);
    }
}

impl Rust for DwAt {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "::ksymrules_grammar::gimli::DwAt({:#x})", self.0);
    }
}

/// `&[a, b, ...]`.
fn slice<T: Rust>(items: &[T], out: &mut String) {
    out.push_str("&[");
    for v in items {
        v.rust(out);
        out.push(',');
    }
    out.push(']');
}

impl<T: Rust + Clone> Rust for Cow<'static, [T]> {
    fn rust(&self, out: &mut String) {
        out.push_str("::std::borrow::Cow::Borrowed(");
        slice(self, out);
        out.push(')');
    }
}

impl<T: Rust> Rust for Option<T> {
    fn rust(&self, out: &mut String) {
        match self {
            None => out.push_str("None"),
            Some(v) => {
                out.push_str("Some(");
                v.rust(out);
                out.push(')');
            }
        }
    }
}

impl<T: Rust> Rust for Node<T> {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "{M}Node::Static(&");
        (**self).rust(out);
        out.push(')');
    }
}

impl<V: Rust + Clone> Rust for TagMap<V> {
    fn rust(&self, out: &mut String) {
        let _ = write!(out, "{M}TagMap{{entries: ::std::borrow::Cow::Borrowed(");
        slice(self.as_slice(), out);
        out.push_str(")}");
    }
}

/// Writes `Path(a, b, ...)`.
fn call(out: &mut String, path: &str, args: &[&dyn Rust]) {
    out.push_str(path);
    out.push('(');
    for a in args {
        a.rust(out);
        out.push(',');
    }
    out.push(')');
}

/// Writes `Path { name: value, ... }`.
fn record(out: &mut String, path: &str, fields: &[(&str, &dyn Rust)]) {
    out.push_str(path);
    out.push('{');
    for (name, value) in fields {
        out.push_str(name);
        out.push_str(": ");
        value.rust(out);
        out.push(',');
    }
    out.push('}');
}

impl Rust for Rules {
    fn rust(&self, out: &mut String) {
        let Rules {
            files,
            settings,
            references,
            expand_tags,
            expand_when,
            types,
            subprogram,
            variable,
            replace_when,
            kabi,
            kabi_origins,
            tunings,
            specialized,
        } = self;
        record(
            out,
            &format!("{M}Rules"),
            &[
                ("files", files),
                ("settings", settings),
                ("references", references),
                ("expand_tags", expand_tags),
                ("expand_when", expand_when),
                ("types", types),
                ("subprogram", subprogram),
                ("variable", variable),
                ("replace_when", replace_when),
                ("kabi", kabi),
                ("kabi_origins", kabi_origins),
                ("tunings", tunings),
                ("specialized", specialized),
            ],
        );
    }
}

impl Rust for Settings {
    fn rust(&self, out: &mut String) {
        let Settings {
            symbol_pointer_prefix,
            follow_type_units,
            reference_quote,
        } = self;
        record(
            out,
            &format!("{M}Settings"),
            &[
                ("symbol_pointer_prefix", symbol_pointer_prefix),
                ("follow_type_units", follow_type_units),
                ("reference_quote", reference_quote),
            ],
        );
    }
}

impl Rust for Template {
    fn rust(&self, out: &mut String) {
        let Template { ops, origin } = self;
        record(
            out,
            &format!("{M}Template"),
            &[("ops", ops), ("origin", origin)],
        );
    }
}

impl Rust for Origin {
    fn rust(&self, out: &mut String) {
        let Origin { file, pos } = self;
        let _ = write!(out, "{M}Origin{{file: {file}u16, pos: ");
        pos.rust(out);
        out.push('}');
    }
}

impl Rust for Pos {
    fn rust(&self, out: &mut String) {
        let Pos { line, col } = self;
        let _ = write!(
            out,
            "::ksymrules_grammar::ast::Pos{{line:{line},col:{col}}}"
        );
    }
}

impl Rust for Op {
    fn rust(&self, out: &mut String) {
        let op = |v: &str| format!("{M}Op::{v}");
        match self {
            Op::Text(t, o) => call(out, &op("Text"), &[t, o]),
            Op::Field(f, o) => call(out, &op("Field"), &[f, o]),
            Op::Value(e, o) => call(out, &op("Value"), &[e, o]),
            Op::Break(d) => call(out, &op("Break"), &[d]),
            Op::If(arms, otherwise) => call(out, &op("If"), &[arms, otherwise]),
            Op::Separator(ops) => call(out, &op("Separator"), &[ops]),
            Op::Children(arms) => call(out, &op("Children"), &[arms]),
            Op::SetVar(v, e) => call(out, &op("SetVar"), &[v, e]),
            Op::LetVar(v, e) => call(out, &op("LetVar"), &[v, e]),
            Op::ClearVar(v) => call(out, &op("ClearVar"), &[v]),
        }
    }
}

impl<A: Rust, B: Rust> Rust for (A, B) {
    fn rust(&self, out: &mut String) {
        out.push('(');
        self.0.rust(out);
        out.push(',');
        self.1.rust(out);
        out.push(')');
    }
}

impl Rust for ChildArm {
    fn rust(&self, out: &mut String) {
        let ChildArm { tags, when, action } = self;
        record(
            out,
            &format!("{M}ChildArm"),
            &[("tags", tags), ("when", when), ("action", action)],
        );
    }
}

impl Rust for Action {
    fn rust(&self, out: &mut String) {
        const A: &str = "::ksymrules_grammar::ast::Action::";
        match self {
            Action::Describe => out.push_str(&format!("{A}Describe")),
            Action::Skip => out.push_str(&format!("{A}Skip")),
            Action::Error(m) => call(out, &format!("{A}Error"), &[m]),
        }
    }
}

impl Rust for Field {
    fn rust(&self, out: &mut String) {
        let f = |v: &str| format!("{M}Field::{v}");
        match self {
            Field::Fqn => out.push_str(&f("Fqn")),
            Field::Tag => out.push_str(&f("Tag")),
            Field::Attr(at, class) => call(out, &f("Attr"), &[at, class]),
            Field::KabiStatus => out.push_str(&f("KabiStatus")),
            Field::KabiPlaceholder => out.push_str(&f("KabiPlaceholder")),
            Field::KabiRenamed => out.push_str(&f("KabiRenamed")),
            Field::Via(at, field) => call(out, &f("Via"), &[at, field]),
            Field::Unit(u) => call(out, &f("Unit"), &[u]),
        }
    }
}

impl Rust for Tuning {
    fn rust(&self, out: &mut String) {
        let t = |v: &str| format!("{M}Tuning::{v}");
        match self {
            Tuning::Drop {
                attrs,
                from,
                within,
                when,
                origin,
            } => record(
                out,
                &t("Drop"),
                &[
                    ("attrs", attrs),
                    ("from", from),
                    ("within", within),
                    ("when", when),
                    ("origin", origin),
                ],
            ),
            Tuning::Opaque {
                globs,
                when,
                origin,
            } => record(
                out,
                &t("Opaque"),
                &[("globs", globs), ("when", when), ("origin", origin)],
            ),
            Tuning::Omit {
                tag,
                glob,
                within,
                when,
                origin,
            } => record(
                out,
                &t("Omit"),
                &[
                    ("tag", tag),
                    ("glob", glob),
                    ("within", within),
                    ("when", when),
                    ("origin", origin),
                ],
            ),
        }
    }
}

impl Rust for UnitField {
    fn rust(&self, out: &mut String) {
        let name = match self {
            UnitField::Language => "Language",
            UnitField::Producer => "Producer",
            UnitField::Name => "Name",
        };
        let _ = write!(out, "{M}UnitField::{name}");
    }
}

impl Rust for AttrClass {
    fn rust(&self, out: &mut String) {
        let name = match self {
            AttrClass::Constant => "Constant",
            AttrClass::String => "String",
            AttrClass::Reference => "Reference",
            AttrClass::Flag => "Flag",
            AttrClass::File => "File",
        };
        let _ = write!(out, "::ksymrules_grammar::names::AttrClass::{name}");
    }
}

impl Rust for Builtin {
    fn rust(&self, out: &mut String) {
        let name = match self {
            Builtin::KabiDeclonly => "KabiDeclonly",
            Builtin::KabiEnumeratorIgnored => "KabiEnumeratorIgnored",
            Builtin::KabiEnumeratorValue => "KabiEnumeratorValue",
            Builtin::KabiByteSize => "KabiByteSize",
        };
        let _ = write!(out, "{M}Builtin::{name}");
    }
}

impl Rust for KabiRule {
    fn rust(&self, out: &mut String) {
        let k = |v: &str| format!("{M}KabiRule::{v}");
        match self {
            KabiRule::Declonly(t) => call(out, &k("Declonly"), &[t]),
            KabiRule::EnumeratorIgnore(t, e) => call(out, &k("EnumeratorIgnore"), &[t, e]),
            KabiRule::EnumeratorValue(t, e, v) => call(out, &k("EnumeratorValue"), &[t, e, v]),
            KabiRule::ByteSize(t, v) => call(out, &k("ByteSize"), &[t, v]),
            KabiRule::TypeString(t, s) => call(out, &k("TypeString"), &[t, s]),
        }
    }
}

impl Rust for Expr {
    fn rust(&self, out: &mut String) {
        let e = |v: &str| format!("{M}Expr::{v}");
        match self {
            Expr::Int(v) => call(out, &e("Int"), &[v]),
            Expr::Str(s) => call(out, &e("Str"), &[s]),
            Expr::Field(f) => call(out, &e("Field"), &[f]),
            Expr::Var(v) => call(out, &e("Var"), &[v]),
            Expr::Func(b, args) => call(out, &e("Func"), &[b, args]),
            Expr::Add(a, b) => call(out, &e("Add"), &[a, b]),
            Expr::Sub(a, b) => call(out, &e("Sub"), &[a, b]),
        }
    }
}

impl Rust for Cond {
    fn rust(&self, out: &mut String) {
        let c = |v: &str| format!("{M}Cond::{v}");
        match self {
            Cond::Has(e) => call(out, &c("Has"), &[e]),
            Cond::Expanded => out.push_str(&c("Expanded")),
            Cond::Stable => out.push_str(&c("Stable")),
            Cond::Not(x) => call(out, &c("Not"), &[x]),
            Cond::And(xs) => call(out, &c("And"), &[xs]),
            Cond::Or(xs) => call(out, &c("Or"), &[xs]),
            Cond::Eq(a, b) => call(out, &c("Eq"), &[a, b]),
            Cond::Ne(a, b) => call(out, &c("Ne"), &[a, b]),
            Cond::Match(e, g) => call(out, &c("Match"), &[e, g]),
            Cond::NoMatch(e, g) => call(out, &c("NoMatch"), &[e, g]),
        }
    }
}

impl Rust for Glob {
    fn rust(&self, out: &mut String) {
        // Checked when the rules were compiled.
        const B: &str = "::std::borrow::Cow::Borrowed";
        let _ = write!(
            out,
            "{M}Glob{{pattern: {B}({:?}), how: {M}GlobMatch::",
            &*self.pattern
        );
        let _ = match self.embedded_shape() {
            GlobShape::Exact => write!(out, "Exact}}"),
            GlobShape::Prefix(p) => write!(out, "Prefix({B}({p:?}))}}"),
            GlobShape::Suffix(s) => write!(out, "Suffix({B}({s:?}))}}"),
            GlobShape::Other => write!(out, "Embedded}}"),
        };
    }
}
