//! From the syntax tree back to rules-language text.
//!
//! `Display` for [`File`] prints a tree as a rules file that
//! [`crate::parse::parse`] reads back as the same tree, positions aside:
//! a parsed tree remembers where each part was written, and the printed
//! text puts things elsewhere. [`erase_positions`] sets every [`Pos`] of a
//! tree to `Pos::default()`, so two trees are compared as
//!
//! ```
//! # use ksymrules_grammar::{parse::parse, print::erased};
//! let text = "ksymrules 1\ntype base_type { \"base_type\" qualified() }\n";
//! let tree = parse("a.rules", text).unwrap();
//! let again = parse("b.rules", &tree.to_string()).unwrap();
//! assert_eq!(erased(&tree), erased(&again));
//! ```
//!
//! The output is laid out for reading: one statement per line, blocks
//! indented by four spaces, runs of printing pieces kept on one line and
//! broken after `newline` and `indent` and before `dedent`, short `if`,
//! `separator` and `each child` pieces on one line.
//!
//! `children(x)` is parsed as two arms (describe `x`, then `* => skip`);
//! such a pair of arms is printed back as `children(x)`, any other arm list
//! as `each child { ... }`.
//!
//! Some trees can be built by hand that no text parses to, and these cannot
//! be printed faithfully. The printer then writes text that does not parse
//! rather than text that parses to a different tree, except where noted:
//!
//! - an `Expr::Add`/`Expr::Sub` whose right operand is itself a sum or a
//!   difference is printed with parentheses, which expressions do not
//!   have (a parse error);
//! - an empty `Cond::And`/`Cond::Or` is printed as `()` (a parse error); a
//!   one-element one is printed as its element, and parsed back as that
//!   element (a different tree with the same meaning);
//! - an `if` piece without arms is printed as `if () { ... }` (a parse
//!   error);
//! - an empty `children` tag list is printed as `children()`/`=>` without
//!   tags (a parse error);
//! - a Boolean argument of a `kabi` statement is printed as `true`/`false`
//!   (a parse error: `kabi` takes strings and numbers);
//! - names are printed as they are, and here the printer cannot help: a
//!   name that is not an identifier, or a field whose first part is a
//!   keyword, may not parse or may parse as something else
//!   (`Piece::Field` named `newline` is read back as the line break
//!   `newline`). Variable names include their `$`, as the parser gives
//!   them.

use crate::ast::*;
use std::fmt;

/// The width up to which pieces are kept on one line.
const WIDTH: usize = 80;
/// One level of indentation.
const INDENT: &str = "    ";

impl fmt::Display for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = Printer::default();
        p.file(self);
        f.write_str(&p.out)
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = Printer::default();
        p.statement(self);
        f.write_str(p.out.trim_end_matches('\n'))
    }
}

impl fmt::Display for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = Printer::default();
        p.pieces(std::slice::from_ref(self));
        f.write_str(p.out.trim_end_matches('\n'))
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cond(self))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&expr(self))
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&literal(self))
    }
}

/// `s` as a string literal: `"`, `\`, line feed and tab escaped (the only
/// escapes the language has; every other character stands for itself).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Str(s) => quote(s),
        Literal::Int(n) => n.to_string(),
        Literal::Bool(b) => b.to_string(),
    }
}

fn names(ns: &[Name]) -> String {
    let texts: Vec<&str> = ns.iter().map(|n| n.text.as_str()).collect();
    texts.join(", ")
}

fn call(c: &Call) -> String {
    let args: Vec<String> = c.args.iter().map(literal).collect();
    format!("{}({})", c.name.text, args.join(", "))
}

// ------------------------------------------------------------ expressions

fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

fn write_expr(out: &mut String, e: &Expr) {
    match e {
        Expr::Add(a, b) | Expr::Sub(a, b) => {
            // `+` and `-` are left-associative and there are no
            // parentheses: the right operand must be a term.
            write_expr(out, a);
            out.push_str(if matches!(e, Expr::Add(..)) {
                " + "
            } else {
                " - "
            });
            if matches!(**b, Expr::Add(..) | Expr::Sub(..)) {
                out.push('(');
                write_expr(out, b);
                out.push(')');
            } else {
                write_expr(out, b);
            }
        }
        Expr::Int(n, _) => out.push_str(&n.to_string()),
        Expr::Str(s, _) => out.push_str(&quote(s)),
        Expr::Field(n) | Expr::Var(n) => out.push_str(&n.text),
        Expr::Func(n, args) => {
            out.push_str(&n.text);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a);
            }
            out.push(')');
        }
    }
}

