//! Random C programs and random changes to them, for the property tests.
//!
//! A program is a header `gen.h` (enums, typedefs, structures and unions) and
//! a file `gen.c` that includes it and defines exported functions and
//! variables. It is built from a stream of random numbers where 0 is always
//! the simplest choice, so that proptest's shrinking (of the numbers toward 0,
//! and of the stream's length) gives small programs.
//!
//! A [`Mutation`] is one of the change classes of `corpus/c/changes/` applied
//! at one place of a program.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

// ---------------------------------------------------------------------------
// The model

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Int,
    UInt,
    Long,
    ULong,
    Char,
    SChar,
    UChar,
    Short,
    UShort,
    LongLong,
    ULongLong,
    Bool,
    Float,
    Double,
}

impl Base {
    const ALL: [Base; 14] = [
        Base::Int,
        Base::UInt,
        Base::Long,
        Base::ULong,
        Base::Char,
        Base::SChar,
        Base::UChar,
        Base::Short,
        Base::UShort,
        Base::LongLong,
        Base::ULongLong,
        Base::Bool,
        Base::Float,
        Base::Double,
    ];

    /// The usual spelling, and another spelling of the same type.
    fn spellings(self) -> (&'static str, Option<&'static str>) {
        match self {
            Base::Int => ("int", Some("signed int")),
            Base::UInt => ("unsigned int", Some("unsigned")),
            Base::Long => ("long", Some("long int")),
            Base::ULong => ("unsigned long", Some("long unsigned int")),
            Base::Char => ("char", None),
            Base::SChar => ("signed char", Some("char signed")),
            Base::UChar => ("unsigned char", Some("char unsigned")),
            Base::Short => ("short", Some("short int")),
            Base::UShort => ("unsigned short", Some("unsigned short int")),
            Base::LongLong => ("long long", Some("long long int")),
            Base::ULongLong => ("unsigned long long", Some("unsigned long long int")),
            Base::Bool => ("_Bool", None),
            Base::Float => ("float", None),
            Base::Double => ("double", None),
        }
    }

    fn flip_sign(self) -> Option<Base> {
        Some(match self {
            Base::Int => Base::UInt,
            Base::UInt => Base::Int,
            Base::Long => Base::ULong,
            Base::ULong => Base::Long,
            Base::SChar => Base::UChar,
            Base::UChar => Base::SChar,
            Base::Short => Base::UShort,
            Base::UShort => Base::Short,
            Base::LongLong => Base::ULongLong,
            Base::ULongLong => Base::LongLong,
            _ => return None,
        })
    }

    fn to_long(self) -> Option<Base> {
        match self {
            Base::Int => Some(Base::Long),
            Base::UInt => Some(Base::ULong),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Void,
    /// A base type, and whether it is written in its other spelling.
    Base(Base, bool),
    Enum(usize),
    Typedef(usize),
    /// A structure or union, by index.
    Agg(usize),
    /// A pointer to a type, the pointee maybe `const`/`volatile`.
    Ptr {
        to: Box<Ty>,
        konst: bool,
        volatile: bool,
    },
    /// An array, and whether its size is written as an expression.
    Array(Box<Ty>, u32, bool),
    /// A pointer to a function.
    FnPtr(Box<Ty>, Vec<Ty>),
}

impl Ty {
    fn base(b: Base) -> Ty {
        Ty::Base(b, false)
    }

    fn ptr(to: Ty) -> Ty {
        Ty::Ptr {
            to: Box::new(to),
            konst: false,
            volatile: false,
        }
    }

    /// Whether this type holds aggregate `i` by value (so `i` must be complete).
    fn holds_by_value(&self, i: usize) -> bool {
        match self {
            Ty::Agg(j) => *j == i,
            Ty::Array(t, _, _) => t.holds_by_value(i),
            _ => false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Item {
    pub name: String,
    pub value: Option<i64>,
    /// The explicit value is written in hexadecimal.
    pub hex: bool,
}

#[derive(Clone, Debug)]
pub struct Enum {
    pub name: String,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub struct Typedef {
    pub name: String,
    pub target: Ty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Header,
    Source,
    DeclOnly,
}

#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    pub ty: Ty,
    pub bits: Option<u32>,
    pub aligned: bool,
}

#[derive(Clone, Debug)]
pub struct Agg {
    pub name: String,
    pub union: bool,
    pub members: Vec<Member>,
    pub placement: Placement,
    pub packed: bool,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub ty: Ty,
    /// Top-level `const` (`const int x`).
    pub konst: bool,
    /// `restrict` on a pointer.
    pub restrict: bool,
    /// A pointer written as an array (`int p[4]`).
    pub as_array: bool,
}

#[derive(Clone, Debug)]
pub struct Func {
    pub name: String,
    pub ret: Ty,
    pub params: Vec<Param>,
    pub variadic: bool,
    /// No parameters written `()` rather than `(void)`.
    pub empty_parens: bool,
}

#[derive(Clone, Debug)]
pub struct Var {
    pub name: String,
    pub ty: Ty,
}

/// Shown as its C text (`Debug` is what proptest prints for a failing case).
#[derive(Clone, Default)]
pub struct Program {
    pub enums: Vec<Enum>,
    pub typedefs: Vec<Typedef>,
    pub aggs: Vec<Agg>,
    pub funcs: Vec<Func>,
    pub vars: Vec<Var>,
    /// Comments and odd whitespace everywhere.
    pub comments: bool,
    /// An extra type no export uses.
    pub unused_type: bool,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{}", self.render())
    }
}

// ---------------------------------------------------------------------------
// Building a program from random numbers

struct Choices<'a> {
    data: &'a [u16],
    pos: usize,
}

impl Choices<'_> {
    /// A number below `n` (0 once the stream runs out).
    fn next(&mut self, n: usize) -> usize {
        let v = self.data.get(self.pos).copied().unwrap_or(0) as usize;
        self.pos += 1;
        if n == 0 {
            0
        } else {
            v % n
        }
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.next(one_in) == one_in - 1
    }
}

struct Builder<'a> {
    c: Choices<'a>,
    p: Program,
}

impl Builder<'_> {
    fn base(&mut self) -> Ty {
        // Mostly the common integer types.
        let b = if self.c.next(3) < 2 {
            Base::ALL[self.c.next(4)]
        } else {
            Base::ALL[self.c.next(Base::ALL.len())]
        };
        Ty::base(b)
    }

