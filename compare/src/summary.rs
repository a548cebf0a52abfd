//! A change in words: `member 'flags' added at offset 24; byte_size 24 → 32`.
//!
//! A string is read as its description's head (`structure_type foo`), its
//! first group's items (members, parameters, enumerators: the first token
//! says which, the name is found as [`item_name`] says) and the attributes
//! after the group (`byte_size(8)`). Items are matched by kind and name;
//! what is left over is said as it is.

use crate::text::{self, Kind, Token};
use ksymrules_engine::typemap::Expansion;

/// A description read for summaries.
struct Shape<'a> {
    tokens: Vec<Token<'a>>,
    /// Tokens before the first group.
    head: (usize, usize),
    /// The first group's items, if it has a group.
    items: Option<Vec<(usize, usize)>>,
    /// Tokens after the group.
    tail: (usize, usize),
}

fn shape(e: &Expansion) -> Shape<'_> {
    let tokens = text::tokens(e);
    match text::first_open(&tokens) {
        None => Shape {
            head: (0, tokens.len()),
            items: None,
            tail: (tokens.len(), tokens.len()),
            tokens,
        },
        Some(open) => {
            let close = text::group_end(&tokens, open);
            let items = text::items(&tokens, open);
            let n = tokens.len();
            Shape {
                head: (0, open),
                items: Some(items),
                tail: ((close + 1).min(n), n),
                tokens,
            }
        }
    }
}

impl<'a> Shape<'a> {
    fn slice(&self, r: (usize, usize)) -> &[Token<'a>] {
        &self.tokens[r.0..r.1]
    }

    /// Attributes among the tokens of `r`, at depth 0.
    fn attributes(&self, r: (usize, usize)) -> Vec<(&'a str, &'a str)> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        for t in self.slice(r) {
            match t.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth = depth.saturating_sub(1),
                _ if depth == 0 => {
                    if let Some(a) = t.attribute() {
                        out.push(a);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// An item's kind and name.
    fn key(&self, r: (usize, usize)) -> (&'a str, Option<&'a str>) {
        let toks = self.slice(r);
        let kind = toks.first().map_or("", |t| t.text);
        (kind, item_name(toks))
    }

    fn is_declaration(&self) -> bool {
        matches!(&self.items, Some(items) if items.is_empty())
            && self.attributes(self.tail).is_empty()
    }
}

/// An item's name: the enumerator's second token; else the last plain
/// word at the item's own depth that comes after its type (after an
/// attribute, a group or a reference), if any.
pub fn item_name<'a>(toks: &[Token<'a>]) -> Option<&'a str> {
    name_at(toks).map(|i| toks[i].text)
}

/// Where [`item_name`]'s name is.
fn name_at(toks: &[Token<'_>]) -> Option<usize> {
    let first = toks.first()?;
    if first.text == "enumerator" {
        return (toks.len() > 1).then_some(1);
    }
    let mut depth = 0usize;
    let mut typed = false;
    let mut name = None;
    for (i, t) in toks.iter().enumerate().skip(1) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    typed = true;
                }
            }
            Kind::Ref if depth == 0 => typed = true,
            Kind::Word if depth == 0 => {
                if t.attribute().is_some() {
                    typed = true;
                } else if typed && !t.is_type_keyword() && !t.text.starts_with('[') {
                    name = Some(i);
                }
            }
            _ => {}
        }
    }
    name
}

/// Where an unnamed item's type ends: after its last group or reference
/// at the item's depth (the whole item when it has neither).
fn type_end(toks: &[Token<'_>]) -> usize {
    let mut depth = 0usize;
    let mut end = None;
    for (i, t) in toks.iter().enumerate().skip(1) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = Some(i + 1);
                }
            }
            Kind::Ref if depth == 0 => end = Some(i + 1),
            _ => {}
        }
    }
    end.unwrap_or(toks.len())
}

