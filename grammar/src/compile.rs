//! From syntax trees to [`Rules`]: includes followed, later definitions
//! overriding earlier ones, templates expanded, every name checked.

use crate::ast::{self, Body, Literal, Name, Pos, Statement};
use crate::model::*;
use crate::names::{self, AttrClass};
use crate::{RulesError, DEFAULT_RULES, DEFAULT_RULES_NAME, RULES_VERSION};
use gimli::DwTag;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where `include` finds files. The name `default` is always the embedded
/// default rules.
pub trait Loader {
    /// Reads `path` as written in an include of `from` (the including
    /// file's name). Returns the name to use in messages and the text.
    fn load(&self, path: &str, from: &str) -> Result<(String, String), String>;
}

/// Reads included files from the file system, relative to the including
/// file's directory.
pub struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, path: &str, from: &str) -> Result<(String, String), String> {
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let full: PathBuf = base.join(path);
        let name = full.display().to_string();
        std::fs::read_to_string(&full)
            .map(|text| (name.clone(), text))
            .map_err(|e| format!("cannot read {name}: {e}"))
    }
}

const MAX_INCLUDE_DEPTH: usize = 16;

/// A definition and the file it came from, so that a redefinition in the
/// same file can be refused while a later file may override.
struct Def<T> {
    file: u16,
    pos: Pos,
    value: T,
}

struct TemplateDef {
    params: Vec<Name>,
    body: Vec<ast::Piece>,
}

#[derive(Default)]
struct Collected {
    files: Vec<String>,
    settings: Vec<(u16, Name, Literal)>,
    references: BTreeMap<DwTag, Def<String>>,
    expand: Option<Def<(Vec<Name>, Option<ast::Cond>)>>,
    templates: BTreeMap<String, Def<TemplateDef>>,
    types: BTreeMap<DwTag, Def<(Name, Body)>>,
    symbols: BTreeMap<String, Def<Body>>,
    replace: Option<Def<ast::Cond>>,
    kabi: Vec<KabiRule>,
    kabi_origins: Vec<Origin>,
    /// Tuning statements, in the order read: (file, statement).
    tunings: Vec<(u16, Statement)>,
}

/// Reads rules from text (`name` is used in messages and to resolve
/// includes), following includes through `loader`.
pub fn load(name: &str, text: &str, loader: &dyn Loader) -> Result<Rules, RulesError> {
    let mut c = Collected::default();
    let mut stack = Vec::new();
    collect(&mut c, name, text, loader, &mut stack)?;
    build(c)
}