// ------------------------------------------------------------- conditions

/// Where a condition is printed, from loosest to tightest: what may stand
/// there without parentheses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    /// Anywhere a whole condition goes: an `or` list.
    Disj,
    /// An element of an `or` list: an `and` list (a nested `or` would join
    /// the outer list).
    Conj,
    /// An element of an `and` list or the operand of `not`: a negation or
    /// an atom.
    Neg,
}

fn cond(c: &Cond) -> String {
    let mut out = String::new();
    write_cond(&mut out, c, Level::Disj);
    out
}

fn write_cond(out: &mut String, c: &Cond, level: Level) {
    match c {
        Cond::Has(e) => {
            out.push_str("has(");
            write_expr(out, e);
            out.push(')');
        }
        Cond::Expanded(_) => out.push_str("expanded"),
        Cond::Stable(_) => out.push_str("stable"),
        Cond::Compare(a, op, b) => {
            write_expr(out, a);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_expr(out, b);
        }
        Cond::Not(inner) => {
            out.push_str("not ");
            write_cond(out, inner, Level::Neg);
        }
        Cond::And(parts) | Cond::Or(parts) => {
            let is_or = matches!(c, Cond::Or(_));
            match parts.len() {
                // Not expressible: no text parses to an empty list.
                0 => out.push_str("()"),
                // Not expressible either, but means its only element.
                1 => write_cond(out, &parts[0], level),
                _ => {
                    let (own, inner, word) = if is_or {
                        (Level::Disj, Level::Conj, " or ")
                    } else {
                        (Level::Conj, Level::Neg, " and ")
                    };
                    let paren = level > own;
                    if paren {
                        out.push('(');
                    }
                    for (i, p) in parts.iter().enumerate() {
                        if i > 0 {
                            out.push_str(word);
                        }
                        write_cond(out, p, inner);
                    }
                    if paren {
                        out.push(')');
                    }
                }
            }
        }
    }
}

// ----------------------------------------------------------------- pieces

/// The `children(x)` shorthand: the arms the parser makes of it.
fn children_shorthand(arms: &[Arm]) -> Option<String> {
    match arms {
        [first, rest]
            if first.when.is_none()
                && first.action == Action::Describe
                && rest.tags.is_none()
                && rest.when.is_none()
                && rest.action == Action::Skip =>
        {
            Some(format!("children({})", pattern(&first.tags)))
        }
        _ => None,
    }
}

fn pattern(tags: &Option<Vec<Name>>) -> String {
    match tags {
        None => "*".to_string(),
        Some(ts) => names(ts),
    }
}

fn arm(a: &Arm) -> String {
    let mut out = pattern(&a.tags);
    if let Some(c) = &a.when {
        out.push_str(" if ");
        out.push_str(&cond(c));
    }
    out.push_str(" => ");
    match &a.action {
        Action::Describe => out.push_str("describe"),
        Action::Skip => out.push_str("skip"),
        Action::Error(msg) => {
            out.push_str("error ");
            out.push_str(&quote(msg));
        }
    }
    out
}

/// The text of a piece that prints something and flows on a line with its
/// neighbours; `None` for pieces that take a line of their own.
fn flow(p: &Piece) -> Option<String> {
    Some(match p {
        Piece::Text(s, _) => quote(s),
        Piece::Field(n) => n.text.clone(),
        Piece::Value(e, _) => format!("value({})", expr(e)),
        Piece::Attr(n) => format!("attr({})", n.text),
        Piece::Break(b, _) => match b {
            Break::Newline => "newline",
            Break::Indent => "indent",
            Break::Dedent => "dedent",
        }
        .to_string(),
        Piece::Call(c) => call(c),
        Piece::Children(arms, _) => return children_shorthand(arms),
        _ => return None,
    })
}

/// A piece on one line: a printing piece, a variable piece, or an `if`,
/// `separator` or `each child` piece whose blocks are short.
fn one_line(p: &Piece) -> Option<String> {
    if let Some(s) = flow(p) {
        return Some(s);
    }
    Some(match p {
        Piece::SetVar(v, e) => format!("set {} = {}", v.text, expr(e)),
        Piece::LetVar(v, e) => format!("let {} = {}", v.text, expr(e)),
        Piece::ClearVar(v) => format!("clear {}", v.text),
        Piece::Separator(body, _) => format!("separator {}", compact_block(body)?),
        Piece::If {
            arms, otherwise, ..
        } => {
            if arms.is_empty() {
                return None;
            }
            let mut s = String::new();
            for (i, (c, body)) in arms.iter().enumerate() {
                if i > 0 {
                    s.push_str(" else ");
                }
                s.push_str("if ");
                s.push_str(&cond(c));
                s.push(' ');
                s.push_str(&compact_block(body)?);
            }
            if !otherwise.is_empty() {
                s.push_str(" else ");
                s.push_str(&compact_block(otherwise)?);
            }
            s
        }
        Piece::Children(arms, _) => match arms.as_slice() {
            [] => "each child {}".to_string(),
            [a] => format!("each child {{ {} }}", arm(a)),
            _ => return None,
        },
        _ => return None,
    })
}

