//! From rules-file text to the syntax tree, with the pest grammar in
//! `rules.pest`.

use crate::ast::*;
use crate::RulesError;
use pest::iterators::Pair;
use pest::Parser;

#[derive(pest_derive::Parser)]
#[grammar = "rules.pest"]
struct RulesParser;

/// Parses one rules file. `file` names it in error messages.
pub fn parse(file: &str, text: &str) -> Result<File, RulesError> {
    check_nesting(file, text)?;
    let mut pairs =
        RulesParser::parse(Rule::file, text).map_err(|e| syntax_error(file, text, e))?;
    let top = pairs.next().expect("the file rule always yields one pair");
    let mut inner = top.into_inner();
    let header = inner.next().expect("a file starts with its header");
    let version_pair = header.into_inner().next().expect("the header has a number");
    let version_pos = pos(&version_pair);
    let version = parse_int(file, &version_pair)?;
    let version = u32::try_from(version)
        .map_err(|_| RulesError::at(file, version_pos, "version number too large"))?;
    let mut statements = Vec::new();
    for pair in inner {
        if pair.as_rule() == Rule::EOI {
            break;
        }
        statements.push(statement(file, pair)?);
    }
    Ok(File {
        version,
        version_pos,
        statements,
    })
}

/// Deepest nesting of parentheses and braces a rules file may use. The
/// parser recurses on nesting; real rules stay far below this.
pub const MAX_NESTING: usize = 128;

/// Refuses text nested deeper than [`MAX_NESTING`] before the recursive
/// parser sees it (strings and comments aside).
fn check_nesting(file: &str, text: &str) -> Result<(), RulesError> {
    let mut depth = 0usize;
    for b in brackets(text) {
        if b.opens {
            depth += 1;
            if depth > MAX_NESTING {
                return Err(RulesError {
                    file: file.to_string(),
                    line: b.line,
                    col: b.col,
                    message: format!("nested more than {MAX_NESTING} deep"),
                    ..RulesError::default()
                });
            }
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    Ok(())
}

/// A bracket of a rules file: `(`, `{`, `)` or `}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bracket {
    pub c: char,
    pub opens: bool,
    /// Where it is: byte offset, line and column (1-based).
    pub offset: usize,
    pub line: u32,
    pub col: u32,
}

/// The brackets of `text` outside strings and comments, in order.
pub(crate) fn brackets(text: &str) -> impl Iterator<Item = Bracket> + '_ {
    let (mut line, mut col) = (1u32, 0u32);
    let (mut in_string, mut in_comment, mut escaped) = (false, false, false);
    text.char_indices().filter_map(move |(offset, c)| {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
            in_comment = false;
            in_string = false;
            return None;
        }
        if in_comment {
            return None;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            return None;
        }
        match c {
            '#' => in_comment = true,
            '"' => in_string = true,
            '(' | '{' | ')' | '}' => {
                return Some(Bracket {
                    c,
                    opens: c == '(' || c == '{',
                    offset,
                    line,
                    col,
                })
            }
            _ => {}
        }
        None
    })
}

fn syntax_error(file: &str, text: &str, e: pest::error::Error<Rule>) -> RulesError {
    let (line, col) = match e.line_col {
        pest::error::LineColLocation::Pos(p) => p,
        pest::error::LineColLocation::Span(p, _) => p,
    };
    let offset = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((p, _)) => p,
    };
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| describe_rule(*r)).collect();
            names.sort_unstable();
            names.dedup();
            match names.len() {
                0 => "syntax error".to_string(),
                1 => format!("expected {}", names[0]),
                _ => {
                    let last = names.pop().unwrap_or_default();
                    format!("expected {} or {}", names.join(", "), last)
                }
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let mut err = RulesError {
        file: file.to_string(),
        line: line as u32,
        col: col as u32,
        message,
        ..RulesError::default()
    };
    // A bracket left open before the error is the likeliest cause: a `(`
    // (a condition or an argument list never spans more), or anything
    // still open at the end of the file.
    if let Some((open, l, c)) = crate::diagnostic::unclosed(text, offset) {
        let close = if open == '(' { ')' } else { '}' };
        let at_end = text[offset..].trim().is_empty();
        if (open == '(' || at_end) && !text[offset..].starts_with(close) {
            err.related = Some((l, c, format!("this `{open}` is not closed")));
            err.hint = Some(format!(
                "expected `{close}` to close the `{open}` at {l}:{c}"
            ));
        }
    }
    err
}

