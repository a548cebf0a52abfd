//! Rules specialised for one run: every `stable` replaced by its value
//! (known once the command line is read), and what that decides folded
//! away, so that the walk does not test it at every DIE.
//!
//! With the default rules and no `--stable`, this removes the kABI arms:
//! for instance the `member if stable and type.kabi_status == "ignored"`
//! arm of `each child`, which otherwise reads every member's entry once
//! more only to find the condition false.
//!
//! Folding is exact: conditions are evaluated left to right and stop at
//! the first value that decides them, and a condition that names a field
//! may have effects (reading `fqn` names the type; a bad reference is an
//! error). So only what is never evaluated is removed: a condition becomes
//! a constant only when no field is evaluated before its value is known.
//! One difference remains, on malformed input only: a child arm whose
//! condition folds away no longer reads the child's entry to test it, so a
//! child that is unreadable and that no arm describes is skipped instead of
//! being an error.

use crate::model::*;

impl Rules {
    /// These rules, with `stable` known.
    pub fn specialize(mut self, stable: bool) -> Rules {
        self.specialized = Some(stable);
        let f = Folder { stable };
        for t in self.types.values_mut() {
            f.ops(&mut t.ops);
        }
        f.ops(&mut self.subprogram.ops);
        f.ops(&mut self.variable.ops);
        self.expand_when = self.expand_when.take().and_then(|c| match f.cond(c) {
            Folded::Const(true) => None,
            Folded::Const(false) => Some(never()),
            Folded::Cond(c) => Some(c),
        });
        self.replace_when = self.replace_when.take().and_then(|c| match f.cond(c) {
            Folded::Const(false) => None,
            Folded::Const(true) => Some(Cond::And(List::default())),
            Folded::Cond(c) => Some(c),
        });
        self
    }
}

/// A condition that is always false (an empty `or`).
fn never() -> Cond {
    Cond::Or(List::default())
}

enum Folded {
    /// Known without evaluating anything.
    Const(bool),
    Cond(Cond),
}

struct Folder {
    stable: bool,
}

impl Folder {
    fn cond(&self, c: Cond) -> Folded {
        match c {
            Cond::Stable => Folded::Const(self.stable),
            Cond::Not(c) => match self.cond(c.into_inner()) {
                Folded::Const(v) => Folded::Const(!v),
                Folded::Cond(c) => Folded::Cond(Cond::Not(Node::new(c))),
            },
            Cond::And(cs) => self.list(cs, true),
            Cond::Or(cs) => self.list(cs, false),
            c @ (Cond::Has(_)
            | Cond::Expanded
            | Cond::Eq(..)
            | Cond::Ne(..)
            | Cond::Match(..)
            | Cond::NoMatch(..)) => Folded::Cond(c),
        }
    }

    /// `and` (`all` = true) or `or` (`all` = false): an item equal to
    /// `all` is dropped; the first item equal to `!all` decides the list,
    /// and what follows it is never evaluated.
    fn list(&self, cs: List<Cond>, all: bool) -> Folded {
        let mut kept = Vec::with_capacity(cs.len());
        let mut decided = false;
        for c in cs.into_owned() {
            match self.cond(c) {
                Folded::Const(v) if v == all => {}
                Folded::Const(_) => {
                    decided = true;
                    break;
                }
                Folded::Cond(c) => kept.push(c),
            }
        }
        match (kept.is_empty(), decided) {
            (true, true) => Folded::Const(!all),
            (true, false) => Folded::Const(all),
            (false, decided) => {
                if decided {
                    // Evaluated for its effects, then decided.
                    kept.push(if all {
                        never()
                    } else {
                        Cond::And(List::default())
                    });
                }
                if kept.len() == 1 && !decided {
                    Folded::Cond(kept.pop().expect("one item"))
                } else if all {
                    Folded::Cond(Cond::And(kept.into()))
                } else {
                    Folded::Cond(Cond::Or(kept.into()))
                }
            }
        }
    }

