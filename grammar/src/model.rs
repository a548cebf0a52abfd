//! The rules as the engine runs them: templates expanded, names resolved
//! to DWARF constants, globs compiled. Built from syntax trees by
//! [`crate::compile`].
//!
//! Every list, text and recursive node of the model is either owned (rules
//! compiled at run time: `--rules`, kABI files, tuning) or borrowed from a
//! `static` (the embedded default rules, which [`crate::codegen`] writes as
//! constant data at build time, so that a run reads them in place). Both
//! read alike; a change to a borrowed part copies it first (`to_mut`). For
//! example, a rule (simpler than the default one)
//!
//! ```text
//! type pointer_type { "pointer_type" if has(type) { " " type } }
//! ```
//!
//! is, embedded, a [`TagMap`] entry whose [`Template`] borrows
//! its [`Op`]s:
//!
//! ```text
//! (DW_TAG_pointer_type, Template { ops: Borrowed(&[
//!     Text(Borrowed("pointer_type"), ..),
//!     If(Borrowed(&[(Has(Field(Attr(DW_AT_type, Reference))),
//!                    Borrowed(&[Text(Borrowed(" "), ..), Field(Attr(DW_AT_type, Reference), ..)]))]),
//!        Borrowed(&[])),
//! ]), .. })
//! ```
//!
//! and the same ops, owned, when compiled from a rules file at run time.

use crate::ast::{Action, Pos};
use crate::names::AttrClass;
use gimli::{DwAt, DwTag};
use std::borrow::Cow;

/// Text in the rules: borrowed from the embedded default rules (a `static`
/// compiled at build time, see [`crate::codegen`]) or owned.
pub type Text = Cow<'static, str>;

/// A list in the rules, borrowed from the embedded default rules or owned.
/// Changed in place with `to_mut` (which copies a borrowed list first).
pub type List<T> = Cow<'static, [T]>;

/// One value of a recursive piece of the rules (`not COND`, `a + b`):
/// borrowed from the embedded default rules or boxed.
pub enum Node<T: 'static> {
    Static(&'static T),
    Owned(Box<T>),
}

impl<T> Node<T> {
    pub fn new(value: T) -> Self {
        Node::Owned(Box::new(value))
    }
}

impl<T: Clone> Node<T> {
    /// The value, copied out of the embedded rules if it is borrowed.
    pub fn into_inner(self) -> T {
        match self {
            Node::Static(t) => t.clone(),
            Node::Owned(b) => *b,
        }
    }
}

impl<T> std::ops::Deref for Node<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Node::Static(t) => t,
            Node::Owned(b) => b,
        }
    }
}

impl<T: Clone> Clone for Node<T> {
    fn clone(&self) -> Self {
        match self {
            Node::Static(t) => Node::Static(t),
            Node::Owned(b) => Node::Owned(b.clone()),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Node<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Node<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for Node<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Node<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

/// A map by tag, kept sorted: the few tags a rules file names. Borrowed
/// from the embedded default rules or owned, like [`List`]; read like a
/// `BTreeMap`.
#[derive(Clone)]
pub struct TagMap<V: Clone + 'static> {
    /// Sorted by tag, each tag once. Public for [`crate::codegen`]'s
    /// constant expressions only.
    #[doc(hidden)]
    pub entries: List<(DwTag, V)>,
}

impl<V: Clone> TagMap<V> {
    pub const fn new() -> Self {
        TagMap {
            entries: Cow::Borrowed(&[]),
        }
    }

    fn find(&self, tag: &DwTag) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&tag.0, |(t, _)| t.0)
    }

    pub fn get(&self, tag: &DwTag) -> Option<&V> {
        self.find(tag).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, tag: &DwTag) -> Option<&mut V> {
        let i = self.find(tag).ok()?;
        Some(&mut self.entries.to_mut()[i].1)
    }

    pub fn contains_key(&self, tag: &DwTag) -> bool {
        self.find(tag).is_ok()
    }

    /// Sets the value of `tag`, giving back the one it replaces.
    pub fn insert(&mut self, tag: DwTag, value: V) -> Option<V> {
        match self.find(&tag) {
            Ok(i) => Some(std::mem::replace(&mut self.entries.to_mut()[i].1, value)),
            Err(i) => {
                self.entries.to_mut().insert(i, (tag, value));
                None
            }
        }
    }

    pub fn remove(&mut self, tag: &DwTag) -> Option<V> {
        let i = self.find(tag).ok()?;
        Some(self.entries.to_mut().remove(i).1)
    }