fn collect(
    c: &mut Collected,
    name: &str,
    text: &str,
    loader: &dyn Loader,
    stack: &mut Vec<String>,
) -> Result<(), RulesError> {
    let file = crate::parse::parse(name, text)?;
    if file.version != RULES_VERSION {
        return Err(RulesError::at(
            name,
            file.version_pos,
            format!(
                "rules version {} is not supported: this ksymrules reads version {RULES_VERSION}",
                file.version
            ),
        ));
    }
    let index = u16::try_from(c.files.len())
        .map_err(|_| RulesError::at(name, Pos::default(), "too many rules files"))?;
    c.files.push(name.to_string());
    stack.push(name.to_string());
    for st in file.statements {
        match st {
            Statement::Include { path, pos } => {
                if stack.len() >= MAX_INCLUDE_DEPTH {
                    return Err(RulesError::at(name, pos, "includes nested too deeply"));
                }
                let (inc_name, inc_text) = if path == "default" {
                    (DEFAULT_RULES_NAME.to_string(), DEFAULT_RULES.to_string())
                } else {
                    loader
                        .load(&path, name)
                        .map_err(|e| RulesError::at(name, pos, e))?
                };
                if stack.contains(&inc_name) {
                    return Err(RulesError::at(
                        name,
                        pos,
                        format!("{inc_name} includes itself"),
                    ));
                }
                collect(c, &inc_name, &inc_text, loader, stack)?;
            }
            Statement::Set { name: n, value } => c.settings.push((index, n, value)),
            Statement::Reference { tags, prefix } => {
                for t in tags {
                    let tag = resolve_tag(name, &t)?;
                    define(
                        &mut c.references,
                        tag,
                        index,
                        t.pos,
                        prefix.clone(),
                        name,
                        &t.text,
                    )?;
                }
            }
            Statement::Expand { tags, when } => {
                let pos = tags.first().map(|t| t.pos).unwrap_or_default();
                define_once(&mut c.expand, index, pos, (tags, when), name, "expand")?;
            }
            Statement::Template {
                name: n,
                params,
                body,
            } => {
                let key = n.text.clone();
                define(
                    &mut c.templates,
                    key,
                    index,
                    n.pos,
                    TemplateDef { params, body },
                    name,
                    &n.text,
                )?;
            }
            Statement::Type { tags, body } => {
                for t in tags {
                    let tag = resolve_tag(name, &t)?;
                    let pos = t.pos;
                    let label = t.text.clone();
                    define(
                        &mut c.types,
                        tag,
                        index,
                        pos,
                        (t, body.clone()),
                        name,
                        &label,
                    )?;
                }
            }
            Statement::Replace { when, pos } => {
                define_once(&mut c.replace, index, pos, when, name, "replace")?;
            }
            Statement::Kabi { kind, target, args } => {
                c.kabi_origins.push(Origin {
                    file: index,
                    pos: kind.pos,
                });
                c.kabi.push(kabi_rule(name, &kind, target, &args)?);
            }
            st @ (Statement::Drop { .. } | Statement::Opaque { .. } | Statement::Omit { .. }) => {
                c.tunings.push((index, st));
            }
            Statement::Symbol { kind, body } => {
                if kind.text != "subprogram" && kind.text != "variable" {
                    return Err(RulesError::at(
                        name,
                        kind.pos,
                        format!(
                            "unknown symbol kind `{}`: symbols are `subprogram` or `variable`",
                            kind.text
                        ),
                    ));
                }
                let key = kind.text.clone();
                define(&mut c.symbols, key, index, kind.pos, body, name, &kind.text)?;
            }
        }
    }
    stack.pop();
    Ok(())
}

fn define<K: Ord, T>(
    map: &mut BTreeMap<K, Def<T>>,
    key: K,
    file: u16,
    pos: Pos,
    value: T,
    file_name: &str,
    label: &str,
) -> Result<(), RulesError> {
    if let Some(prev) = map.get(&key) {
        if prev.file == file {
            return Err(RulesError::at(
                file_name,
                pos,
                format!("`{label}` is already defined at {}", prev.pos),
            ));
        }
    }
    map.insert(key, Def { file, pos, value });
    Ok(())
}

/// A statement given at most once per file; a later file's replaces it.
fn define_once<T>(
    slot: &mut Option<Def<T>>,
    file: u16,
    pos: Pos,
    value: T,
    file_name: &str,
    what: &str,
) -> Result<(), RulesError> {
    if let Some(prev) = slot {
        if prev.file == file {
            return Err(RulesError::at(
                file_name,
                pos,
                format!("{what} is already given at {}", prev.pos),
            ));
        }
    }
    *slot = Some(Def { file, pos, value });
    Ok(())
}

fn resolve_tag(file: &str, n: &Name) -> Result<DwTag, RulesError> {
    names::tag_by_name(&n.text).ok_or_else(|| {
        let hint = names::nearest_tag(&n.text)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        RulesError::at(file, n.pos, format!("unknown DWARF tag `{}`{hint}", n.text))
    })
}