    fn pointee(&mut self) -> Ty {
        match self.c.next(6) {
            0 if !self.p.aggs.is_empty() => Ty::Agg(self.c.next(self.p.aggs.len())),
            1 => Ty::Void,
            2 if !self.p.enums.is_empty() => Ty::Enum(self.c.next(self.p.enums.len())),
            3 if !self.p.typedefs.is_empty() => Ty::Typedef(self.c.next(self.p.typedefs.len())),
            4 => Ty::ptr(self.base()),
            _ => self.base(),
        }
    }

    fn pointer(&mut self) -> Ty {
        let to = self.pointee();
        Ty::Ptr {
            to: Box::new(to),
            konst: self.c.chance(4),
            volatile: self.c.chance(8),
        }
    }

    fn fnptr(&mut self) -> Ty {
        let ret = match self.c.next(3) {
            0 => self.base(),
            1 => Ty::Void,
            _ => self.pointer(),
        };
        let n = self.c.next(3);
        let params = (0..n)
            .map(|_| {
                if self.c.next(2) == 0 {
                    self.base()
                } else {
                    self.pointer()
                }
            })
            .collect();
        Ty::FnPtr(Box::new(ret), params)
    }

    /// A type for a member of aggregate `me` (only earlier aggregates by value).
    fn member_ty(&mut self, me: usize) -> Ty {
        match self.c.next(8) {
            1 | 2 => self.pointer(),
            3 if !self.p.enums.is_empty() => Ty::Enum(self.c.next(self.p.enums.len())),
            4 if !self.p.typedefs.is_empty() => Ty::Typedef(self.c.next(self.p.typedefs.len())),
            5 => {
                let elem = if !self.p.enums.is_empty() && self.c.chance(3) {
                    Ty::Enum(self.c.next(self.p.enums.len()))
                } else {
                    self.base()
                };
                Ty::Array(Box::new(elem), 1 + self.c.next(8) as u32, false)
            }
            6 if me > 0 => Ty::Agg(self.c.next(me)),
            7 => self.fnptr(),
            _ => self.base(),
        }
    }

    fn value_ty(&mut self) -> Ty {
        match self.c.next(6) {
            1 => self.pointer(),
            2 if !self.p.enums.is_empty() => Ty::Enum(self.c.next(self.p.enums.len())),
            3 if !self.p.typedefs.is_empty() => Ty::Typedef(self.c.next(self.p.typedefs.len())),
            4 if !self.p.aggs.is_empty() => Ty::Agg(self.c.next(self.p.aggs.len())),
            _ => self.base(),
        }
    }