    /// The entries in tag order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&DwTag, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(t, v)| (t, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&DwTag, &mut V)> {
        self.entries.to_mut().iter_mut().map(|(t, v)| (&*t, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &DwTag> + ExactSizeIterator {
        self.entries.iter().map(|(t, _)| t)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.to_mut().iter_mut().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries as a sorted slice.
    pub fn as_slice(&self) -> &[(DwTag, V)] {
        &self.entries
    }
}

impl<V: Clone> Default for TagMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone> FromIterator<(DwTag, V)> for TagMap<V> {
    /// The last value given for a tag wins, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (DwTag, V)>>(iter: I) -> Self {
        let mut map = TagMap::new();
        for (tag, value) in iter {
            map.insert(tag, value);
        }
        map
    }
}

impl<'m, V: Clone> IntoIterator for &'m TagMap<V> {
    type Item = (&'m DwTag, &'m V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'m, (DwTag, V)>, fn(&'m (DwTag, V)) -> (&'m DwTag, &'m V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(t, v)| (t, v))
    }
}

impl<V: Clone> std::ops::Index<&DwTag> for TagMap<V> {
    type Output = V;
    /// The value of `tag`; panics when there is none, as a `BTreeMap` does.
    fn index(&self, tag: &DwTag) -> &V {
        self.get(tag).expect("no entry for the tag in the TagMap")
    }
}

impl<V: Clone + std::fmt::Debug> std::fmt::Debug for TagMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Where a rule was written: file (index into [`Rules::files`]) and position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: u16,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Variables named `<prefix><symbol>` are symbol pointers.
    pub symbol_pointer_prefix: Text,
    /// Follow `DW_FORM_ref_sig8` references into type units.
    pub follow_type_units: bool,
    /// Wraps a reference name that contains a space.
    pub reference_quote: Text,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            symbol_pointer_prefix: "__gendwarfksyms_ptr_".into(),
            follow_type_units: false,
            reference_quote: "'".into(),
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
    Via(DwAt, Node<Field>),
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
    Declonly(Text),
    EnumeratorIgnore(Text, Text),
    EnumeratorValue(Text, Text, u64),
    ByteSize(Text, u64),
    TypeString(Text, Text),
}