fn build(c: Collected) -> Result<Rules, RulesError> {
    let files = c.files.clone();
    let file_name = |i: u16| files[i as usize].clone();

    let mut settings = Settings::default();
    for (file, n, value) in &c.settings {
        let f = file_name(*file);
        let bad_type =
            |want: &str| RulesError::at(&f, n.pos, format!("setting `{}` takes {want}", n.text));
        match n.text.as_str() {
            "symbol_pointer_prefix" => match value {
                Literal::Str(s) if !s.is_empty() => {
                    settings.symbol_pointer_prefix = s.clone().into()
                }
                _ => return Err(bad_type("a non-empty string")),
            },
            "reference_quote" => match value {
                Literal::Str(s) => settings.reference_quote = s.clone().into(),
                _ => return Err(bad_type("a string")),
            },
            "follow_type_units" => match value {
                Literal::Bool(b) => settings.follow_type_units = *b,
                _ => return Err(bad_type("true or false")),
            },
            other => {
                let known = [
                    "symbol_pointer_prefix",
                    "reference_quote",
                    "follow_type_units",
                ];
                let hint = names::nearest(other, known)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(RulesError::at(
                    &f,
                    n.pos,
                    format!("unknown setting `{other}`{hint}"),
                ));
            }
        }
    }

    let references = c
        .references
        .into_iter()
        .map(|(tag, def)| (tag, def.value.into()))
        .collect();

    let mut expand_tags = Vec::new();
    let mut expand_when = None;
    if let Some(def) = &c.expand {
        let f = file_name(def.file);
        for t in &def.value.0 {
            expand_tags.push(resolve_tag(&f, t)?);
        }
        if let Some(cond) = &def.value.1 {
            let cx = Context::new(&f, &c.templates, &files, false);
            expand_when = Some(cx.cond(cond)?);
        }
    }

    let mut types = TagMap::new();
    for (tag, def) in &c.types {
        let f = file_name(def.file);
        let cx = Context::new(&f, &c.templates, &files, expand_tags.contains(tag));
        let ops = cx.body(&def.value.1, &def.value.0)?;
        types.insert(
            *tag,
            Template {
                ops: ops.into(),
                origin: Origin {
                    file: def.file,
                    pos: def.pos,
                },
            },
        );
    }

    let symbol = |kind: &str| -> Result<Template, RulesError> {
        let def = c.symbols.get(kind).ok_or_else(|| {
            RulesError::at(
                &files[0],
                Pos { line: 1, col: 1 },
                format!("no `symbol {kind}` rule"),
            )
        })?;
        let f = file_name(def.file);
        let cx = Context::new(&f, &c.templates, &files, false);
        let label = Name {
            text: kind.to_string(),
            pos: def.pos,
        };
        Ok(Template {
            ops: cx.body(&def.value, &label)?.into(),
            origin: Origin {
                file: def.file,
                pos: def.pos,
            },
        })
    };
    let subprogram = symbol("subprogram")?;
    let variable = symbol("variable")?;

    let mut replace_when = None;
    if let Some(def) = &c.replace {
        let f = file_name(def.file);
        if !only_tests_stable(&def.value) {
            return Err(RulesError::at(
                &f,
                def.pos,
                "`replace strings when` can only test `stable` (there is no DIE to look at)",
            ));
        }
        let cx = Context::new(&f, &c.templates, &files, false);
        replace_when = Some(cx.cond(&def.value)?);
    }

    let mut rules = Rules {
        files: files.iter().map(|f| f.clone().into()).collect(),
        settings,
        references,
        expand_tags: expand_tags.into(),
        expand_when,
        types,
        subprogram,
        variable,
        replace_when,
        kabi: c.kabi.into(),
        kabi_origins: c.kabi_origins.into(),
        tunings: Default::default(),
        specialized: None,
    };
    for (file, st) in &c.tunings {
        let f = files[*file as usize].clone();
        let tuning = tuning(&f, *file, st)?;
        rules.tune(&tuning).map_err(|e| tuning_error(&f, st, e))?;
        rules.tunings.to_mut().push(tuning);
    }
    Ok(rules)
}

/// A tuning statement compiled (conditions as anywhere else, but without
/// templates: they test the DIE the tuned rule is about).
fn tuning(file: &str, index: u16, st: &Statement) -> Result<Tuning, RulesError> {
    let no_templates = BTreeMap::new();
    let files = [file.to_string()];
    let cx = Context::new(file, &no_templates, &files, false);
    let glob = |n: &Name| {
        Glob::new(&n.text).map_err(|e| RulesError::at(file, n.pos, format!("bad glob: {e}")))
    };
    let when = |c: &Option<ast::Cond>| c.as_ref().map(|c| cx.cond(c)).transpose();
    let origin = Origin {
        file: index,
        pos: statement_pos(st),
    };
    Ok(match st {
        Statement::Drop {
            attrs,
            from,
            within,
            when: w,
        } => Tuning::Drop {
            attrs: attrs
                .iter()
                .map(|a| match cx.field(a)? {
                    Field::Attr(at, _) => Ok(at),
                    _ => Err(RulesError::at(
                        file,
                        a.pos,
                        format!("`{}` is not a DWARF attribute", a.text),
                    )),
                })
                .collect::<Result<_, _>>()?,
            from: from
                .iter()
                .map(|t| resolve_tag(file, t))
                .collect::<Result<_, _>>()?,
            within: within.as_ref().map(glob).transpose()?,
            when: when(w)?,
            origin,
        },
        Statement::Opaque { globs, when: w } => Tuning::Opaque {
            globs: globs.iter().map(glob).collect::<Result<_, _>>()?,
            when: when(w)?,
            origin,
        },
        Statement::Omit {
            kind,
            glob: g,
            within,
            when: w,
        } => Tuning::Omit {
            tag: match kind.text.as_str() {
                "member" => gimli::DW_TAG_member,
                "enumerator" => gimli::DW_TAG_enumerator,
                "parameter" => gimli::DW_TAG_formal_parameter,
                other => {
                    let hint = names::nearest(other, ["member", "enumerator", "parameter"])
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    return Err(RulesError::at(
                        file,
                        kind.pos,
                        format!(
                            "`omit` leaves out a `member`, an `enumerator` or a `parameter`, \
                             not `{other}`{hint}"
                        ),
                    ));
                }
            },
            glob: glob(g)?,
            within: within.as_ref().map(glob).transpose()?,
            when: when(w)?,
            origin,
        },
        _ => unreachable!("not a tuning statement"),
    })
}

