//! Random C programs shaped like kernel objects, for the differential tests
//! against the reference gendwarfksyms.
//!
//! Built the way `tests/genksyms/cgen.rs` builds its programs — from a stream
//! of random numbers where 0 is always the simplest choice, so that proptest's
//! shrinking (numbers toward 0, a shorter stream) gives small programs — but
//! with everything gendwarfksyms looks at:
//!
//! * structures, unions and enumerations (negative, large, 64-bit and packed
//!   ones), typedefs (also of unnamed aggregates), bit-fields (also unnamed
//!   and zero-width), arrays (multi-dimensional, zero-length, flexible),
//!   function pointers (variadic too), `const`/`volatile`/`restrict`/`_Atomic`,
//!   anonymous structure and union members, `packed` and `aligned`;
//! * where a type lives: the header `gen.h` (expanded), a `.c` file (private:
//!   never expanded), or nowhere (declaration only: pointers to an incomplete
//!   type);
//! * exported functions and variables, prototypes in the header or not, an
//!   `extern` array declared without its size, functions exported without a
//!   definition (through a symbol pointer only), `__attribute__((alias))`
//!   aliases (also with another prototype than their target), symbol pointers
//!   (`__gendwarfksyms_ptr_<sym>` in `.discard.gendwarfksyms`, as the
//!   kernel's `EXPORT_SYMBOL` makes them), a second compilation unit (the
//!   objects joined with `ld -r`, as kbuild does for a module);
//! * kABI rules in `.discard.gendwarfksyms.kabi_rules` and `__kabi_` members
//!   (reserved, renamed, ignored, inside unions and their structures), for
//!   `--stable`;
//! * a symbol list in random order with unlisted exports, duplicates and
//!   names that exist nowhere.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

// ---------------------------------------------------------------------------
// The model

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prim {
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
    LongDouble,
    ComplexDouble,
}

impl Prim {
    const ALL: [Prim; 16] = [
        Prim::Int,
        Prim::UInt,
        Prim::Long,
        Prim::ULong,
        Prim::Char,
        Prim::SChar,
        Prim::UChar,
        Prim::Short,
        Prim::UShort,
        Prim::LongLong,
        Prim::ULongLong,
        Prim::Bool,
        Prim::Float,
        Prim::Double,
        Prim::LongDouble,
        Prim::ComplexDouble,
    ];