    fn build(mut self) -> Program {
        for e in 0..self.c.next(3) {
            let n = 1 + self.c.next(4);
            let items = (0..n)
                .map(|i| Item {
                    name: format!("E{e}_{i}"),
                    value: if self.c.chance(3) {
                        Some(self.c.next(40) as i64 - 8)
                    } else {
                        None
                    },
                    hex: false,
                })
                .collect();
            self.p.enums.push(Enum {
                name: format!("e{e}"),
                items,
            });
        }
        for t in 0..self.c.next(3) {
            let target = match self.c.next(3) {
                1 => self.pointer(),
                2 if !self.p.enums.is_empty() => Ty::Enum(self.c.next(self.p.enums.len())),
                _ => self.base(),
            };
            self.p.typedefs.push(Typedef {
                name: format!("t{t}"),
                target,
            });
        }
        let n_aggs = 1 + self.c.next(3);
        // Declared first so that pointers may refer to any of them.
        for s in 0..n_aggs {
            self.p.aggs.push(Agg {
                name: format!("s{s}"),
                union: false,
                members: Vec::new(),
                placement: Placement::Header,
                packed: false,
            });
        }
        for s in 0..n_aggs {
            let n = 1 + self.c.next(5);
            let mut members = Vec::new();
            for m in 0..n {
                let ty = self.member_ty(s);
                let bits = match ty {
                    Ty::Base(Base::Int | Base::UInt, _) if self.c.chance(3) => {
                        Some(1 + self.c.next(30) as u32)
                    }
                    _ => None,
                };
                members.push(Member {
                    name: format!("m{m}"),
                    ty,
                    bits,
                    aligned: false,
                });
            }
            self.p.aggs[s].union = self.c.chance(6);
            self.p.aggs[s].members = members;
        }
        for f in 0..1 + self.c.next(3) {
            let ret = match self.c.next(3) {
                0 => Ty::Void,
                _ => self.value_ty(),
            };
            let params = (0..self.c.next(4))
                .map(|i| Param {
                    name: format!("p{i}"),
                    ty: self.value_ty(),
                    konst: false,
                    restrict: false,
                    as_array: false,
                })
                .collect();
            self.p.funcs.push(Func {
                name: format!("f{f}"),
                ret,
                params,
                variadic: false,
                empty_parens: false,
            });
        }
        for v in 0..self.c.next(3) {
            let ty = if self.c.chance(4) {
                Ty::Array(Box::new(self.base()), 1 + self.c.next(8) as u32, false)
            } else {
                self.value_ty()
            };
            self.p.vars.push(Var {
                name: format!("v{v}"),
                ty,
            });
        }
        // Every aggregate reachable from an export: a pointer to each one no
        // export reaches, as a parameter of f0.
        for s in 0..self.p.aggs.len() {
            if !self.p.reachable_aggs().contains(&s) {
                let i = self.p.funcs[0].params.len();
                self.p.funcs[0].params.push(Param {
                    name: format!("p{i}"),
                    ty: Ty::ptr(Ty::Agg(s)),
                    konst: false,
                    restrict: false,
                    as_array: false,
                });
            }
        }
        self.p
    }
}

/// A random program.
pub fn program() -> impl Strategy<Value = Program> {
    prop::collection::vec(any::<u16>(), 0..120).prop_map(|data| {
        Builder {
            c: Choices {
                data: &data,
                pos: 0,
            },
            p: Program::default(),
        }
        .build()
    })
}

/// A random program and a random change.
pub fn program_and_mutation() -> impl Strategy<Value = (Program, Mutation)> {
    (
        program(),
        (0..Mutation::CLASSES.len(), any::<u16>()).prop_map(|(class, site)| Mutation {
            class,
            site: site as usize,
        }),
    )
}

// ---------------------------------------------------------------------------
// Walking types

impl Program {
    fn all_tys(&self) -> Vec<&Ty> {
        let mut v: Vec<&Ty> = Vec::new();
        v.extend(self.typedefs.iter().map(|t| &t.target));
        for a in &self.aggs {
            v.extend(a.members.iter().map(|m| &m.ty));
        }
        for f in &self.funcs {
            v.push(&f.ret);
            v.extend(f.params.iter().map(|p| &p.ty));
        }
        v.extend(self.vars.iter().map(|x| &x.ty));
        v
    }

    /// Aggregates reachable from the exported functions and variables.
    fn reachable_aggs(&self) -> Vec<usize> {
        let mut seen_aggs = Vec::new();
        let mut seen_tds = Vec::new();
        let mut stack: Vec<&Ty> = Vec::new();
        for f in &self.funcs {
            stack.push(&f.ret);
            stack.extend(f.params.iter().map(|p| &p.ty));
        }
        stack.extend(self.vars.iter().map(|x| &x.ty));
        while let Some(t) = stack.pop() {
            match t {
                Ty::Agg(i) => {
                    if !seen_aggs.contains(i) {
                        seen_aggs.push(*i);
                        stack.extend(self.aggs[*i].members.iter().map(|m| &m.ty));
                    }
                }
                Ty::Typedef(i) => {
                    if !seen_tds.contains(i) {
                        seen_tds.push(*i);
                        stack.push(&self.typedefs[*i].target);
                    }
                }
                Ty::Ptr { to, .. } => stack.push(to),
                Ty::Array(t, _, _) => stack.push(t),
                Ty::FnPtr(r, ps) => {
                    stack.push(r);
                    stack.extend(ps.iter());
                }
                Ty::Void | Ty::Base(..) | Ty::Enum(_) => {}
            }
        }
        seen_aggs
    }

    /// Whether aggregate `i` is held by value somewhere (`in_aggs_only`: by
    /// another aggregate).
    fn held_by_value(&self, i: usize, in_aggs_only: bool) -> bool {
        let in_aggs = self
            .aggs
            .iter()
            .any(|a| a.members.iter().any(|m| m.ty.holds_by_value(i)));
        if in_aggs_only {
            return in_aggs;
        }
        in_aggs || self.all_tys().iter().any(|t| t.holds_by_value(i))
    }
}

/// A place in the program holding a type.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Typedef(usize),
    Member(usize, usize),
    Ret(usize),
    Param(usize, usize),
    Var(usize),
}

