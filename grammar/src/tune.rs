//! Tuning statements, made as changes to the compiled rules: the
//! interpreter knows nothing of them. Each is one line in a rules file or a
//! kABI file:
//!
//! ```text
//! drop alignment                               # everywhere
//! drop data_bit_offset from member in "foo*"   # in members of types foo*
//! drop data_member_location when unit.language == "Rust"
//! opaque "sk_buff", "net_device*"              # never expanded
//! omit member "__reserved*" in "foo*"          # members left out
//! omit enumerator "*_MAX"
//! ```
//!
//! * `drop ATTR, ...` makes the attributes read as absent wherever the
//!   rules of the DIEs concerned use them: `has(ATTR)` is false, printing
//!   it prints nothing, an expression that uses it has no value. `from TAG,
//!   ...` limits it to DIEs of these tags. `in "GLOB"` limits it to types
//!   whose name matches (the tags of `reference` statements: structures,
//!   unions, enumerations, typedefs) and to what their descriptions
//!   contain (members, enumerators, unnamed nested types), through a
//!   variable each matching type sets for its children.
//! * `opaque "GLOB", ...` adds `not fqn ~ GLOB` to the `expand` condition.
//! * `omit member|enumerator|parameter "GLOB"` puts a first arm `TAG if
//!   name ~ GLOB => skip` in every list of children that describes such
//!   DIEs; with `in "GLOB"`, only in types whose name matches.
//! * `when COND` adds a condition, tested on the DIE concerned (for `omit`,
//!   on the child), typically on its unit: `unit.language == "Rust"`.
//!
//! A statement that changes nothing is an error: it names a rule that does
//! not exist, or an attribute no rule uses.

use crate::model::*;
use crate::names::AttrClass;
use gimli::{DwAt, DwTag};

impl Rules {
    /// Makes one tuning statement's change. The message says why a
    /// statement changes nothing (the caller adds where it is).
    pub fn tune(&mut self, t: &Tuning) -> Result<(), String> {
        match t {
            Tuning::Drop {
                attrs,
                from,
                within,
                when,
                origin,
            } => self.drop_attrs(attrs, from, within.as_ref(), when.as_ref(), origin),
            Tuning::Opaque { globs, when, .. } => self.opaque(globs, when.as_ref()),
            Tuning::Omit {
                tag,
                glob,
                within,
                when,
                ..
            } => self.omit(*tag, glob, within.as_ref(), when.as_ref()),
        }
    }

    /// The tags whose named DIEs are types with names a glob can match.
    fn named_tags(&self) -> Vec<DwTag> {
        self.references.keys().copied().collect()
    }

    fn drop_attrs(
        &mut self,
        attrs: &[DwAt],
        from: &[DwTag],
        within: Option<&Glob>,
        when: Option<&Cond>,
        origin: &Origin,
    ) -> Result<(), String> {
        let named = self.named_tags();
        // Set by a matching type for what its description contains.
        let var = format!(
            "$drop@{}:{}:{}",
            origin.file, origin.pos.line, origin.pos.col
        );
        let guard_for = |tag: Option<DwTag>| -> Option<Cond> {
            let place = within.map(|g| match tag {
                Some(t) if named.contains(&t) => Cond::Match(Expr::Field(Field::Fqn), g.clone()),
                _ => Cond::Eq(Expr::Var(var.clone().into()), Expr::Str("1".into())),
            });
            match (place, when) {
                (None, None) => None,
                (Some(p), None) => Some(p),
                (None, Some(w)) => Some(w.clone()),
                (Some(p), Some(w)) => Some(Cond::And(vec![p, w.clone()].into())),
            }
        };
        let picks = |tag: DwTag| from.is_empty() || from.contains(&tag);
        for t in from {
            let symbol = *t == gimli::DW_TAG_subprogram || *t == gimli::DW_TAG_variable;
            if !symbol && !self.types.contains_key(t) {
                return Err(format!(
                    "`drop ... from {}`: no rule describes that tag",
                    crate::names::tag_name(*t)
                ));
            }
        }
        let mut changed = 0;
        let mut inner = false;
        for (tag, template) in self.types.iter_mut() {
            if picks(*tag) {
                let n = drop_in_ops(&mut template.ops, attrs, guard_for(Some(*tag)).as_ref());
                inner |= n > 0 && !named.contains(tag);
                changed += n;
            }
        }
        for (tag, template) in [
            (gimli::DW_TAG_subprogram, &mut self.subprogram),
            (gimli::DW_TAG_variable, &mut self.variable),
        ] {
            if picks(tag) {
                let n = drop_in_ops(&mut template.ops, attrs, guard_for(None).as_ref());
                inner |= n > 0;
                changed += n;
            }
        }
        if changed == 0 {
            let names: Vec<String> = attrs.iter().map(|a| crate::names::attr_name(*a)).collect();
            return Err(format!(
                "`drop {}`: no rule{} uses {}",
                names.join(", "),
                if from.is_empty() {
                    ""
                } else {
                    " of these tags"
                },
                if names.len() == 1 { "it" } else { "them" }
            ));
        }
        if let (Some(g), true) = (within, inner) {
            for tag in &named {
                if let Some(t) = self.types.get_mut(tag) {
                    mark_children(&mut t.ops, &var, g);
                }
            }
        }
        Ok(())
    }