/// A tuning statement, compiled: a change made to the compiled rules (see
/// [`crate::tune`]), from a rules file or a kABI file.
#[derive(Clone, Debug)]
pub enum Tuning {
    /// `drop ATTR, ... [from TAG, ...] [in "GLOB"] [when COND]`
    Drop {
        attrs: List<DwAt>,
        /// Empty: every tag.
        from: List<DwTag>,
        within: Option<Glob>,
        when: Option<Cond>,
        origin: Origin,
    },
    /// `opaque "GLOB", ... [when COND]`
    Opaque {
        globs: List<Glob>,
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
    Str(Text),
    Field(Field),
    Var(Text),
    Func(Builtin, List<Expr>),
    Add(Node<Expr>, Node<Expr>),
    Sub(Node<Expr>, Node<Expr>),
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
    Not(Node<Cond>),
    And(List<Cond>),
    Or(List<Cond>),
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
    pub pattern: Text,
    /// Public for [`crate::codegen`]'s constant expressions only (a
    /// `static` cannot call a function to build one).
    #[doc(hidden)]
    pub how: GlobMatch,
}

#[doc(hidden)]
#[derive(Clone)]
pub enum GlobMatch {
    Exact,
    /// `text*`
    Prefix(Text),
    /// `*text`
    Suffix(Text),
    /// Boxed: a matcher is large, and conditions are kept by value.
    Matcher(Box<globset::GlobMatcher>),
    /// Another shape, in the embedded default rules: a matcher cannot be
    /// built at compile time, so it is built at each match. (The default
    /// rules use the shapes above only.)
    Embedded,
}

/// How a glob is matched: the part of it compared, for the simple shapes.
pub(crate) enum GlobShape<'p> {
    Exact,
    Prefix(&'p str),
    Suffix(&'p str),
    Other,
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, globset::Error> {
        let how = match Self::shape(pattern) {
            GlobShape::Exact => GlobMatch::Exact,
            GlobShape::Prefix(p) => GlobMatch::Prefix(p.to_string().into()),
            GlobShape::Suffix(s) => GlobMatch::Suffix(s.to_string().into()),
            GlobShape::Other => {
                GlobMatch::Matcher(Box::new(globset::Glob::new(pattern)?.compile_matcher()))
            }
        };
        Ok(Glob {
            pattern: pattern.to_string().into(),
            how,
        })
    }

    /// How `pattern` is matched: the part of it to compare for the simple
    /// shapes.
    fn shape(pattern: &str) -> GlobShape<'_> {
        let plain = |s: &str| !s.contains(['*', '?', '[', ']', '{', '}', '\\']);
        if plain(pattern) {
            GlobShape::Exact
        } else if let Some(p) = pattern.strip_suffix('*').filter(|p| plain(p)) {
            GlobShape::Prefix(p)
        } else if let Some(s) = pattern.strip_prefix('*').filter(|s| plain(s)) {
            GlobShape::Suffix(s)
        } else {
            GlobShape::Other
        }
    }

    pub fn is_match(&self, s: &str) -> bool {
        match &self.how {
            GlobMatch::Exact => s == self.pattern,
            GlobMatch::Prefix(p) => s.starts_with(&**p),
            GlobMatch::Suffix(x) => s.ends_with(&**x),
            GlobMatch::Matcher(m) => m.is_match(s),
            GlobMatch::Embedded => {
                globset::Glob::new(&self.pattern).is_ok_and(|g| g.compile_matcher().is_match(s))
            }
        }
    }

    /// How this glob is matched ([`crate::codegen`] writes it).
    pub(crate) fn embedded_shape(&self) -> GlobShape<'_> {
        Self::shape(&self.pattern)
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
    Text(Text, Origin),
    /// Print a field; a reference field describes the DIE it points to.
    Field(Field, Origin),
    /// Print an expression's value.
    Value(Expr, Origin),
    /// A line break changing the depth by -1, 0 or +1.
    Break(i8),
    /// The pieces of the first arm whose condition holds, else `otherwise`.
    If(List<(Cond, List<Op>)>, List<Op>),
    /// Printed before every list item but the first of its list.
    Separator(List<Op>),
    /// Visit the children in order; each takes the first arm that fits.
    Children(List<ChildArm>),
    /// Set a variable for the rest of the symbol's walk (absent: clear).
    SetVar(Text, Expr),
    /// Set a variable for the DIEs described from this one on, until this
    /// DIE's description ends.
    LetVar(Text, Expr),
    ClearVar(Text),
}

#[derive(Clone, Debug)]
pub struct ChildArm {
    /// `None` matches every tag.
    pub tags: Option<List<DwTag>>,
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
    pub ops: List<Op>,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub struct Rules {
    /// The files the rules were read from, in the order they were read.
    pub files: List<Text>,
    pub settings: Settings,
    /// Tags whose named DIEs are written as references, with their prefix.
    pub references: TagMap<Text>,
    /// Tags expanded once per symbol.
    pub expand_tags: List<DwTag>,
    /// When such a DIE may be expanded at all.
    pub expand_when: Option<Cond>,
    pub types: TagMap<Template>,
    pub subprogram: Template,
    pub variable: Template,
    /// When kABI `type_string` rules replace strings.
    pub replace_when: Option<Cond>,
    /// kABI rules written in the rules files.
    pub kabi: List<KabiRule>,
    /// Where each of `kabi` was written (rules from an object's section
    /// are not here).
    pub kabi_origins: List<Origin>,
    /// The tuning statements made (already applied; kept to check them
    /// against objects: `ksymrules check-rules`).
    pub tunings: List<Tuning>,
    /// The `--stable` these rules were specialised for, if they were
    /// (`Rules::specialize`); they must not run with the other.
    pub specialized: Option<bool>,
}

impl Rules {
    pub fn is_expanded_once(&self, tag: DwTag) -> bool {
        self.expand_tags.contains(&tag)
    }

    pub fn reference_prefix(&self, tag: DwTag) -> Option<&str> {
        self.references.get(&tag).map(|p| &**p)
    }
}

impl Rules {
    /// The attributes the rules read of a DIE of `tag` when they describe
    /// it: printed, or tested in a condition (an attribute outside this set
    /// can change without changing any version).
    pub fn attributes_read(&self, tag: DwTag) -> std::collections::BTreeSet<DwAt> {
        let mut out = std::collections::BTreeSet::new();
        self.for_each_attribute_read(tag, &mut |at| {
            out.insert(at);
        });
        out
    }

