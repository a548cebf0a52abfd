//! Rules-file errors shown as rustc shows them: the message, the source
//! line with a caret under the problem, a related place, and a hint. The
//! first line is always `error: FILE:LINE:COL: message`, which editors and
//! scripts parse.
//!
//! ```text
//! error: tune.rules:4:24: expected a number, a string or true or false
//!  --> tune.rules:4:24
//!   |
//! 4 |     "base_type" qualified( attr(encoding)
//!   |                          - ^
//!   |                          |
//!   |                          this `(` is not closed
//!   |
//!   = help: expected `)` to close the `(` at 4:22
//! ```
//!
//! Rendering uses annotate-snippets, the renderer of rustc's own
//! diagnostics: its output is the layout Rust and kernel developers read
//! every day, and it is small (no runtime, no global state).

use crate::RulesError;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// `err` with the source it points into (`None` when it is not at hand,
/// or the error is about the file as a whole): plain text, or with colour.
pub fn render(err: &RulesError, source: Option<&str>, color: bool) -> String {
    let title = format!("{err}");
    let spans = source.filter(|_| err.line > 0).and_then(|src| {
        let start = byte_offset(src, err.line, err.col)?;
        // Without a length, a name there is underlined whole.
        let word = src[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .count() as u32;
        let len = if err.len > 0 { err.len } else { word.max(1) };
        let end = end_offset(src, start, len);
        let related = err.related.as_ref().and_then(|(l, c, label)| {
            let a = byte_offset(src, *l, *c)?;
            Some((a..end_offset(src, a, 1), label.as_str()))
        });
        Some((src, start..end, related))
    });
    let Some((src, span, related)) = spans else {
        let mut text = format!("error: {title}");
        if let Some(h) = &err.hint {
            text.push_str(&format!("\n  = help: {h}"));
        }
        return text;
    };
    let mut snippet = Snippet::source(src)
        .path(err.file.as_str())
        .fold(true)
        .annotation(AnnotationKind::Primary.span(span));
    if let Some((r, label)) = related {
        snippet = snippet.annotation(AnnotationKind::Context.span(r).label(label));
    }
    // The renderer writes its own title line, which may escape characters
    // of the message: the first line is written here instead, exactly.
    let mut group = Group::with_title(Level::ERROR.primary_title("-")).element(snippet);
    if let Some(h) = &err.hint {
        group = group.element(Level::HELP.message(h.as_str()));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let shown = renderer.render(&[group]);
    let rest = shown.split_once('\n').map_or("", |(_, rest)| rest);
    if color {
        // As rustc colours it: `error` bold red, the message bold.
        format!("\x1b[1m\x1b[91merror\x1b[0m\x1b[1m: {title}\x1b[0m\n{rest}")
    } else {
        format!("error: {title}\n{rest}")
    }
}

/// The byte offset of 1-based `line` and `col` (in characters); the end of
/// the line when `col` is past it.
fn byte_offset(src: &str, line: u32, col: u32) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += src[start..].find('\n')? + 1;
    }
    let text = &src[start..];
    let line_len = text.find('\n').unwrap_or(text.len());
    let within = text[..line_len]
        .char_indices()
        .nth(col.saturating_sub(1) as usize)
        .map_or(line_len, |(i, _)| i);
    Some(start + within)
}

/// `chars` characters on from `start`, within its line.
fn end_offset(src: &str, start: usize, chars: u32) -> usize {
    let rest = &src[start..];
    let line_len = rest.find('\n').unwrap_or(rest.len());
    rest[..line_len]
        .char_indices()
        .nth(chars as usize)
        .map_or(start + line_len, |(i, _)| start + i)
}

/// The innermost `(` or `{` still open at byte `at` of `src` (strings and
/// comments aside), with its line and column.
pub(crate) fn unclosed(src: &str, at: usize) -> Option<(char, u32, u32)> {
    let mut open = Vec::new();
    for b in crate::parse::brackets(src).take_while(|b| b.offset < at) {
        if b.opens {
            open.push((b.c, b.line, b.col));
        } else {
            open.pop();
        }
    }
    open.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: u32, col: u32, message: &str) -> RulesError {
        RulesError {
            file: "t.rules".into(),
            line,
            col,
            message: message.into(),
            ..RulesError::default()
        }
    }

    #[test]
    fn the_first_line_is_the_plain_error() {
        let src = "ksymrules 1\ntype base_type { \"x\" nme }\n";
        let e = err(2, 22, "unknown field 'nme'").with_hint("did you mean 'name'?");
        let text = render(&e, Some(src), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "error: t.rules:2:22: unknown field 'nme'");
        assert!(text.contains("type base_type { \"x\" nme }"), "{text}");
        // Carets under the whole of `nme`.
        let source_line = lines.iter().position(|l| l.contains("nme }")).unwrap();
        let caret = lines[source_line + 1];
        let col_in_line = lines[source_line].find("nme").unwrap();
        assert_eq!(caret.find('^'), Some(col_in_line), "{text}");
        assert_eq!(caret.trim_end().rfind('^'), Some(col_in_line + 2), "{text}");
        assert!(text.contains("help: did you mean 'name'?"), "{text}");
    }

    #[test]
    fn without_a_line_there_is_no_snippet() {
        let mut e = err(0, 0, "cannot read: No such file");
        e.hint = None;
        assert_eq!(
            render(&e, Some("ksymrules 1\n"), false),
            "error: t.rules:0:0: cannot read: No such file"
        );
    }

    /// Kept from the rules fuzz target: a message with control characters
    /// (from an include path) came out altered by the renderer.
    #[test]
    fn the_first_line_is_exact_whatever_the_message_holds() {
        let src = "ksymrules 1\ninclude \"a\\u{0}b\"\n";
        let e = err(2, 1, "cannot include \"a\u{0}\u{b}b\": \tno");
        let text = render(&e, Some(src), false);
        assert!(text.starts_with(&format!("error: {e}\n")), "{text:?}");
    }

    #[test]
    fn unclosed_brackets_are_found() {
        let src = "a ( b { \"(\" } # (\n c";
        let at = src.len();
        assert_eq!(unclosed(src, at), Some(('(', 1, 3)));
        assert_eq!(unclosed("( )", 3), None);
    }
}