fn tuning_error(file: &str, st: &Statement, message: String) -> RulesError {
    RulesError::at(file, statement_pos(st), message)
}

/// A kABI file, read: `kabi` rules, and tuning statements (`drop`,
/// `opaque`, `omit`) to apply to the rules in use.
#[derive(Debug)]
pub struct KabiFile {
    pub name: String,
    pub rules: Vec<KabiRule>,
    /// Where each rule is in the file.
    positions: Vec<Pos>,
    tunings: Vec<Statement>,
}

impl KabiFile {
    /// Adds this file's kABI rules to `rules`, and makes its tunings.
    pub fn add_to(self, rules: &mut Rules) -> Result<(), RulesError> {
        let index = u16::try_from(rules.files.len())
            .map_err(|_| RulesError::at(&self.name, Pos::default(), "too many rules files"))?;
        rules.files.to_mut().push(self.name.clone().into());
        rules.kabi.to_mut().extend(self.rules);
        rules.kabi_origins.to_mut().extend(
            self.positions
                .iter()
                .map(|&pos| Origin { file: index, pos }),
        );
        for st in &self.tunings {
            let t = tuning(&self.name, index, st)?;
            rules
                .tune(&t)
                .map_err(|e| tuning_error(&self.name, st, e))?;
            rules.tunings.to_mut().push(t);
        }
        Ok(())
    }
}

/// Reads a kABI rules file: `kabi` statements (a distribution's kABI
/// exceptions, kept outside the kernel source), and tuning statements.
pub fn load_kabi(name: &str, text: &str) -> Result<KabiFile, RulesError> {
    let file = crate::parse::parse(name, text)?;
    if file.version != RULES_VERSION {
        return Err(RulesError::at(
            name,
            file.version_pos,
            format!(
                "rules version {} is not supported: this ksymrules reads version {RULES_VERSION}",
                file.version
            ),
        ));
    }
    let mut out = KabiFile {
        name: name.to_string(),
        rules: Vec::new(),
        positions: Vec::new(),
        tunings: Vec::new(),
    };
    for st in file.statements {
        match st {
            Statement::Kabi { kind, target, args } => {
                out.positions.push(kind.pos);
                out.rules.push(kabi_rule(name, &kind, target, &args)?)
            }
            st @ (Statement::Drop { .. } | Statement::Opaque { .. } | Statement::Omit { .. }) => {
                // Checked now, made when added to rules.
                tuning(name, 0, &st)?;
                out.tunings.push(st);
            }
            other => {
                let pos = statement_pos(&other);
                return Err(RulesError::at(
                    name,
                    pos,
                    "a kABI file holds only `kabi`, `drop`, `opaque` and `omit` statements \
                     (use --rules for other rules)",
                ));
            }
        }
    }
    Ok(out)
}

fn statement_pos(st: &Statement) -> Pos {
    match st {
        Statement::Include { pos, .. } | Statement::Replace { pos, .. } => *pos,
        Statement::Set { name, .. } | Statement::Template { name, .. } => name.pos,
        Statement::Reference { tags, .. }
        | Statement::Expand { tags, .. }
        | Statement::Type { tags, .. } => tags.first().map(|t| t.pos).unwrap_or_default(),
        Statement::Symbol { kind, .. }
        | Statement::Kabi { kind, .. }
        | Statement::Omit { kind, .. } => kind.pos,
        Statement::Drop { attrs, .. } => attrs.first().map(|t| t.pos).unwrap_or_default(),
        Statement::Opaque { globs, .. } => globs.first().map(|g| g.pos).unwrap_or_default(),
    }
}

