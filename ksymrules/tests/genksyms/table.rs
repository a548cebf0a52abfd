//! The change classes of `corpus/c/changes/` and the agreement table
//! `docs/genksyms-vs-dwarf.md` generated from their runs.
//!
//! A class is a directory holding `base.c`, `changed.c`, any headers they
//! include, and `class.toml`:
//!
//! ```toml
//! description = "one line: what the change is"
//! reason = "one line: why the tools disagree"   # only when they disagree
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

use super::tools::{self, Compiler, Tools};

pub const TABLE_PATH: &str = "docs/genksyms-vs-dwarf.md";
const CHANGES: &str = "corpus/c/changes";

pub struct Class {
    pub name: String,
    pub dir: PathBuf,
    pub description: String,
    pub reason: Option<String>,
}

/// Every class, sorted by name.
pub fn load_classes() -> Result<Vec<Class>, String> {
    let root = tools::workspace().join(CHANGES);
    let mut classes = Vec::new();
    for entry in std::fs::read_dir(&root).map_err(|e| format!("{}: {e}", root.display()))? {
        let dir = entry.map_err(|e| e.to_string())?.path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let toml_path = dir.join("class.toml");
        let text = std::fs::read_to_string(&toml_path)
            .map_err(|e| format!("{}: {e}", toml_path.display()))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| format!("{}: {e}", toml_path.display()))?;
        for key in table.keys() {
            if key != "description" && key != "reason" && key != "compare" {
                return Err(format!("{}: unknown key {key}", toml_path.display()));
            }
        }
        let get = |key: &str| -> Result<Option<String>, String> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => {
                    if s.contains('|') || s.contains('\n') || s.trim().is_empty() {
                        Err(format!(
                            "{}: {key} must be one non-empty line without '|'",
                            toml_path.display()
                        ))
                    } else {
                        Ok(Some(s.trim().to_string()))
                    }
                }
                Some(_) => Err(format!("{}: {key} must be a string", toml_path.display())),
            }
        };
        let description = get("description")?
            .ok_or_else(|| format!("{}: no description", toml_path.display()))?;
        let reason = get("reason")?;
        for f in ["base.c", "changed.c"] {
            if !dir.join(f).is_file() {
                return Err(format!("{}: no {f}", dir.display()));
            }
        }
        classes.push(Class {
            name,
            dir,
            description,
            reason,
        });
    }
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(classes)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub class: String,
    pub description: String,
    /// Whether genksyms' CRC of some exported symbol changed.
    pub genksyms: bool,
    pub gcc: bool,
    pub clang: bool,
    pub reason: Option<String>,
}

impl Row {
    pub fn dwarf(&self, cc: Compiler) -> bool {
        match cc {
            Compiler::Gcc => self.gcc,
            Compiler::Clang => self.clang,
        }
    }

    pub fn agree(&self) -> bool {
        self.genksyms == self.gcc && self.gcc == self.clang
    }
}

/// Whether some symbol's CRC differs between `a` and `b` (both must version
/// the same symbols).
fn changed(a: &[(String, u32)], b: &[(String, u32)], what: &str) -> Result<bool, String> {
    let mut x: Vec<_> = a.to_vec();
    let mut y: Vec<_> = b.to_vec();
    x.sort();
    y.sort();
    let xn: Vec<_> = x.iter().map(|(n, _)| n).collect();
    let yn: Vec<_> = y.iter().map(|(n, _)| n).collect();
    if xn != yn {
        return Err(format!(
            "{what}: base and changed export different symbols: {xn:?} vs {yn:?}"
        ));
    }
    Ok(x != y)
}

pub fn run_class(tools: &Tools, class: &Class) -> Result<Row, String> {
    let inc = [class.dir.as_path()];
    let base = tools::run_both(tools, &class.dir.join("base.c"), &inc, &Compiler::ALL)?;
    let chg = tools::run_both(tools, &class.dir.join("changed.c"), &inc, &Compiler::ALL)?;
    let genksyms = changed(&base.genksyms.crcs, &chg.genksyms.crcs, "genksyms")?;
    let gcc = changed(
        &base.dwarf_for(Compiler::Gcc).crcs,
        &chg.dwarf_for(Compiler::Gcc).crcs,
        "gcc",
    )?;
    let clang = changed(
        &base.dwarf_for(Compiler::Clang).crcs,
        &chg.dwarf_for(Compiler::Clang).crcs,
        "clang",
    )?;
    Ok(Row {
        class: class.name.clone(),
        description: class.description.clone(),
        genksyms,
        gcc,
        clang,
        reason: class.reason.clone(),
    })
}

/// A class whose tools disagree needs a reason; one whose tools agree must
/// not have one (it would be stale).
pub fn check_reasons(rows: &[Row]) -> Vec<String> {
    let mut errors = Vec::new();
    for r in rows {
        let cells = format!(
            "genksyms {}, gcc {}, clang {}",
            cell(r.genksyms),
            cell(r.gcc),
            cell(r.clang)
        );
        match (r.agree(), &r.reason) {
            (false, None) => errors.push(format!(
                "{}: the tools disagree ({cells}): add a `reason` to its class.toml",
                r.class
            )),
            (true, Some(_)) => errors.push(format!(
                "{}: the tools agree ({cells}): remove the `reason` from its class.toml",
                r.class
            )),
            _ => {}
        }
    }
    errors
}

fn cell(changed: bool) -> &'static str {
    if changed {
        "changed"
    } else {
        "same"
    }
}

fn parse_cell(s: &str) -> Result<bool, String> {
    match s {
        "changed" => Ok(true),
        "same" => Ok(false),
        _ => Err(format!("bad cell {s:?}")),
    }
}