/// A block on one line, `{ a b c }`, if it is short and its pieces all
/// print (or it has only one piece, with a one-line form).
fn compact_block(body: &[Piece]) -> Option<String> {
    if body.is_empty() {
        return Some("{}".to_string());
    }
    if body.len() > 1 && body.iter().any(|p| flow(p).is_none()) {
        return None;
    }
    let parts = body.iter().map(one_line).collect::<Option<Vec<_>>>()?;
    let s = format!("{{ {} }}", parts.join(" "));
    (s.len() <= WIDTH * 3 / 4).then_some(s)
}

// ---------------------------------------------------------------- printer

#[derive(Default)]
struct Printer {
    out: String,
    depth: usize,
}

impl Printer {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str(INDENT);
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn room(&self) -> usize {
        WIDTH.saturating_sub(self.depth * INDENT.len())
    }

    fn file(&mut self, file: &File) {
        self.line(&format!("ksymrules {}", file.version));
        let mut prev_block = true;
        for st in &file.statements {
            let block = has_block(st);
            if block || prev_block {
                self.out.push('\n');
            }
            self.statement(st);
            prev_block = block;
        }
    }

    fn statement(&mut self, st: &Statement) {
        match st {
            Statement::Include { path, .. } => self.line(&format!("include {}", quote(path))),
            Statement::Set { name, value } => {
                self.line(&format!("set {} = {}", name.text, literal(value)))
            }
            Statement::Reference { tags, prefix } => {
                self.line(&format!("reference {} as {}", names(tags), quote(prefix)))
            }
            Statement::Expand { tags, when } => {
                let head = format!("expand {}", names(tags));
                match when {
                    Some(c) => self.when(&head, c),
                    None => self.line(&head),
                }
            }
            Statement::Replace { when, .. } => self.when("replace strings", when),
            Statement::Kabi { kind, target, args } => {
                let mut s = format!("kabi {} {}", kind.text, quote(target));
                for a in args {
                    s.push(' ');
                    s.push_str(&literal(a));
                }
                self.line(&s)
            }
            Statement::Template { name, params, body } => {
                let head = format!("template {}({}) ", name.text, names(params));
                self.block(head, body);
            }
            Statement::Type { tags, body } => self.body(format!("type {}", names(tags)), body),
            Statement::Symbol { kind, body } => self.body(format!("symbol {}", kind.text), body),
            Statement::Drop {
                attrs,
                from,
                within,
                when,
            } => {
                let mut head = format!("drop {}", names(attrs));
                if !from.is_empty() {
                    head.push_str(&format!(" from {}", names(from)));
                }
                if let Some(g) = within {
                    head.push_str(&format!(" in {}", quote(&g.text)));
                }
                self.maybe_when(&head, when);
            }
            Statement::Opaque { globs, when } => {
                let list: Vec<String> = globs.iter().map(|g| quote(&g.text)).collect();
                self.maybe_when(&format!("opaque {}", list.join(", ")), when);
            }
            Statement::Omit {
                kind,
                glob,
                within,
                when,
            } => {
                let mut head = format!("omit {} {}", kind.text, quote(&glob.text));
                if let Some(g) = within {
                    head.push_str(&format!(" in {}", quote(&g.text)));
                }
                self.maybe_when(&head, when);
            }
        }
    }

    fn maybe_when(&mut self, head: &str, when: &Option<Cond>) {
        match when {
            Some(c) => self.when(head, c),
            None => self.line(head),
        }
    }

    /// `head when cond`, on one line when it fits, else with the condition
    /// on lines of its own, one line per element of a top-level `and` or
    /// `or`:
    ///
    /// ```text
    /// expand structure_type
    ///     when not has(declaration)
    ///      and not decl_file ~ "*.c"
    /// ```
    fn when(&mut self, head: &str, c: &Cond) {
        let one = format!("{head} when {}", cond(c));
        if one.len() <= self.room() {
            return self.line(&one);
        }
        self.line(head);
        match c {
            Cond::And(parts) | Cond::Or(parts) if parts.len() > 1 => {
                let (word, level) = if matches!(c, Cond::Or(_)) {
                    ("      or ", Level::Conj)
                } else {
                    ("     and ", Level::Neg)
                };
                for (i, part) in parts.iter().enumerate() {
                    let mut s = String::from(if i == 0 { "    when " } else { word });
                    write_cond(&mut s, part, level);
                    self.line(&s);
                }
            }
            _ => self.line(&format!("    when {}", cond(c))),
        }
    }