fn only_tests_stable(c: &ast::Cond) -> bool {
    match c {
        ast::Cond::Stable(_) => true,
        ast::Cond::Not(c) => only_tests_stable(c),
        ast::Cond::And(cs) | ast::Cond::Or(cs) => cs.iter().all(only_tests_stable),
        _ => false,
    }
}

/// A `kabi` statement, checked.
fn kabi_rule(
    file: &str,
    kind: &Name,
    target: String,
    args: &[Literal],
) -> Result<KabiRule, RulesError> {
    let err = |msg: String| RulesError::at(file, kind.pos, msg);
    let want = |n: usize, shape: &str| -> Result<(), RulesError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(err(format!("kabi {} takes {shape}", kind.text)))
        }
    };
    let string = |i: usize, shape: &str| match &args[i] {
        Literal::Str(s) if !s.is_empty() => Ok(Text::from(s.clone())),
        _ => Err(err(format!("kabi {} takes {shape}", kind.text))),
    };
    let number = |i: usize, shape: &str| match &args[i] {
        Literal::Int(v) => Ok(*v),
        _ => Err(err(format!("kabi {} takes {shape}", kind.text))),
    };
    if target.is_empty() {
        return Err(err(format!("kabi {}: the target is empty", kind.text)));
    }
    let target = Text::from(target);
    Ok(match kind.text.as_str() {
        "declonly" => {
            want(0, "a type name: kabi declonly \"struct_name\"")?;
            KabiRule::Declonly(target)
        }
        "enumerator_ignore" => {
            let shape = "an enum and an enumerator: kabi enumerator_ignore \"enum\" \"NAME\"";
            want(1, shape)?;
            KabiRule::EnumeratorIgnore(target, string(0, shape)?)
        }
        "enumerator_value" => {
            let shape =
                "an enum, an enumerator and a value: kabi enumerator_value \"enum\" \"NAME\" 3";
            want(2, shape)?;
            KabiRule::EnumeratorValue(target, string(0, shape)?, number(1, shape)?)
        }
        "byte_size" => {
            let shape = "a type name and a size: kabi byte_size \"struct_name\" 16";
            want(1, shape)?;
            KabiRule::ByteSize(target, number(0, shape)?)
        }
        "type_string" => {
            let shape = "a type or symbol name and a string: kabi type_string \"s#foo\" \"...\"";
            want(1, shape)?;
            KabiRule::TypeString(target, string(0, shape)?)
        }
        other => {
            let known = [
                "declonly",
                "enumerator_ignore",
                "enumerator_value",
                "byte_size",
                "type_string",
            ];
            let hint = names::nearest(other, known)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(err(format!("unknown kabi rule `{other}`{hint}")));
        }
    })
}

const MAX_TEMPLATE_DEPTH: usize = 32;

/// Most pieces the templates of one rule may expand to (templates using
/// each other twice over would otherwise grow exponentially).
const MAX_EXPANDED_PIECES: usize = 100_000;