/// `A` → `B`, the compact views (or the whole ones when those are equal),
/// cut to where they differ when they are long.
fn became(a: &[Token<'_>], b: &[Token<'_>]) -> String {
    let words = |t: &[Token<'_>], all: bool| -> Vec<String> {
        t.iter()
            .filter(|x| all || x.attribute().is_none())
            .map(|x| x.text.to_string())
            .collect()
    };
    let (mut x, mut y) = (words(a, false), words(b, false));
    if x == y {
        (x, y) = (words(a, true), words(b, true));
    }
    // The words both share at the start and at the end are left out of
    // long views.
    let pre = x.iter().zip(&y).take_while(|(p, q)| p == q).count();
    let post = x[pre..]
        .iter()
        .rev()
        .zip(y[pre..].iter().rev())
        .take_while(|(p, q)| p == q)
        .count();
    let show = |w: &[String]| {
        let full = w.join(" ");
        if full.chars().count() <= 70 {
            return full;
        }
        let (lead, tail) = (pre.saturating_sub(2), post.saturating_sub(1));
        let mid = &w[lead..w.len() - tail];
        let mut s = mid.join(" ");
        if s.chars().count() > 70 {
            s = format!("{}…", s.chars().take(69).collect::<String>());
        }
        format!(
            "{}{s}{}",
            if lead > 0 { "… " } else { "" },
            if tail > 0 { " …" } else { "" }
        )
    };
    format!("`{}` → `{}`", or_nothing(&show(&x)), or_nothing(&show(&y)))
}

/// Kinds of items that make lists (the others are a group's one type).
const LIST_ITEMS: &[&str] = &[
    "member",
    "formal_parameter",
    "enumerator",
    "variant_part",
    "variant",
];

/// The noun an item's kind is said with.
fn noun(kind: &str) -> &str {
    match kind {
        "formal_parameter" => "parameter",
        k => k,
    }
}

fn quoted(kind: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{} '{n}'", noun(kind)),
        None => format!("an unnamed {}", noun(kind)),
    }
}

/// Says in words how `old` became `new`.
pub fn summarize(old: &Expansion, new: &Expansion) -> String {
    let (o, n) = (shape(old), shape(new));
    let mut parts: Vec<String> = Vec::new();
    let head_o = text::join(o.slice(o.head));
    let head_n = text::join(n.slice(n.head));
    if head_o != head_n || o.items.is_none() || n.items.is_none() {
        return became(&o.tokens, &n.tokens);
    }
    match (o.is_declaration(), n.is_declaration()) {
        (true, false) => return "changed from a declaration to a definition".into(),
        (false, true) => return "changed from a definition to a declaration".into(),
        _ => {}
    }
    if let (Some(oi), Some(ni)) = (&o.items, &n.items) {
        let listed = |s: &Shape<'_>, items: &[(usize, usize)]| {
            items.iter().all(|&r| LIST_ITEMS.contains(&s.key(r).0))
        };
        if listed(&o, oi) && listed(&n, ni) {
            items_summary(&o, oi, &n, ni, &mut parts);
        } else {
            let inner = |items: &[(usize, usize)]| match (items.first(), items.last()) {
                (Some(a), Some(b)) => (a.0, b.1),
                _ => (0, 0),
            };
            let (a, b) = (inner(oi), inner(ni));
            if text::join(o.slice(a)) != text::join(n.slice(b)) {
                parts.push(became(o.slice(a), n.slice(b)));
            }
        }
    }
    // After the group: a return type, or attributes (size, alignment).
    let (to, tn) = (o.slice(o.tail), n.slice(n.tail));
    if to.first().is_some_and(|t| t.text == "->") || tn.first().is_some_and(|t| t.text == "->") {
        if text::join(to) != text::join(tn) {
            let (ro, rn) = (to.get(1..).unwrap_or(&[]), tn.get(1..).unwrap_or(&[]));
            parts.push(format!("return type {}", became(ro, rn)));
        }
    } else {
        let (ta, tb) = (o.attributes(o.tail), n.attributes(n.tail));
        attribute_changes(&ta, &tb, &mut parts, None);
    }
    if parts.is_empty() {
        parts.push(became(&o.tokens, &n.tokens));
    }
    collapse_moves(&mut parts);
    if parts.len() > MAX_PARTS {
        let more = parts.len() - MAX_PARTS;
        parts.truncate(MAX_PARTS);
        parts.push(format!("and {more} more changes"));
    }
    parts.join("; ")
}

