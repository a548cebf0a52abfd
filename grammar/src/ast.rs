//! The syntax tree of one rules file, as written (templates not yet
//! expanded, names not yet checked against DWARF).

use std::fmt;

/// A position in a rules file (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A name together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub pos: Pos,
}

impl Name {
    pub fn new(text: impl Into<String>) -> Self {
        Name {
            text: text.into(),
            pos: Pos::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub version: u32,
    pub version_pos: Pos,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Str(String),
    Int(u64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// `include "default"` or `include "path/relative/to/this/file"`.
    Include { path: String, pos: Pos },
    /// `set name = literal`
    Set { name: Name, value: Literal },
    /// `reference tag, tag as "s#"`
    Reference { tags: Vec<Name>, prefix: String },
    /// `expand tag, tag when cond`
    Expand { tags: Vec<Name>, when: Option<Cond> },
    /// `template name(param, ...) { ... }`
    Template {
        name: Name,
        params: Vec<Name>,
        body: Vec<Piece>,
    },
    /// `type tag, tag { ... }` or `type tag = template(args)`
    Type { tags: Vec<Name>, body: Body },
    /// `symbol subprogram { ... }` or `symbol variable = template(args)`
    Symbol { kind: Name, body: Body },
    /// `replace strings when cond`: kABI `type_string` rules replace the
    /// strings of the types and symbols they name.
    Replace { when: Cond, pos: Pos },
    /// `kabi declonly "target"`, `kabi byte_size "target" 16`, ...: a kABI
    /// rule kept in a rules file rather than in the object.
    Kabi {
        kind: Name,
        target: String,
        args: Vec<Literal>,
    },
    /// `drop alignment, accessibility from member in "foo*" when cond`:
    /// these attributes are left out of the strings (of DIEs of these tags;
    /// in types named like the glob and what they contain; where the
    /// condition holds).
    Drop {
        attrs: Vec<Name>,
        from: Vec<Name>,
        within: Option<Name>,
        when: Option<Cond>,
    },
    /// `opaque "sk_buff", "net_device*" when cond`: types named like these
    /// globs are never expanded.
    Opaque {
        globs: Vec<Name>,
        when: Option<Cond>,
    },
    /// `omit member "__reserved*" in "foo*" when cond`: members (or
    /// enumerators, or parameters) named like the glob are left out.
    Omit {
        kind: Name,
        glob: Name,
        within: Option<Name>,
        when: Option<Cond>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Block(Vec<Piece>),
    Call(Call),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Name,
    pub args: Vec<Literal>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Break {
    /// `newline`: a line break at the same depth.
    Newline,
    /// `indent`: a line break, one level deeper.
    Indent,
    /// `dedent`: a line break, one level shallower.
    Dedent,
}

impl Break {
    pub fn depth_change(self) -> i8 {
        match self {
            Break::Newline => 0,
            Break::Indent => 1,
            Break::Dedent => -1,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Literal text.
    Text(String, Pos),
    /// A named value printed: an attribute, `fqn`, or a template parameter.
    /// A reference attribute (`type`) describes the DIE it refers to.
    Field(Name),
    /// `value(expr)`: the expression's value printed.
    Value(Expr, Pos),
    /// `attr(name)`: ` name(<value>)` when the DIE has it as a constant.
    Attr(Name),
    Break(Break, Pos),
    If {
        arms: Vec<(Cond, Vec<Piece>)>,
        otherwise: Vec<Piece>,
        pos: Pos,
    },
    /// `separator { ... }`: printed before every item of a list but the first.
    Separator(Vec<Piece>, Pos),
    /// `children(tag, ...)` / `each child { ... }`.
    Children(Vec<Arm>, Pos),
    /// A template used inline: `name(args)`.
    Call(Call),
    /// `set $v = expr`: a variable for the rest of the symbol's walk
    /// (an absent value clears it).
    SetVar(Name, Expr),
    /// `let $v = expr`: a variable for the DIEs this one describes.
    LetVar(Name, Expr),
    /// `clear $v`
    ClearVar(Name),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    /// `None` is `*`: any tag.
    pub tags: Option<Vec<Name>>,
    pub when: Option<Cond>,
    pub action: Action,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Describe,
    Skip,
    Error(std::borrow::Cow<'static, str>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Has(Expr),
    Expanded(Pos),
    Stable(Pos),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Compare(Expr, CmpOp, Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Match,
    NoMatch,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Match => "~",
            CmpOp::NoMatch => "!~",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Int(u64, Pos),
    Str(String, Pos),
    /// A field, or a path through a reference: `type.kabi_status`.
    Field(Name),
    /// A variable: `$renamed`.
    Var(Name),
    /// A built-in function: `kabi_byte_size(fqn)`.
    Func(Name, Vec<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
}

impl Expr {
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Int(_, p) | Expr::Str(_, p) => *p,
            Expr::Field(n) | Expr::Var(n) | Expr::Func(n, _) => n.pos,
            Expr::Add(a, _) | Expr::Sub(a, _) => a.pos(),
        }
    }
}