    fn spelling(self) -> &'static str {
        match self {
            Prim::Int => "int",
            Prim::UInt => "unsigned int",
            Prim::Long => "long",
            Prim::ULong => "unsigned long",
            Prim::Char => "char",
            Prim::SChar => "signed char",
            Prim::UChar => "unsigned char",
            Prim::Short => "short",
            Prim::UShort => "unsigned short",
            Prim::LongLong => "long long",
            Prim::ULongLong => "unsigned long long",
            Prim::Bool => "_Bool",
            Prim::Float => "float",
            Prim::Double => "double",
            Prim::LongDouble => "long double",
            Prim::ComplexDouble => "_Complex double",
        }
    }

    /// Integer types (bit-fields, `_Atomic`).
    fn integer(self) -> bool {
        !matches!(
            self,
            Prim::Float | Prim::Double | Prim::LongDouble | Prim::ComplexDouble
        )
    }

    /// Width in bits (bit-field limit).
    fn bits(self) -> u32 {
        match self {
            Prim::Bool => 1,
            Prim::Char | Prim::SChar | Prim::UChar => 8,
            Prim::Short | Prim::UShort => 16,
            Prim::Int | Prim::UInt | Prim::Float => 32,
            _ => 64,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quals {
    pub konst: bool,
    pub volatile: bool,
    pub restrict: bool,
    pub atomic: bool,
}

impl Quals {
    fn words(self) -> String {
        let mut v = Vec::new();
        if self.konst {
            v.push("const");
        }
        if self.volatile {
            v.push("volatile");
        }
        if self.restrict {
            v.push("restrict");
        }
        if self.atomic {
            v.push("_Atomic");
        }
        v.join(" ")
    }

    fn any(self) -> bool {
        self.konst || self.volatile || self.restrict || self.atomic
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Void,
    Prim(Prim),
    /// `decls[i]`: a structure, union or enumeration by its tag, a typedef by
    /// its name.
    Ref(usize),
    Ptr(Box<Ty>),
    /// Qualifiers on a type (never on an array or a function).
    Qual(Quals, Box<Ty>),
    /// Dimensions; `None` is `[]` (only as the last member of a structure).
    Array(Box<Ty>, Vec<Option<u32>>),
    /// A function type: only under `Ptr`.
    Func(Box<Ty>, Vec<Ty>, bool),
    /// An unnamed structure or union defined in place.
    Anon(Box<Agg>),
}

impl Ty {
    fn ptr(t: Ty) -> Ty {
        Ty::Ptr(Box::new(t))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// `None`: an anonymous member (of an `Anon` type) or an unnamed bit-field.
    pub name: Option<String>,
    pub ty: Ty,
    pub bits: Option<u32>,
    pub aligned: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Agg {
    pub union: bool,
    pub members: Vec<Member>,
    pub packed: bool,
    pub aligned: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Enum {
    /// Explicit values (`None`: the next one).
    pub items: Vec<Option<i128>>,
    pub packed: bool,
}

#[derive(Clone, Debug)]
pub enum DeclKind {
    Agg(Agg),
    Enum(Enum),
    Typedef(Ty),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Defined in `gen.h`.
    Header,
    /// Defined in each `.c` file (private: never expanded).
    Source,
    /// A structure or union only declared.
    DeclOnly,
    /// A structure or union defined in `gen.h` for the second unit only (a
    /// declaration in the first, a definition in the second).
    Unit1,
}

#[derive(Clone, Debug)]
pub struct Decl {
    pub name: String,
    pub kind: DeclKind,
    pub placement: Placement,
    /// A header structure with one more member in the second unit (the
    /// longer string wins, whichever unit comes first).
    pub unit1_extra: bool,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub ty: Ty,
}

#[derive(Clone, Debug)]
pub struct Func {
    pub name: String,
    pub ret: Ty,
    pub params: Vec<Param>,
    pub variadic: bool,
    /// `f()` rather than `f(void)` (only without parameters).
    pub empty_parens: bool,
    /// A prototype in `gen.h`.
    pub proto: bool,
    /// Defined (else only declared, and exported through a symbol pointer).
    pub defined: bool,
    pub unit: usize,
}

#[derive(Clone, Debug)]
pub struct Var {
    pub name: String,
    pub ty: Ty,
    /// An `extern` declaration in `gen.h`, maybe without the array's size.
    pub proto: bool,
    pub proto_unsized: bool,
    pub defined: bool,
    pub unit: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Func(usize),
    Var(usize),
}

#[derive(Clone, Debug)]
pub struct Alias {
    pub name: String,
    pub target: Target,
    /// Declared with a prototype of its own (`void a(void)`).
    pub other_type: bool,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: &'static str,
    pub target: String,
    pub value: String,
}

/// Shown as its C text and symbol list (`Debug` is what proptest prints).
#[derive(Clone, Default)]
pub struct Program {
    pub decls: Vec<Decl>,
    pub funcs: Vec<Func>,
    pub vars: Vec<Var>,
    pub aliases: Vec<Alias>,
    /// Symbols with a `__gendwarfksyms_ptr_` pointer.
    pub ptrs: Vec<String>,
    pub rules: Vec<Rule>,
    /// Static functions (`h<n>`, maybe one name in both units).
    pub statics: Vec<Func>,
    /// Exported functions and variables whose address the other unit takes
    /// (which gives it a declaration DIE, met first when it is unit 0).
    pub uses: Vec<Target>,
    /// The symbol list given on stdin.
    pub symbols: Vec<String>,
    /// 1 or 2 compilation units.
    pub units: usize,
    /// Two units given to the tools as two objects (not joined by `ld -r`).
    pub separate: bool,
    /// Defined functions and variables made weak.
    pub weak: Vec<String>,
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

/// Where a type is used, which decides what it may refer to by value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// In a header declaration: by value only header types.
    Header,
    /// In a `.c` file: anything but declaration-only types.
    Source,
}

struct Builder<'a> {
    c: Choices<'a>,
    p: Program,
    /// Counter for the names of members and items.
    n: usize,
    /// Whether `value_ty` may give an unnamed structure (not in a function's
    /// type: each declaration of it would be another type).
    anon_ok: bool,
}

impl<'a> Builder<'a> {
    fn prim(&mut self) -> Prim {
        // Mostly the common integer types.
        if self.c.next(3) < 2 {
            Prim::ALL[self.c.next(4)]
        } else {
            Prim::ALL[self.c.next(Prim::ALL.len())]
        }
    }

    /// Declarations before `limit` usable by value in `ctx`.
    fn by_value(&self, limit: usize, ctx: Ctx) -> Vec<usize> {
        (0..limit)
            .filter(|&i| match self.p.decls[i].placement {
                Placement::Header => true,
                Placement::Source => ctx == Ctx::Source,
                Placement::DeclOnly | Placement::Unit1 => false,
            })
            .collect()
    }

    /// Declarations that a pointer may point to: any structure or union (all
    /// are declared first), earlier enumerations and typedefs visible in `ctx`.
    fn pointable(&self, limit: usize, ctx: Ctx) -> Vec<usize> {
        (0..self.p.decls.len())
            .filter(|&i| {
                let d = &self.p.decls[i];
                matches!(d.kind, DeclKind::Agg(_))
                    || (i < limit && (d.placement == Placement::Header || ctx == Ctx::Source))
            })
            .collect()
    }

    fn pick(&mut self, v: &[usize]) -> Option<usize> {
        if v.is_empty() {
            None
        } else {
            Some(v[self.c.next(v.len())])
        }
    }

    fn quals(&mut self, pointer: bool) -> Quals {
        if !self.c.chance(4) {
            return Quals::default();
        }
        Quals {
            konst: self.c.chance(2),
            volatile: self.c.chance(3),
            restrict: pointer && self.c.chance(3),
            atomic: self.c.chance(6),
        }
    }

    /// Wraps `t` in qualifiers, sometimes (a type may take them).
    fn qualify(&mut self, t: Ty) -> Ty {
        let pointer_to_object = matches!(&t, Ty::Ptr(to) if !matches!(**to, Ty::Func(..)));
        let q = self.quals(pointer_to_object);
        let atomic_ok = match &t {
            Ty::Prim(p) => p.integer(),
            Ty::Ptr(_) => true,
            _ => false,
        };
        // (clang: no `restrict` on an `_Atomic` pointer.)
        let q = Quals {
            atomic: q.atomic && atomic_ok,
            restrict: q.restrict && !(q.atomic && atomic_ok),
            ..q
        };
        match t {
            Ty::Array(..) | Ty::Func(..) | Ty::Void | Ty::Qual(..) => t,
            _ if q.any() => Ty::Qual(q, Box::new(t)),
            _ => t,
        }
    }

    fn pointee(&mut self, limit: usize, ctx: Ctx, depth: usize) -> Ty {
        let t = match self.c.next(8) {
            1 | 2 => {
                let v = self.pointable(limit, ctx);
                self.pick(&v).map_or(Ty::Void, Ty::Ref)
            }
            3 => Ty::Void,
            4 if depth < 3 => self.fn_ty(limit, ctx, depth + 1),
            5 if depth < 3 => Ty::ptr(self.pointee(limit, ctx, depth + 1)),
            6 if depth < 3 => {
                let e = Ty::Prim(self.prim());
                Ty::Array(Box::new(e), vec![Some(1 + self.c.next(4) as u32)])
            }
            _ => Ty::Prim(self.prim()),
        };
        match t {
            Ty::Func(..) => t,
            _ => self.qualify(t),
        }
    }

    fn fn_ty(&mut self, limit: usize, ctx: Ctx, depth: usize) -> Ty {
        let ret = match self.c.next(3) {
            0 => Ty::Prim(self.prim()),
            1 => Ty::Void,
            _ => Ty::ptr(self.pointee(limit, ctx, depth + 1)),
        };
        let n = self.c.next(4);
        let params = (0..n)
            .map(|_| {
                if self.c.next(2) == 0 {
                    Ty::Prim(self.prim())
                } else {
                    Ty::ptr(self.pointee(limit, ctx, depth + 1))
                }
            })
            .collect();
        let variadic = n > 0 && self.c.chance(5);
        Ty::Func(Box::new(ret), params, variadic)
    }

    /// A complete type for a member, a variable, a parameter or a typedef.
    fn value_ty(&mut self, limit: usize, ctx: Ctx, depth: usize) -> Ty {
        let t = match self.c.next(10) {
            1 | 2 => Ty::ptr(self.pointee(limit, ctx, depth)),
            3 | 4 => {
                let v = self.by_value(limit, ctx);
                self.pick(&v).map_or_else(|| Ty::Prim(self.prim()), Ty::Ref)
            }
            5 if depth < 3 => {
                let elem = self.value_ty(limit, ctx, depth + 1);
                let elem = match elem {
                    // Arrays of arrays are written as more dimensions.
                    Ty::Array(e, mut d) => {
                        d.insert(0, Some(1 + self.c.next(5) as u32));
                        return Ty::Array(e, d);
                    }
                    e => e,
                };
                let n = if self.c.chance(8) {
                    0
                } else {
                    1 + self.c.next(16) as u32
                };
                Ty::Array(Box::new(elem), vec![Some(n)])
            }
            6 if depth < 3 => Ty::ptr(self.fn_ty(limit, ctx, depth + 1)),
            7 if self.anon_ok && depth < 2 && self.c.chance(3) => {
                Ty::Anon(Box::new(self.agg_body(limit, ctx, depth + 1, false)))
            }
            _ => Ty::Prim(self.prim()),
        };
        self.qualify(t)
    }

    fn member_name(&mut self) -> String {
        self.n += 1;
        let n = self.n;
        match self.c.next(24) {
            20 => format!("__kabi_reserved{n}"),
            21 => format!("__kabi_renamed_m{n}"),
            22 => format!("__kabi_ignored{n}"),
            23 => format!("__kabi_m{n}"),
            _ => format!("m{n}"),
        }
    }

    /// Members of a structure or union; `kabi` favours the shapes of the
    /// kernel's kABI macros (a union of a new field and a placeholder).
    fn agg_body(&mut self, limit: usize, ctx: Ctx, depth: usize, kabi_ok: bool) -> Agg {
        let union = self.c.chance(5);
        let n = 1 + self.c.next(5);
        let mut members = Vec::new();
        for _ in 0..n {
            if kabi_ok && depth < 2 && self.c.chance(6) {
                members.push(self.kabi_union(limit, ctx, depth));
                continue;
            }
            let ty = self.value_ty(limit, ctx, depth);
            let bits = match &ty {
                Ty::Prim(p) if p.integer() && self.c.chance(3) => {
                    Some(self.c.next(p.bits() as usize + 1) as u32)
                }
                Ty::Ref(i)
                    if matches!(self.p.decls[*i].kind, DeclKind::Enum(_)) && self.c.chance(3) =>
                {
                    Some(1 + self.c.next(8) as u32)
                }
                _ => None,
            };
            // A zero-width bit-field has no name; a few others neither.
            let name = match (&ty, bits) {
                (_, Some(0)) => None,
                (Ty::Anon(_), _) if self.c.chance(2) => None,
                (Ty::Prim(_), Some(_)) if self.c.chance(6) => None,
                _ => Some(self.member_name()),
            };
            let aligned = if bits.is_none() && self.c.chance(12) {
                Some(1 << self.c.next(5))
            } else {
                None
            };
            members.push(Member {
                name,
                ty,
                bits,
                aligned,
            });
        }
        // A flexible array member ends a structure that has another member.
        if !union && self.c.chance(8) && members.iter().any(|m| m.name.is_some()) {
            let elem = Ty::Prim(self.prim());
            members.push(Member {
                name: Some(self.member_name()),
                ty: Ty::Array(Box::new(elem), vec![None]),
                bits: None,
                aligned: None,
            });
        }
        // Unions may not hold zero-width bit-fields alone, nor unnamed ones.
        if union {
            members.retain(|m| m.name.is_some() || m.bits.is_none());
        }
        if members.iter().all(|m| m.name.is_none() && m.bits.is_some()) || members.is_empty() {
            members.push(Member {
                name: Some(self.member_name()),
                ty: Ty::Prim(Prim::Int),
                bits: None,
                aligned: None,
            });
        }
        Agg {
            union,
            members,
            packed: self.c.chance(8),
            aligned: if self.c.chance(12) {
                Some(8 << self.c.next(3))
            } else {
                None
            },
        }
    }

    /// `union { new; struct { placeholder; }; }` and the like.
    fn kabi_union(&mut self, limit: usize, ctx: Ctx, depth: usize) -> Member {
        let mut members = Vec::new();
        for _ in 0..1 + self.c.next(3) {
            if self.c.chance(3) {
                let inner = (0..1 + self.c.next(2))
                    .map(|_| Member {
                        name: Some(self.member_name()),
                        ty: Ty::Prim(self.prim()),
                        bits: None,
                        aligned: None,
                    })
                    .collect();
                members.push(Member {
                    name: None,
                    ty: Ty::Anon(Box::new(Agg {
                        union: false,
                        members: inner,
                        packed: false,
                        aligned: None,
                    })),
                    bits: None,
                    aligned: None,
                });
            } else {
                let ty = if self.c.chance(3) {
                    self.value_ty(limit, ctx, depth + 1)
                } else {
                    Ty::Prim(Prim::ULong)
                };
                members.push(Member {
                    name: Some(self.member_name()),
                    ty,
                    bits: None,
                    aligned: None,
                });
            }
        }
        Member {
            name: None,
            ty: Ty::Anon(Box::new(Agg {
                union: true,
                members,
                packed: false,
                aligned: None,
            })),
            bits: None,
            aligned: None,
        }
    }

    fn enum_body(&mut self) -> Enum {
        let n = 1 + self.c.next(5);
        let items = (0..n)
            .map(|_| match self.c.next(8) {
                5 => Some(self.c.next(40) as i128 - 20),
                6 => Some([-1, 0x7fff_ffff, 0xffff_ffff, -0x8000_0000][self.c.next(4)]),
                7 if self.c.chance(2) => Some(
                    [
                        1 << 40,
                        -(1 << 40),
                        i64::MAX as i128,
                        u64::MAX as i128,
                        i64::MIN as i128,
                    ][self.c.next(5)],
                ),
                _ => None,
            })
            .collect();
        let mut e = Enum {
            items,
            packed: self.c.chance(6),
        };
        if !e.valid() {
            e.items = e.items.iter().map(|_| None).collect();
        }
        e
    }

    /// The program: its types from the builder's stream, its exports from
    /// `exports`, its aliases, symbol pointers, rules and symbol list from
    /// `extras` (three streams, so that a long run of types never leaves the
    /// rest with only the simplest choices).
    fn build(mut self, exports: &'a [u16], extras: &'a [u16]) -> Program {
        self.p.units = 1 + usize::from(self.c.chance(3));
        // Types, in order: each refers by value only to earlier ones.
        let n_decls = self.c.next(7);
        // Structures and unions are declared first (pointers may refer to any).
        let mut pending = Vec::new();
        for i in 0..n_decls {
            let placement = match self.c.next(6) {
                4 => Placement::Source,
                5 if self.p.units > 1 && self.c.chance(2) => Placement::Unit1,
                5 => Placement::DeclOnly,
                _ => Placement::Header,
            };
            let kind = self.c.next(6);
            let (name, kind, placement) = match kind {
                0..=2 => (
                    format!("s{i}"),
                    DeclKind::Agg(Agg {
                        union: false,
                        members: Vec::new(),
                        packed: false,
                        aligned: None,
                    }),
                    placement,
                ),
                3 => (
                    format!("e{i}"),
                    DeclKind::Enum(Enum {
                        items: Vec::new(),
                        packed: false,
                    }),
                    if matches!(placement, Placement::DeclOnly | Placement::Unit1) {
                        Placement::Header
                    } else {
                        placement
                    },
                ),
                _ => (
                    format!("t{i}"),
                    DeclKind::Typedef(Ty::Void),
                    if matches!(placement, Placement::DeclOnly | Placement::Unit1) {
                        Placement::Header
                    } else {
                        placement
                    },
                ),
            };
            let unit1_extra = self.p.units > 1
                && placement == Placement::Header
                && matches!(kind, DeclKind::Agg(_))
                && self.c.chance(4);
            self.p.decls.push(Decl {
                name,
                kind,
                placement,
                unit1_extra,
            });
            pending.push(i);
        }
        for i in pending {
            let ctx = if self.p.decls[i].placement == Placement::Source {
                Ctx::Source
            } else {
                Ctx::Header
            };
            let kind = match &self.p.decls[i].kind {
                DeclKind::Agg(_) => {
                    let mut a = self.agg_body(i, ctx, 0, true);
                    // An operations table: a callback taking the structure
                    // itself (exports taking the same callback type make the
                    // re-entrance of §7 of the spec).
                    if self.c.chance(3) {
                        // (The structure not first: then the re-entered
                        // string loses a separator.)
                        let mut params = vec![Ty::ptr(Ty::Ref(i))];
                        for _ in 0..self.c.next(3) {
                            let p = Ty::Prim(self.prim());
                            let at = self.c.next(params.len() + 1);
                            params.insert(at, p);
                        }
                        let ret = if self.c.chance(2) {
                            Ty::Void
                        } else {
                            Ty::Prim(Prim::Int)
                        };
                        let m = Member {
                            name: Some(self.member_name()),
                            ty: Ty::ptr(Ty::Func(Box::new(ret), params, false)),
                            bits: None,
                            aligned: None,
                        };
                        let at = self.c.next(a.members.len() + 1).min(a.members.len());
                        // (not after a flexible array member)
                        let at = if a.members.last().is_some_and(
                            |m| matches!(&m.ty, Ty::Array(_, d) if d.first() == Some(&None)),
                        ) {
                            at.min(a.members.len() - 1)
                        } else {
                            at
                        };
                        a.members.insert(at, m);
                    }
                    if a.union {
                        self.p.decls[i].name = format!("u{i}");
                    }
                    DeclKind::Agg(a)
                }
                DeclKind::Enum(_) => DeclKind::Enum(self.enum_body()),
                DeclKind::Typedef(_) => {
                    let t = match self.c.next(4) {
                        0 => self.value_ty(i, ctx, 0),
                        1 => Ty::Anon(Box::new(self.agg_body(i, ctx, 1, true))),
                        2 => Ty::ptr(self.fn_ty(i, ctx, 1)),
                        _ => Ty::Prim(self.prim()),
                    };
                    // No flexible arrays, nor `[0]` outside structures.
                    DeclKind::Typedef(strip_zero_arrays(t))
                }
            };
            self.p.decls[i].kind = kind;
        }

        // Exports.
        self.c = Choices {
            data: exports,
            pos: 0,
        };
        self.anon_ok = false;
        let n_funcs = self.c.next(4);
        for f in 0..n_funcs {
            let func = self.func(format!("f{f}"));
            self.p.funcs.push(func);
        }
        // Static functions, maybe of one name in both units (with other
        // types): listed, they are found by their DWARF name alone.
        for h in 0..usize::from(self.c.chance(3)) + usize::from(self.c.chance(6)) {
            let mut func = self.func(format!("h{h}"));
            func.defined = true;
            func.proto = false;
            self.p.statics.push(func);
            if self.p.units > 1 && self.c.chance(2) {
                let mut other = self.func(format!("h{h}"));
                other.defined = true;
                other.proto = false;
                other.unit = 1 - self.p.statics.last().unwrap().unit;
                self.p.statics.push(other);
            }
        }
        self.anon_ok = true;
        let n_vars = self.c.next(4);
        for v in 0..n_vars {
            let ty = strip_zero_arrays(self.value_ty(self.p.decls.len(), Ctx::Source, 1));
            let unit = if self.p.units > 1 { self.c.next(2) } else { 0 };
            let proto = self.c.chance(2);
            self.p.vars.push(Var {
                name: format!("v{v}"),
                proto_unsized: proto && matches!(ty, Ty::Array(..)) && self.c.chance(2),
                ty,
                proto,
                defined: !self.c.chance(8),
                unit,
            });
        }
        if self.p.funcs.is_empty() && self.p.vars.is_empty() {
            // Something to export.
            let ty = if self.p.decls.is_empty() {
                Ty::Prim(Prim::Int)
            } else {
                Ty::ptr(Ty::Ref(self.p.decls.len() - 1))
            };
            self.p.vars.push(Var {
                name: "v0".into(),
                ty,
                proto: false,
                proto_unsized: false,
                defined: true,
                unit: 0,
            });
        }
        // Every type reachable: a variable pointing to each unreachable one.
        let reach = self.p.reachable();
        for (i, reached) in reach.into_iter().enumerate() {
            if !reached && !self.c.chance(4) {
                let ty = match self.p.decls[i].placement {
                    Placement::Header | Placement::Source => Ty::Ref(i),
                    Placement::DeclOnly | Placement::Unit1 => Ty::ptr(Ty::Ref(i)),
                };
                let v = self.p.vars.len();
                self.p.vars.push(Var {
                    name: format!("v{v}"),
                    ty,
                    proto: false,
                    proto_unsized: false,
                    defined: true,
                    unit: 0,
                });
            }
        }
        // Aliases of defined symbols.
        self.c = Choices {
            data: extras,
            pos: 0,
        };
        // A variable whose name falls in the same bucket of gendwarfksyms'
        // symbol hash table as an export's (the order inside a bucket shows
        // in --dump-versions and --dump-dies).
        if self.c.chance(4) {
            let names = self.p.export_names();
            let base = &names[self.c.next(names.len())];
            let want = bucket(base);
            let name = (0..)
                .map(|k| format!("c{k}"))
                .find(|n| bucket(n) == want)
                .unwrap();
            let ty = if self.p.decls.is_empty() || self.c.chance(2) {
                Ty::Prim(Prim::Int)
            } else {
                Ty::ptr(Ty::Ref(self.c.next(self.p.decls.len())))
            };
            self.p.vars.push(Var {
                name,
                ty,
                proto: false,
                proto_unsized: false,
                defined: true,
                unit: 0,
            });
        }
        let targets: Vec<Target> = (self.p.funcs.iter().enumerate())
            .filter(|(_, f)| f.defined)
            .map(|(i, _)| Target::Func(i))
            .chain(
                (self.p.vars.iter().enumerate())
                    .filter(|(_, v)| v.defined)
                    .map(|(i, _)| Target::Var(i)),
            )
            .collect();
        if !targets.is_empty() {
            for a in 0..self.c.next(3) {
                let target = targets[self.c.next(targets.len())];
                let other_type = self.c.chance(8);
                self.p.aliases.push(Alias {
                    name: format!("a{a}"),
                    target,
                    other_type,
                });
            }
        }
        // Symbol pointers (always for what is not defined here).
        let all = self.p.export_names();
        for name in &all {
            let undefined = self.p.funcs.iter().any(|f| &f.name == name && !f.defined)
                || self.p.vars.iter().any(|v| &v.name == name && !v.defined);
            if undefined || self.c.chance(3) {
                self.p.ptrs.push(name.clone());
            }
        }
        // Weak definitions.
        for f in &self.p.funcs {
            if f.defined && self.c.chance(8) {
                self.p.weak.push(f.name.clone());
            }
        }
        for v in &self.p.vars {
            if v.defined && self.c.chance(8) {
                self.p.weak.push(v.name.clone());
            }
        }
        // Uses from the other unit.
        if self.p.units > 1 {
            self.p.separate = self.c.chance(4);
            for i in 0..self.p.funcs.len() {
                if self.p.funcs[i].defined && self.c.chance(3) {
                    self.p.uses.push(Target::Func(i));
                }
            }
            for i in 0..self.p.vars.len() {
                if self.p.vars[i].defined && self.c.chance(3) {
                    self.p.uses.push(Target::Var(i));
                }
            }
        }
        // kABI rules.
        for _ in 0..self.c.next(5) {
            if let Some(r) = self.rule() {
                self.p.rules.push(r);
            }
        }
        // A second rule for one target (the later one wins).
        if !self.p.rules.is_empty() && self.c.chance(4) {
            let mut r = self.p.rules[self.c.next(self.p.rules.len())].clone();
            if let Ok(n) = r.value.parse::<u64>() {
                r.value = format!("{}", n + 1);
            } else if r.kind == "type_string" {
                r.value = r.value.replacen("byte_size(", "byte_size(1", 1);
            }
            self.p.rules.push(r);
        }
        // The symbol list: most exports, in random order, some duplicated, some
        // names that exist nowhere.
        let mut syms: Vec<String> = all.into_iter().filter(|_| !self.c.chance(8)).collect();
        if self.c.chance(4) {
            syms.push(format!("nosuch{}", self.c.next(10)));
        }
        let mut statics: Vec<String> = self.p.statics.iter().map(|f| f.name.clone()).collect();
        statics.dedup();
        for h in statics {
            if !self.c.chance(3) {
                syms.push(h);
            }
        }
        if !syms.is_empty() && self.c.chance(8) {
            let i = self.c.next(syms.len());
            syms.push(syms[i].clone());
        }
        if syms.is_empty() {
            syms.push(self.p.export_names()[0].clone());
        }
        for i in (1..syms.len()).rev() {
            let j = self.c.next(i + 1);
            syms.swap(i, j);
        }
        self.p.symbols = syms;
        // Names beyond ASCII (gendwarfksyms hashes them as signed chars).
        if self.c.chance(8) {
            self.p.rename(|n| format!("{n}\u{e9}"));
        }
        self.p
    }

    /// A function named `name` (types from `exports`).
    fn func(&mut self, name: String) -> Func {
        let ret = match self.c.next(4) {
            0 => Ty::Void,
            1 => Ty::ptr(self.pointee(self.p.decls.len(), Ctx::Source, 1)),
            _ => self.value_ty(self.p.decls.len(), Ctx::Source, 1),
        };
        let ret = self.p.returnable(strip_top_quals(ret));
        let n = self.c.next(5);
        let callbacks = self.p.callbacks();
        let params = (0..n)
            .map(|i| {
                let name = if self.c.chance(12) {
                    format!("__kabi_p{i}")
                } else {
                    format!("p{i}")
                };
                let ty = if !callbacks.is_empty() && self.c.chance(3) {
                    callbacks[self.c.next(callbacks.len())].clone()
                } else {
                    strip_zero_arrays(self.value_ty(self.p.decls.len(), Ctx::Source, 1))
                };
                Param { name, ty }
            })
            .collect::<Vec<_>>();
        let variadic = !params.is_empty() && self.c.chance(6);
        let empty_parens = params.is_empty() && self.c.chance(4);
        let defined = !self.c.chance(8);
        let unit = if self.p.units > 1 { self.c.next(2) } else { 0 };
        Func {
            name,
            ret,
            params,
            variadic,
            empty_parens,
            proto: self.c.chance(2),
            defined,
            unit,
        }
    }

    fn rule(&mut self) -> Option<Rule> {
        let aggs: Vec<usize> = (0..self.p.decls.len())
            .filter(|&i| matches!(self.p.decls[i].kind, DeclKind::Agg(_) | DeclKind::Enum(_)))
            .collect();
        let enums: Vec<usize> = (0..self.p.decls.len())
            .filter(|&i| matches!(self.p.decls[i].kind, DeclKind::Enum(_)))
            .collect();
        Some(match self.c.next(5) {
            0 => Rule {
                kind: "declonly",
                target: {
                    let i = self.pick(&aggs)?;
                    self.p.decls[i].name.clone()
                },
                value: String::new(),
            },
            1 | 2 => {
                let e = self.pick(&enums)?;
                let DeclKind::Enum(en) = &self.p.decls[e].kind else {
                    unreachable!()
                };
                let item = self.c.next(en.items.len());
                let ignore = self.c.next(3) == 1;
                Rule {
                    kind: if ignore {
                        "enumerator_ignore"
                    } else {
                        "enumerator_value"
                    },
                    target: format!("{} {}", self.p.decls[e].name, item_name(e, item)),
                    value: if ignore {
                        String::new()
                    } else {
                        // Only plain decimals: gendwarfksyms reads the value
                        // with strtoul (`-10` wraps, ` +7` passes), ksymrules
                        // rejects them (corpus/differential/kabi-value-strtoul).
                        format!("{}", self.c.next(1000))
                    },
                }
            }
            3 => Rule {
                kind: "byte_size",
                target: {
                    let i = self.pick(&aggs)?;
                    self.p.decls[i].name.clone()
                },
                value: format!("{}", self.c.next(64)),
            },
            _ => {
                // A type string for a type, or for a symbol.
                let body = if self.c.chance(2) {
                    "structure_type x { member base_type int byte_size(4) encoding(5) n data_member_location(0) } byte_size(4)"
                        .to_string()
                } else {
                    // A reference (maybe to a type that exists nowhere).
                    let v: Vec<usize> = (0..self.p.decls.len()).collect();
                    match self.pick(&v) {
                        Some(i) if !self.c.chance(6) => format!(
                            "structure_type x {{ member pointer_type {{ {} }} byte_size(8) p data_member_location(0) }} byte_size(8)",
                            self.p.type_name(i)
                        ),
                        _ => "structure_type x { member s#nowhere p } byte_size(8)".to_string(),
                    }
                };
                if self.c.chance(2) && !self.p.decls.is_empty() {
                    let i = self.c.next(self.p.decls.len());
                    Rule {
                        kind: "type_string",
                        target: self.p.type_name(i),
                        value: body,
                    }
                } else {
                    let syms = self.p.export_names();
                    let s = syms[self.c.next(syms.len())].clone();
                    let v = if self.c.chance(2) {
                        "variable base_type int byte_size(4) encoding(5)".to_string()
                    } else {
                        format!("variable {body}")
                    };
                    Rule {
                        kind: "type_string",
                        target: s,
                        value: v,
                    }
                }
            }
        })
    }
}

fn item_name(e: usize, j: usize) -> String {
    format!("E{e}_{j}")
}

/// `t` with `[0]` and `[]` dimensions made `[1]`.
fn strip_zero_arrays(t: Ty) -> Ty {
    match t {
        Ty::Array(e, d) => Ty::Array(
            e,
            d.into_iter()
                .map(|x| match x {
                    Some(0) | None => Some(1),
                    x => x,
                })
                .collect(),
        ),
        Ty::Qual(q, t) => Ty::Qual(q, Box::new(strip_zero_arrays(*t))),
        t => t,
    }
}

/// A return type's top-level qualifiers mean nothing (and `_Atomic` warns).
fn strip_top_quals(t: Ty) -> Ty {
    match t {
        Ty::Qual(_, t) => *t,
        t => t,
    }
}

/// The bucket of gendwarfksyms' symbol hash table a name falls in: FNV-1a
/// (32-bit, over the bytes as signed chars) modulo 4096.
fn bucket(name: &str) -> u32 {
    let mut h: u32 = 2166136261;
    for &b in name.as_bytes() {
        h = (h ^ (b as i8 as i32 as u32)).wrapping_mul(16777619);
    }
    h % 4096
}

/// A random program.
pub fn program() -> impl Strategy<Value = Program> {
    let stream = |n| prop::collection::vec(any::<u16>(), 0..n);
    (stream(240), stream(80), stream(48)).prop_map(|(types, exports, extras)| {
        Builder {
            c: Choices {
                data: &types,
                pos: 0,
            },
            p: Program::default(),
            n: 0,
            anon_ok: true,
        }
        .build(&exports, &extras)
    })
}

// ---------------------------------------------------------------------------
// Walking the program

impl Program {
    /// Renames every exported function, variable and alias (and the symbol
    /// list, symbol pointers, weak list and symbol rules with them).
    fn rename(&mut self, f: impl Fn(&str) -> String) {
        let old = self.export_names();
        let map = |n: &String| {
            if old.contains(n) {
                f(n)
            } else {
                n.clone()
            }
        };
        for x in &mut self.funcs {
            x.name = map(&x.name);
        }
        for x in &mut self.vars {
            x.name = map(&x.name);
        }
        for x in &mut self.aliases {
            x.name = map(&x.name);
        }
        for v in [&mut self.ptrs, &mut self.symbols, &mut self.weak] {
            for n in v.iter_mut() {
                *n = map(n);
            }
        }
        for r in &mut self.rules {
            r.target = map(&r.target);
        }
    }

    /// The exported names: functions, variables, aliases.
    pub fn export_names(&self) -> Vec<String> {
        self.funcs
            .iter()
            .map(|f| f.name.clone())
            .chain(self.vars.iter().map(|v| v.name.clone()))
            .chain(self.aliases.iter().map(|a| a.name.clone()))
            .collect()
    }

    /// `s#name`, `u#name`, `e#name` or `t#name`.
    fn type_name(&self, i: usize) -> String {
        let d = &self.decls[i];
        let p = match &d.kind {
            DeclKind::Agg(a) if a.union => "u",
            DeclKind::Agg(_) => "s",
            DeclKind::Enum(_) => "e",
            DeclKind::Typedef(_) => "t",
        };
        format!("{p}#{}", d.name)
    }

    /// Which declarations the exports reach.
    fn reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.decls.len()];
        let mut stack: Vec<&Ty> = Vec::new();
        for f in &self.funcs {
            stack.push(&f.ret);
            stack.extend(f.params.iter().map(|p| &p.ty));
        }
        stack.extend(self.vars.iter().map(|v| &v.ty));
        while let Some(t) = stack.pop() {
            match t {
                Ty::Ref(i) => {
                    if !seen[*i] {
                        seen[*i] = true;
                        match &self.decls[*i].kind {
                            DeclKind::Agg(a) => stack.extend(a.members.iter().map(|m| &m.ty)),
                            DeclKind::Typedef(t) => stack.push(t),
                            DeclKind::Enum(_) => {}
                        }
                    }
                }
                Ty::Ptr(t) | Ty::Qual(_, t) | Ty::Array(t, _) => stack.push(t),
                Ty::Func(r, ps, _) => {
                    stack.push(r);
                    stack.extend(ps.iter());
                }
                Ty::Anon(a) => stack.extend(a.members.iter().map(|m| &m.ty)),
                Ty::Void | Ty::Prim(_) => {}
            }
        }
        seen
    }

    /// The callback types of the operations tables (members that point to
    /// a function taking a pointer to their structure).
    pub fn callbacks(&self) -> Vec<Ty> {
        let mut v = Vec::new();
        for (i, d) in self.decls.iter().enumerate() {
            let DeclKind::Agg(a) = &d.kind else { continue };
            for m in &a.members {
                if let Ty::Ptr(f) = &m.ty {
                    if let Ty::Func(_, ps, _) = &**f {
                        if ps.contains(&Ty::ptr(Ty::Ref(i))) {
                            v.push(m.ty.clone());
                        }
                    }
                }
            }
        }
        v
    }

    /// A function's return type: not an array (a typedef of one neither).
    fn returnable(&self, t: Ty) -> Ty {
        match t {
            Ty::Array(e, _) => Ty::ptr(*e),
            Ty::Ref(i) if self.is_array(&Ty::Ref(i)) => Ty::ptr(Ty::Ref(i)),
            t => t,
        }
    }

    fn is_array(&self, t: &Ty) -> bool {
        match t {
            Ty::Array(..) => true,
            Ty::Qual(_, t) => self.is_array(t),
            Ty::Ref(i) => match &self.decls[*i].kind {
                DeclKind::Typedef(t) => self.is_array(t),
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether `t` can be named in the header (by value: header types only).
    fn header_visible(&self, t: &Ty, by_value: bool) -> bool {
        match t {
            Ty::Ref(i) => {
                let d = &self.decls[*i];
                match d.kind {
                    DeclKind::Agg(_) if !by_value => true,
                    _ => d.placement == Placement::Header,
                }
            }
            Ty::Ptr(t) => self.header_visible(t, false),
            Ty::Qual(_, t) | Ty::Array(t, _) => self.header_visible(t, by_value),
            Ty::Func(r, ps, _) => {
                self.header_visible(r, false) && ps.iter().all(|p| self.header_visible(p, false))
            }
            // Each declaration of an unnamed structure is another type.
            Ty::Anon(_) => false,
            Ty::Void | Ty::Prim(_) => true,
        }
    }

    fn func_header_visible(&self, f: &Func) -> bool {
        self.header_visible(&f.ret, true)
            && f.params.iter().all(|p| self.header_visible(&p.ty, true))
    }
}

impl Enum {
    /// Whether C takes it: no value past 64 bits, no value past `i64::MAX`
    /// with negative ones, no implicit value after `INT_MAX` or past
    /// `i64::MAX - 1` (the increment overflows the previous value's type).
    fn valid(&self) -> bool {
        let vals = self.values();
        let has_neg = vals.iter().any(|v| *v < 0);
        let in_range = |v: &i128| {
            *v >= i64::MIN as i128
                && (*v <= i64::MAX as i128 || (!has_neg && *v <= u64::MAX as i128))
        };
        let prevs = std::iter::once(None).chain(vals.iter().map(|v| Some(*v)));
        vals.iter().all(in_range)
            && self.items.iter().zip(prevs).all(|(it, prev)| {
                it.is_some() || prev.is_none_or(|p| p < i64::MAX as i128 && p != i32::MAX as i128)
            })
    }

    fn values(&self) -> Vec<i128> {
        let mut v = -1i128;
        self.items
            .iter()
            .map(|it| {
                v = it.unwrap_or(v + 1);
                v
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Rendering

/// A program as files: `gen.h`, `gen0.c` (and `gen1.c`), and its symbol list.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub files: Vec<(String, String)>,
    /// The `.c` files, one per compilation unit.
    pub units: Vec<String>,
    /// Whether the units' objects are joined with `ld -r` (else given to
    /// the tools one after the other).
    pub link: bool,
    pub symbols: String,
}

impl Rendered {
    /// Writes the files into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, String> {
        for (name, text) in &self.files {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        Ok(self.units.iter().map(|u| dir.join(u)).collect())
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, text) in &self.files {
            write!(f, "--- {name}\n{text}")?;
        }
        write!(f, "--- symbols\n{}", self.symbols)
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
            Ty::Prim(p) => p.spelling().into(),
            Ty::Ref(i) => {
                let d = &self.decls[*i];
                match &d.kind {
                    DeclKind::Agg(a) => {
                        format!("{} {}", if a.union { "union" } else { "struct" }, d.name)
                    }
                    DeclKind::Enum(_) => format!("enum {}", d.name),
                    DeclKind::Typedef(_) => d.name.clone(),
                }
            }
            Ty::Anon(a) => self.agg_text(None, a),
            _ => return None,
        })
    }

    /// `t` declaring `inner` (a name, or a partial declarator).
    fn decl(&self, t: &Ty, inner: &str) -> String {
        if let Some(spec) = self.spec(t) {
            return join(&spec, inner);
        }
        match t {
            Ty::Qual(q, base) => match &**base {
                Ty::Ptr(to) => self.ptr_decl(to, &format!("* {} {inner}", q.words())),
                b => join(&format!("{} {}", q.words(), self.spec(b).unwrap()), inner),
            },
            Ty::Ptr(to) => self.ptr_decl(to, &format!("*{inner}")),
            Ty::Array(elem, dims) => {
                let mut s = inner.to_string();
                for d in dims {
                    match d {
                        Some(n) => write!(s, "[{n}]").unwrap(),
                        None => s.push_str("[]"),
                    }
                }
                self.decl(elem, &s)
            }
            Ty::Func(ret, params, variadic) => {
                let mut ps: Vec<String> = params.iter().map(|p| self.decl(p, "")).collect();
                if *variadic {
                    ps.push("...".into());
                }
                let ps = if ps.is_empty() {
                    "void".to_string()
                } else {
                    ps.join(", ")
                };
                self.decl(ret, &format!("{inner}({ps})"))
            }
            _ => unreachable!(),
        }
    }

    fn ptr_decl(&self, to: &Ty, starred: &str) -> String {
        if matches!(to, Ty::Array(..) | Ty::Func(..)) {
            self.decl(to, &format!("({starred})"))
        } else {
            self.decl(to, starred)
        }
    }

    /// A structure or union's text: `struct name { ... }` on one line.
    fn agg_text(&self, name: Option<&str>, a: &Agg) -> String {
        let mut s = String::from(if a.union { "union" } else { "struct" });
        if a.packed {
            s.push_str(" __attribute__((packed))");
        }
        if let Some(n) = name {
            write!(s, " {n}").unwrap();
        }
        s.push_str(" {");
        for m in &a.members {
            let mut d = self.decl(&m.ty, m.name.as_deref().unwrap_or(""));
            if let Some(b) = m.bits {
                write!(d, " : {b}").unwrap();
            }
            if let Some(al) = m.aligned {
                write!(d, " __attribute__((aligned({al})))").unwrap();
            }
            write!(s, " {d};").unwrap();
        }
        s.push_str(" }");
        if let Some(al) = a.aligned {
            write!(s, " __attribute__((aligned({al})))").unwrap();
        }
        s
    }

    fn decl_text(&self, d: &Decl) -> String {
        match &d.kind {
            DeclKind::Agg(a) if d.unit1_extra => {
                let t = self.agg_text(Some(&d.name), a);
                // First: a flexible array member stays last. Of size 0 and
                // alignment 1, so that the structures holding this one keep
                // their layout: their strings are the same in both units (a
                // member that moved their offsets would give strings of equal
                // length and other text — a tie, which gendwarfksyms breaks
                // by memory addresses).
                let (head, body) = t.split_once(" {").unwrap();
                format!("{head} {{ GEN_UNIT1_ONLY(char gen_extra[0];){body};\n")
            }
            DeclKind::Agg(a) => format!("{};\n", self.agg_text(Some(&d.name), a)),
            DeclKind::Enum(e) => {
                let mut s = format!("enum {} {{\n", d.name);
                let i: usize = d.name[1..].parse().unwrap();
                for (j, v) in e.items.iter().enumerate() {
                    match v {
                        None => writeln!(s, "\t{},", item_name(i, j)).unwrap(),
                        // The most negative 64-bit value has no literal.
                        Some(v) if *v == i64::MIN as i128 => {
                            writeln!(s, "\t{} = -0x7fffffffffffffffL - 1,", item_name(i, j))
                                .unwrap()
                        }
                        Some(v) if *v > i64::MAX as i128 => {
                            writeln!(s, "\t{} = {v:#x}UL,", item_name(i, j)).unwrap()
                        }
                        Some(v) if *v > u32::MAX as i128 || *v < i32::MIN as i128 => {
                            writeln!(s, "\t{} = {v}L,", item_name(i, j)).unwrap()
                        }
                        Some(v) => writeln!(s, "\t{} = {v},", item_name(i, j)).unwrap(),
                    }
                }
                s.push('}');
                if e.packed {
                    s.push_str(" __attribute__((packed))");
                }
                s.push_str(";\n");
                s
            }
            DeclKind::Typedef(t) => format!("typedef {};\n", self.decl(t, &d.name)),
        }
    }

    fn func_head(&self, f: &Func, name: &str) -> String {
        let mut ps: Vec<String> = f.params.iter().map(|p| self.decl(&p.ty, &p.name)).collect();
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
        self.decl(&f.ret, &format!("{name}({params})"))
    }

    fn var_decl(&self, v: &Var, name: &str, no_size: bool) -> String {
        match (&v.ty, no_size) {
            (Ty::Array(e, d), true) => {
                let mut d = d.clone();
                d[0] = None;
                self.decl(&Ty::Array(e.clone(), d), name)
            }
            _ => self.decl(&v.ty, name),
        }
    }

    pub fn render(&self) -> Rendered {
        let mut h = String::new();
        writeln!(h, "#ifndef GEN_H\n#define GEN_H").unwrap();
        // Every structure and union declared first.
        for d in &self.decls {
            if let DeclKind::Agg(a) = &d.kind {
                writeln!(
                    h,
                    "{} {};",
                    if a.union { "union" } else { "struct" },
                    d.name
                )
                .unwrap();
            }
        }
        if self.units > 1 {
            writeln!(
                h,
                "#ifdef GEN_UNIT1\n#define GEN_UNIT1_ONLY(x) x\n#else\n#define GEN_UNIT1_ONLY(x)\n#endif"
            )
            .unwrap();
        }
        for d in &self.decls {
            match d.placement {
                Placement::Header => h.push_str(&self.decl_text(d)),
                Placement::Unit1 if self.units > 1 => {
                    write!(h, "#ifdef GEN_UNIT1\n{}#endif\n", self.decl_text(d)).unwrap()
                }
                _ => {}
            }
        }
        for f in &self.funcs {
            if (f.proto || !f.defined) && self.func_header_visible(f) {
                writeln!(h, "extern {};", self.func_head(f, &f.name)).unwrap();
            }
        }
        for v in &self.vars {
            if (v.proto || !v.defined) && self.header_visible(&v.ty, true) {
                writeln!(
                    h,
                    "extern {};",
                    self.var_decl(v, &v.name, v.proto_unsized && v.defined)
                )
                .unwrap();
            }
        }
        writeln!(h, "#endif").unwrap();

        let mut units = Vec::new();
        for u in 0..self.units {
            let mut c = String::new();
            if u == 1 {
                writeln!(c, "#define GEN_UNIT1").unwrap();
            }
            writeln!(c, "#include \"gen.h\"").unwrap();
            for d in &self.decls {
                if d.placement == Placement::Source {
                    c.push_str(&self.decl_text(d));
                }
            }
            // Declarations of what is defined nowhere (for its symbol
            // pointer), when the header has none.
            for f in &self.funcs {
                if u == 0 && !f.defined && !self.func_header_visible(f) {
                    writeln!(c, "extern {};", self.func_head(f, &f.name)).unwrap();
                }
            }
            for v in &self.vars {
                if u == 0 && !v.defined && !self.header_visible(&v.ty, true) {
                    writeln!(c, "extern {};", self.var_decl(v, &v.name, false)).unwrap();
                }
            }
            for f in self.funcs.iter().filter(|f| f.defined && f.unit == u) {
                let head = self.func_head(f, &f.name);
                let body = if f.ret == Ty::Void {
                    "{\n}".to_string()
                } else {
                    format!("{{\n\tstatic {};\n\treturn r;\n}}", self.decl(&f.ret, "r"))
                };
                let weak = if self.weak.contains(&f.name) {
                    "__attribute__((__weak__)) "
                } else {
                    ""
                };
                writeln!(c, "{weak}{head}\n{body}").unwrap();
            }
            for (i, v) in self.vars.iter().enumerate() {
                if !v.defined || v.unit != u {
                    continue;
                }
                let mut attrs = String::new();
                if self.weak.contains(&v.name) {
                    attrs.push_str(" __attribute__((__weak__))");
                }
                // An alias can't name a common symbol (-fcommon): a section
                // of its own keeps an aliased variable out of the commons.
                if self.aliases.iter().any(|a| a.target == Target::Var(i)) {
                    write!(
                        attrs,
                        " __attribute__((__section__(\".data.gen_{}\")))",
                        v.name
                    )
                    .unwrap();
                }
                writeln!(c, "{}{attrs};", self.var_decl(v, &v.name, false)).unwrap();
            }
            for f in self.statics.iter().filter(|f| f.unit == u) {
                let head = self.func_head(f, &f.name);
                let body = if f.ret == Ty::Void {
                    "{\n}".to_string()
                } else {
                    format!("{{\n\tstatic {};\n\treturn r;\n}}", self.decl(&f.ret, "r"))
                };
                writeln!(
                    c,
                    "static __attribute__((__used__, __noinline__)) {head}\n{body}"
                )
                .unwrap();
            }
            // Addresses of the other unit's exports.
            let mut used = Vec::new();
            for t in &self.uses {
                let (name, unit) = match *t {
                    Target::Func(i) => {
                        let f = &self.funcs[i];
                        if !(f.proto && self.func_header_visible(f)) && f.unit != u {
                            writeln!(c, "extern {};", self.func_head(f, &f.name)).unwrap();
                        }
                        (&f.name, f.unit)
                    }
                    Target::Var(i) => {
                        let v = &self.vars[i];
                        if !(v.proto && self.header_visible(&v.ty, true)) && v.unit != u {
                            writeln!(c, "extern {};", self.var_decl(v, &v.name, false)).unwrap();
                        }
                        (&v.name, v.unit)
                    }
                };
                if unit != u {
                    used.push(format!("(void *)&{name}"));
                }
            }
            if !used.is_empty() {
                writeln!(
                    c,
                    "static void *__gen_uses{u}[] __attribute__((__used__)) = {{ {} }};",
                    used.join(", ")
                )
                .unwrap();
            }
            for a in &self.aliases {
                let unit = match a.target {
                    Target::Func(i) => self.funcs[i].unit,
                    Target::Var(i) => self.vars[i].unit,
                };
                if unit != u {
                    continue;
                }
                let decl = match (a.target, a.other_type) {
                    (Target::Func(_), true) => format!("void {}(void)", a.name),
                    (Target::Var(_), true) => format!("extern char {}", a.name),
                    (Target::Func(i), false) => self.func_head(&self.funcs[i], &a.name),
                    (Target::Var(i), false) => {
                        format!("extern {}", self.var_decl(&self.vars[i], &a.name, false))
                    }
                };
                let target = match a.target {
                    Target::Func(i) => &self.funcs[i].name,
                    Target::Var(i) => &self.vars[i].name,
                };
                writeln!(c, "{decl} __attribute__((alias(\"{target}\")));").unwrap();
            }
            // Symbol pointers: in the unit that defines the symbol (unit 0
            // for the undefined ones).
            for name in &self.ptrs {
                let unit = self
                    .funcs
                    .iter()
                    .find(|f| &f.name == name)
                    .map(|f| if f.defined { f.unit } else { 0 })
                    .or_else(|| {
                        self.vars.iter().find(|v| &v.name == name).map(|v| {
                            if v.defined {
                                v.unit
                            } else {
                                0
                            }
                        })
                    })
                    .or_else(|| {
                        self.aliases
                            .iter()
                            .find(|a| &a.name == name)
                            .map(|a| match a.target {
                                Target::Func(i) => self.funcs[i].unit,
                                Target::Var(i) => self.vars[i].unit,
                            })
                    })
                    .unwrap_or(0);
                if unit == u {
                    writeln!(
                        c,
                        "static __typeof__({name}) *__gendwarfksyms_ptr_{name} \
                         __attribute__((__used__, __section__(\".discard.gendwarfksyms\"))) = &{name};"
                    )
                    .unwrap();
                }
            }
            if u == 0 {
                for (k, r) in self.rules.iter().enumerate() {
                    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
                    writeln!(
                        c,
                        "static const char __gendwarfksyms_rule_{k}[] \
                         __attribute__((__used__, __aligned__(1), \
                         __section__(\".discard.gendwarfksyms.kabi_rules\"))) = \
                         \"1\\0\" \"{}\" \"\\0\" \"{}\" \"\\0\" \"{}\";",
                        r.kind,
                        esc(&r.target),
                        esc(&r.value)
                    )
                    .unwrap();
                }
            }
            units.push(c);
        }
        let mut files = vec![("gen.h".to_string(), h)];
        let mut names = Vec::new();
        for (u, c) in units.into_iter().enumerate() {
            let name = format!("gen{u}.c");
            files.push((name.clone(), c));
            names.push(name);
        }
        Rendered {
            files,
            units: names,
            link: !self.separate,
            symbols: self.symbols.iter().map(|s| format!("{s}\n")).collect(),
        }
    }
}
