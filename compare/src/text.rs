//! Type strings as a person reads them: tokens, and lines laid out as
//! `--dump-dies` lays them out.
//!
//! A string is a run of space-separated tokens in which a reference
//! (`s#foo`, or `s#'a b'` with its spaces) is one token. The layout puts a
//! line break after an opening `{` or `(` token and after a `,`, and
//! before a closing `}` or `)`, indenting two spaces per open group:
//!
//! ```text
//! structure_type s {
//!   member base_type int byte_size(4) encoding(5) a data_member_location(0) ,
//!   member base_type long int byte_size(8) encoding(5) b data_member_location(8)
//! } byte_size(16)
//! ```
//!
//! These are the groups and list separators the type strings of the
//! default rules (and gendwarfksyms) are built from; the layout is only
//! for reading: comparisons are made on the strings.

use ksymrules_engine::typemap::Expansion;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A reference to a named type.
    Ref,
    /// `{` or `(`.
    Open,
    /// `}` or `)`.
    Close,
    /// `,`.
    Sep,
    /// Anything else: a keyword, a name, an attribute `byte_size(8)`.
    Word,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    /// Byte offset in the string.
    pub start: usize,
    pub kind: Kind,
}

impl<'a> Token<'a> {
    /// `name(value)`: an attribute as the default rules print them.
    pub fn attribute(&self) -> Option<(&'a str, &'a str)> {
        if self.kind != Kind::Word {
            return None;
        }
        let open = self.text.find('(')?;
        let inner = self.text[open + 1..].strip_suffix(')')?;
        let name = &self.text[..open];
        (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .then_some((name, inner))
    }

    /// A keyword that names what a DIE is (`structure_type`, `base_type`).
    pub fn is_type_keyword(&self) -> bool {
        self.kind == Kind::Word && self.text.ends_with("_type") && !self.text.contains('(')
    }
}

/// The tokens of a string.
pub fn tokens(exp: &Expansion) -> Vec<Token<'_>> {
    let s = exp.text.as_str();
    let mut out = Vec::new();
    let mut refs = exp.refs.iter().peekable();
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        while refs.peek().is_some_and(|&&(_, b)| (b as usize) <= i) {
            refs.next();
        }
        if let Some(&&(a, b)) = refs.peek() {
            if a as usize == i {
                out.push(Token {
                    text: &s[i..b as usize],
                    start: i,
                    kind: Kind::Ref,
                });
                i = b as usize;
                continue;
            }
        }
        let mut end = s[i..].find(' ').map_or(bytes.len(), |e| i + e);
        // A reference may start inside a run with no space before it only
        // in strings not made by the rules; keep it whole anyway.
        if let Some(&&(a, _)) = refs.peek() {
            if (a as usize) < end {
                end = a as usize;
            }
        }
        let text = &s[i..end];
        let kind = match text {
            "{" | "(" => Kind::Open,
            "}" | ")" => Kind::Close,
            "," => Kind::Sep,
            _ => Kind::Word,
        };
        out.push(Token {
            text,
            start: i,
            kind,
        });
        i = end;
    }
    out
}

/// A line of the layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub depth: usize,
    /// Its tokens, `first..end` in the token list.
    pub first: usize,
    pub end: usize,
    /// The line as shown: indentation, then the tokens.
    pub text: String,
}

/// Lays out the tokens in lines.
pub fn layout(tokens: &[Token<'_>]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut depth = 0usize;
    let mut first = 0;
    let flush = |lines: &mut Vec<Line>, depth: usize, first: usize, end: usize| {
        if end > first {
            let mut text = "  ".repeat(depth.min(40));
            for (k, t) in tokens[first..end].iter().enumerate() {
                if k > 0 {
                    text.push(' ');
                }
                text.push_str(t.text);
            }
            lines.push(Line {
                depth,
                first,
                end,
                text,
            });
        }
    };
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Open => {
                flush(&mut lines, depth, first, i + 1);
                first = i + 1;
                depth += 1;
            }
            Kind::Sep => {
                flush(&mut lines, depth, first, i + 1);
                first = i + 1;
            }
            Kind::Close => {
                flush(&mut lines, depth, first, i);
                first = i;
                depth = depth.saturating_sub(1);
            }
            Kind::Ref | Kind::Word => {}
        }
    }
    flush(&mut lines, depth, first, tokens.len());
    lines
}

/// Where the group opened at token `open` closes (the matching close, or
/// the end).
pub fn group_end(tokens: &[Token<'_>], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The items of the group opened at token `open`: token ranges between its
/// separators, at its own depth.
pub fn items(tokens: &[Token<'_>], open: usize) -> Vec<(usize, usize)> {
    let close = group_end(tokens, open);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for (i, t) in tokens.iter().enumerate().take(close).skip(open + 1) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Sep if depth == 0 => {
                out.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    if close > start {
        out.push((start, close));
    }
    out
}

/// The first opening token at depth 0, if any.
pub fn first_open(tokens: &[Token<'_>]) -> Option<usize> {
    tokens.iter().position(|t| t.kind == Kind::Open)
}

/// Tokens joined by spaces.
pub fn join(tokens: &[Token<'_>]) -> String {
    let mut s = String::new();
    for (k, t) in tokens.iter().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        s.push_str(t.text);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(s: &str) -> Expansion {
        crate::symtypes::parse_string(s).unwrap()
    }

    #[test]
    fn layout_of_a_structure() {
        let e = exp("structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) , member pointer_type { s#'a b' } byte_size(8) p data_member_location(8) } byte_size(16)");
        let t = tokens(&e);
        let lines: Vec<String> = layout(&t).into_iter().map(|l| l.text).collect();
        assert_eq!(
            lines,
            [
                "structure_type s {",
                "  member base_type int byte_size(4) encoding(5) a data_member_location(0) ,",
                "  member pointer_type {",
                "    s#'a b'",
                "  } byte_size(8) p data_member_location(8)",
                "} byte_size(16)",
            ]
        );
        let open = first_open(&t).unwrap();
        assert_eq!(items(&t, open).len(), 2);
        assert_eq!(t[open + 1].text, "member");
        assert_eq!(t[9].attribute(), Some(("data_member_location", "0")));
        assert!(t.iter().any(|x| x.kind == Kind::Ref && x.text == "s#'a b'"));
    }
}
