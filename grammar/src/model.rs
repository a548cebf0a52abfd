//! The rules as the engine runs them: templates expanded, names resolved
//! to DWARF constants, globs compiled. Built from syntax trees by
//! [`crate::compile`].

use crate::ast::{Action, Pos};
use crate::names::AttrClass;
use gimli::{DwAt, DwTag};
use std::collections::BTreeMap;

/// Where a rule was written: file (index into [`Rules::files`]) and position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: u16,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Variables named `<prefix><symbol>` are symbol pointers.
    pub symbol_pointer_prefix: String,
    /// Follow `DW_FORM_ref_sig8` references into type units.
    pub follow_type_units: bool,
    /// Wraps a reference name that contains a space.
    pub reference_quote: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            symbol_pointer_prefix: "__gendwarfksyms_ptr_".to_string(),
            follow_type_units: false,
            reference_quote: "'".to_string(),
        }
    }
}

/// A value a template can print or test.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The DIE's fully qualified name (empty when unnamed).
    Fqn,
    /// The DIE's tag, as the rules spell it (`structure_type`).
    Tag,
    /// An attribute of the DIE, read as its class says.
    Attr(DwAt, AttrClass),
    /// For a union following the kABI conventions: `reserved` (a
    /// `__kabi_reserved*` or `__kabi_renamed*` placeholder) or `ignored`
    /// (`__kabi_ignored*`); absent otherwise.
    KabiStatus,
    /// The placeholder's type of such a union (a reference).
    KabiPlaceholder,
    /// The original name given by a `__kabi_renamed<orig>` placeholder.
    KabiRenamed,
    /// A field of the DIE a reference attribute points to: `type.tag`.
    Via(DwAt, Box<Field>),
    /// A field of the compilation unit the DIE is in: `unit.language`.
    Unit(UnitField),
}

/// What `unit.X` reads from the unit's root DIE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnitField {
    /// `DW_AT_language` as a name: `C`, `C++`, `Rust`, `assembly`, or
    /// DWARF's own name without `DW_LANG_` (`Go`, `Mips_Assembler`, ...).
    Language,
    /// `DW_AT_producer`: `GNU C11 12.2.0 ...`, `clang version 16 ...`,
    /// `rustc version 1.85.1 ...`.
    Producer,
    /// `DW_AT_name`: the unit's source file.
    Name,
}

impl UnitField {
    /// The name `unit.language` gives a `DW_AT_language` value.
    pub fn language_name(lang: u16) -> String {
        use gimli::constants as c;
        match gimli::DwLang(lang) {
            c::DW_LANG_C89 | c::DW_LANG_C | c::DW_LANG_C99 | c::DW_LANG_C11 | c::DW_LANG_C17 => {
                "C".to_string()
            }
            c::DW_LANG_C_plus_plus
            | c::DW_LANG_C_plus_plus_03
            | c::DW_LANG_C_plus_plus_11
            | c::DW_LANG_C_plus_plus_14
            | c::DW_LANG_C_plus_plus_17
            | c::DW_LANG_C_plus_plus_20 => "C++".to_string(),
            c::DW_LANG_Rust => "Rust".to_string(),
            c::DW_LANG_Mips_Assembler => "assembly".to_string(),
            other => match other.static_string() {
                Some(s) => s.trim_start_matches("DW_LANG_").to_string(),
                None => format!("{lang:#x}"),
            },
        }
    }
}

impl Field {
    /// Whether printing this field describes a DIE.
    pub fn is_reference(&self) -> bool {
        match self {
            Field::Attr(_, AttrClass::Reference) | Field::KabiPlaceholder => true,
            Field::Via(_, f) => f.is_reference(),
            _ => false,
        }
    }
}

/// Functions the rules can call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `kabi_declonly(fqn)`: 1 when a kABI `declonly` rule names the type.
    KabiDeclonly,
    /// `kabi_enumerator_ignored(enum_fqn, name)`: 1 when the enumerator is
    /// to be left out.
    KabiEnumeratorIgnored,
    /// `kabi_enumerator_value(enum_fqn, name)`: the value to print instead.
    KabiEnumeratorValue,
    /// `kabi_byte_size(fqn)`: the size to print instead.
    KabiByteSize,
}

impl Builtin {
    pub const ALL: [(&'static str, Builtin, usize); 4] = [
        ("kabi_declonly", Builtin::KabiDeclonly, 1),
        ("kabi_enumerator_ignored", Builtin::KabiEnumeratorIgnored, 2),
        ("kabi_enumerator_value", Builtin::KabiEnumeratorValue, 2),
        ("kabi_byte_size", Builtin::KabiByteSize, 1),
    ];
}

/// A kABI rule written in a rules file (`kabi declonly "name"`): the same
/// five kinds as an object's `.discard.gendwarfksyms.kabi_rules` section.
/// Targets may be globs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KabiRule {
    Declonly(String),
    EnumeratorIgnore(String, String),
    EnumeratorValue(String, String, u64),
    ByteSize(String, u64),
    TypeString(String, String),
}

