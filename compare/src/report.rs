//! The report: a typed model of what `compare` found, built once from the
//! analysis and rendered as text ([`crate::render`]) or serialised as JSON
//! (its schema is this model; see `docs/compare.md`).

use crate::analysis::{Analysis, CauseKind, Change};
use crate::summary::summarize;
use crate::text;
use ksymrules_engine::typemap::Expansion;
use rayon::prelude::*;
use serde::{Serialize, Serializer};

/// A CRC, serialised as `"0x%08x"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crc(pub u32);

impl Serialize for Crc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl std::fmt::Display for Crc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What the sides were read from.
    pub old: String,
    pub new: String,
    pub totals: Totals,
    pub changed: Vec<ChangedExport>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Ranked: most exports reached first.
    pub causes: Vec<CauseReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<SuggestionReport>,
    pub warnings: Vec<String>,
    /// With `--report-quirks`: where gendwarfksyms' versions of either
    /// side depend on something unexpected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quirks: Vec<QuirkReport>,
}

/// A quirk of one side's object (`docs/gendwarfksyms-semantics.md`).
#[derive(Clone, Debug, Serialize)]
pub struct QuirkReport {
    /// `old` or `new`.
    pub side: &'static str,
    pub file: String,
    /// `re-entrance`, `declaration-first`, ...
    pub kind: &'static str,
    pub what: String,
}

