//! Where the changed pieces of a string come from, for objects: each
//! object with a change is walked once more with provenance recorded
//! (`ksymrules_engine::explain`), and the pieces that overlap a changed
//! token are reported with their DIE and the rule that printed them.
//!
//! Only `compare` does this, and only for the objects a change was found
//! in; a version run never records provenance.

use crate::analysis::Analysis;
use crate::corpus::{Corpus, Origin};
use crate::report::{Die, Provenance, Report, RuleRef};
use crate::text;
use ksymrules_engine::explain::{Explained, Piece};
use ksymrules_engine::FileError;
use ksymrules_grammar::Rules;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Most provenance entries kept per cause and side.
const MAX_ENTRIES: usize = 16;

/// Fills in the provenance of the report's causes.
pub fn attach(
    report: &mut Report,
    a: &Analysis,
    rules: &Rules,
    stable: bool,
    old: &Corpus,
    new: &Corpus,
) -> Result<(), FileError> {
    if old.origin != Origin::Objects && new.origin != Origin::Objects {
        return Ok(());
    }
    // Per cause, the change it shows.
    let shown: Vec<Option<usize>> = a
        .causes
        .iter()
        .map(|c| c.changes.first().copied())
        .collect();
    let sides = [("old", old, 0usize), ("new", new, 1usize)];
    // Only the strings of the changes shown need their pieces: per side,
    // each name with the string the side's type map has for it.
    let only: [std::collections::BTreeMap<String, String>; 2] = [0, 1].map(|k| {
        shown
            .iter()
            .flatten()
            .map(|&id| {
                let c = &a.changes[id];
                let s = if k == 0 { &c.old } else { &c.new };
                (c.name.clone(), s.text.clone())
            })
            .collect()
    });
    // Per side and unit: the exports to explain, every one that reaches a
    // change shown there (the one whose DIE the type map kept may be
    // reached by any of them; each entry is explained once).
    let mut jobs: Vec<(usize, usize, Vec<&str>)> = Vec::new();
    for (_, corpus, k) in sides {
        if corpus.origin != Origin::Objects {
            continue;
        }
        let mut wanted: std::collections::BTreeMap<usize, std::collections::BTreeSet<&str>> =
            Default::default();
        for &id in shown.iter().flatten() {
            let c = &a.changes[id];
            let unit = if k == 0 { c.units.0 } else { c.units.1 };
            for e in &c.exports {
                if corpus.exports.get(e).is_some_and(|x| x.unit == unit) {
                    wanted.entry(unit).or_default().insert(e);
                }
            }
        }
        jobs.extend(
            wanted
                .into_iter()
                .map(|(u, names)| (k, u, names.into_iter().collect())),
        );
    }
    // Both sides' objects at once.
    let results: Vec<Result<Found, FileError>> = jobs
        .par_iter()
        .map(|(k, unit, names)| {
            let corpus = if *k == 0 { old } else { new };
            let path = &corpus.paths[*unit];
            let xs =
                ksymrules_engine::explain::explain_all(rules, stable, path, names, Some(&only[*k]))
                    .map_err(|error| FileError {
                        file: path.display().to_string(),
                        error,
                    })?;
            Ok((*k, *unit, xs.into_iter().flat_map(|x| x.strings).collect()))
        })
        .collect();
    let mut found: [FxHashMap<usize, Vec<Explained>>; 2] = Default::default();
    for r in results {
        let (k, unit, strings) = r?;
        found[k].insert(unit, strings);
    }
    let sources = RuleSources::default();
    for ((cause, id), ac) in report.causes.iter_mut().zip(&shown).zip(&a.causes) {
        let Some(id) = *id else { continue };
        let c = &a.changes[id];
        let mut entries: Vec<Provenance> = Vec::new();
        let mut missing: Vec<&str> = Vec::new();
        for (side, corpus, k) in sides {
            let (unit, exp) = if k == 0 {
                (c.units.0, &c.old)
            } else {
                (c.units.1, &c.new)
            };
            let tokens = text::tokens(exp);
            let ranges: Vec<(usize, usize)> = c
                .hunks
                .iter()
                .filter(|h| ac.owns(a, h))
                .filter_map(|h| {
                    let (a, b) = if k == 0 { h.old } else { h.new };
                    (b > a).then(|| {
                        let last = &tokens[b - 1];
                        (tokens[a].start, last.start + last.text.len())
                    })
                })
                .collect();
            if ranges.is_empty() || corpus.origin != Origin::Objects {
                continue;
            }
            // The explained string that is this one, piece for piece.
            let x = found[k].get(&unit).and_then(|strings| {
                strings
                    .iter()
                    .find(|s| s.name == c.name && concat(&s.pieces) == exp.text)
            });
            let Some(x) = x else {
                missing.push(side);
                continue;
            };
            let mut mine = Vec::new();
            collect(&x.pieces, &ranges, side, rules, &sources, &mut mine);
            if mine.len() > MAX_ENTRIES {
                cause.provenance_omitted += mine.len() - MAX_ENTRIES;
                mine.truncate(MAX_ENTRIES);
            }
            entries.extend(mine);
        }
        if !missing.is_empty() {
            cause.provenance_note = Some(format!(
                "no provenance for the {} side: the export walked for it reaches \
                 another DIE of {} than the one whose string the object's type map keeps",
                missing.join(" and "),
                c.name
            ));
        }
        cause.provenance = entries;
    }
    Ok(())
}