const HEADER: &str =
    "| class | change | genksyms | DWARF (gcc) | DWARF (clang) | why they disagree |";

pub fn render(rows: &[Row]) -> String {
    let mut s = String::new();
    let agree = rows.iter().filter(|r| r.agree()).count();
    let known: Vec<&Row> = rows
        .iter()
        .filter(|r| r.genksyms && !(r.gcc && r.clang))
        .collect();
    let dwarf_only: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.genksyms && (r.gcc || r.clang))
        .collect();
    let cc_differ: Vec<&Row> = rows.iter().filter(|r| r.gcc != r.clang).collect();
    s.push_str(
        "# genksyms vs DWARF: which source changes change a symbol's CRC\n\
         \n\
         <!-- Generated by ksymrules/tests/genksyms.rs (change_classes_table); do not edit.\n     \
         Regenerate: UPDATE_GENKSYMS_TABLE=1 cargo test -p ksymrules --test genksyms --release change_classes_table -->\n\
         \n\
         Each class is a directory of `corpus/c/changes/`: a program `base.c`, the\n\
         same program with one kind of change `changed.c`, and `class.toml`. Both\n\
         are run through\n\
         \n\
         * **genksyms**, the kernel's source-based tool (Debian's `linux-kbuild-6.1`):\n  \
         `gcc -E -D__GENKSYMS__ file.c | genksyms -T symtypes`, the exported symbols\n  \
         being marked by `EXPORT(sym)` (`corpus/c/export.h`), which expands to\n  \
         `__GENKSYMS_EXPORT_SYMBOL(sym)` under `__GENKSYMS__`;\n\
         * **DWARF**: `gcc -g -c` and `clang -g -c` (DWARF 5), then `ksymrules` with\n  \
         its default rules, which compute what the kernel's gendwarfksyms computes.\n\
         \n\
         A cell says whether the CRC of at least one exported symbol changed between\n\
         base and changed. The property test `prop_genksyms_changes_are_seen` takes\n\
         the rows where genksyms says *changed* and DWARF *same* as known\n\
         disagreements: for every other class, a change genksyms detects in a random\n\
         program must be detected by ksymrules too.\n\
         \n",
    );
    writeln!(
        s,
        "{} classes; the three columns agree on {agree}, genksyms alone sees {}, \
         DWARF alone sees {}, gcc and clang differ on {}.",
        rows.len(),
        known.len(),
        dwarf_only.len(),
        cc_differ.len()
    )
    .unwrap();
    writeln!(s).unwrap();
    writeln!(s, "{HEADER}").unwrap();
    writeln!(s, "|---|---|---|---|---|---|").unwrap();
    for r in rows {
        writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            r.class,
            r.description,
            cell(r.genksyms),
            cell(r.gcc),
            cell(r.clang),
            r.reason.as_deref().unwrap_or("")
        )
        .unwrap();
    }
    let list = |s: &mut String, title: &str, rows: &[&Row]| {
        writeln!(s).unwrap();
        writeln!(s, "## {title}").unwrap();
        writeln!(s).unwrap();
        if rows.is_empty() {
            writeln!(s, "None.").unwrap();
        }
        for r in rows {
            writeln!(s, "* `{}`: {}", r.class, r.reason.as_deref().unwrap_or("")).unwrap();
        }
    };
    list(
        &mut s,
        "Known disagreements: genksyms sees the change, DWARF does not",
        &known,
    );
    list(
        &mut s,
        "DWARF sees the change, genksyms does not",
        &dwarf_only,
    );
    list(&mut s, "gcc and clang DWARF differ", &cc_differ);
    s.push_str(NOTES);
    s
}

const NOTES: &str = "
## Notes

* The two tools' CRCs of a symbol are unrelated (different type strings);
  only whether a change moves them is compared. The snapshots
  `ksymrules/tests/snapshots/genksyms__program_*.snap` show both tools'
  strings for the programs of `corpus/c/programs/`.
* genksyms drops parameter names, `restrict`, and attributes after a
  structure's closing brace or on a typedef, but keeps an attribute on a
  member as tokens (`long a __attribute__ ( ( aligned ( 16 ) ) ) ;`).
* genksyms writes `struct s { UNKNOWN }` for a structure, union or enum
  defined in the `.c` file it versions, the counterpart of gendwarfksyms not
  expanding types declared in a `.c` file; it does expand typedefs defined
  there.
* gcc and clang give the same symbol different CRCs more often than not:
  clang 14 gives pointers no `DW_AT_byte_size`, names base types differently
  (`long` for gcc's `long int`), gives union members a
  `DW_AT_data_member_location`, and records no `DW_AT_alignment` for a
  structure aligned through a member.
";

/// The rows of a rendered table.
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        if line == HEADER {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        if !line.starts_with('|') {
            if !rows.is_empty() {
                break;
            }
            continue;
        }
        let cells: Vec<&str> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim())
            .collect();
        let err = |e: String| format!("line {}: {e}", i + 1);
        if cells.len() != 6 {
            return Err(err(format!("{} cells", cells.len())));
        }
        rows.push(Row {
            class: cells[0].trim_matches('`').to_string(),
            description: cells[1].to_string(),
            genksyms: parse_cell(cells[2]).map_err(err)?,
            gcc: parse_cell(cells[3]).map_err(err)?,
            clang: parse_cell(cells[4]).map_err(err)?,
            reason: (!cells[5].is_empty()).then(|| cells[5].to_string()),
        });
    }
    if rows.is_empty() {
        return Err("no table".to_string());
    }
    Ok(rows)
}