impl Program {
    fn slots(&self) -> Vec<Slot> {
        let mut v = Vec::new();
        v.extend((0..self.typedefs.len()).map(Slot::Typedef));
        for (i, a) in self.aggs.iter().enumerate() {
            v.extend((0..a.members.len()).map(|j| Slot::Member(i, j)));
        }
        for (i, f) in self.funcs.iter().enumerate() {
            v.push(Slot::Ret(i));
            v.extend((0..f.params.len()).map(|j| Slot::Param(i, j)));
        }
        v.extend((0..self.vars.len()).map(Slot::Var));
        v
    }

    fn ty(&self, s: Slot) -> &Ty {
        match s {
            Slot::Typedef(i) => &self.typedefs[i].target,
            Slot::Member(i, j) => &self.aggs[i].members[j].ty,
            Slot::Ret(i) => &self.funcs[i].ret,
            Slot::Param(i, j) => &self.funcs[i].params[j].ty,
            Slot::Var(i) => &self.vars[i].ty,
        }
    }

    fn ty_mut(&mut self, s: Slot) -> &mut Ty {
        match s {
            Slot::Typedef(i) => &mut self.typedefs[i].target,
            Slot::Member(i, j) => &mut self.aggs[i].members[j].ty,
            Slot::Ret(i) => &mut self.funcs[i].ret,
            Slot::Param(i, j) => &mut self.funcs[i].params[j].ty,
            Slot::Var(i) => &mut self.vars[i].ty,
        }
    }

    /// Members that are not bit-fields, as slots.
    fn plain_members(&self) -> Vec<Slot> {
        self.slots()
            .into_iter()
            .filter(|s| matches!(s, Slot::Member(i, j) if self.aggs[*i].members[*j].bits.is_none()))
            .collect()
    }