    /// `attributes_read`, each given to `f` as it is met (some more than
    /// once), without building a set.
    pub fn for_each_attribute_read(&self, tag: DwTag, f: &mut dyn FnMut(DwAt)) {
        let template = if tag == gimli::DW_TAG_subprogram {
            Some(&self.subprogram)
        } else if tag == gimli::DW_TAG_variable {
            Some(&self.variable)
        } else {
            self.types.get(&tag)
        };
        if let Some(t) = template {
            ops_attrs(&t.ops, f);
        }
        if self.expand_tags.contains(&tag) {
            if let Some(c) = &self.expand_when {
                cond_attrs(c, f);
            }
        }
    }
}

impl Cond {
    /// The attributes this condition reads of the DIE it is tested on.
    pub fn attributes(&self) -> std::collections::BTreeSet<DwAt> {
        let mut out = std::collections::BTreeSet::new();
        cond_attrs(self, &mut |at| {
            out.insert(at);
        });
        out
    }
}

fn ops_attrs(ops: &[Op], out: &mut dyn FnMut(DwAt)) {
    for op in ops {
        match op {
            Op::Text(..) | Op::Break(_) | Op::ClearVar(_) => {}
            Op::Field(f, _) => field_attrs(f, out),
            Op::Value(e, _) | Op::SetVar(_, e) | Op::LetVar(_, e) => expr_attrs(e, out),
            Op::If(arms, otherwise) => {
                for (c, body) in arms.iter() {
                    cond_attrs(c, out);
                    ops_attrs(body, out);
                }
                ops_attrs(otherwise, out);
            }
            Op::Separator(body) => ops_attrs(body, out),
            Op::Children(arms) => {
                for arm in arms.iter() {
                    if let Some(c) = &arm.when {
                        cond_attrs(c, out);
                    }
                }
            }
        }
    }
}

fn field_attrs(f: &Field, out: &mut dyn FnMut(DwAt)) {
    match f {
        Field::Attr(at, _) | Field::Via(at, _) => out(*at),
        _ => {}
    }
}

fn expr_attrs(e: &Expr, out: &mut dyn FnMut(DwAt)) {
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

fn cond_attrs(c: &Cond, out: &mut dyn FnMut(DwAt)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug)]
    enum Change {
        Insert(u16, u8),
        Remove(u16),
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            (0u16..40, any::<u8>()).prop_map(|(t, v)| Change::Insert(t, v)),
            (0u16..40).prop_map(Change::Remove),
        ]
    }

    static BORROWED: [(DwTag, u8); 3] = [(DwTag(2), 20), (DwTag(5), 50), (DwTag(9), 90)];

    proptest! {
        /// A TagMap, borrowed to begin with or not, reads and changes like
        /// a BTreeMap.
        #[test]
        fn tag_map_is_a_btree_map(borrowed: bool, changes in prop::collection::vec(change(), 0..60)) {
            let mut map: TagMap<u8> = if borrowed {
                TagMap { entries: Cow::Borrowed(&BORROWED) }
            } else {
                TagMap::new()
            };
            let mut model: BTreeMap<DwTag, u8> =
                if borrowed { BORROWED.iter().copied().collect() } else { BTreeMap::new() };
            for c in changes {
                match c {
                    Change::Insert(t, v) => {
                        prop_assert_eq!(map.insert(DwTag(t), v), model.insert(DwTag(t), v));
                    }
                    Change::Remove(t) => {
                        prop_assert_eq!(map.remove(&DwTag(t)), model.remove(&DwTag(t)));
                    }
                }
                for t in 0..40 {
                    prop_assert_eq!(map.get(&DwTag(t)), model.get(&DwTag(t)));
                    prop_assert_eq!(map.contains_key(&DwTag(t)), model.contains_key(&DwTag(t)));
                }
                let listed: Vec<_> = map.iter().map(|(t, v)| (*t, *v)).collect();
                let expected: Vec<_> = model.iter().map(|(t, v)| (*t, *v)).collect();
                prop_assert_eq!(listed, expected);
                prop_assert_eq!(format!("{map:?}"), format!("{model:?}"));
            }
        }
    }

    /// A borrowed list or node changed with `to_mut`/`into_inner` is copied;
    /// the static original is left as it was.
    #[test]
    fn borrowed_parts_are_copied_on_change() {
        static OPS: [Op; 1] = [Op::Break(1)];
        static NOT: Cond = Cond::Stable;
        let mut ops: List<Op> = Cow::Borrowed(&OPS);
        ops.to_mut().push(Op::Break(-1));
        assert_eq!(ops.len(), 2);
        assert_eq!(OPS.len(), 1);
        let node = Node::Static(&NOT);
        assert!(matches!(node.clone().into_inner(), Cond::Stable));
        assert!(matches!(*Node::new(Cond::Expanded), Cond::Expanded));
    }

    /// Globs of each shape match the same when built at run time and when
    /// written as `crate::codegen` writes them.
    #[test]
    fn embedded_globs_match_like_compiled_ones() {
        let names = ["foo.c", "foo.h", "__kabi_x", "x__kabi_", "abc", "abd", "a"];
        for pattern in ["*.c", "__kabi_*", "abc", "a?c", "{foo.c,abd}"] {
            let compiled = Glob::new(pattern).unwrap();
            let how = match compiled.embedded_shape() {
                GlobShape::Exact => GlobMatch::Exact,
                GlobShape::Prefix(p) => GlobMatch::Prefix(p.to_string().into()),
                GlobShape::Suffix(s) => GlobMatch::Suffix(s.to_string().into()),
                GlobShape::Other => GlobMatch::Embedded,
            };
            let embedded = Glob {
                pattern: pattern.to_string().into(),
                how,
            };
            for n in names {
                assert_eq!(compiled.is_match(n), embedded.is_match(n), "{pattern} {n}");
            }
        }
        assert!(Glob::new("a?c").unwrap().is_match("abc"));
        assert!(!Glob::new("*.c").unwrap().is_match("foo.h"));
    }
}