    fn body(&mut self, head: String, body: &Body) {
        match body {
            Body::Call(c) => self.line(&format!("{head} = {}", call(c))),
            Body::Block(pieces) => self.block(head + " ", pieces),
        }
    }

    /// `head {`, the pieces one level deeper, `}`; `head {}` when there are
    /// none.
    fn block(&mut self, head: String, body: &[Piece]) {
        if body.is_empty() {
            self.line(&format!("{head}{{}}"));
        } else {
            self.line(&format!("{head}{{"));
            self.depth += 1;
            self.pieces(body);
            self.depth -= 1;
            self.line("}");
        }
    }

    fn pieces(&mut self, pieces: &[Piece]) {
        let mut run: Vec<String> = Vec::new();
        let mut run_len = 0;
        for p in pieces {
            match flow(p) {
                Some(s) => {
                    let dedent = matches!(p, Piece::Break(Break::Dedent, _));
                    if !run.is_empty() && (dedent || run_len + 1 + s.len() > self.room()) {
                        self.flush(&mut run, &mut run_len);
                    }
                    run_len += s.len() + usize::from(!run.is_empty());
                    run.push(s);
                    if matches!(p, Piece::Break(Break::Newline | Break::Indent, _)) {
                        self.flush(&mut run, &mut run_len);
                    }
                }
                None => {
                    self.flush(&mut run, &mut run_len);
                    self.piece(p);
                }
            }
        }
        self.flush(&mut run, &mut run_len);
    }

    fn flush(&mut self, run: &mut Vec<String>, run_len: &mut usize) {
        if !run.is_empty() {
            self.line(&run.join(" "));
            run.clear();
            *run_len = 0;
        }
    }

    /// A piece that takes a line (or lines) of its own.
    fn piece(&mut self, p: &Piece) {
        let one = one_line(p);
        match (p, one) {
            (_, Some(s)) if s.len() <= self.room() => self.line(&s),
            (
                Piece::If {
                    arms, otherwise, ..
                },
                _,
            ) if arms.is_empty() => {
                // Not expressible: an `if` has at least one condition.
                self.block("if () ".to_string(), otherwise)
            }
            (
                Piece::If {
                    arms, otherwise, ..
                },
                _,
            ) => {
                let mut head = String::new();
                for (i, (c, body)) in arms.iter().enumerate() {
                    head.push_str("if ");
                    head.push_str(&cond(c));
                    head.push(' ');
                    let last = i + 1 == arms.len() && otherwise.is_empty();
                    head = self.open_block(head, body, last);
                    head.push_str(" else ");
                }
                if !otherwise.is_empty() {
                    self.open_block(head, otherwise, true);
                }
            }
            (Piece::Separator(body, _), _) => self.block("separator ".to_string(), body),
            (Piece::Children(arms, _), _) => {
                self.line("each child {");
                self.depth += 1;
                for a in arms {
                    self.line(&arm(a));
                }
                self.depth -= 1;
                self.line("}");
            }
            // The other pieces have no other form than their one line.
            (_, Some(s)) => self.line(&s),
            (_, None) => unreachable!("every other piece has a one-line form"),
        }
    }

    /// One block of an `if` chain: `head {` ... `}`, returning the closing
    /// `}` for the next part of the chain to continue, or printing it when
    /// `last`.
    fn open_block(&mut self, mut head: String, body: &[Piece], last: bool) -> String {
        if body.is_empty() {
            head.push_str("{}");
        } else {
            head.push('{');
            self.line(&head);
            self.depth += 1;
            self.pieces(body);
            self.depth -= 1;
            head = "}".to_string();
        }
        if last {
            self.line(&head);
            String::new()
        } else {
            head
        }
    }
}

fn has_block(st: &Statement) -> bool {
    match st {
        Statement::Template { .. } => true,
        Statement::Type { body, .. } | Statement::Symbol { body, .. } => {
            matches!(body, Body::Block(_))
        }
        _ => false,
    }
}

// -------------------------------------------------------------- positions