    fn ops(&self, ops: &mut List<Op>) {
        let mut out = Vec::with_capacity(ops.len());
        for op in std::mem::take(ops).into_owned() {
            match op {
                Op::If(arms, mut otherwise) => {
                    let mut kept = Vec::with_capacity(arms.len());
                    let mut taken = None;
                    for (c, mut body) in arms.into_owned() {
                        match self.cond(c) {
                            Folded::Const(false) => {}
                            Folded::Const(true) => {
                                self.ops(&mut body);
                                taken = Some(body);
                                break;
                            }
                            Folded::Cond(c) => {
                                self.ops(&mut body);
                                kept.push((c, body));
                            }
                        }
                    }
                    match taken {
                        Some(body) => otherwise = body,
                        None => self.ops(&mut otherwise),
                    }
                    if kept.is_empty() {
                        out.extend(otherwise.into_owned());
                    } else {
                        out.push(Op::If(kept.into(), otherwise));
                    }
                }
                Op::Separator(mut body) => {
                    self.ops(&mut body);
                    out.push(Op::Separator(body));
                }
                Op::Children(arms) => {
                    let mut kept = Vec::with_capacity(arms.len());
                    for mut arm in arms.into_owned() {
                        match arm.when.take().map(|c| self.cond(c)) {
                            None | Some(Folded::Const(true)) => {}
                            Some(Folded::Const(false)) => continue,
                            Some(Folded::Cond(c)) => arm.when = Some(c),
                        }
                        kept.push(arm);
                    }
                    out.push(Op::Children(kept.into()));
                }
                op @ (Op::Text(..)
                | Op::Field(..)
                | Op::Value(..)
                | Op::Break(_)
                | Op::SetVar(..)
                | Op::LetVar(..)
                | Op::ClearVar(_)) => out.push(op),
            }
        }
        *ops = out.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops_of(rules: &Rules, tag: gimli::DwTag) -> String {
        format!("{:?}", rules.types[&tag].ops)
    }

    #[test]
    fn the_default_rules_lose_every_stable_test() {
        for stable in [false, true] {
            let r = crate::default_rules().specialize(stable);
            let text = format!("{r:?}");
            assert!(!text.contains("Stable"), "stable = {stable}: {text}");
        }
        // Without --stable, the kABI arm of `each child` is gone, and the
        // `reserved` branch of union_type with it.
        let plain = crate::default_rules().specialize(false);
        let st = ops_of(&plain, gimli::DW_TAG_structure_type);
        assert!(!st.contains("KabiStatus"), "{st}");
        let un = ops_of(&plain, gimli::DW_TAG_union_type);
        assert!(!un.contains("KabiPlaceholder"), "{un}");
        // With it, they stay.
        let stable = crate::default_rules().specialize(true);
        assert!(ops_of(&stable, gimli::DW_TAG_structure_type).contains("KabiStatus"));
        assert!(ops_of(&stable, gimli::DW_TAG_union_type).contains("KabiPlaceholder"));
    }

    #[test]
    fn what_is_evaluated_before_the_decision_stays() {
        let text = "ksymrules 1\ninclude \"default\"\n\
                    type base_type {\n\
                        if has(name) and stable { \"a\" }\n\
                        else if stable and has(byte_size) { \"b\" }\n\
                        else if not stable { \"c\" } else { \"d\" }\n\
                    }\n";
        let r = crate::load_str("t.rules", text).expect("valid rules");
        let plain = format!(
            "{:?}",
            r.clone().specialize(false).types[&gimli::DW_TAG_base_type].ops
        );
        // `has(name)` is still evaluated, then false; the second arm is
        // never evaluated; `not stable` is true: "c" is the else branch.
        assert!(plain.contains("Has(Field(Attr(DwAt(3)"), "{plain}");
        assert!(plain.contains("Or([])"), "{plain}");
        assert!(!plain.contains("DwAt(11)"), "{plain}");
        assert!(
            plain.contains("Text(\"c\",") && !plain.contains("Text(\"d\","),
            "{plain}"
        );
        let stable = format!(
            "{:?}",
            r.specialize(true).types[&gimli::DW_TAG_base_type].ops
        );
        // `has(name) and true` is `has(name)`; then `has(byte_size)`.
        assert!(!stable.contains("Or([])"), "{stable}");
        assert!(stable.contains("DwAt(11)"), "{stable}");
        assert!(
            stable.contains("Text(\"d\",") && !stable.contains("Text(\"c\","),
            "{stable}"
        );
    }
}