/// Most parts a summary says; the rest are counted.
const MAX_PARTS: usize = 10;

/// Members whose offsets all moved (something before them grew) are said
/// once: `data_member_location of 15 members changed ('a' 44 → 48 … 'z'
/// 152 → 160)`.
fn collapse_moves(parts: &mut Vec<String>) {
    const MOVED: &str = ": data_member_location ";
    let moves: Vec<usize> = (0..parts.len())
        .filter(|&i| parts[i].contains(MOVED) && parts[i].contains(" → "))
        .collect();
    if moves.len() <= 3 {
        return;
    }
    let short = |p: &str| p.replacen(MOVED, " ", 1).replacen("member ", "", 1);
    let first = short(&parts[moves[0]]);
    let last = short(&parts[*moves.last().expect("more than 3")]);
    let line = format!(
        "data_member_location of {} members changed ({first} … {last})",
        moves.len()
    );
    let at = moves[0];
    for &i in moves.iter().rev() {
        parts.remove(i);
    }
    parts.insert(at, line);
}

fn or_nothing(s: &str) -> &str {
    if s.is_empty() {
        "(nothing)"
    } else {
        s
    }
}

fn attribute_changes(
    a: &[(&str, &str)],
    b: &[(&str, &str)],
    parts: &mut Vec<String>,
    owner: Option<&str>,
) {
    let prefix = owner.map(|o| format!("{o}: ")).unwrap_or_default();
    for (name, v) in a {
        match b.iter().find(|(n, _)| n == name) {
            Some((_, w)) if w != v => parts.push(format!("{prefix}{name} {v} → {w}")),
            None => parts.push(format!("{prefix}{name}({v}) removed")),
            _ => {}
        }
    }
    for (name, w) in b {
        if !a.iter().any(|(n, _)| n == name) {
            parts.push(format!("{prefix}{name}({w}) added"));
        }
    }
}