/// Sets every position in `file` to `Pos::default()`, so that trees parsed
/// from different texts can be compared with `==`.
pub fn erase_positions(file: &mut File) {
    file.version_pos = Pos::default();
    for st in &mut file.statements {
        erase_statement(st);
    }
}

/// A copy of `file` with its positions erased (see [`erase_positions`]).
pub fn erased(file: &File) -> File {
    let mut f = file.clone();
    erase_positions(&mut f);
    f
}

fn erase_name(n: &mut Name) {
    n.pos = Pos::default();
}

fn erase_names(ns: &mut [Name]) {
    ns.iter_mut().for_each(erase_name);
}

fn erase_call(c: &mut Call) {
    erase_name(&mut c.name);
}

fn erase_statement(st: &mut Statement) {
    match st {
        Statement::Include { pos, .. } => *pos = Pos::default(),
        Statement::Set { name, .. } => erase_name(name),
        Statement::Reference { tags, .. } => erase_names(tags),
        Statement::Expand { tags, when } => {
            erase_names(tags);
            if let Some(c) = when {
                erase_cond(c);
            }
        }
        Statement::Template { name, params, body } => {
            erase_name(name);
            erase_names(params);
            erase_pieces(body);
        }
        Statement::Type { tags, body } => {
            erase_names(tags);
            erase_body(body);
        }
        Statement::Symbol { kind, body } => {
            erase_name(kind);
            erase_body(body);
        }
        Statement::Replace { when, pos } => {
            erase_cond(when);
            *pos = Pos::default();
        }
        Statement::Kabi { kind, .. } => erase_name(kind),
        Statement::Drop {
            attrs,
            from,
            within,
            when,
        } => {
            erase_names(attrs);
            erase_names(from);
            if let Some(g) = within {
                erase_name(g);
            }
            if let Some(c) = when {
                erase_cond(c);
            }
        }
        Statement::Opaque { globs, when } => {
            erase_names(globs);
            if let Some(c) = when {
                erase_cond(c);
            }
        }
        Statement::Omit {
            kind,
            glob,
            within,
            when,
        } => {
            erase_name(kind);
            erase_name(glob);
            if let Some(g) = within {
                erase_name(g);
            }
            if let Some(c) = when {
                erase_cond(c);
            }
        }
    }
}

fn erase_body(body: &mut Body) {
    match body {
        Body::Block(pieces) => erase_pieces(pieces),
        Body::Call(c) => erase_call(c),
    }
}

fn erase_pieces(pieces: &mut [Piece]) {
    for p in pieces {
        match p {
            Piece::Text(_, pos) | Piece::Break(_, pos) => *pos = Pos::default(),
            Piece::Field(n) | Piece::Attr(n) | Piece::ClearVar(n) => erase_name(n),
            Piece::Value(e, pos) => {
                erase_expr(e);
                *pos = Pos::default();
            }
            Piece::If {
                arms,
                otherwise,
                pos,
            } => {
                for (c, body) in arms {
                    erase_cond(c);
                    erase_pieces(body);
                }
                erase_pieces(otherwise);
                *pos = Pos::default();
            }
            Piece::Separator(body, pos) => {
                erase_pieces(body);
                *pos = Pos::default();
            }
            Piece::Children(arms, pos) => {
                for a in arms {
                    if let Some(tags) = &mut a.tags {
                        erase_names(tags);
                    }
                    if let Some(c) = &mut a.when {
                        erase_cond(c);
                    }
                    a.pos = Pos::default();
                }
                *pos = Pos::default();
            }
            Piece::Call(c) => erase_call(c),
            Piece::SetVar(n, e) | Piece::LetVar(n, e) => {
                erase_name(n);
                erase_expr(e);
            }
        }
    }
}

fn erase_cond(c: &mut Cond) {
    match c {
        Cond::Has(e) => erase_expr(e),
        Cond::Expanded(pos) | Cond::Stable(pos) => *pos = Pos::default(),
        Cond::Not(inner) => erase_cond(inner),
        Cond::And(parts) | Cond::Or(parts) => parts.iter_mut().for_each(erase_cond),
        Cond::Compare(a, _, b) => {
            erase_expr(a);
            erase_expr(b);
        }
    }
}

fn erase_expr(e: &mut Expr) {
    match e {
        Expr::Int(_, pos) | Expr::Str(_, pos) => *pos = Pos::default(),
        Expr::Field(n) | Expr::Var(n) => erase_name(n),
        Expr::Func(n, args) => {
            erase_name(n);
            args.iter_mut().for_each(erase_expr);
        }
        Expr::Add(a, b) | Expr::Sub(a, b) => {
            erase_expr(a);
            erase_expr(b);
        }
    }
}
