//! Reading symtypes: the file `-T` writes (gendwarfksyms' format), a
//! consolidated one (several files' symtypes, each section opened by a
//! `/* <file> */` line, as `ksymtypes consolidate` writes), or a directory
//! of `*.symtypes` files.
//!
//! ```text
//! /* net/sunrpc/clnt.symtypes */
//! s#rpc_clnt structure_type rpc_clnt { member ... } byte_size(464)
//! rpc_call_sync subprogram ( formal_parameter pointer_type { s#rpc_clnt } byte_size(8) clnt , ... ) -> base_type int byte_size(4) encoding(5)
//!
//! /* net/sunrpc/xprt.symtypes */
//! s##rpc_task
//! xprt_wake_pending_tasks subprogram ( ... s#rpc_clnt ... )
//! ```
//!
//! A line is `<name> <string>`: a type (`s#`, `u#`, `e#`, `t#`, and
//! genksyms' `E#`; quoted as `s#'a b'` when the name has a space) or an
//! exported symbol (no `#`). In a consolidated file a section may leave out
//! a type that is the same as its last definition in an earlier section,
//! and may give an opaque declaration as `s##foo` (genksyms'
//! `s#foo struct foo { UNKNOWN }`), for that section only.
//!
//! The reader is strict: the text is untrusted, and every defect is an
//! error with its line. CRCs are computed from the strings as
//! gendwarfksyms computes them (each reference expanded the first time).

use crate::corpus::{Corpus, Origin, Types, Unit};
use ksymrules_engine::typemap::{Expansion, Versioner};
use ksymrules_engine::{Error, FileError};
use rustc_hash::FxHashMap;
use std::path::Path;
use std::sync::Arc;

/// A section of symtypes: one file's lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// The file the section stands for (its header), or the file read.
    pub name: String,
    /// Types defined in the section (those it inherits are added by
    /// [`complete`]).
    pub types: Vec<(String, Expansion)>,
    /// Of those, the ones declared opaque for this section only (`s##foo`).
    pub declared: Vec<String>,
    pub symbols: Vec<(String, Expansion)>,
}

/// Parses symtypes text; `file` names it in sections without a header.
/// Errors are `line N: what`.
pub fn parse(text: &str, file: &str) -> Result<Vec<Section>, Error> {
    let mut sections: Vec<Section> = Vec::new();
    let mut consolidated = false;
    // Per section: where each name was defined, for duplicates.
    let mut defined: FxHashMap<String, usize> = FxHashMap::default();
    for (i, raw) in text.split('\n').enumerate() {
        let n = i + 1;
        let err = |msg: String| Error::new(format!("line {n}: {msg}"));
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("/*") {
            let Some(name) = rest.strip_suffix("*/") else {
                return Err(err(
                    "a file header (`/* <file> */`) that does not end in `*/`".into(),
                ));
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(err("a file header without a file name".into()));
            }
            if !consolidated && !sections.is_empty() {
                return Err(err(
                    "a file header after lines that had none (a consolidated file starts with one)"
                        .into(),
                ));
            }
            consolidated = true;
            sections.push(Section {
                name: name.to_string(),
                ..Section::default()
            });
            defined.clear();
            continue;
        }
        if sections.is_empty() {
            sections.push(Section {
                name: file.to_string(),
                ..Section::default()
            });
        }
        let section = sections.last_mut().expect("pushed above");
        let (name, string) = split_line(line).map_err(err)?;
        let key = name.replacen("##", "#", 1);
        if let Some(&first) = defined.get(&key) {
            return Err(err(format!(
                "{key} is defined twice (first on line {first})"
            )));
        }
        defined.insert(key, n);
        if let Some(opaque) = string {
            let exp = parse_string(opaque).map_err(|e| err(format!("{name}: {e}")))?;
            if is_type_name(&name) {
                section.types.push((name, exp));
            } else {
                section.symbols.push((name, exp));
            }
        } else {
            // `s##foo`: an opaque declaration, in genksyms' words.
            let (kind, bare) = opaque_kind(&name).map_err(err)?;
            let text = format!("{kind} {bare} {{ UNKNOWN }}");
            let name = name.replacen("##", "#", 1);
            section.declared.push(name.clone());
            section.types.push((name, plain(text)));
        }
    }
    Ok(sections)
}