fn items_summary(
    o: &Shape<'_>,
    oi: &[(usize, usize)],
    n: &Shape<'_>,
    ni: &[(usize, usize)],
    parts: &mut Vec<String>,
) {
    let ok: Vec<_> = oi.iter().map(|&r| o.key(r)).collect();
    let nk: Vec<_> = ni.iter().map(|&r| n.key(r)).collect();
    // Matched by kind and name (unnamed items by position among equals).
    let find = |keys: &[(&str, Option<&str>)], k: &(&str, Option<&str>), used: &[bool]| {
        keys.iter()
            .enumerate()
            .position(|(i, x)| x == k && !used[i])
    };
    let mut used_n = vec![false; nk.len()];
    let mut matched: Vec<(usize, usize)> = Vec::new();
    for (i, k) in ok.iter().enumerate() {
        match find(&nk, k, &used_n) {
            Some(j) => {
                used_n[j] = true;
                matched.push((i, j));
            }
            None => parts.push(format!("{} removed", quoted(k.0, k.1))),
        }
    }
    for (j, k) in nk.iter().enumerate() {
        if !used_n[j] {
            let at = n
                .attributes(ni[j])
                .into_iter()
                .find(|(a, _)| *a == "data_member_location")
                .map(|(_, v)| format!(" at offset {v}"))
                .unwrap_or_default();
            let value = if k.0 == "enumerator" {
                enumerator_value(n.slice(ni[j]))
                    .map(|v| format!(" = {v}"))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let place = if j + 1 == nk.len() && !oi.is_empty() && matched.len() == ok.len() {
                " at the end"
            } else {
                ""
            };
            parts.push(format!("{} added{value}{at}{place}", quoted(k.0, k.1)));
        }
    }
    let moved = matched.windows(2).any(|w| w[0].1 > w[1].1);
    if moved {
        parts.push(format!("{}s reordered", noun(ok[0].0)));
    }
    for (i, j) in matched {
        let (a, b) = (o.slice(oi[i]), n.slice(ni[j]));
        if text::join(a) == text::join(b) {
            continue;
        }
        let who = quoted(ok[i].0, ok[i].1);
        if ok[i].0 == "enumerator" {
            match (enumerator_value(a), enumerator_value(b)) {
                (Some(x), Some(y)) if x != y => {
                    parts.push(format!("{who} = {x} → {y}"));
                    continue;
                }
                _ => {}
            }
        }
        // The item's type (between its kind and its name), then its own
        // attributes (after the name).
        let split = |t: &[Token<'_>]| match name_at(t) {
            Some(k) => (1..k, k + 1..t.len()),
            // Unnamed: the attributes after its type's last group or
            // reference are its own (`} data_member_location(8)`).
            None => {
                let end = type_end(t).max(1.min(t.len()));
                (1.min(end)..end, end..t.len())
            }
        };
        let ((ta, aa), (tb, ab)) = (split(a), split(b));
        let before = parts.len();
        if text::join(&a[ta.clone()]) != text::join(&b[tb.clone()]) {
            parts.push(format!("{who}: type {}", became(&a[ta], &b[tb])));
        }
        let attrs = |t: &[Token<'_>]| -> Vec<(String, String)> {
            t.iter()
                .filter_map(|x| x.attribute())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (xa, xb) = (attrs(&a[aa]), attrs(&b[ab]));
        let xa: Vec<(&str, &str)> = xa.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let xb: Vec<(&str, &str)> = xb.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        attribute_changes(&xa, &xb, parts, Some(&who));
        if parts.len() == before {
            parts.push(format!("{who}: {}", became(a, b)));
        }
    }
}

fn enumerator_value<'a>(toks: &[Token<'a>]) -> Option<&'a str> {
    let eq = toks.iter().position(|t| t.text == "=")?;
    toks.get(eq + 1).map(|t| t.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(old: &str, new: &str) -> String {
        let p = |x: &str| crate::symtypes::parse_string(x).unwrap();
        summarize(&p(old), &p(new))
    }

    #[test]
    fn member_added_and_size() {
        assert_eq!(
            s(
                "structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) , member base_type long int byte_size(8) encoding(5) b data_member_location(8) } byte_size(16)",
                "structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) , member base_type long int byte_size(8) encoding(5) b data_member_location(8) , member base_type short int byte_size(2) encoding(5) c data_member_location(16) } byte_size(24)"
            ),
            "member 'c' added at offset 16 at the end; byte_size 16 → 24"
        );
    }

    #[test]
    fn enumerator_values_and_declarations() {
        assert_eq!(
            s(
                "enumeration_type e { enumerator A = 0 , enumerator E_MAX = 1 } byte_size(4)",
                "enumeration_type e { enumerator A = 0 , enumerator B = 1 , enumerator E_MAX = 2 } byte_size(4)"
            ),
            "enumerator 'B' added = 1; enumerator 'E_MAX' = 1 → 2"
        );
        assert_eq!(
            s(
                "structure_type s { }",
                "structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) } byte_size(4)"
            ),
            "changed from a declaration to a definition"
        );
    }

    #[test]
    fn member_type_and_names() {
        assert_eq!(
            s(
                "structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) }",
                "structure_type s { member base_type long int byte_size(8) encoding(5) a data_member_location(0) }"
            ),
            "member 'a': type `base_type int` → `base_type long int`"
        );
        assert_eq!(
            s(
                "structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) }",
                "structure_type s { member base_type int byte_size(4) encoding(5) b data_member_location(0) }"
            ),
            "member 'a' removed; member 'b' added at offset 0"
        );
    }
}