    fn params(&self) -> Vec<Slot> {
        self.slots()
            .into_iter()
            .filter(|s| matches!(s, Slot::Param(..)))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Mutations

/// A change class (by index into [`Mutation::CLASSES`]) and a place number.
/// When the class has no place in the program, another class that has one is
/// drawn.
#[derive(Clone, Debug)]
pub struct Mutation {
    pub class: usize,
    pub site: usize,
}

type Edit = Box<dyn Fn(&mut Program)>;

fn pick<T>(v: Vec<T>, site: usize) -> Option<T> {
    if v.is_empty() {
        None
    } else {
        let n = v.len();
        v.into_iter().nth(site % n)
    }
}

impl Mutation {
    /// The classes a mutation can be drawn from: each is a directory of
    /// `corpus/c/changes/` and a row of the table.
    pub const CLASSES: &'static [&'static str] = &[
        "member-added-end",
        "member-added-middle",
        "member-removed",
        "members-reordered",
        "member-renamed",
        "member-type-int-to-long",
        "member-signedness",
        "member-pointer-to-array",
        "array-size",
        "array-size-expression",
        "bitfield-width",
        "param-renamed",
        "param-added",
        "param-removed",
        "params-reordered",
        "param-type-int-to-long",
        "param-signedness",
        "param-pointer-to-array",
        "param-const-added",
        "restrict-added",
        "return-type-changed",
        "variadic-added",
        "void-params-to-empty",
        "enumerator-added-end",
        "enumerator-value-changed",
        "enumerator-renamed",
        "enumerator-value-rewritten",
        "enumerator-value-made-explicit",
        "typedef-target-changed",
        "typedef-renamed",
        "const-added-on-pointee",
        "volatile-added-on-pointee",
        "struct-to-union",
        "packed-added",
        "aligned-added",
        "moved-header-to-c",
        "made-declaration-only",
        "unused-type-added",
        "struct-tag-renamed",
        "comments-whitespace",
        "variable-type-changed",
        "type-spelling-changed",
    ];

    /// The change of class `class` at place `site`, if the class has a place.
    fn edit(p: &Program, class: &str, site: usize) -> Option<Edit> {
        let aggs_defined: Vec<usize> = (0..p.aggs.len())
            .filter(|&i| p.aggs[i].placement == Placement::Header)
            .collect();
        let with_members = |n: usize| -> Vec<usize> {
            aggs_defined
                .iter()
                .copied()
                .filter(|&i| p.aggs[i].members.len() >= n)
                .collect()
        };
        let member_where = |f: &dyn Fn(&Member) -> bool| -> Vec<(usize, usize)> {
            let mut v = Vec::new();
            for (i, a) in p.aggs.iter().enumerate() {
                for (j, m) in a.members.iter().enumerate() {
                    if f(m) {
                        v.push((i, j));
                    }
                }
            }
            v
        };
        let param_where = |f: &dyn Fn(&Param) -> bool| -> Vec<(usize, usize)> {
            let mut v = Vec::new();
            for (i, fun) in p.funcs.iter().enumerate() {
                for (j, x) in fun.params.iter().enumerate() {
                    if f(x) {
                        v.push((i, j));
                    }
                }
            }
            v
        };
        let slots_where = |slots: Vec<Slot>, f: &dyn Fn(&Ty) -> bool| -> Vec<Slot> {
            slots.into_iter().filter(|s| f(p.ty(*s))).collect()
        };
        let retype = |slots: Vec<Slot>, f: fn(&Ty) -> Option<Ty>| -> Option<Edit> {
            let s = pick(slots_where(slots, &|t| f(t).is_some()), site)?;
            Some(Box::new(move |p: &mut Program| {
                let t = f(p.ty(s)).unwrap();
                *p.ty_mut(s) = t;
            }))
        };
        let enum_items: Vec<(usize, usize)> = p
            .enums
            .iter()
            .enumerate()
            .flat_map(|(i, e)| (0..e.items.len()).map(move |j| (i, j)))
            .collect();
        fn to_long(t: &Ty) -> Option<Ty> {
            match t {
                Ty::Base(b, _) => b.to_long().map(Ty::base),
                _ => None,
            }
        }
        fn flip(t: &Ty) -> Option<Ty> {
            match t {
                Ty::Base(b, _) => b.flip_sign().map(Ty::base),
                _ => None,
            }
        }
        fn int_or_long(t: &Ty) -> Option<Ty> {
            Some(if *t == Ty::base(Base::Int) {
                Ty::base(Base::Long)
            } else {
                Ty::base(Base::Int)
            })
        }
        let edit: Edit = match class {
            "member-added-end" => {
                let i = pick(with_members(0), site)?;
                Box::new(move |p| {
                    let n = p.aggs[i].members.len();
                    p.aggs[i].members.push(Member {
                        name: format!("m{n}_new"),
                        ty: Ty::base(Base::Int),
                        bits: None,
                        aligned: false,
                    });
                })
            }
            "member-added-middle" => {
                let i = pick(with_members(2), site)?;
                Box::new(move |p| {
                    p.aggs[i].members.insert(
                        1,
                        Member {
                            name: "m_new".into(),
                            ty: Ty::base(Base::Long),
                            bits: None,
                            aligned: false,
                        },
                    );
                })
            }
            "member-removed" => {
                let (i, j) = pick(
                    member_where(&|_| true)
                        .into_iter()
                        .filter(|(i, _)| {
                            p.aggs[*i].members.len() >= 2
                                && p.aggs[*i].placement == Placement::Header
                        })
                        .collect(),
                    site,
                )?;
                Box::new(move |p| {
                    p.aggs[i].members.remove(j);
                })
            }
            "members-reordered" => {
                let i = pick(with_members(2), site)?;
                let j = site % (p.aggs[i].members.len() - 1);
                Box::new(move |p| p.aggs[i].members.swap(j, j + 1))
            }
            "member-renamed" => {
                let (i, j) = pick(member_where(&|_| true), site)?;
                Box::new(move |p| p.aggs[i].members[j].name.push_str("_renamed"))
            }
            "member-type-int-to-long" => retype(p.plain_members(), to_long)?,
            "member-signedness" => retype(p.plain_members(), flip)?,
            "member-pointer-to-array" => {
                let s = pick(
                    slots_where(p.plain_members(), &|t| {
                        matches!(t, Ty::Ptr { to, konst: false, volatile: false }
                            if matches!(**to, Ty::Base(..) | Ty::Enum(_)))
                    }),
                    site,
                )?;
                Box::new(move |p| {
                    if let Ty::Ptr { to, .. } = p.ty(s).clone() {
                        *p.ty_mut(s) = Ty::Array(to, 4, false);
                    }
                })
            }
            "array-size" | "array-size-expression" => {
                let expr = class == "array-size-expression";
                let s = pick(
                    slots_where(p.slots(), &|t| matches!(t, Ty::Array(_, _, false))),
                    site,
                )?;
                Box::new(move |p| {
                    if let Ty::Array(_, n, e) = p.ty_mut(s) {
                        if expr {
                            *e = true;
                        } else {
                            *n += 1;
                        }
                    }
                })
            }
            "bitfield-width" => {
                let (i, j) = pick(member_where(&|m| m.bits.is_some()), site)?;
                Box::new(move |p| {
                    let b = p.aggs[i].members[j].bits.as_mut().unwrap();
                    *b = if *b < 31 { *b + 1 } else { *b - 1 };
                })
            }
            "param-renamed" => {
                let (i, j) = pick(param_where(&|_| true), site)?;
                Box::new(move |p| p.funcs[i].params[j].name.push_str("_renamed"))
            }
            "param-added" => {
                let i = site % p.funcs.len();
                Box::new(move |p| {
                    let f = &mut p.funcs[i];
                    let n = f.params.len();
                    f.params.push(Param {
                        name: format!("p{n}_new"),
                        ty: Ty::base(Base::Long),
                        konst: false,
                        restrict: false,
                        as_array: false,
                    });
                })
            }
            "param-removed" => {
                let (i, j) = pick(param_where(&|_| true), site)?;
                Box::new(move |p| {
                    p.funcs[i].params.remove(j);
                })
            }
            "params-reordered" => {
                let (i, j) = pick(
                    param_where(&|_| true)
                        .into_iter()
                        .filter(|(i, j)| j + 1 < p.funcs[*i].params.len())
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.funcs[i].params.swap(j, j + 1))
            }
            "param-type-int-to-long" => retype(p.params(), to_long)?,
            "param-signedness" => retype(p.params(), flip)?,
            "param-pointer-to-array" => {
                let (i, j) = pick(
                    param_where(&|x| {
                        !x.as_array
                            && matches!(&x.ty, Ty::Ptr { to, .. }
                                if matches!(**to, Ty::Base(..) | Ty::Enum(_)))
                    }),
                    site,
                )?;
                Box::new(move |p| p.funcs[i].params[j].as_array = true)
            }
            "param-const-added" => {
                let (i, j) = pick(param_where(&|x| !x.konst), site)?;
                Box::new(move |p| p.funcs[i].params[j].konst = true)
            }
            "restrict-added" => {
                let (i, j) = pick(
                    param_where(&|x| !x.restrict && !x.as_array && matches!(x.ty, Ty::Ptr { .. })),
                    site,
                )?;
                Box::new(move |p| p.funcs[i].params[j].restrict = true)
            }
            "return-type-changed" => {
                let i = site % p.funcs.len();
                Box::new(move |p| {
                    let r = &mut p.funcs[i].ret;
                    *r = int_or_long(r).unwrap();
                })
            }
            "variadic-added" => {
                let i = pick(
                    (0..p.funcs.len())
                        .filter(|&i| !p.funcs[i].params.is_empty() && !p.funcs[i].variadic)
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.funcs[i].variadic = true)
            }
            "void-params-to-empty" => {
                let i = pick(
                    (0..p.funcs.len())
                        .filter(|&i| p.funcs[i].params.is_empty() && !p.funcs[i].empty_parens)
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.funcs[i].empty_parens = true)
            }
            "enumerator-added-end" => {
                let i = pick((0..p.enums.len()).collect(), site)?;
                Box::new(move |p| {
                    let e = &mut p.enums[i];
                    e.items.push(Item {
                        name: format!("{}_NEW", e.name.to_uppercase()),
                        value: None,
                        hex: false,
                    });
                })
            }
            "enumerator-value-changed" => {
                let (i, j) = pick(enum_items, site)?;
                Box::new(move |p| {
                    let v = p.enums[i].value_of(j);
                    p.enums[i].items[j].value = Some(v + 50);
                })
            }
            "enumerator-renamed" => {
                let (i, j) = pick(enum_items, site)?;
                Box::new(move |p| p.enums[i].items[j].name.push_str("_RENAMED"))
            }
            "enumerator-value-rewritten" => {
                let (i, j) = pick(
                    enum_items
                        .into_iter()
                        .filter(|(i, j)| {
                            let it = &p.enums[*i].items[*j];
                            !it.hex && it.value.is_some_and(|v| v >= 0)
                        })
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.enums[i].items[j].hex = true)
            }
            "enumerator-value-made-explicit" => {
                let (i, j) = pick(
                    enum_items
                        .into_iter()
                        .filter(|(i, j)| p.enums[*i].items[*j].value.is_none())
                        .collect(),
                    site,
                )?;
                Box::new(move |p| {
                    let v = p.enums[i].value_of(j);
                    p.enums[i].items[j].value = Some(v);
                })
            }
            "typedef-target-changed" => retype(
                (0..p.typedefs.len()).map(Slot::Typedef).collect(),
                int_or_long,
            )?,
            "typedef-renamed" => {
                let i = pick((0..p.typedefs.len()).collect(), site)?;
                Box::new(move |p| p.typedefs[i].name.push_str("_renamed"))
            }
            "const-added-on-pointee" | "volatile-added-on-pointee" => {
                let konst = class == "const-added-on-pointee";
                let s = pick(
                    slots_where(p.slots(), &|t| {
                        matches!(t, Ty::Ptr { konst: k, volatile: v, .. }
                            if !(if konst { *k } else { *v }))
                    }),
                    site,
                )?;
                Box::new(move |p| {
                    if let Ty::Ptr {
                        konst: k,
                        volatile: v,
                        ..
                    } = p.ty_mut(s)
                    {
                        if konst {
                            *k = true;
                        } else {
                            *v = true;
                        }
                    }
                })
            }
            "struct-to-union" => {
                let i = pick(
                    aggs_defined
                        .iter()
                        .copied()
                        .filter(|&i| !p.aggs[i].union && p.aggs[i].members.len() >= 2)
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.aggs[i].union = true)
            }
            "packed-added" => {
                let i = pick(
                    aggs_defined
                        .iter()
                        .copied()
                        .filter(|&i| !p.aggs[i].packed)
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.aggs[i].packed = true)
            }
            "aligned-added" => {
                let (i, j) = pick(member_where(&|m| !m.aligned && m.bits.is_none()), site)?;
                Box::new(move |p| p.aggs[i].members[j].aligned = true)
            }
            "moved-header-to-c" => {
                let i = pick(
                    aggs_defined
                        .iter()
                        .copied()
                        .filter(|&i| !p.held_by_value(i, true))
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.aggs[i].placement = Placement::Source)
            }
            "made-declaration-only" => {
                let i = pick(
                    aggs_defined
                        .iter()
                        .copied()
                        .filter(|&i| !p.held_by_value(i, false))
                        .collect(),
                    site,
                )?;
                Box::new(move |p| p.aggs[i].placement = Placement::DeclOnly)
            }
            "unused-type-added" => {
                if p.unused_type {
                    return None;
                }
                Box::new(|p| p.unused_type = true)
            }
            "struct-tag-renamed" => {
                let i = site % p.aggs.len();
                Box::new(move |p| p.aggs[i].name.push_str("_renamed"))
            }
            "comments-whitespace" => {
                if p.comments {
                    return None;
                }
                Box::new(|p| p.comments = true)
            }
            "variable-type-changed" => {
                retype((0..p.vars.len()).map(Slot::Var).collect(), int_or_long)?
            }
            "type-spelling-changed" => {
                let s = pick(
                    slots_where(
                        p.slots(),
                        &|t| matches!(t, Ty::Base(b, false) if b.spellings().1.is_some()),
                    ),
                    site,
                )?;
                Box::new(move |p| {
                    if let Ty::Base(_, alt) = p.ty_mut(s) {
                        *alt = true;
                    }
                })
            }
            _ => panic!("unknown mutation class {class}"),
        };
        Some(edit)
    }

    /// The changed program and the class of the change made.
    pub fn apply(&self, p: &Program) -> (Program, &'static str) {
        let chosen = Self::CLASSES[self.class % Self::CLASSES.len()];
        let (class, edit) = match Self::edit(p, chosen, self.site) {
            Some(edit) => (chosen, edit),
            None => {
                // Another class, drawn among those that have a place.
                let mut fits: Vec<(&'static str, Edit)> = Self::CLASSES
                    .iter()
                    .filter_map(|c| Self::edit(p, c, self.site).map(|e| (*c, e)))
                    .collect();
                assert!(!fits.is_empty(), "unused-type-added always fits");
                let i = (self.site / 7) % fits.len();
                fits.swap_remove(i)
            }
        };
        let mut q = p.clone();
        edit(&mut q);
        (q, class)
    }
}

impl Enum {
    /// The value of item `j`, implicit values counted as C does.
    fn value_of(&self, j: usize) -> i64 {
        let mut v = -1;
        for it in &self.items[..=j] {
            v = it.value.unwrap_or(v + 1);
        }
        v
    }
}

// ---------------------------------------------------------------------------
// Rendering

/// A program as C text: `gen.h` and `gen.c`.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub header: String,
    pub source: String,
}

impl Rendered {
    /// Writes `gen.h` and `gen.c` into `dir`; returns the path of `gen.c`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, String> {
        let h = dir.join("gen.h");
        let c = dir.join("gen.c");
        std::fs::write(&h, &self.header).map_err(|e| format!("{}: {e}", h.display()))?;
        std::fs::write(&c, &self.source).map_err(|e| format!("{}: {e}", c.display()))?;
        Ok(c)
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--- gen.h\n{}--- gen.c\n{}", self.header, self.source)
    }
}