    fn opaque(&mut self, globs: &[Glob], when: Option<&Cond>) -> Result<(), String> {
        if self.expand_tags.is_empty() {
            return Err("`opaque`: no type is expanded (there is no `expand` statement)".into());
        }
        let matches = Cond::Or(
            globs
                .iter()
                .map(|g| Cond::Match(Expr::Field(Field::Fqn), g.clone()))
                .collect(),
        );
        let opaque = match when {
            Some(w) => Cond::And(vec![w.clone(), matches].into()),
            None => matches,
        };
        let not_opaque = Cond::Not(Node::new(opaque));
        self.expand_when = Some(match self.expand_when.take() {
            Some(e) => Cond::And(vec![e, not_opaque].into()),
            None => not_opaque,
        });
        Ok(())
    }

    fn omit(
        &mut self,
        tag: DwTag,
        glob: &Glob,
        within: Option<&Glob>,
        when: Option<&Cond>,
    ) -> Result<(), String> {
        let kind = crate::names::tag_name(tag);
        let named = self.named_tags();
        let name_matches = Cond::Match(
            Expr::Field(Field::Attr(gimli::DW_AT_name, AttrClass::String)),
            glob.clone(),
        );
        let arm = ChildArm {
            tags: Some(vec![tag].into()),
            when: Some(match when {
                Some(w) => Cond::And(vec![name_matches, w.clone()].into()),
                None => name_matches,
            }),
            action: crate::ast::Action::Skip,
        };
        let mut changed = 0;
        for (t, template) in self.types.iter_mut() {
            if within.is_some() && !named.contains(t) {
                continue;
            }
            changed += omit_in_ops(template.ops.to_mut(), tag, &arm, within);
        }
        if within.is_none() {
            changed += omit_in_ops(self.subprogram.ops.to_mut(), tag, &arm, None);
            changed += omit_in_ops(self.variable.ops.to_mut(), tag, &arm, None);
        }
        if changed == 0 {
            return Err(format!(
                "`omit`: no rule{} describes `{kind}` children",
                if within.is_some() {
                    " of a named type"
                } else {
                    ""
                }
            ));
        }
        Ok(())
    }
}

/// Whether an expression reads one of `attrs` of the DIE at hand.
fn reads(e: &Expr, attrs: &[DwAt]) -> bool {
    match e {
        Expr::Field(f) => field_reads(f, attrs),
        Expr::Func(_, args) => args.iter().any(|a| reads(a, attrs)),
        Expr::Add(a, b) | Expr::Sub(a, b) => reads(a, attrs) || reads(b, attrs),
        Expr::Int(_) | Expr::Str(_) | Expr::Var(_) => false,
    }
}

fn field_reads(f: &Field, attrs: &[DwAt]) -> bool {
    matches!(f, Field::Attr(at, _) if attrs.contains(at))
}

/// `c`, where a condition that reads a dropped attribute sees it absent
/// when `guard` holds (always when there is no guard). Counts the changes.
fn drop_in_cond(c: Cond, attrs: &[DwAt], guard: Option<&Cond>, n: &mut usize) -> Cond {
    let always = Cond::And(List::default());
    let never = Cond::Or(List::default());
    // What the condition is when the attribute is absent.
    let absent = |c: Cond, value: bool, n: &mut usize| {
        *n += 1;
        match (guard, value) {
            (None, true) => always.clone(),
            (None, false) => never.clone(),
            (Some(g), false) => Cond::And(vec![Cond::Not(Node::new(g.clone())), c].into()),
            (Some(g), true) => Cond::Or(vec![g.clone(), c].into()),
        }
    };
    match c {
        Cond::Has(e) if reads(&e, attrs) => absent(Cond::Has(e), false, n),
        Cond::Eq(a, b) if reads(&a, attrs) || reads(&b, attrs) => absent(Cond::Eq(a, b), false, n),
        Cond::Match(a, g) if reads(&a, attrs) => absent(Cond::Match(a, g), false, n),
        Cond::Ne(a, b) if reads(&a, attrs) || reads(&b, attrs) => absent(Cond::Ne(a, b), true, n),
        Cond::NoMatch(a, g) if reads(&a, attrs) => absent(Cond::NoMatch(a, g), true, n),
        Cond::Not(c) => Cond::Not(Node::new(drop_in_cond(c.into_inner(), attrs, guard, n))),
        Cond::And(cs) => Cond::And(
            cs.into_owned()
                .into_iter()
                .map(|c| drop_in_cond(c, attrs, guard, n))
                .collect(),
        ),
        Cond::Or(cs) => Cond::Or(
            cs.into_owned()
                .into_iter()
                .map(|c| drop_in_cond(c, attrs, guard, n))
                .collect(),
        ),
        c => c,
    }
}