impl Report {
    /// Whether anything differs (the exit status says so).
    pub fn differs(&self) -> bool {
        !(self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    /// Exports on both sides.
    pub common: usize,
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
    pub causes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChangedExport {
    pub symbol: String,
    pub old_crc: Crc,
    pub new_crc: Crc,
    /// The names of its causes, ranked as [`Report::causes`].
    pub causes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A type's own string changed.
    Type,
    /// An export's own string changed.
    Symbol,
    /// The same edit in several strings.
    Edit,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Type => "type",
            Kind::Symbol => "symbol",
            Kind::Edit => "edit",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CauseReport {
    pub name: String,
    pub kind: Kind,
    pub summary: String,
    /// Changed exports it reaches, sorted.
    pub exports: Vec<String>,
    /// For an edit: the strings it occurs in (types and exports); the
    /// first is the one `diff` shows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<String>,
    /// The string's diff, laid out one member per line: `  ` context,
    /// `- ` old, `+ ` new, `…` between distant hunks.
    pub diff: Vec<String>,
    /// Where the changed pieces come from (objects only).
    pub provenance: Vec<Provenance>,
    /// Entries left out of `provenance` (it keeps the first of each side).
    #[serde(skip_serializing_if = "is_zero")]
    pub provenance_omitted: usize,
    /// Why a side has no provenance, when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance_note: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A changed piece of a string, the DIE whose description printed it, and
/// the rules that did (consecutive pieces of one DIE make one entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// `old` or `new`.
    pub side: &'static str,
    /// The piece's text.
    pub text: String,
    pub die: Die,
    /// The rules that printed it, in order, each once.
    pub rules: Vec<RuleRef>,
}

/// A place in a rules file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// `file:line:col`.
    pub at: String,
    /// The rule's source text there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Die {
    /// `0x…`, in the object's `.debug_info`.
    pub offset: String,
    pub tag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `decl_file:decl_line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decl: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SuggestionReport {
    /// The kABI file written.
    pub file: String,
    /// Rules in it.
    pub rules: usize,
    /// Of those, how many of each kind (`type_string`, `declonly`, ...).
    pub by_kind: std::collections::BTreeMap<&'static str, usize>,
    /// Of those, `type_string`s on exports (their own strings changed).
    pub symbol_rules: Vec<String>,
    /// Whether NEW was versioned again with the file (objects only).
    pub checked: bool,
    /// Changed exports that have their old CRC with the file.
    pub restored: Vec<String>,
    pub not_restored: Vec<NotRestored>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NotRestored {
    pub symbol: String,
    pub crc: Crc,
    pub reason: String,
}

/// Lines of context around each hunk of a diff.
const CONTEXT: usize = 3;
/// Diffs longer than this are cut.
const MAX_DIFF_LINES: usize = 400;

/// The laid-out diff of a change.
pub fn diff_lines(c: &Change) -> Vec<String> {
    diff_of(&c.old, &c.new)
}

/// The laid-out diff of two strings.
pub fn diff_of(old: &Expansion, new: &Expansion) -> Vec<String> {
    let (ot, nt) = (text::tokens(old), text::tokens(new));
    let (ol, nl) = (text::layout(&ot), text::layout(&nt));
    // Lines are matched without their list separator, so that an item
    // added at the end does not show the one before it as changed.
    let key =
        |l: &text::Line| -> String { l.text.strip_suffix(" ,").unwrap_or(&l.text).to_string() };
    let oa: Vec<String> = ol.iter().map(key).collect();
    let na: Vec<String> = nl.iter().map(key).collect();
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &oa, &na);
    let mut out = Vec::new();
    for (g, group) in similar::group_diff_ops(ops, CONTEXT).iter().enumerate() {
        if g > 0 {
            out.push("…".to_string());
        }
        for op in group {
            let (tag, o, n) = op.as_tag_tuple();
            match tag {
                similar::DiffTag::Equal => {
                    for i in n {
                        out.push(format!("  {}", nl[i].text));
                    }
                }
                _ => {
                    for i in o {
                        out.push(format!("- {}", ol[i].text));
                    }
                    for i in n {
                        out.push(format!("+ {}", nl[i].text));
                    }
                }
            }
        }
    }
    if out.len() > MAX_DIFF_LINES {
        let more = out.len() - MAX_DIFF_LINES;
        out.truncate(MAX_DIFF_LINES);
        out.push(format!("… {more} more lines"));
    }
    out
}

/// Builds the report from an analysis (suggestion and provenance are
/// added by their steps).
pub fn build(a: &Analysis, old: String, new: String, warnings: Vec<String>) -> Report {
    let causes: Vec<CauseReport> = a
        .causes
        .par_iter()
        .map(|c| {
            // The part of its (first) change this cause makes: the change
            // without the edits that recur (each its own cause), or an
            // edit's own hunks only.
            let example = c.changes.first().map(|&i| &a.changes[i]);
            let part = example.map(|ch| {
                let own = crate::analysis::partial(ch, |h| c.owns(a, h));
                (ch, own)
            });
            let (summary, diff) = match &part {
                Some((ch, Some(p))) => (summarize(&ch.old, p), diff_of(&ch.old, p)),
                Some((ch, None)) => (summarize(&ch.old, &ch.new), diff_lines(ch)),
                None => (String::new(), Vec::new()),
            };
            let (kind, summary, occurrences) = match c.kind {
                CauseKind::Type => (Kind::Type, summary, Vec::new()),
                CauseKind::Symbol => (Kind::Symbol, summary, Vec::new()),
                CauseKind::Edit => {
                    let e = c.edit.as_ref().expect("an edit cause has its edit");
                    let n = c.changes.len();
                    (
                        Kind::Edit,
                        format!("{} in {n} strings", edit_words(e)),
                        c.changes
                            .iter()
                            .map(|&i| a.changes[i].name.clone())
                            .collect(),
                    )
                }
            };
            CauseReport {
                name: c.name.clone(),
                kind,
                summary,
                exports: c.exports.clone(),
                occurrences,
                diff,
                provenance: Vec::new(),
                provenance_omitted: 0,
                provenance_note: None,
            }
        })
        .collect();
    let changed = a
        .changed
        .iter()
        .map(|c| ChangedExport {
            symbol: c.name.clone(),
            old_crc: Crc(c.old_crc),
            new_crc: Crc(c.new_crc),
            causes: c.causes.iter().map(|&k| a.causes[k].name.clone()).collect(),
        })
        .collect();
    Report {
        old,
        new,
        totals: Totals {
            common: a.common,
            changed: a.changed.len(),
            added: a.added.len(),
            removed: a.removed.len(),
            causes: a.causes.len(),
        },
        changed,
        added: a.added.clone(),
        removed: a.removed.clone(),
        causes,
        suggestion: None,
        warnings,
        quirks: Vec::new(),
    }
}

/// An edit in words: `base_type char: encoding 6 → 8`.
fn edit_words(e: &crate::analysis::Edit) -> String {
    let attr = |s: &str| -> Option<(String, String)> {
        let open = s.find('(')?;
        let inner = s[open + 1..].strip_suffix(')')?;
        (!s.contains(' ')).then(|| (s[..open].to_string(), inner.to_string()))
    };
    let head: Vec<&str> = e.context.split(' ').take(2).collect();
    let head = head.join(" ");
    if let (Some((a, x)), Some((b, y))) = (attr(&e.old), attr(&e.new)) {
        if a == b {
            return if head.is_empty() {
                format!("{a} {x} → {y}")
            } else {
                format!("{head}: {a} {x} → {y}")
            };
        }
    }
    let show = |s: &str| {
        if s.is_empty() {
            "(nothing)".to_string()
        } else {
            format!("`{s}`")
        }
    };
    let body = format!("{} → {}", show(&e.old), show(&e.new));
    if head.is_empty() {
        body
    } else {
        format!("{head}: {body}")
    }
}