/// A string without references.
fn plain(text: String) -> Expansion {
    Expansion {
        text,
        refs: Vec::new(),
    }
}

/// Type names have a one-letter kind and `#`.
fn is_type_name(name: &str) -> bool {
    name.as_bytes().get(1) == Some(&b'#')
}

const KINDS: &[u8] = b"stueE";

/// `s##foo` → ("struct", "foo").
fn opaque_kind(name: &str) -> Result<(&'static str, &str), String> {
    let kind = match name.as_bytes().first() {
        Some(b's') => "struct",
        Some(b'u') => "union",
        Some(b'e') => "enum",
        _ => return Err(format!("{name}: only s##, u## and e## declarations exist")),
    };
    Ok((kind, name[3..].trim_matches('\'')))
}

/// A line's name and string (`None` for a `s##foo` declaration).
fn split_line(line: &str) -> Result<(String, Option<&str>), String> {
    let bytes = line.as_bytes();
    if bytes.first() == Some(&b' ') {
        return Err("a line that starts with a space (no name)".into());
    }
    let end = if is_type_name(line) {
        let kind = bytes[0];
        if !KINDS.contains(&kind) {
            return Err(format!(
                "unknown type prefix `{}#` (s#, u#, e#, t# or E#)",
                kind as char
            ));
        }
        if bytes.get(2) == Some(&b'#') {
            // s##foo (or s##'a b'): nothing may follow.
            let end = reference_end(&line[1..], 0).map(|e| e + 1)?;
            if end != line.len() {
                return Err(format!(
                    "{}: a `##` declaration has no string",
                    &line[..end]
                ));
            }
            return Ok((line.to_string(), None));
        }
        reference_end(line, 0)?
    } else {
        let end = line.find(' ').unwrap_or(line.len());
        if line[..end].contains('#') {
            return Err(format!(
                "`{}` is neither a type (s#, u#, e#, t#, E#) nor a symbol",
                &line[..end]
            ));
        }
        end
    };
    let name = &line[..end];
    if name.len() <= 2 && is_type_name(name) {
        return Err("an empty type name".into());
    }
    match line[end..].strip_prefix(' ') {
        Some(s) if !s.is_empty() => Ok((name.to_string(), Some(s))),
        _ => Err(format!(
            "{name}: no string after the name (a truncated line?)"
        )),
    }
}

/// Where the reference starting at `at` (`s#foo` or `s#'a b'`) ends.
fn reference_end(s: &str, at: usize) -> Result<usize, String> {
    let bytes = s.as_bytes();
    let start = at + 2;
    if bytes.get(start) == Some(&b'\'') {
        // Quoted: up to a quote followed by a space or the end.
        let mut i = start + 1;
        while i < bytes.len() {
            if bytes[i] == b'\'' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
                if i == start + 1 {
                    return Err("an empty quoted type name".into());
                }
                return Ok(i + 1);
            }
            i += 1;
        }
        // Its first 40 bytes or so, cut between characters.
        let mut cut = s.len().min(at + 40);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(format!(
            "an unterminated quoted reference `{}`",
            &s[at..cut]
        ));
    }
    let end = s[start..].find(' ').map_or(s.len(), |e| start + e);
    if end == start {
        return Err("an empty type name".into());
    }
    Ok(end)
}