/// One object's explained strings: side, unit, strings.
type Found = (usize, usize, Vec<Explained>);

fn concat(pieces: &[Piece]) -> String {
    pieces.iter().map(|p| p.text.as_str()).collect()
}

/// The pieces that overlap the byte ranges, consecutive ones of one DIE
/// and rule joined.
fn collect(
    pieces: &[Piece],
    ranges: &[(usize, usize)],
    side: &'static str,
    rules: &Rules,
    sources: &RuleSources,
    out: &mut Vec<Provenance>,
) {
    let mut at = 0usize;
    let mut last: Option<ksymrules_engine::dwarf::DieId> = None;
    for p in pieces {
        let (start, end) = (at, at + p.text.len());
        at = end;
        let hit = ranges.iter().any(|&(a, b)| start < b && a < end);
        if !hit {
            last = None;
            continue;
        }
        if p.text.trim().is_empty() {
            // A space between two pieces of one DIE stays in its entry.
            if last == Some(p.die.offset) {
                if let Some(e) = out.last_mut() {
                    e.text.push_str(&p.text);
                }
            }
            continue;
        }
        let rule = p.rule.as_ref().map(|(f, l, c)| RuleRef {
            at: format!("{f}:{l}:{c}"),
            text: sources.text(rules, f, *l, *c),
        });
        // Consecutive pieces of one DIE make one entry.
        if last == Some(p.die.offset) {
            if let Some(e) = out.last_mut() {
                e.text.push_str(&p.text);
                if let Some(r) = rule {
                    if !e.rules.contains(&r) {
                        e.rules.push(r);
                    }
                }
            }
            continue;
        }
        last = Some(p.die.offset);
        out.push(Provenance {
            side,
            text: p.text.clone(),
            die: Die {
                offset: format!("{:#x}", p.die.offset),
                tag: p.die.tag.clone(),
                name: p.die.name.clone(),
                decl: p.die.decl.clone(),
            },
            rules: rule.into_iter().collect(),
        });
    }
    for e in out.iter_mut() {
        e.text = e.text.trim().to_string();
    }
    let mut seen = Vec::new();
    out.retain(|e| {
        let fresh = !seen.contains(e);
        if fresh {
            seen.push(e.clone());
        }
        fresh
    });
}

/// Rules files' text, read once each, for the rule behind a piece.
#[derive(Default)]
struct RuleSources {
    files: std::sync::Mutex<FxHashMap<String, Option<String>>>,
}

impl RuleSources {
    /// The text of the rule at `line:col` of `file` (to the end of that
    /// line, at most 60 characters).
    fn text(&self, _rules: &Rules, file: &str, line: u32, col: u32) -> Option<String> {
        let mut files = self.files.lock().ok()?;
        let source = files.entry(file.to_string()).or_insert_with(|| {
            if file == ksymrules_grammar::DEFAULT_RULES_NAME {
                Some(ksymrules_grammar::DEFAULT_RULES.to_string())
            } else {
                std::fs::read_to_string(file).ok()
            }
        });
        let l = source
            .as_ref()?
            .lines()
            .nth(line.checked_sub(1)? as usize)?;
        let from = l
            .char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map_or(l.len(), |(i, _)| i);
        let t = l[from..].trim_end();
        let t = t.split(" #").next().unwrap_or(t).trim_end();
        Some(if t.chars().count() > 60 {
            format!("{}…", t.chars().take(59).collect::<String>())
        } else {
            t.to_string()
        })
    }
}