/// What a grammar rule is called in an error message (None: not worth naming).
fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::header | Rule::kwa_ksymrules => "the header `ksymrules 1`",
        Rule::kwa_include
        | Rule::kwa_set
        | Rule::kwa_reference
        | Rule::kwa_expand
        | Rule::kwa_template
        | Rule::kwa_type
        | Rule::kwa_symbol
        | Rule::kwa_replace
        | Rule::kwa_kabi => {
            "a statement (include, set, reference, expand, replace, kabi, template, type, symbol)"
        }
        Rule::kwa_as => "`as`",
        Rule::kwa_when => "`when`",
        Rule::kwa_else => "`else`",
        Rule::kwa_newline
        | Rule::kwa_indent
        | Rule::kwa_dedent
        | Rule::kwa_if
        | Rule::kwa_separator
        | Rule::kwa_children
        | Rule::kwa_each
        | Rule::kwa_attr
        | Rule::kwa_value => "a piece or `}`",
        Rule::kwa_not | Rule::kwa_has | Rule::kwa_expanded | Rule::kwa_stable => "a condition",
        Rule::kwa_describe | Rule::kwa_skip | Rule::kwa_error => {
            "`describe`, `skip` or `error \"...\"`"
        }
        Rule::EOI => "end of file",
        Rule::statement
        | Rule::include
        | Rule::setting
        | Rule::reference
        | Rule::expand
        | Rule::template_def
        | Rule::type_def
        | Rule::symbol_def
        | Rule::replace
        | Rule::kabi => {
            "a statement (include, set, reference, expand, replace, kabi, template, type, symbol)"
        }
        Rule::int => "a number",
        Rule::string => "a string",
        Rule::ident | Rule::tag_list | Rule::field => "a name",
        Rule::block => "`{`",
        Rule::body => "`{` or `=`",
        Rule::piece
        | Rule::brk
        | Rule::if_piece
        | Rule::separator
        | Rule::children
        | Rule::each_child
        | Rule::attr_piece
        | Rule::value_piece
        | Rule::call => "a piece or `}`",
        Rule::arm | Rule::child_pattern | Rule::star => "a child pattern (tags or `*`)",
        Rule::action | Rule::describe | Rule::skip | Rule::error_action => {
            "`describe`, `skip` or `error \"...\"`"
        }
        Rule::cond | Rule::disj | Rule::conj | Rule::negation | Rule::has | Rule::compare => {
            "a condition"
        }
        Rule::cmp_op => "a comparison (==, !=, ~, !~)",
        Rule::expr => "an expression",
        Rule::params => "a parameter name",
        Rule::boolean => "true or false",
        _ => return None,
    })
}

fn pos(pair: &Pair<Rule>) -> Pos {
    let span = pair.as_span();
    line_col(span.get_input(), span.start())
}