/// A tuning statement, compiled: a change made to the compiled rules (see
/// [`crate::tune`]), from a rules file or a kABI file.
#[derive(Clone, Debug)]
pub enum Tuning {
    /// `drop ATTR, ... [from TAG, ...] [in "GLOB"] [when COND]`
    Drop {
        attrs: Vec<DwAt>,
        /// Empty: every tag.
        from: Vec<DwTag>,
        within: Option<Glob>,
        when: Option<Cond>,
        origin: Origin,
    },
    /// `opaque "GLOB", ... [when COND]`
    Opaque {
        globs: Vec<Glob>,
        when: Option<Cond>,
        origin: Origin,
    },
    /// `omit member|enumerator|parameter "GLOB" [in "GLOB"] [when COND]`
    Omit {
        tag: DwTag,
        glob: Glob,
        within: Option<Glob>,
        when: Option<Cond>,
        origin: Origin,
    },
}

#[derive(Clone, Debug)]
pub enum Expr {
    Int(u64),
    Str(String),
    Field(Field),
    Var(String),
    Func(Builtin, Vec<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
}

#[derive(Clone, Debug)]
pub enum Cond {
    /// The field is present (a flag: present and set; `fqn`: not empty).
    Has(Expr),
    /// The DIE is being expanded: first reached in this symbol's walk and
    /// the `expand ... when` condition holds.
    Expanded,
    /// `--stable` was given.
    Stable,
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Eq(Expr, Expr),
    Ne(Expr, Expr),
    Match(Expr, Glob),
    NoMatch(Expr, Glob),
}

/// A compiled glob pattern (`*`, `?`, `[...]`, `{a,b}`), as globset reads
/// it (`*` matches `/` too). The common shapes, a literal with one `*` at
/// its start or end, are matched without a regular expression.
#[derive(Clone)]
pub struct Glob {
    pub pattern: String,
    how: GlobMatch,
}

#[derive(Clone)]
enum GlobMatch {
    Exact,
    /// `text*`
    Prefix(String),
    /// `*text`
    Suffix(String),
    /// Boxed: a matcher is large, and conditions are kept by value.
    Matcher(Box<globset::GlobMatcher>),
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, globset::Error> {
        let plain = |s: &str| !s.contains(['*', '?', '[', ']', '{', '}', '\\']);
        let how = if plain(pattern) {
            GlobMatch::Exact
        } else if let Some(p) = pattern.strip_suffix('*').filter(|p| plain(p)) {
            GlobMatch::Prefix(p.to_string())
        } else if let Some(s) = pattern.strip_prefix('*').filter(|s| plain(s)) {
            GlobMatch::Suffix(s.to_string())
        } else {
            GlobMatch::Matcher(Box::new(globset::Glob::new(pattern)?.compile_matcher()))
        };
        Ok(Glob {
            pattern: pattern.to_string(),
            how,
        })
    }

    pub fn is_match(&self, s: &str) -> bool {
        match &self.how {
            GlobMatch::Exact => s == self.pattern,
            GlobMatch::Prefix(p) => s.starts_with(p.as_str()),
            GlobMatch::Suffix(x) => s.ends_with(x.as_str()),
            GlobMatch::Matcher(m) => m.is_match(s),
        }
    }
}

impl std::fmt::Debug for Glob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Glob({:?})", self.pattern)
    }
}

/// The pieces of a rule. Those that print say where they were written
/// (for `--explain`; the walk itself never looks).
#[derive(Clone, Debug)]
pub enum Op {
    /// Literal text.
    Text(String, Origin),
    /// Print a field; a reference field describes the DIE it points to.
    Field(Field, Origin),
    /// Print an expression's value.
    Value(Expr, Origin),
    /// A line break changing the depth by -1, 0 or +1.
    Break(i8),
    /// The pieces of the first arm whose condition holds, else `otherwise`.
    If(Vec<(Cond, Vec<Op>)>, Vec<Op>),
    /// Printed before every list item but the first of its list.
    Separator(Vec<Op>),
    /// Visit the children in order; each takes the first arm that fits.
    Children(Vec<ChildArm>),
    /// Set a variable for the rest of the symbol's walk (absent: clear).
    SetVar(String, Expr),
    /// Set a variable for the DIEs described from this one on, until this
    /// DIE's description ends.
    LetVar(String, Expr),
    ClearVar(String),
}

#[derive(Clone, Debug)]
pub struct ChildArm {
    /// `None` matches every tag.
    pub tags: Option<Vec<DwTag>>,
    pub when: Option<Cond>,
    pub action: Action,
}

impl ChildArm {
    pub fn fits(&self, tag: DwTag) -> bool {
        self.tags.as_ref().is_none_or(|t| t.contains(&tag))
    }
}