/// What a template body is being compiled against.
struct Context<'a> {
    /// The file the pieces were written in.
    file: &'a str,
    templates: &'a BTreeMap<String, Def<TemplateDef>>,
    files: &'a [String],
    /// Template parameters bound to their arguments.
    params: BTreeMap<String, Literal>,
    /// Whether `expanded` can hold here (the tag is expanded once).
    expanded_ok: bool,
    depth: usize,
    /// Pieces expanded so far for the rule being compiled.
    budget: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<'a> Context<'a> {
    /// A context for a rule's own pieces (no template parameters bound).
    fn new(
        file: &'a str,
        templates: &'a BTreeMap<String, Def<TemplateDef>>,
        files: &'a [String],
        expanded_ok: bool,
    ) -> Self {
        Context {
            file,
            templates,
            files,
            params: BTreeMap::new(),
            expanded_ok,
            depth: 0,
            budget: Default::default(),
        }
    }

    fn err(&self, pos: Pos, msg: impl Into<String>) -> RulesError {
        RulesError::at(self.file, pos, msg)
    }

    /// Where a piece at `pos` of this context's file was written.
    fn origin(&self, pos: Pos) -> Origin {
        let file = self.files.iter().position(|f| f == self.file).unwrap_or(0);
        Origin {
            file: file as u16,
            pos,
        }
    }

    fn body(&self, body: &Body, owner: &Name) -> Result<Vec<Op>, RulesError> {
        match body {
            Body::Block(pieces) => self.pieces(pieces),
            Body::Call(call) => self.call(call).map_err(|e| {
                if e.file == self.file {
                    e
                } else {
                    // Point at the use as well as the template's own text.
                    RulesError::at(self.file, owner.pos, format!("in `{}`: {}", owner.text, e))
                }
            }),
        }
    }

    fn call(&self, call: &ast::Call) -> Result<Vec<Op>, RulesError> {
        let def = self.templates.get(&call.name.text).ok_or_else(|| {
            let hint = names::nearest(&call.name.text, self.templates.keys().map(String::as_str))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            self.err(
                call.name.pos,
                format!("unknown template `{}`{hint}", call.name.text),
            )
        })?;
        if def.value.params.len() != call.args.len() {
            return Err(self.err(
                call.name.pos,
                format!(
                    "template `{}` takes {} argument(s), {} given",
                    call.name.text,
                    def.value.params.len(),
                    call.args.len()
                ),
            ));
        }
        if self.depth >= MAX_TEMPLATE_DEPTH {
            return Err(self.err(
                call.name.pos,
                format!("template `{}` uses itself", call.name.text),
            ));
        }
        let params = def
            .value
            .params
            .iter()
            .zip(&call.args)
            .map(|(p, a)| (p.text.clone(), self.bind(a)))
            .collect();
        let inner = Context {
            file: &self.files[def.file as usize],
            templates: self.templates,
            files: self.files,
            params,
            expanded_ok: self.expanded_ok,
            depth: self.depth + 1,
            budget: self.budget.clone(),
        };
        inner.pieces(&def.value.body)
    }

    /// An argument as seen inside the template (arguments are literals).
    fn bind(&self, lit: &Literal) -> Literal {
        lit.clone()
    }

    fn pieces(&self, pieces: &[ast::Piece]) -> Result<Vec<Op>, RulesError> {
        let mut out = Vec::new();
        for p in pieces {
            self.piece(p, &mut out)?;
        }
        Ok(out)
    }

    fn piece(&self, piece: &ast::Piece, out: &mut Vec<Op>) -> Result<(), RulesError> {
        let used = self.budget.get() + 1;
        self.budget.set(used);
        if used > MAX_EXPANDED_PIECES {
            return Err(self.err(
                piece_pos(piece),
                format!(
                    "templates expand to more than {MAX_EXPANDED_PIECES} pieces here \
                     (templates using each other over and over?)"
                ),
            ));
        }
        match piece {
            ast::Piece::Text(s, pos) => out.push(Op::Text(s.clone().into(), self.origin(*pos))),
            ast::Piece::SetVar(v, e) => out.push(Op::SetVar(v.text.clone().into(), self.expr(e)?)),
            ast::Piece::LetVar(v, e) => out.push(Op::LetVar(v.text.clone().into(), self.expr(e)?)),
            ast::Piece::ClearVar(v) => out.push(Op::ClearVar(v.text.clone().into())),
            ast::Piece::Field(n) => match self.params.get(&n.text) {
                Some(lit) => out.push(Op::Text(literal_text(lit).into(), self.origin(n.pos))),
                None => {
                    let field = self.field(n)?;
                    if let Some(AttrClass::Flag) = leaf_class(&field) {
                        return Err(self.err(
                            n.pos,
                            format!("`{0}` is a flag: test it with has({0})", n.text),
                        ));
                    }
                    out.push(Op::Field(field, self.origin(n.pos)));
                }
            },
            ast::Piece::Value(e, pos) => out.push(Op::Value(self.expr(e)?, self.origin(*pos))),
            ast::Piece::Attr(n) => {
                let field = self.field(n)?;
                if !matches!(field, Field::Attr(_, AttrClass::Constant)) {
                    return Err(self.err(
                        n.pos,
                        format!(
                            "attr({}) prints constants only; `{}` is not one",
                            n.text, n.text
                        ),
                    ));
                }
                out.push(Op::If(
                    vec![(
                        Cond::Has(Expr::Field(field.clone())),
                        vec![
                            Op::Text(format!(" {}(", n.text).into(), self.origin(n.pos)),
                            Op::Field(field, self.origin(n.pos)),
                            Op::Text(")".into(), self.origin(n.pos)),
                        ]
                        .into(),
                    )]
                    .into(),
                    List::default(),
                ));
            }
            ast::Piece::Break(b, _) => out.push(Op::Break(b.depth_change())),
            ast::Piece::If {
                arms, otherwise, ..
            } => {
                let arms = arms
                    .iter()
                    .map(|(c, p)| Ok((self.cond(c)?, self.pieces(p)?.into())))
                    .collect::<Result<_, RulesError>>()?;
                out.push(Op::If(arms, self.pieces(otherwise)?.into()));
            }
            ast::Piece::Separator(p, _) => out.push(Op::Separator(self.pieces(p)?.into())),
            ast::Piece::Children(arms, _) => {
                let arms = arms
                    .iter()
                    .map(|a| {
                        let tags = match &a.tags {
                            None => None,
                            Some(ts) => Some(
                                ts.iter()
                                    .map(|t| resolve_tag(self.file, t))
                                    .collect::<Result<List<_>, _>>()?,
                            ),
                        };
                        let when = a.when.as_ref().map(|c| self.cond(c)).transpose()?;
                        Ok(ChildArm {
                            tags,
                            when,
                            action: a.action.clone(),
                        })
                    })
                    .collect::<Result<_, RulesError>>()?;
                out.push(Op::Children(arms));
            }
            ast::Piece::Call(call) => out.extend(self.call(call)?),
        }
        Ok(())
    }

    /// A field name, or a path through reference attributes
    /// (`type.kabi_status`).
    fn field(&self, n: &Name) -> Result<Field, RulesError> {
        if let Some(what) = n.text.strip_prefix("unit.") {
            return match what {
                "language" => Ok(Field::Unit(UnitField::Language)),
                "producer" => Ok(Field::Unit(UnitField::Producer)),
                "name" => Ok(Field::Unit(UnitField::Name)),
                other => {
                    let hint = names::nearest(other, ["language", "producer", "name"])
                        .map(|s| format!(" (did you mean `unit.{s}`?)"))
                        .unwrap_or_default();
                    Err(self.err(
                        n.pos,
                        format!(
                            "unknown unit field `unit.{other}`: a unit has `unit.language`, \
                             `unit.producer` and `unit.name`{hint}"
                        ),
                    ))
                }
            };
        }
        let mut parts: Vec<&str> = n.text.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let mut field = self.simple_field(&Name {
            text: last.to_string(),
            pos: n.pos,
        })?;
        for hop in parts.into_iter().rev() {
            let through = self.simple_field(&Name {
                text: hop.to_string(),
                pos: n.pos,
            })?;
            match through {
                Field::Attr(at, AttrClass::Reference) => field = Field::Via(at, Node::new(field)),
                _ => {
                    return Err(self.err(
                        n.pos,
                        format!("`{hop}` is not a reference: `{hop}.` cannot lead to another DIE"),
                    ))
                }
            }
        }
        Ok(field)
    }

    fn simple_field(&self, n: &Name) -> Result<Field, RulesError> {
        match n.text.as_str() {
            "fqn" => return Ok(Field::Fqn),
            "tag" => return Ok(Field::Tag),
            "kabi_status" => return Ok(Field::KabiStatus),
            "kabi_placeholder" => return Ok(Field::KabiPlaceholder),
            "kabi_renamed" => return Ok(Field::KabiRenamed),
            _ => {}
        }
        match names::attr_by_name(&n.text) {
            Some(at) => Ok(Field::Attr(at, names::attr_class(at))),
            None => {
                let hint = names::nearest_attr(&n.text)
                    .or_else(|| names::nearest(&n.text, ["fqn"]))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                Err(self.err(n.pos, format!("unknown DWARF attribute `{}`{hint}", n.text)))
            }
        }
    }

    fn cond(&self, c: &ast::Cond) -> Result<Cond, RulesError> {
        Ok(match c {
            ast::Cond::Has(e) => Cond::Has(self.expr(e)?),
            ast::Cond::Expanded(pos) => {
                if !self.expanded_ok {
                    return Err(self.err(
                        *pos,
                        "`expanded` can never hold here: this tag is not in the `expand` list",
                    ));
                }
                Cond::Expanded
            }
            ast::Cond::Stable(_) => Cond::Stable,
            ast::Cond::Not(c) => Cond::Not(Node::new(self.cond(c)?)),
            ast::Cond::And(cs) => {
                Cond::And(cs.iter().map(|c| self.cond(c)).collect::<Result<_, _>>()?)
            }
            ast::Cond::Or(cs) => {
                Cond::Or(cs.iter().map(|c| self.cond(c)).collect::<Result<_, _>>()?)
            }
            ast::Cond::Compare(l, op, r) => {
                let lhs = self.expr(l)?;
                match op {
                    ast::CmpOp::Eq => Cond::Eq(lhs, self.expr(r)?),
                    ast::CmpOp::Ne => Cond::Ne(lhs, self.expr(r)?),
                    ast::CmpOp::Match | ast::CmpOp::NoMatch => {
                        let pattern = match self.expr(r)? {
                            Expr::Str(s) => s,
                            _ => {
                                return Err(self.err(
                                    r.pos(),
                                    format!("`{}` needs a glob string on its right", op.as_str()),
                                ))
                            }
                        };
                        let g = Glob::new(&pattern)
                            .map_err(|e| self.err(r.pos(), format!("bad glob: {e}")))?;
                        if *op == ast::CmpOp::Match {
                            Cond::Match(lhs, g)
                        } else {
                            Cond::NoMatch(lhs, g)
                        }
                    }
                }
            }
        })
    }

    fn expr(&self, e: &ast::Expr) -> Result<Expr, RulesError> {
        Ok(match e {
            ast::Expr::Int(v, _) => Expr::Int(*v),
            ast::Expr::Str(s, _) => Expr::Str(s.clone().into()),
            ast::Expr::Field(n) => match self.params.get(&n.text) {
                Some(Literal::Int(v)) => Expr::Int(*v),
                Some(lit) => Expr::Str(literal_text(lit).into()),
                None => Expr::Field(self.field(n)?),
            },
            ast::Expr::Var(n) => Expr::Var(n.text.clone().into()),
            ast::Expr::Func(n, args) => {
                let Some(&(_, builtin, arity)) =
                    Builtin::ALL.iter().find(|(name, _, _)| *name == n.text)
                else {
                    let hint = names::nearest(&n.text, Builtin::ALL.iter().map(|b| b.0))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    return Err(self.err(n.pos, format!("unknown function `{}`{hint}", n.text)));
                };
                if args.len() != arity {
                    return Err(self.err(
                        n.pos,
                        format!(
                            "`{}` takes {arity} argument(s), {} given",
                            n.text,
                            args.len()
                        ),
                    ));
                }
                let args = args
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<Result<_, _>>()?;
                Expr::Func(builtin, args)
            }
            ast::Expr::Add(a, b) => Expr::Add(Node::new(self.expr(a)?), Node::new(self.expr(b)?)),
            ast::Expr::Sub(a, b) => Expr::Sub(Node::new(self.expr(a)?), Node::new(self.expr(b)?)),
        })
    }
}

/// The class of the attribute a field finally reads, if it is one.
fn leaf_class(f: &Field) -> Option<AttrClass> {
    match f {
        Field::Attr(_, c) => Some(*c),
        Field::Via(_, f) => leaf_class(f),
        _ => None,
    }
}

fn piece_pos(p: &ast::Piece) -> Pos {
    match p {
        ast::Piece::Text(_, pos)
        | ast::Piece::Value(_, pos)
        | ast::Piece::Break(_, pos)
        | ast::Piece::If { pos, .. }
        | ast::Piece::Separator(_, pos)
        | ast::Piece::Children(_, pos) => *pos,
        ast::Piece::Field(n)
        | ast::Piece::Attr(n)
        | ast::Piece::SetVar(n, _)
        | ast::Piece::LetVar(n, _)
        | ast::Piece::ClearVar(n) => n.pos,
        ast::Piece::Call(c) => c.name.pos,
    }
}

fn literal_text(lit: &Literal) -> String {
    match lit {
        Literal::Str(s) => s.clone(),
        Literal::Int(v) => v.to_string(),
        Literal::Bool(b) => b.to_string(),
    }
}