/// A string with its references (`s#foo` tokens) marked.
pub fn parse_string(s: &str) -> Result<Expansion, String> {
    let bytes = s.as_bytes();
    let mut refs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Tokens start at the beginning or after a space.
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'#') && bytes[i].is_ascii_alphabetic() {
            if !KINDS.contains(&bytes[i]) {
                return Err(format!("unknown reference prefix `{}#`", bytes[i] as char));
            }
            let end = reference_end(s, i)?;
            refs.push((i as u32, end as u32));
            i = end;
            continue;
        }
        i = s[i..].find(' ').map_or(bytes.len(), |e| i + e);
    }
    if s.len() > u32::MAX as usize {
        return Err("a string longer than 4 GiB".into());
    }
    Ok(Expansion {
        text: s.to_string(),
        refs,
    })
}

/// Gives each section the types it inherits: in a consolidated file, a
/// type a section refers to but does not define is its last definition in
/// an earlier section. Returns the units and their exports with CRCs.
pub fn complete(sections: Vec<Section>) -> Result<Vec<(Unit, Exports)>, Error> {
    let mut last: FxHashMap<String, Arc<Expansion>> = FxHashMap::default();
    let mut out = Vec::new();
    for section in sections {
        let mut types: Types = FxHashMap::default();
        for (name, exp) in section.types {
            let exp = Arc::new(exp);
            types.insert(name.clone(), exp.clone());
            if !section.declared.contains(&name) {
                last.insert(name, exp);
            }
        }
        // Inherit what is referred to and missing, transitively.
        let mut todo: Vec<Arc<Expansion>> = types.values().cloned().collect();
        todo.extend(section.symbols.iter().map(|(_, e)| Arc::new(e.clone())));
        while let Some(exp) = todo.pop() {
            for &(a, b) in &exp.refs {
                let name = &exp.text[a as usize..b as usize];
                if types.contains_key(name) {
                    continue;
                }
                match last.get(name) {
                    Some(t) => {
                        types.insert(name.to_string(), t.clone());
                        todo.push(t.clone());
                    }
                    None => {
                        return Err(Error::new(format!(
                            "{}: unknown type reference {name} (no section defines it)",
                            section.name
                        )))
                    }
                }
            }
        }
        let versioner = Versioner::new(&types);
        let mut exports = Vec::new();
        for (name, exp) in section.symbols {
            let crc = versioner
                .crc(&exp)
                .map_err(|e| Error::new(format!("{}: {name}: {e}", section.name)))?;
            exports.push((name, crc, Arc::new(exp)));
        }
        out.push((
            Unit {
                name: section.name,
                types,
            },
            exports,
        ));
    }
    Ok(out)
}

/// A unit's exports: name, CRC, string.
pub type Exports = Vec<(String, u32, Arc<Expansion>)>;

/// Reads a symtypes file, a consolidated one, or a directory of
/// `*.symtypes` files (recursively, in name order).
pub fn read(path: &Path) -> Result<Corpus, FileError> {
    let mut corpus = Corpus::new(path.display().to_string(), Origin::Symtypes);
    let files = if path.is_dir() {
        let mut files = Vec::new();
        collect(path, &mut files).map_err(|e| FileError {
            file: path.display().to_string(),
            error: Error::new(format!("cannot read the directory: {e}")),
        })?;
        files.sort();
        if files.is_empty() {
            return Err(FileError {
                file: path.display().to_string(),
                error: Error::new("no *.symtypes file in this directory"),
            });
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    for f in files {
        let file = f.display().to_string();
        let fail = |error: Error| FileError {
            file: file.clone(),
            error,
        };
        let bytes = std::fs::read(&f).map_err(|e| fail(Error::new(format!("cannot read: {e}"))))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            fail(Error::new(format!(
                "not a symtypes file (invalid UTF-8 at byte {})",
                e.utf8_error().valid_up_to()
            )))
        })?;
        let name = if path.is_dir() {
            f.strip_prefix(path).unwrap_or(&f).display().to_string()
        } else {
            file.clone()
        };
        let sections = parse(&text, &name).map_err(fail)?;
        for (unit, exports) in complete(sections).map_err(fail)? {
            corpus.add_unit(unit, exports);
        }
    }
    Ok(corpus)
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "symtypes") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