/// The line and column (from 1, columns in characters) of byte `at` of
/// `input`. pest counts from the start of the input at every call; the
/// line starts are found once per input instead (per thread).
fn line_col(input: &str, at: usize) -> Pos {
    thread_local! {
        static LINES: std::cell::RefCell<(usize, usize, Vec<usize>)> =
            const { std::cell::RefCell::new((0, 0, Vec::new())) };
    }
    LINES.with(|lines| {
        let mut lines = lines.borrow_mut();
        let key = (input.as_ptr() as usize, input.len());
        if (lines.0, lines.1) != key {
            let starts = std::iter::once(0)
                .chain(input.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            *lines = (key.0, key.1, starts);
        }
        let line = lines.2.partition_point(|&s| s <= at);
        let start = lines.2[line - 1];
        let col = input[start..at].chars().count() + 1;
        Pos {
            line: line as u32,
            col: col as u32,
        }
    })
}

fn name(pair: Pair<Rule>) -> Name {
    Name {
        pos: pos(&pair),
        text: pair.as_str().to_string(),
    }
}

fn parse_int(file: &str, pair: &Pair<Rule>) -> Result<u64, RulesError> {
    pair.as_str()
        .parse::<u64>()
        .map_err(|_| RulesError::at(file, pos(pair), "number does not fit in 64 bits"))
}

fn string(pair: Pair<Rule>) -> String {
    let inner = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn literal(file: &str, pair: Pair<Rule>) -> Result<Literal, RulesError> {
    Ok(match pair.as_rule() {
        Rule::string => Literal::Str(string(pair)),
        Rule::int => Literal::Int(parse_int(file, &pair)?),
        Rule::boolean => Literal::Bool(pair.as_str() == "true"),
        r => unreachable!("not a literal: {r:?}"),
    })
}

fn tag_list(pair: Pair<Rule>) -> Vec<Name> {
    pair.into_inner().map(name).collect()
}

fn statement(file: &str, pair: Pair<Rule>) -> Result<Statement, RulesError> {
    let p = pos(&pair);
    let rule = pair.as_rule();
    let mut inner = pair.into_inner();
    let mut next = || inner.next().expect("grammar guarantees this part");
    Ok(match rule {
        Rule::include => Statement::Include {
            path: string(next()),
            pos: p,
        },
        Rule::setting => {
            let n = name(next());
            let value = literal(file, next())?;
            Statement::Set { name: n, value }
        }
        Rule::reference => {
            let tags = tag_list(next());
            let prefix = string(next());
            Statement::Reference { tags, prefix }
        }
        Rule::expand => {
            let tags = tag_list(next());
            let when = inner.next().map(|c| cond(file, c)).transpose()?;
            Statement::Expand { tags, when }
        }
        Rule::template_def => {
            let n = name(next());
            let mut params = Vec::new();
            let mut body = Vec::new();
            for part in inner {
                match part.as_rule() {
                    Rule::params => params = part.into_inner().map(name).collect(),
                    Rule::block => body = block(file, part)?,
                    r => unreachable!("template part {r:?}"),
                }
            }
            Statement::Template {
                name: n,
                params,
                body,
            }
        }
        Rule::type_def => {
            let tags = tag_list(next());
            let body = body(file, next())?;
            Statement::Type { tags, body }
        }
        Rule::symbol_def => {
            let kind = name(next());
            let body = body(file, next())?;
            Statement::Symbol { kind, body }
        }
        Rule::replace => Statement::Replace {
            when: cond(file, next())?,
            pos: p,
        },
        Rule::kabi => {
            let kind = name(next());
            let target = string(next());
            let args = inner.map(|a| literal(file, a)).collect::<Result<_, _>>()?;
            Statement::Kabi { kind, target, args }
        }
        Rule::drop => {
            let attrs = tag_list(next());
            let (mut from, mut within, mut when) = (Vec::new(), None, None);
            for part in inner {
                match part.as_rule() {
                    Rule::from_tags => from = tag_list(part.into_inner().next().expect("tags")),
                    Rule::within => within = Some(glob(part.into_inner().next().expect("glob"))),
                    Rule::when_clause => when = Some(when_clause(file, part)?),
                    r => unreachable!("drop part {r:?}"),
                }
            }
            Statement::Drop {
                attrs,
                from,
                within,
                when,
            }
        }
        Rule::opaque => {
            let (mut globs, mut when) = (Vec::new(), None);
            for part in inner {
                match part.as_rule() {
                    Rule::glob => globs.push(glob(part)),
                    Rule::when_clause => when = Some(when_clause(file, part)?),
                    r => unreachable!("opaque part {r:?}"),
                }
            }
            Statement::Opaque { globs, when }
        }
        Rule::omit => {
            let kind = name(next());
            let g = glob(next());
            let (mut within, mut when) = (None, None);
            for part in inner {
                match part.as_rule() {
                    Rule::within => within = Some(glob(part.into_inner().next().expect("glob"))),
                    Rule::when_clause => when = Some(when_clause(file, part)?),
                    r => unreachable!("omit part {r:?}"),
                }
            }
            Statement::Omit {
                kind,
                glob: g,
                within,
                when,
            }
        }
        r => unreachable!("not a statement: {r:?}"),
    })
}

/// A glob, as a name: its text and where it is.
fn glob(pair: Pair<Rule>) -> Name {
    let p = pos(&pair);
    let inner = pair.into_inner().next().expect("a glob is a string");
    Name {
        text: string(inner),
        pos: p,
    }
}

fn when_clause(file: &str, pair: Pair<Rule>) -> Result<Cond, RulesError> {
    cond(
        file,
        pair.into_inner().next().expect("when has a condition"),
    )
}

fn body(file: &str, pair: Pair<Rule>) -> Result<Body, RulesError> {
    let inner = pair.into_inner().next().expect("a body has one part");
    Ok(match inner.as_rule() {
        Rule::block => Body::Block(block(file, inner)?),
        Rule::call => Body::Call(call(file, inner)?),
        r => unreachable!("body part {r:?}"),
    })
}

fn call(file: &str, pair: Pair<Rule>) -> Result<Call, RulesError> {
    let mut inner = pair.into_inner();
    let n = name(inner.next().expect("a call has a name"));
    let args = inner.map(|a| literal(file, a)).collect::<Result<_, _>>()?;
    Ok(Call { name: n, args })
}

fn block(file: &str, pair: Pair<Rule>) -> Result<Vec<Piece>, RulesError> {
    pair.into_inner().map(|p| piece(file, p)).collect()
}

fn piece(file: &str, pair: Pair<Rule>) -> Result<Piece, RulesError> {
    let p = pos(&pair);
    Ok(match pair.as_rule() {
        Rule::string => Piece::Text(string(pair), p),
        Rule::brk => {
            let kind = match pair.as_str() {
                "indent" => Break::Indent,
                "dedent" => Break::Dedent,
                _ => Break::Newline,
            };
            Piece::Break(kind, p)
        }
        Rule::if_piece => {
            let mut arms = Vec::new();
            let mut otherwise = Vec::new();
            let mut pending: Option<Cond> = None;
            for part in pair.into_inner() {
                match part.as_rule() {
                    Rule::cond => pending = Some(cond(file, part)?),
                    Rule::block => {
                        let pieces = block(file, part)?;
                        match pending.take() {
                            Some(c) => arms.push((c, pieces)),
                            None => otherwise = pieces,
                        }
                    }
                    r => unreachable!("if part {r:?}"),
                }
            }
            Piece::If {
                arms,
                otherwise,
                pos: p,
            }
        }
        Rule::separator => {
            let b = pair.into_inner().next().expect("separator block");
            Piece::Separator(block(file, b)?, p)
        }
        Rule::children => {
            let pattern = pair.into_inner().next().expect("children pattern");
            let arm = Arm {
                tags: child_pattern(pattern),
                when: None,
                action: Action::Describe,
                pos: p,
            };
            // `children(x)` describes the listed children and passes over
            // the others.
            let rest = Arm {
                tags: None,
                when: None,
                action: Action::Skip,
                pos: p,
            };
            Piece::Children(vec![arm, rest], p)
        }
        Rule::each_child => {
            let arms = pair
                .into_inner()
                .map(|a| arm(file, a))
                .collect::<Result<_, _>>()?;
            Piece::Children(arms, p)
        }
        Rule::attr_piece => Piece::Attr(name(pair.into_inner().next().expect("attr name"))),
        Rule::value_piece => Piece::Value(expr(file, pair.into_inner().next().expect("expr"))?, p),
        Rule::call => Piece::Call(call(file, pair)?),
        Rule::field => Piece::Field(name(pair)),
        Rule::set_var | Rule::let_var => {
            let is_set = pair.as_rule() == Rule::set_var;
            let mut inner = pair.into_inner();
            let var = name(inner.next().expect("variable"));
            let value = expr(file, inner.next().expect("value"))?;
            if is_set {
                Piece::SetVar(var, value)
            } else {
                Piece::LetVar(var, value)
            }
        }
        Rule::clear_var => Piece::ClearVar(name(pair.into_inner().next().expect("variable"))),
        r => unreachable!("not a piece: {r:?}"),
    })
}

fn child_pattern(pair: Pair<Rule>) -> Option<Vec<Name>> {
    let inner = pair.into_inner().next().expect("pattern part");
    match inner.as_rule() {
        Rule::star => None,
        _ => Some(tag_list(inner)),
    }
}

fn arm(file: &str, pair: Pair<Rule>) -> Result<Arm, RulesError> {
    let p = pos(&pair);
    let mut tags = None;
    let mut when = None;
    let mut action = Action::Skip;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::child_pattern => tags = child_pattern(part),
            Rule::cond => when = Some(cond(file, part)?),
            Rule::action => {
                let a = part.into_inner().next().expect("action kind");
                action = match a.as_rule() {
                    Rule::describe => Action::Describe,
                    Rule::skip => Action::Skip,
                    _ => Action::Error(string(a.into_inner().next().expect("message")).into()),
                };
            }
            r => unreachable!("arm part {r:?}"),
        }
    }
    Ok(Arm {
        tags,
        when,
        action,
        pos: p,
    })
}