fn join(spec: &str, inner: &str) -> String {
    if inner.is_empty() {
        spec.to_string()
    } else {
        format!("{spec} {inner}")
    }
}

impl Program {
    fn spec(&self, t: &Ty) -> Option<String> {
        Some(match t {
            Ty::Void => "void".into(),
            Ty::Base(b, alt) => {
                let (usual, other) = b.spellings();
                if *alt {
                    other.unwrap_or(usual).into()
                } else {
                    usual.into()
                }
            }
            Ty::Enum(i) => format!("enum {}", self.enums[*i].name),
            Ty::Typedef(i) => self.typedefs[*i].name.clone(),
            Ty::Agg(i) => {
                let a = &self.aggs[*i];
                format!("{} {}", if a.union { "union" } else { "struct" }, a.name)
            }
            _ => return None,
        })
    }

    /// `t` declaring `inner` (a name, or a partial declarator).
    fn decl(&self, t: &Ty, inner: &str) -> String {
        if let Some(spec) = self.spec(t) {
            return join(&spec, inner);
        }
        match t {
            Ty::Ptr {
                to,
                konst,
                volatile,
            } => {
                let q = format!(
                    "{}{}",
                    if *konst { "const " } else { "" },
                    if *volatile { "volatile " } else { "" }
                );
                if let Some(spec) = self.spec(to) {
                    join(&format!("{q}{spec}"), &format!("*{inner}"))
                } else {
                    // A pointer to a pointer: the pointee's qualifiers
                    // follow its star.
                    self.decl(to, &format!("{q}*{inner}"))
                }
            }
            Ty::Array(elem, n, expr) => {
                let size = if *expr {
                    format!("{n} + 0")
                } else {
                    n.to_string()
                };
                self.decl(elem, &format!("{inner}[{size}]"))
            }
            Ty::FnPtr(ret, params) => {
                let ps = if params.is_empty() {
                    "void".to_string()
                } else {
                    params
                        .iter()
                        .map(|p| self.decl(p, ""))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                self.decl(ret, &format!("(*{inner})({ps})"))
            }
            _ => unreachable!(),
        }
    }

    fn param_decl(&self, x: &Param) -> String {
        let mut name = x.name.clone();
        if x.restrict {
            name = format!("restrict {name}");
        }
        let mut s = if x.as_array {
            match &x.ty {
                Ty::Ptr {
                    to,
                    konst,
                    volatile,
                } => {
                    let q = format!(
                        "{}{}",
                        if *konst { "const " } else { "" },
                        if *volatile { "volatile " } else { "" }
                    );
                    format!("{q}{}", self.decl(to, &format!("{name}[4]")))
                }
                _ => unreachable!("only pointers are written as arrays"),
            }
        } else {
            self.decl(&x.ty, &name)
        };
        if x.konst {
            // Top-level const: after the last star of a pointer, else first.
            s = if matches!(x.ty, Ty::Ptr { .. }) && !x.as_array {
                let k = s.rfind('*').unwrap();
                format!("{} const {}", &s[..=k], &s[k + 1..])
            } else {
                format!("const {s}")
            };
        }
        s
    }

    pub fn render(&self) -> Rendered {
        let cm = |s: &mut String, text: &str| {
            if self.comments {
                writeln!(s, "/* {text} */").unwrap();
                writeln!(s).unwrap();
            }
        };
        let ind = if self.comments { "    " } else { "\t" };
        let mut h = String::new();
        writeln!(h, "#ifndef GEN_H\n#define GEN_H").unwrap();
        cm(&mut h, "enumerations");
        for e in &self.enums {
            writeln!(h, "enum {} {{", e.name).unwrap();
            for it in &e.items {
                match it.value {
                    None => writeln!(h, "{ind}{},", it.name).unwrap(),
                    Some(v) if it.hex => writeln!(h, "{ind}{} = {v:#x},", it.name).unwrap(),
                    Some(v) => writeln!(h, "{ind}{} = {v},", it.name).unwrap(),
                }
                if self.comments {
                    writeln!(h, "{ind}// an enumerator").unwrap();
                }
            }
            writeln!(h, "}};").unwrap();
        }
        cm(&mut h, "declarations");
        for a in &self.aggs {
            writeln!(
                h,
                "{} {};",
                if a.union { "union" } else { "struct" },
                a.name
            )
            .unwrap();
        }
        for t in &self.typedefs {
            writeln!(h, "typedef {};", self.decl(&t.target, &t.name)).unwrap();
        }
        cm(&mut h, "definitions");
        let agg_def = |s: &mut String, a: &Agg| {
            writeln!(
                s,
                "{} {} {{",
                if a.union { "union" } else { "struct" },
                a.name
            )
            .unwrap();
            for m in &a.members {
                let mut d = self.decl(&m.ty, &m.name);
                if let Some(b) = m.bits {
                    write!(d, " : {b}").unwrap();
                }
                if m.aligned {
                    d.push_str(" __attribute__((aligned(16)))");
                }
                if self.comments {
                    writeln!(s, "{ind}{d};   /* member {} */", m.name).unwrap();
                } else {
                    writeln!(s, "{ind}{d};").unwrap();
                }
            }
            if a.packed {
                writeln!(s, "}} __attribute__((packed));").unwrap();
            } else {
                writeln!(s, "}};").unwrap();
            }
        };
        for a in self
            .aggs
            .iter()
            .filter(|a| a.placement == Placement::Header)
        {
            agg_def(&mut h, a);
        }
        if self.unused_type {
            writeln!(h, "struct never_used {{\n{ind}long x;\n}};").unwrap();
        }
        writeln!(h, "#endif").unwrap();

        let mut c = String::new();
        writeln!(c, "#include \"export.h\"\n#include \"gen.h\"").unwrap();
        cm(&mut c, "private types");
        for a in self
            .aggs
            .iter()
            .filter(|a| a.placement == Placement::Source)
        {
            agg_def(&mut c, a);
        }
        cm(&mut c, "exported functions");
        for f in &self.funcs {
            let mut ps: Vec<String> = f.params.iter().map(|x| self.param_decl(x)).collect();
            if f.variadic {
                ps.push("...".into());
            }
            let params = if ps.is_empty() {
                if f.empty_parens {
                    String::new()
                } else {
                    "void".into()
                }
            } else {
                ps.join(", ")
            };
            let head = self.decl(&f.ret, &format!("{}({params})", f.name));
            // Not `__builtin_unreachable()`: clang then leaves the
            // parameters out of the DWARF.
            let body = if f.ret == Ty::Void {
                "{\n}".to_string()
            } else {
                format!(
                    "{{\n{ind}static {};\n\n{ind}return r;\n}}",
                    self.decl(&f.ret, "r")
                )
            };
            writeln!(c, "{head}\n{body}\nEXPORT({});", f.name).unwrap();
        }
        cm(&mut c, "exported variables");
        for v in &self.vars {
            writeln!(c, "{};\nEXPORT({});", self.decl(&v.ty, &v.name), v.name).unwrap();
        }
        Rendered {
            header: h,
            source: c,
        }
    }
}
