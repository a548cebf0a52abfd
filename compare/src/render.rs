//! The report as text: the human form (a summary that fits on a screen,
//! then each cause in detail, then the exports) and the short form (one
//! line per changed export). JSON is the report serialised as it is.

use crate::report::{Kind, Report};
use anstyle::{AnsiColor, Style};
use std::fmt::Write as _;

/// Causes listed in the summary; the rest are counted.
const SUMMARY_CAUSES: usize = 20;
/// Exports named under a cause before "and N more".
const NAMED_EXPORTS: usize = 12;

/// Styles of the human form (all plain without colour).
struct Styles {
    head: Style,
    old: Style,
    new: Style,
    dim: Style,
}

impl Styles {
    fn new(color: bool) -> Self {
        if !color {
            let p = Style::new();
            return Styles {
                head: p,
                old: p,
                new: p,
                dim: p,
            };
        }
        Styles {
            head: Style::new().bold(),
            old: AnsiColor::Red.on_default(),
            new: AnsiColor::Green.on_default(),
            dim: Style::new().dimmed(),
        }
    }
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

fn names(list: &[String], max: usize) -> String {
    let shown: Vec<&str> = list.iter().take(max).map(String::as_str).collect();
    let more = list.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The human report.
pub fn human(r: &Report, color: bool) -> String {
    let s = Styles::new(color);
    let mut o = String::new();
    let t = &r.totals;
    let _ = writeln!(o, "{}", paint(s.head, "ksymrules compare"));
    let _ = writeln!(o, "  old: {}", r.old);
    let _ = writeln!(o, "  new: {}", r.new);
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{} in common: {} changed, {} unchanged; {} added, {} removed.",
        plural(t.common, "export", "exports"),
        t.changed,
        t.common - t.changed,
        t.added,
        t.removed
    );
    if !r.differs() {
        let _ = writeln!(o, "No differences.");
        quirks(&mut o, r, &s);
        return o;
    }
    if !r.causes.is_empty() {
        let _ = writeln!(
            o,
            "{}, by the exports they reach:",
            plural(t.causes, "cause", "causes")
        );
        let width = r
            .causes
            .iter()
            .take(SUMMARY_CAUSES)
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        for c in r.causes.iter().take(SUMMARY_CAUSES) {
            let name = if c.name.chars().count() > 40 {
                format!("{}…", c.name.chars().take(39).collect::<String>())
            } else {
                c.name.clone()
            };
            let _ = writeln!(
                o,
                "  {:>5}  {name:<width$}  {:<6}  {}",
                c.exports.len(),
                c.kind.word(),
                one_line(&c.summary, 100)
            );
        }
        if r.causes.len() > SUMMARY_CAUSES {
            let _ = writeln!(
                o,
                "  … and {} more causes (below)",
                r.causes.len() - SUMMARY_CAUSES
            );
        }
    }
    if let Some(sg) = &r.suggestion {
        let _ = writeln!(o);
        let kinds: Vec<String> = sg.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            o,
            "Suggested kABI rules: {} ({}: {})",
            sg.file,
            plural(sg.rules, "rule", "rules"),
            kinds.join(", ")
        );
        let strings = sg.by_kind.get("type_string").copied().unwrap_or(0);
        if strings * 2 > sg.rules && r.causes.iter().any(|c| c.kind == Kind::Edit) {
            let _ = writeln!(
                o,
                "  most are type_strings: a change that recurs across types (the edit causes) \
                 can only be kept by keeping each string it is in whole"
            );
        }
        if sg.checked {
            let _ = writeln!(
                o,
                "  checked: versioned again with --stable and the file, {}/{} changed exports have their old CRC",
                sg.restored.len(),
                sg.restored.len() + sg.not_restored.len()
            );
            for n in &sg.not_restored {
                let _ = writeln!(o, "  not restored: {} {}: {}", n.symbol, n.crc, n.reason);
            }
        } else {
            let _ = writeln!(
                o,
                "  not checked: NEW is not objects, so it cannot be versioned again"
            );
        }
        if !sg.symbol_rules.is_empty() {
            let _ = writeln!(
                o,
                "  {} on exports whose own string changed (only such a rule keeps their version): {}",
                plural(sg.symbol_rules.len(), "type_string", "type_strings"),
                names(&sg.symbol_rules, NAMED_EXPORTS)
            );
        }
    }