/// Rewrites a template's pieces so that `attrs` read as absent where
/// `guard` holds. Returns the number of changes.
fn drop_in_ops(ops: &mut List<Op>, attrs: &[DwAt], guard: Option<&Cond>) -> usize {
    let mut n = 0;
    let only_if_kept = |op: Op| {
        guard.map(|g| {
            Op::If(
                vec![(Cond::Not(Node::new(g.clone())), vec![op].into())].into(),
                List::default(),
            )
        })
    };
    let mut out = Vec::with_capacity(ops.len());
    for op in std::mem::take(ops).into_owned() {
        match op {
            Op::Field(f, o) if field_reads(&f, attrs) => {
                n += 1;
                out.extend(only_if_kept(Op::Field(f, o)));
            }
            Op::Value(e, o) if reads(&e, attrs) => {
                n += 1;
                out.extend(only_if_kept(Op::Value(e, o)));
            }
            Op::LetVar(v, e) if reads(&e, attrs) => {
                n += 1;
                out.extend(only_if_kept(Op::LetVar(v, e)));
            }
            Op::SetVar(v, e) if reads(&e, attrs) => {
                n += 1;
                // An absent value clears the variable.
                out.push(match guard {
                    None => Op::ClearVar(v),
                    Some(g) => Op::If(
                        vec![(
                            Cond::Not(Node::new(g.clone())),
                            vec![Op::SetVar(v.clone(), e)].into(),
                        )]
                        .into(),
                        vec![Op::ClearVar(v)].into(),
                    ),
                });
            }
            Op::If(arms, mut otherwise) => {
                let arms = arms
                    .into_owned()
                    .into_iter()
                    .map(|(c, mut body)| {
                        let c = drop_in_cond(c, attrs, guard, &mut n);
                        n += drop_in_ops(&mut body, attrs, guard);
                        (c, body)
                    })
                    .collect();
                n += drop_in_ops(&mut otherwise, attrs, guard);
                out.push(Op::If(arms, otherwise));
            }
            Op::Separator(mut body) => {
                n += drop_in_ops(&mut body, attrs, guard);
                out.push(Op::Separator(body));
            }
            // Arms' conditions test the children, which have rules of their
            // own.
            op => out.push(op),
        }
    }
    *ops = out.into();
    n
}

/// Before each list of children of a type: `var` is "1" for the children
/// (and what they describe) when the type's name matches `glob`, "0" when
/// it has another name; an unnamed type passes on what it was given.
fn mark_children(ops: &mut List<Op>, var: &str, glob: &Glob) {
    let mut out = Vec::with_capacity(ops.len() + 1);
    for op in std::mem::take(ops).into_owned() {
        match op {
            Op::Children(arms) => {
                out.push(Op::If(
                    vec![
                        (
                            Cond::Match(Expr::Field(Field::Fqn), glob.clone()),
                            vec![Op::LetVar(var.to_string().into(), Expr::Str("1".into()))].into(),
                        ),
                        (
                            Cond::Has(Expr::Field(Field::Fqn)),
                            vec![Op::LetVar(var.to_string().into(), Expr::Str("0".into()))].into(),
                        ),
                    ]
                    .into(),
                    List::default(),
                ));
                out.push(Op::Children(arms));
            }
            Op::If(arms, mut otherwise) => {
                let arms = arms
                    .into_owned()
                    .into_iter()
                    .map(|(c, mut body)| {
                        mark_children(&mut body, var, glob);
                        (c, body)
                    })
                    .collect();
                mark_children(&mut otherwise, var, glob);
                out.push(Op::If(arms, otherwise));
            }
            Op::Separator(mut body) => {
                mark_children(&mut body, var, glob);
                out.push(Op::Separator(body));
            }
            op => out.push(op),
        }
    }
    *ops = out.into();
}

/// Puts `arm` first in every list of children that describes `tag`
/// children (only where the type's name matches `within`, when given).
/// Returns the number of lists changed.
fn omit_in_ops(ops: &mut [Op], tag: DwTag, arm: &ChildArm, within: Option<&Glob>) -> usize {
    let mut n = 0;
    for op in ops.iter_mut() {
        match op {
            Op::Children(arms) => {
                let describes = arms
                    .iter()
                    .any(|a| a.fits(tag) && matches!(a.action, crate::ast::Action::Describe));
                if !describes {
                    continue;
                }
                n += 1;
                let old = std::mem::take(arms);
                let mut with = Vec::with_capacity(old.len() + 1);
                with.push(arm.clone());
                with.extend(old.iter().cloned());
                *op = match within {
                    None => Op::Children(with.into()),
                    Some(g) => Op::If(
                        vec![(
                            Cond::Match(Expr::Field(Field::Fqn), g.clone()),
                            vec![Op::Children(with.into())].into(),
                        )]
                        .into(),
                        vec![Op::Children(old)].into(),
                    ),
                };
            }
            Op::If(arms, otherwise) => {
                for (_, body) in arms.to_mut().iter_mut() {
                    n += omit_in_ops(body.to_mut(), tag, arm, within);
                }
                n += omit_in_ops(otherwise.to_mut(), tag, arm, within);
            }
            Op::Separator(body) => n += omit_in_ops(body.to_mut(), tag, arm, within),
            _ => {}
        }
    }
    n
}
