//! The ksymrules rules language.
//!
//! A rules file says, per DWARF tag, which pieces make up a DIE's type
//! string: literal text, names, attributes, the referenced type, children,
//! list separators and line breaks, under conditions. It also names the
//! types that are written as references and the expansion policy. The
//! grammar is `rules.pest`; [`parse`] builds the syntax tree ([`ast`]) and
//! [`compile`] checks it and expands templates into [`model::Rules`], which
//! the engine interprets.

pub mod ast;
pub mod codegen;
pub mod compile;
pub mod diagnostic;
mod fold;
pub mod model;
pub mod names;
pub mod parse;
pub mod print;
pub mod tune;

pub use compile::{FsLoader, Loader};
pub use model::Rules;

/// For the code [`codegen`] writes.
#[doc(hidden)]
pub use gimli;

/// The rules-language version this build reads (the `ksymrules N` header).
pub const RULES_VERSION: u32 = 1;

/// The default rules: gendwarfksyms' type strings, bit for bit.
pub const DEFAULT_RULES: &str = include_str!("../../rules/gendwarfksyms.rules");

/// How the embedded default rules are named in messages and includes.
pub const DEFAULT_RULES_NAME: &str = "<default rules>";

/// A problem in a rules file, with where it is (line 0: the file as a
/// whole). [`diagnostic::render`] shows it with the source line.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct RulesError {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
    /// How many characters from `col` the problem spans (0: one).
    pub len: u32,
    /// Another place that explains it: (line, column, label), e.g. the
    /// `(` a missing `)` would close.
    pub related: Option<(u32, u32, String)>,
    /// What to do about it (`did you mean ...`).
    pub hint: Option<String>,
}

impl RulesError {
    pub fn at(file: &str, pos: ast::Pos, message: impl Into<String>) -> Self {
        RulesError {
            file: file.to_string(),
            line: pos.line,
            col: pos.col,
            message: message.into(),
            ..RulesError::default()
        }
    }

    /// The same error, with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The embedded default rules, compiled.
pub fn default_rules() -> Rules {
    compile::load(DEFAULT_RULES_NAME, DEFAULT_RULES, &FsLoader)
        .expect("the embedded default rules are valid (checked by tests)")
}

/// Rules from a file on disk; includes are resolved relative to it.
pub fn load_file(path: &std::path::Path) -> Result<Rules, RulesError> {
    let name = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| RulesError {
        file: name.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read: {e}"),
        ..RulesError::default()
    })?;
    let text = String::from_utf8(text).map_err(|e| RulesError {
        file: name.clone(),
        line: 0,
        col: 0,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ..RulesError::default()
    })?;
    compile::load(&name, &text, &FsLoader)
}

/// kABI rules from a file of `kabi` statements.
pub fn load_kabi_file(path: &std::path::Path) -> Result<compile::KabiFile, RulesError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| RulesError {
        file: name.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read: {e}"),
        ..RulesError::default()
    })?;
    compile::load_kabi(&name, &text)
}

/// Rules from text, named `name` in messages.
pub fn load_str(name: &str, text: &str) -> Result<Rules, RulesError> {
    compile::load(name, text, &FsLoader)
}