/// The pieces for one tag (or one kind of symbol).
#[derive(Clone, Debug)]
pub struct Template {
    pub ops: Vec<Op>,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub struct Rules {
    /// The files the rules were read from, in the order they were read.
    pub files: Vec<String>,
    pub settings: Settings,
    /// Tags whose named DIEs are written as references, with their prefix.
    pub references: BTreeMap<DwTag, String>,
    /// Tags expanded once per symbol.
    pub expand_tags: Vec<DwTag>,
    /// When such a DIE may be expanded at all.
    pub expand_when: Option<Cond>,
    pub types: BTreeMap<DwTag, Template>,
    pub subprogram: Template,
    pub variable: Template,
    /// When kABI `type_string` rules replace strings.
    pub replace_when: Option<Cond>,
    /// kABI rules written in the rules files.
    pub kabi: Vec<KabiRule>,
    /// Where each of `kabi` was written (rules from an object's section
    /// are not here).
    pub kabi_origins: Vec<Origin>,
    /// The tuning statements made (already applied; kept to check them
    /// against objects: `ksymrules check-rules`).
    pub tunings: Vec<Tuning>,
    /// The `--stable` these rules were specialised for, if they were
    /// (`Rules::specialize`); they must not run with the other.
    pub specialized: Option<bool>,
}

impl Rules {
    pub fn is_expanded_once(&self, tag: DwTag) -> bool {
        self.expand_tags.contains(&tag)
    }

    pub fn reference_prefix(&self, tag: DwTag) -> Option<&str> {
        self.references.get(&tag).map(String::as_str)
    }
}

impl Rules {
    /// The attributes the rules read of a DIE of `tag` when they describe
    /// it: printed, or tested in a condition (an attribute outside this set
    /// can change without changing any version).
    pub fn attributes_read(&self, tag: DwTag) -> std::collections::BTreeSet<DwAt> {
        let mut out = std::collections::BTreeSet::new();
        let template = if tag == gimli::DW_TAG_subprogram {
            Some(&self.subprogram)
        } else if tag == gimli::DW_TAG_variable {
            Some(&self.variable)
        } else {
            self.types.get(&tag)
        };
        if let Some(t) = template {
            ops_attrs(&t.ops, &mut out);
        }
        if self.expand_tags.contains(&tag) {
            if let Some(c) = &self.expand_when {
                cond_attrs(c, &mut out);
            }
        }
        out
    }
}

impl Cond {
    /// The attributes this condition reads of the DIE it is tested on.
    pub fn attributes(&self) -> std::collections::BTreeSet<DwAt> {
        let mut out = std::collections::BTreeSet::new();
        cond_attrs(self, &mut out);
        out
    }
}

fn ops_attrs(ops: &[Op], out: &mut std::collections::BTreeSet<DwAt>) {
    for op in ops {
        match op {
            Op::Text(..) | Op::Break(_) | Op::ClearVar(_) => {}
            Op::Field(f, _) => field_attrs(f, out),
            Op::Value(e, _) | Op::SetVar(_, e) | Op::LetVar(_, e) => expr_attrs(e, out),
            Op::If(arms, otherwise) => {
                for (c, body) in arms {
                    cond_attrs(c, out);
                    ops_attrs(body, out);
                }
                ops_attrs(otherwise, out);
            }
            Op::Separator(body) => ops_attrs(body, out),
            Op::Children(arms) => {
                for arm in arms {
                    if let Some(c) = &arm.when {
                        cond_attrs(c, out);
                    }
                }
            }
        }
    }
}

fn field_attrs(f: &Field, out: &mut std::collections::BTreeSet<DwAt>) {
    match f {
        Field::Attr(at, _) | Field::Via(at, _) => {
            out.insert(*at);
        }
        _ => {}
    }
}

fn expr_attrs(e: &Expr, out: &mut std::collections::BTreeSet<DwAt>) {
    match e {
        Expr::Field(f) => field_attrs(f, out),
        Expr::Func(_, args) => args.iter().for_each(|a| expr_attrs(a, out)),
        Expr::Add(a, b) | Expr::Sub(a, b) => {
            expr_attrs(a, out);
            expr_attrs(b, out);
        }
        Expr::Int(_) | Expr::Str(_) | Expr::Var(_) => {}
    }
}

fn cond_attrs(c: &Cond, out: &mut std::collections::BTreeSet<DwAt>) {
    match c {
        Cond::Has(e) => expr_attrs(e, out),
        Cond::Expanded | Cond::Stable => {}
        Cond::Not(c) => cond_attrs(c, out),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| cond_attrs(c, out)),
        Cond::Eq(a, b) | Cond::Ne(a, b) => {
            expr_attrs(a, out);
            expr_attrs(b, out);
        }
        Cond::Match(e, _) | Cond::NoMatch(e, _) => expr_attrs(e, out),
    }
}