fn cond(file: &str, pair: Pair<Rule>) -> Result<Cond, RulesError> {
    match pair.as_rule() {
        Rule::cond => cond(file, pair.into_inner().next().expect("disjunction")),
        Rule::disj | Rule::conj => {
            let is_or = pair.as_rule() == Rule::disj;
            let mut parts = pair
                .into_inner()
                .map(|c| cond(file, c))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if parts.len() == 1 {
                parts.pop().expect("one part")
            } else if is_or {
                Cond::Or(parts)
            } else {
                Cond::And(parts)
            })
        }
        Rule::negation => {
            let mut nots = 0;
            let mut atom = None;
            for part in pair.into_inner() {
                if part.as_rule() == Rule::not_op {
                    nots += 1;
                } else {
                    atom = Some(cond(file, part)?);
                }
            }
            let mut c = atom.expect("a negation ends in an atom");
            for _ in 0..nots {
                c = Cond::Not(Box::new(c));
            }
            Ok(c)
        }
        Rule::has => Ok(Cond::Has(expr(
            file,
            pair.into_inner().next().expect("has expr"),
        )?)),
        Rule::expanded => Ok(Cond::Expanded(pos(&pair))),
        Rule::stable => Ok(Cond::Stable(pos(&pair))),
        Rule::compare => {
            let mut inner = pair.into_inner();
            let lhs = expr(file, inner.next().expect("lhs"))?;
            let op = match inner.next().expect("op").as_str() {
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "~" => CmpOp::Match,
                _ => CmpOp::NoMatch,
            };
            let rhs = expr(file, inner.next().expect("rhs"))?;
            Ok(Cond::Compare(lhs, op, rhs))
        }
        r => unreachable!("not a condition: {r:?}"),
    }
}

fn expr(file: &str, pair: Pair<Rule>) -> Result<Expr, RulesError> {
    let mut inner = pair.into_inner();
    let mut acc = term(file, inner.next().expect("a first term"))?;
    while let Some(op) = inner.next() {
        let rhs = term(file, inner.next().expect("a term after an operator"))?;
        acc = if op.as_str() == "+" {
            Expr::Add(Box::new(acc), Box::new(rhs))
        } else {
            Expr::Sub(Box::new(acc), Box::new(rhs))
        };
    }
    Ok(acc)
}

fn term(file: &str, pair: Pair<Rule>) -> Result<Expr, RulesError> {
    let p = pos(&pair);
    Ok(match pair.as_rule() {
        Rule::int => Expr::Int(parse_int(file, &pair)?, p),
        Rule::string => Expr::Str(string(pair), p),
        Rule::field => Expr::Field(name(pair)),
        Rule::var => Expr::Var(name(pair)),
        Rule::func => {
            let mut inner = pair.into_inner();
            let n = name(inner.next().expect("function name"));
            let args = inner.map(|a| expr(file, a)).collect::<Result<_, _>>()?;
            Expr::Func(n, args)
        }
        r => unreachable!("not a term: {r:?}"),
    })
}