    if !r.causes.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", paint(s.head, "Causes"));
        for (i, c) in r.causes.iter().enumerate() {
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "{} {}",
                paint(s.head, &format!("{}. {}", i + 1, c.name)),
                paint(s.dim, &format!("({})", c.kind.word()))
            );
            let _ = writeln!(o, "   {}", c.summary);
            let _ = writeln!(
                o,
                "   reaches {}: {}",
                plural(c.exports.len(), "export", "exports"),
                names(&c.exports, NAMED_EXPORTS)
            );
            if c.kind == Kind::Edit {
                let _ = writeln!(
                    o,
                    "   in {}: {}",
                    plural(c.occurrences.len(), "string", "strings"),
                    names(&c.occurrences, NAMED_EXPORTS)
                );
                if let Some(first) = c.occurrences.first() {
                    let _ = writeln!(o, "   as in {first}:");
                }
            }
            for line in &c.diff {
                let styled = match line.as_bytes().first() {
                    Some(b'-') => paint(s.old, line),
                    Some(b'+') => paint(s.new, line),
                    _ => line.clone(),
                };
                let _ = writeln!(o, "     {styled}");
            }
            if let Some(n) = &c.provenance_note {
                let _ = writeln!(o, "   ({n})");
            }
            if !c.provenance.is_empty() {
                let _ = writeln!(o, "   from:");
                for p in &c.provenance {
                    let mut die = format!("{} {}", p.die.offset, p.die.tag);
                    if let Some(n) = &p.die.name {
                        let _ = write!(die, " {n}");
                    }
                    if let Some(d) = &p.die.decl {
                        let _ = write!(die, " ({d})");
                    }
                    let sign = if p.side == "old" { "-" } else { "+" };
                    let _ = writeln!(o, "     {sign} {:?}  DIE {die}", one_line(&p.text, 60));
                    if !p.rules.is_empty() {
                        let _ = writeln!(o, "         rules {}", rules_line(&p.rules));
                    }
                }
                if c.provenance_omitted > 0 {
                    let _ = writeln!(o, "     … and {} more pieces", c.provenance_omitted);
                }
            }
        }
    }

    if !r.changed.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", paint(s.head, "Changed exports"));
        // Causes most changed exports share (four in five) are said once;
        // an export that has them all is said with its others only.
        let mut count: std::collections::BTreeMap<&str, usize> = Default::default();
        for c in &r.changed {
            for n in &c.causes {
                *count.entry(n.as_str()).or_default() += 1;
            }
        }
        let many = r.changed.len() * 4 / 5;
        let shared: Vec<&str> = r
            .causes
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| r.changed.len() >= 5 && count.get(n).is_some_and(|&k| k >= many))
            .collect();
        let shared = if shared.len() >= 2 {
            shared
        } else {
            Vec::new()
        };
        if !shared.is_empty() {
            let list: Vec<String> = shared.iter().map(|n| n.to_string()).collect();
            let _ = writeln!(
                o,
                "  the common causes ({} of them, shared by most): {}",
                list.len(),
                names(&list, 30)
            );
        }
        for c in &r.changed {
            let has_all =
                !shared.is_empty() && shared.iter().all(|n| c.causes.iter().any(|x| x == n));
            let rest: Vec<&str> = c
                .causes
                .iter()
                .map(String::as_str)
                .filter(|n| !has_all || !shared.contains(n))
                .collect();
            let causes = match (has_all, rest.is_empty()) {
                (false, _) => rest.join(", "),
                (true, true) => "the common causes".to_string(),
                (true, false) => format!("the common causes, and {}", rest.join(", ")),
            };
            let _ = writeln!(o, "  {} {} -> {}: {causes}", c.symbol, c.old_crc, c.new_crc);
        }
    }
    if !r.added.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "{} {}", paint(s.head, "Added:"), r.added.join(", "));
    }
    quirks(&mut o, r, &s);
    if !r.removed.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "{} {}", paint(s.head, "Removed:"), r.removed.join(", "));
    }
    o
}

/// The rules of a piece: `file:line:col `text``, the file said once.
fn rules_line(rules: &[crate::report::RuleRef]) -> String {
    let mut out = Vec::new();
    let mut file = "";
    for r in rules {
        let (f, pos) = match r
            .at
            .rsplit_once(':')
            .and_then(|(a, c)| a.rsplit_once(':').map(|(f, l)| (f, format!("{l}:{c}"))))
        {
            Some(x) => x,
            None => ("", r.at.clone()),
        };
        let at = if f == file {
            pos
        } else {
            file = f;
            r.at.clone()
        };
        out.push(match &r.text {
            Some(t) => format!("{at} `{t}`"),
            None => at,
        });
    }
    out.join(", ")
}

/// The quirks of both sides, if any were asked for.
fn quirks(o: &mut String, r: &Report, s: &Styles) {
    if r.quirks.is_empty() {
        return;
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{}",
        paint(s.head, "Quirks (docs/gendwarfksyms-semantics.md)")
    );
    for q in &r.quirks {
        let _ = writeln!(o, "  {} {}: {}: {}", q.side, q.file, q.kind, q.what);
    }
}

/// At most `max` characters of a text, on one line.
fn one_line(text: &str, max: usize) -> String {
    let t = text.replace('\n', " ");
    if t.chars().count() > max {
        format!("{}…", t.chars().take(max - 1).collect::<String>())
    } else {
        t
    }
}

/// One line per changed export (`name 0xold -> 0xnew: cause, cause`), then
/// the added and removed ones.
pub fn short(r: &Report) -> String {
    let mut o = String::new();
    for c in &r.changed {
        let _ = writeln!(
            o,
            "{} {} -> {}: {}",
            c.symbol,
            c.old_crc,
            c.new_crc,
            c.causes.join(", ")
        );
    }
    for a in &r.added {
        let _ = writeln!(o, "{a} added");
    }
    for a in &r.removed {
        let _ = writeln!(o, "{a} removed");
    }
    o
}

/// The report as JSON (pretty, with a final newline).
pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; say so if it ever does.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    s.push('\n');
    s
}
