//! The walk: find the DIEs of the listed symbols and build their type
//! strings into the die map, by interpreting the rules.
//!
//! The mechanics follow gendwarfksyms: expand-once types are expanded the
//! first time one symbol's walk reaches them; every DIE's string is cached
//! per state; a cached string is replayed (its DIEs visited again) so that
//! the walk, and `--dump-dies`, see every DIE in order. What the strings
//! say is entirely up to the rules.

use crate::diemap::{DieMap, EntryId, Frag, State, Stats};
use crate::dwarf::{AttrSet, DieId, Dwarf, Entry, TagAttrs};
use crate::stable::{union_status, Kabi, UnionStatus};
use crate::symbols::{SymState, Symbols};
use crate::Error;
use gimli::constants as dw;
use gimli::DwTag;
use ksymrules_grammar::ast::Action;
use ksymrules_grammar::model::{
    Builtin, ChildArm, Cond, Expr, Field, Op, Rules, Template, UnitField,
};
use ksymrules_grammar::names::{tag_name, AttrClass};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use rustc_hash::FxHashMap as HashMap;
use rustc_hash::FxHashSet as HashSet;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Deepest nesting of DIEs the walk follows before giving up (malformed
/// or hostile input; real kernels stay far below).
const MAX_DEPTH: usize = 2000;

/// Stack kept free before recursing, and how much more to get when less
/// is left.
const STACK_RED_ZONE: usize = 256 * 1024;
const STACK_GROWTH: usize = 8 * 1024 * 1024;

/// Nesting the walk and the type map recurse to without looking at the
/// stack: a few KB a level, far below any thread's stack. (The first look
/// costs a read of /proc/self/maps on the main thread, which most small
/// objects never need.)
const SHALLOW: usize = 32;

/// Runs `f`, `depth` levels deep in a recursion, on a stack with room for
/// it: grown when little is left.
#[inline]
pub(crate) fn deep<R>(depth: usize, f: impl FnOnce() -> R) -> R {
    if depth < SHALLOW {
        f()
    } else {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, f)
    }
}

/// Limits on `--dump-dies` output. Replays repeat cached strings, so
/// unnamed types that each use the previous one twice would double the
/// output at every level: they are refused before a replay is written, from
/// a lower bound of what it writes (`Walker::dump_floor`), and checked
/// against what is written so far.
///
/// The output is large for real objects too: every symbol's walk writes
/// the whole closure of its types (each expand-once type in full once),
/// indented. The golden kernel modules write 80 to 165 MB (up to 5.5 MB a
/// symbol), the golden Rust helpers 285 MB, the vmlinux of Debian's 6.1
/// cloud kernel 15.4 GB (up to 7.9 MB a symbol). What real objects do not
/// do is repeat their strings: without the indentation, one symbol's
/// output stayed below twice the text of all the strings built so far
/// (the die map's) in every one of them, while doubling passes any
/// multiple of it after a few levels.
///
/// Most output for one symbol, in bytes.
const MAX_DUMP: u64 = 256 << 20;
/// Most output for one symbol, indentation left out, as a multiple of the
/// text of the strings built so far, with `DUMP_SLACK` allowed whatever
/// that text is (for small objects).
const DUMP_REPEATS: u64 = 64;
const DUMP_SLACK: u64 = 64 << 10;
/// Most output for a whole object, in bytes: four times vmlinux's (a
/// limit of hundreds of MB would refuse real modules); a doubling input
/// stops far below it, at the limits of one symbol.
const MAX_DUMP_TOTAL: u64 = 64 << 30;

/// `--dump-dies` output: the walk as it happens, indented; handed on after
/// each symbol (`drain`), so that only one symbol's output is held.
#[derive(Debug, Default)]
pub struct Dumper {
    out: String,
    /// Where the current symbol's output starts.
    symbol_start: usize,
    level: i32,
    pending_break: bool,
    /// Whether the output handed on so far ends a line (or is empty).
    line_ended: bool,
    /// Bytes handed on so far.
    drained: u64,
    /// Bytes of indentation written so far, and when the current symbol
    /// began.
    indent: u64,
    symbol_indent: u64,
}

impl Dumper {
    fn text(&mut self, s: &str) {
        if self.pending_break {
            self.out.push('\n');
            let level = self.level.max(0) as usize;
            for _ in 0..level {
                self.out.push_str("  ");
            }
            self.indent += 2 * level as u64;
            self.pending_break = false;
        }
        self.out.push_str(s);
    }

    /// Refuses a replay that would take the output beyond its limits: it
    /// writes at least `floor` bytes, not counting indentation; the strings
    /// built so far hold `text` bytes.
    fn check(&self, floor: u64, text: usize, die: DieId) -> Result<(), Error> {
        let symbol = (self.out.len() - self.symbol_start) as u64;
        let plain = symbol
            .saturating_sub(self.indent - self.symbol_indent)
            .saturating_add(floor);
        let repeats = DUMP_SLACK.max(DUMP_REPEATS.saturating_mul(text as u64));
        let total = self.drained + self.out.len() as u64;
        let (what, limit) = if symbol.saturating_add(floor) > MAX_DUMP {
            ("one symbol", format!("{} MiB", MAX_DUMP >> 20))
        } else if plain > repeats {
            (
                "one symbol",
                format!(
                    "{repeats} bytes without indentation (the larger of {} KiB and \
                     {DUMP_REPEATS} times the {text} bytes of the strings built)",
                    DUMP_SLACK >> 10
                ),
            )
        } else if total.saturating_add(floor) > MAX_DUMP_TOTAL {
            ("the object", format!("{} GiB", MAX_DUMP_TOTAL >> 30))
        } else {
            return Ok(());
        };
        Err(Error::new(format!(
            "--dump-dies output for {what} grows beyond {limit}: the string of DIE {die:#x} \
             would add at least {floor} bytes (unnamed types that each use the previous one \
             several times over?)"
        )))
    }

    /// A count of what the output held, indentation left out, that goes
    /// up by what is written (comparable within one symbol: `drain`
    /// empties the output).
    fn plain(&self) -> u64 {
        (self.out.len() as u64).wrapping_sub(self.indent)
    }

    fn brk(&mut self, n: i8) {
        self.level += i32::from(n);
        self.pending_break = true;
    }

    fn end_symbol(&mut self) {
        self.out.push('\n');
        self.symbol_start = self.out.len();
        self.symbol_indent = self.indent;
    }

    /// Writes out what the dump holds.
    fn drain(&mut self, to: &mut dyn std::io::Write) {
        if self.out.is_empty() {
            return;
        }
        let _ = to.write_all(self.out.as_bytes());
        self.line_ended = self.out.ends_with('\n');
        self.drained += self.out.len() as u64;
        self.out.clear();
        self.symbol_start = 0;
    }

    /// Ends the output after an error: a walk stopped by an error leaves a
    /// line open, and the error must be a line of its own.
    fn end(&mut self, failed: bool, to: &mut dyn std::io::Write) {
        self.drain(to);
        if failed && !self.line_ended {
            let _ = to.write_all(b"\n");
        }
    }
}

/// One symbol's walk state.
struct Walk<'r> {
    /// This symbol's number: a DIE's mark (`DieMap::mark`) equal to it
    /// means the DIE was already expanded for this symbol.
    epoch: u32,
    /// Whether the DIE being built may expand (false once an expand-once
    /// type is met again).
    expand: bool,
    /// The next list item is the first of its list.
    first_item: bool,
    depth: usize,
    /// `set` variables: for the rest of the symbol's walk.
    globals: HashMap<&'r str, String>,
    /// `let` variables, innermost last: each lives until the description
    /// of the DIE that set it ends.
    locals: Vec<(&'r str, String)>,
}

impl<'r> Walk<'r> {
    fn new() -> Self {
        Walk {
            epoch: 0,
            expand: true,
            first_item: false,
            depth: 0,
            globals: HashMap::default(),
            locals: Vec::new(),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        match self.locals.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => Some(v),
            None => self.globals.get(name).map(String::as_str),
        }
    }
}

/// A value read from a DIE.
enum Val<'s> {
    Absent,
    Int(u64),
    Str(Cow<'s, str>),
    Die(DieId),
}

impl Val<'_> {
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.to_string(),
            Val::Int(n) => n.to_string(),
            Val::Absent | Val::Die(_) => String::new(),
        }
    }
}

/// The DIE whose string is being built.
struct Ctx<'a> {
    ui: usize,
    die: DieId,
    entry: Entry<'a>,
    /// Where the pieces go.
    id: EntryId,
    /// Whether `die` is the DIE the entry describes (not a child looked at
    /// by a condition, or a DIE a reference leads to): only then does
    /// reading its name name the entry.
    own: bool,
    /// `expanded`, once computed.
    expanded: Option<bool>,
    /// The kABI union conventions, once looked at.
    union: Option<UnionStatus>,
    /// The DIE's qualified name, once read.
    fqn: Option<Cow<'a, str>>,
    /// The last reference attribute read and where it leads (rules test
    /// `has(type)` and then print `type`).
    last_ref: Option<(gimli::DwAt, Option<DieId>)>,
}

/// What becomes of the die maps: each is handed over as soon as its unit
/// (or the whole object) is walked, and then dropped.
pub trait Consumer: Send {
    /// Digests unit maps on any thread, while the consumer keeps the
    /// digests of earlier units.
    type Digester: Digester;
    fn digester(&self) -> Self::Digester;
    /// Keeps a digest; called in unit order.
    fn keep(&mut self, digest: <Self::Digester as Digester>::Digest);
    /// Takes the one map of a walk that went in order (and may use every
    /// core to do so).
    fn take_whole(&mut self, map: &DieMap);
    /// Forgets everything kept: the walk starts again, in order.
    fn reset(&mut self);
}

/// Digests the die map of one unit; runs on any thread, in any order.
pub trait Digester: Sync {
    type Digest: Send;
    fn digest(&self, map: &DieMap) -> Self::Digest;
}

/// What the walk of one object gives besides the maps.
#[derive(Debug, Default)]
pub struct WalkOutput {
    pub warnings: Vec<String>,
    /// The DIEs whose strings were built again while being built (the
    /// re-entrance of gendwarfksyms), and differ: what they are.
    pub reentered: Vec<String>,
    /// `--debug` lines.
    pub debug: Vec<String>,
    /// How many times a DIE was described, and the deepest nesting met.
    pub visits: u64,
    pub deepest: usize,
    /// The sizes of the maps.
    pub stats: Stats,
    /// Whether units were walked in parallel.
    pub parallel: bool,
    /// Whether a parallel walk was given up because a string reached into
    /// another unit.
    pub crossed: bool,
}

/// What the walk of one object needs.
#[derive(Clone, Copy)]
pub struct WalkConfig<'a, 'r> {
    pub dwarf: &'a Dwarf<'a>,
    pub rules: &'r Rules,
    pub kabi: &'r Kabi,
    /// The object's number in the run.
    pub object: usize,
    pub stable: bool,
    pub dump: bool,
    pub debug: bool,
    /// Walk the units one after the other even when they could be walked
    /// in parallel (to compare both ways).
    pub sequential: bool,
    /// Where to say how many units are walked.
    pub progress: Option<&'r dyn crate::Progress>,
    /// Record where every fragment comes from (`DieMap::provenance`);
    /// the walk then goes in order.
    pub provenance: bool,
}

/// Walks an object: finds the DIEs of the listed symbols, builds their
/// strings and hands the die maps to `consumer`; with `cfg.dump`, the
/// `--dump-dies` output goes to `dump` as the walk goes. On error, what was
/// output before it (debug lines) is still returned.
///
/// gendwarfksyms walks the units in order with one die map. When no string
/// built for one unit reaches a DIE of another (as in objects without
/// `DW_FORM_ref_addr` or followed type units), each unit's strings depend
/// only on its own DIEs and on which symbols it describes; the latter is
/// decided first, in unit order, and the units are then walked in
/// parallel, each into its own die map, which the consumer digests and
/// keeps in unit order. Anything else falls back to the sequential walk,
/// which is always exact.
pub fn walk_object<C: Consumer>(
    cfg: WalkConfig<'_, '_>,
    syms: &mut Symbols,
    consumer: &mut C,
    dump: &mut dyn std::io::Write,
) -> (WalkOutput, Result<(), Error>) {
    let mut out = WalkOutput::default();
    let scans = match scan_units(cfg, syms) {
        Ok(s) => s,
        Err(e) => return (out, Err(e)),
    };
    let dwarf = cfg.dwarf;
    let tags = TagRules::new(cfg.rules);
    let type_units = cfg.rules.settings.follow_type_units && dwarf.units.len() > dwarf.main_units;
    if !cfg.sequential && !cfg.dump && !cfg.provenance && !type_units && dwarf.main_units > 1 {
        let saved = syms.clone();
        match walk_parallel(cfg, &scans, &tags, syms, &mut out, consumer) {
            Some(result) => {
                out.parallel = true;
                return (out, result);
            }
            None => {
                *syms = saved;
                consumer.reset();
                out = WalkOutput {
                    crossed: true,
                    ..WalkOutput::default()
                };
            }
        }
    }
    let mut planner = Planner::new(cfg);
    let mut w = Walker::new(cfg, &scans, &tags, None);
    let progress = Steps::new(cfg.progress, dwarf.main_units);
    let result = (|| {
        for (ui, scan) in scans[..dwarf.main_units].iter().enumerate() {
            let (jobs, error) = planner.plan_unit(syms, ui, scan);
            w.current = ui;
            for job in jobs {
                let done = w.process_symbol(job);
                if let Some(d) = &mut w.dump {
                    d.drain(dump);
                }
                done?;
            }
            if let Some(e) = error {
                return Err(e);
            }
            w.files.clear();
            progress.advance(1);
        }
        w.check_reentries();
        Ok(())
    })();
    drop(progress);
    if let Some(d) = &mut w.dump {
        d.end(result.is_err(), dump);
    }
    w.map.finish();
    if result.is_ok() {
        consumer.take_whole(&w.map);
    }
    out.debug.extend(planner.debug.unwrap_or_default());
    out.stats = w.map.stats();
    out.warnings = w.warnings;
    out.reentered = w.reentered_types;
    out.visits = w.visits_made;
    out.deepest = w.deepest;
    (out, result)
}

/// A phase reported to a `Progress`, ended when dropped.
struct Steps<'p>(Option<&'p dyn crate::Progress>);

impl<'p> Steps<'p> {
    fn new(progress: Option<&'p dyn crate::Progress>, units: usize) -> Self {
        if let Some(p) = progress {
            p.begin("units", units as u64);
        }
        Steps(progress)
    }

    fn advance(&self, n: u64) {
        if let Some(p) = self.0 {
            p.advance(n);
        }
    }
}

impl Drop for Steps<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.0 {
            p.end();
        }
    }
}

/// Every unit's names and export candidates, on all cores; the first error
/// in unit order.
fn scan_units(cfg: WalkConfig<'_, '_>, syms: &Symbols) -> Result<Vec<UnitScan>, Error> {
    let prefix = &*cfg.rules.settings.symbol_pointer_prefix;
    let named = fqn_readers(cfg.rules).map(|tags| TagSet::new(&tags));
    let scans: Vec<Result<UnitScan, Error>> = (0..cfg.dwarf.units.len())
        .into_par_iter()
        .map(|ui| {
            let scan = scan_unit(cfg.dwarf, ui, syms, prefix, named.as_ref());
            cfg.dwarf.release_unit(ui);
            scan
        })
        .collect();
    scans.into_iter().collect()
}

/// The parallel walk (see `walk_object`); `None` when a string reached
/// into another unit.
fn walk_parallel<C: Consumer>(
    cfg: WalkConfig<'_, '_>,
    scans: &[UnitScan],
    tags: &TagRules<'_>,
    syms: &mut Symbols,
    out: &mut WalkOutput,
    consumer: &mut C,
) -> Option<Result<(), Error>> {
    // Which unit describes which symbol, in order, as the sequential walk
    // would decide it.
    let mut planner = Planner::new(cfg);
    let mut plans = Vec::new();
    for (ui, scan) in scans[..cfg.dwarf.main_units].iter().enumerate() {
        let (jobs, error) = planner.plan_unit(syms, ui, scan);
        let stop = error.is_some();
        if !jobs.is_empty() || stop {
            plans.push((ui, jobs, error));
        }
        if stop {
            break;
        }
    }
    out.debug.extend(planner.debug.unwrap_or_default());
    struct Built<D> {
        result: Result<(), Error>,
        crossed: bool,
        digest: Option<D>,
        stats: Stats,
        warnings: Vec<String>,
        reentered: Vec<String>,
        visits: u64,
        deepest: usize,
    }
    let digester = consumer.digester();
    let build = |ui: usize, jobs: &[Job]| {
        let mut w = Walker::new(cfg, scans, tags, Some(ui));
        let result = jobs.iter().try_for_each(|&job| w.process_symbol(job));
        if result.is_ok() {
            w.check_reentries();
        }
        w.map.finish();
        cfg.dwarf.release_unit(ui);
        let digest = result.is_ok().then(|| digester.digest(&w.map));
        let stats = w.map.stats();
        std::mem::take(&mut w.map).recycle();
        Built {
            result,
            crossed: w.crossed,
            digest,
            stats,
            warnings: w.warnings,
            reentered: w.reentered_types,
            visits: w.visits_made,
            deepest: w.deepest,
        }
    };
    // The units go to the thread pool in order, at most `window` beyond
    // the next one to keep; this thread keeps what comes back in unit
    // order. (When this thread is itself in the pool, it lends a hand
    // while it waits, so that even a pool of one makes progress.)
    let threads = rayon::current_num_threads().max(1);
    let window = 8 * threads;
    let stop = AtomicBool::new(false);
    let progress = Steps::new(cfg.progress, cfg.dwarf.main_units);
    let mut walked = 0;
    // Decided on the way: `Some(None)` when a string reached into another
    // unit, `Some(Some(Err))` at the first error.
    let mut outcome = None;
    // A unit's result, or the panic that stopped it (passed on here).
    type Sent<D> = (usize, std::thread::Result<Built<D>>);
    let (tx, rx) = std::sync::mpsc::channel::<Sent<_>>();
    rayon::in_place_scope_fifo(|scope| {
        let mut spawned = 0;
        let mut spawn_upto = |limit: usize| {
            while spawned < limit.min(plans.len()) {
                let (i, tx, stop, build) = (spawned, tx.clone(), &stop, &build);
                let (ui, jobs, _) = &plans[i];
                scope.spawn_fifo(move |_| {
                    if !stop.load(Relaxed) {
                        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            build(*ui, jobs)
                        }));
                        let _ = tx.send((i, built));
                    }
                });
                spawned += 1;
            }
        };
        spawn_upto(window);
        let mut waiting: BTreeMap<usize, Built<_>> = BTreeMap::new();
        'keep: for (expect, (ui, _, error)) in plans.iter().enumerate() {
            let b = loop {
                if let Some(b) = waiting.remove(&expect) {
                    break b;
                }
                let got = match rx.try_recv() {
                    Ok(got) => Some(got),
                    Err(_) => match rayon::yield_now() {
                        Some(rayon::Yield::Executed) => None,
                        _ => rx.recv_timeout(std::time::Duration::from_millis(1)).ok(),
                    },
                };
                if let Some((i, built)) = got {
                    match built {
                        Ok(built) => waiting.insert(i, built),
                        Err(panic) => std::panic::resume_unwind(panic),
                    };
                }
            };
            spawn_upto(expect + 1 + window);
            if b.crossed {
                outcome = Some(None);
                break 'keep;
            }
            out.visits += b.visits;
            out.deepest = out.deepest.max(b.deepest);
            out.stats = Stats::sum([out.stats, b.stats].into_iter());
            out.warnings.extend(b.warnings);
            out.reentered.extend(b.reentered);
            if let Err(e) = b.result {
                outcome = Some(Some(Err(e)));
                break 'keep;
            }
            if let Some(d) = b.digest {
                consumer.keep(d);
            }
            if let Some(e) = error {
                outcome = Some(Some(Err(e.clone())));
                break 'keep;
            }
            progress.advance((ui + 1 - walked) as u64);
            walked = ui + 1;
        }
        // Units spawned but not yet begun need not be walked.
        stop.store(true, Relaxed);
    });
    if let Some(o) = outcome {
        return o;
    }
    progress.advance((cfg.dwarf.main_units - walked) as u64);
    Some(Ok(()))
}

/// A DIE that may describe a listed symbol: a subprogram or variable at
/// the top of its unit, or inside namespaces, classes and structures.
#[derive(Debug)]
struct Candidate {
    die: DieId,
    subprogram: bool,
    /// Its linkage name or name.
    own: Option<String>,
    /// Its abstract origin, and the origin's name.
    origin: Option<DieId>,
    origin_name: Option<String>,
}

/// What one unit offers the walk, found before it starts.
#[derive(Debug, Default)]
pub struct UnitScan {
    names: UnitNames,
    /// Candidates whose names (or origins' names) are listed, in order.
    candidates: Vec<Candidate>,
    /// An error met reading a candidate, after the ones kept: the walk
    /// reports it when it gets there.
    error: Option<Error>,
}

/// A symbol to describe from a DIE, with the subprogram or variable rule.
#[derive(Clone, Copy, Debug)]
struct Job {
    die: DieId,
    subprogram: bool,
}

/// An entry to read DIEs into, with room for the attributes of most.
fn new_entry<'a>() -> Entry<'a> {
    let mut e = Entry::default();
    e.attrs.reserve(16);
    e
}

/// Whether the first `at` attribute of an abbreviation has a string form;
/// `None` when only the DIE can tell (`DW_FORM_indirect`).
fn string_form(abbrev: crate::abbrev::Abbreviation<'_>, at: gimli::DwAt) -> Option<bool> {
    let Some(spec) = abbrev.attributes().iter().find(|s| s.name() == at) else {
        return Some(false);
    };
    match spec.form() {
        gimli::DW_FORM_indirect => None,
        gimli::DW_FORM_string
        | gimli::DW_FORM_strp
        | gimli::DW_FORM_line_strp
        | gimli::DW_FORM_strx
        | gimli::DW_FORM_strx1
        | gimli::DW_FORM_strx2
        | gimli::DW_FORM_strx3
        | gimli::DW_FORM_strx4
        | gimli::DW_FORM_GNU_str_index => Some(true),
        _ => Some(false),
    }
}

/// A DIE's linkage name, or else its name.
fn symbol_name<'a>(
    dwarf: &Dwarf<'a>,
    ui: usize,
    e: &Entry<'a>,
) -> Result<Option<Cow<'a, str>>, Error> {
    let s = match dwarf.string(ui, e, dw::DW_AT_linkage_name)? {
        Some(s) => Some(s),
        None => dwarf.string(ui, e, dw::DW_AT_name)?,
    };
    Ok(s.map(text_of))
}

/// A string of the DWARF as text (`String::from_utf8_lossy`, checked the
/// faster way first: nearly all are valid).
#[inline]
fn text_of(s: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(s) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(s),
    }
}

/// What the scan reads of a function or variable that may be an export:
/// what `candidate` reads, and where its sibling is.
const CANDIDATE_ATTRS: AttrSet = AttrSet::of(&[
    dw::DW_AT_abstract_origin,
    dw::DW_AT_linkage_name,
    dw::DW_AT_name,
    dw::DW_AT_sibling,
]);

/// One candidate's names; `None` when neither is listed.
fn candidate<'a>(
    dwarf: &Dwarf<'a>,
    ui: usize,
    die: DieId,
    e: &Entry<'a>,
    syms: &Symbols,
    prefix: &str,
) -> Result<Option<Candidate>, Error> {
    let origin = dwarf.reference(ui, e, dw::DW_AT_abstract_origin)?;
    let own = symbol_name(dwarf, ui, e)?;
    let origin_name = match origin {
        Some(o) => {
            let (oui, oe) = dwarf.entry(o)?;
            symbol_name(dwarf, oui, &oe)?
        }
        None => None,
    };
    let listed =
        |n: &Option<Cow<'_, str>>| n.as_deref().is_some_and(|n| syms.find(n, prefix).is_some());
    if !listed(&own) && !listed(&origin_name) {
        // Most functions and variables of a unit: nothing is allocated.
        return Ok(None);
    }
    Ok(Some(Candidate {
        die,
        subprogram: e.tag() == dw::DW_TAG_subprogram,
        own: own.map(Cow::into_owned),
        origin,
        origin_name: origin_name.map(Cow::into_owned),
    }))
}

/// Scans one unit: its qualified-name prefixes (namespaces, classes and
/// structures pass `scope::` to their direct children; an unnamed one
/// passes `scope::<anonymous>` when it is itself inside a scope), and its
/// export candidates.
///
/// `fqn_tags` (see `fqn_readers`) limits the scoped names kept to the DIEs
/// of these tags, the only ones whose `fqn` the rules can read (`None`:
/// any tag). A C object's members, most of its DIEs, are not among them.
///
/// The body of a subprogram the scan reads the attributes of (a
/// candidate), most DIEs of a unit, is jumped over when the subprogram
/// says where its sibling is (`DW_AT_sibling`, which gcc gives DIEs with
/// children): no export is in a body, and what a body's DIEs need for
/// their names depends on nothing outside it (a subprogram passes no
/// prefix), so the walk scans a body when it asks for a name in it
/// (`scan_body`). The bodies jumped over are kept (`UnitNames::scoped`).
pub fn scan_unit(
    dwarf: &Dwarf<'_>,
    ui: usize,
    syms: &Symbols,
    prefix: &str,
    fqn_tags: Option<&TagSet>,
) -> Result<UnitScan, Error> {
    scan_unit_jumping(dwarf, ui, syms, prefix, fqn_tags, true)
}

/// `scan_unit`, jumping over bodies or not (for tests).
fn scan_unit_jumping(
    dwarf: &Dwarf<'_>,
    ui: usize,
    syms: &Symbols,
    prefix: &str,
    fqn_tags: Option<&TagSet>,
    jump: bool,
) -> Result<UnitScan, Error> {
    let u = &dwarf.units[ui];
    if u.end - u.start > u64::from(u32::MAX) {
        // Offsets in a unit are kept in 32 bits (`UnitNames::scoped`).
        return Err(Error::new(format!(
            "a unit of {} bytes at {:#x}: units larger than 4 GiB are not supported",
            u.end - u.start,
            u.start
        )));
    }
    let mut out = UnitScan::default();
    scan_dies::<false>(
        dwarf,
        ui,
        None,
        0,
        Vec::new(),
        Some((syms, prefix)),
        fqn_tags,
        jump,
        &mut out,
    )?;
    // Kept for the whole walk, for every unit.
    out.names.scoped.shrink_to_fit();
    out.names.scopes.shrink_to_fit();
    Ok(out)
}

/// The names of the DIEs of a body `scan_unit` jumped over, as the scan
/// would have found them: the children of a subprogram have no scope
/// above them and cannot be exports.
fn scan_body(
    dwarf: &Dwarf<'_>,
    ui: usize,
    body: Body,
    fqn_tags: Option<&TagSet>,
) -> Result<UnitNames, Error> {
    let mut out = UnitScan::default();
    scan_dies::<true>(
        dwarf,
        ui,
        Some(body.start),
        body.end,
        vec![(None, false)],
        None,
        fqn_tags,
        false,
        &mut out,
    )?;
    Ok(out.names)
}

fn malformed(e: gimli::Error) -> Error {
    Error::new(format!("malformed DWARF: {e}"))
}

/// The scan of `scan_unit` from offset `start` (the unit's first DIE when
/// `None`), with `stack` holding, per depth, what the DIEs above it pass
/// on: the prefix a DIE passes to its children, and whether its children
/// are looked at for exports. For a whole unit, or (`BODY`, and no
/// `exports` looked for) for the body of a subprogram, which ends at the
/// subprogram's sibling (`end`) or at the end of its children. Bodies are
/// jumped over when `jump`, and never inside a body.
#[allow(clippy::too_many_arguments)]
fn scan_dies<const BODY: bool>(
    dwarf: &Dwarf<'_>,
    ui: usize,
    start: Option<u32>,
    end: u32,
    mut stack: Vec<(Option<u32>, bool)>,
    exports: Option<(&Symbols, &str)>,
    fqn_tags: Option<&TagSet>,
    jump: bool,
    out: &mut UnitScan,
) -> Result<(), Error> {
    let names = &mut out.names;
    let u = &dwarf.units[ui];
    let main = u.main && !BODY;
    let size = u.end - u.start;
    // Only abbreviations are read, and attributes only where needed.
    let mut entry = Entry::default();
    // The depth of the DIE the reading starts at (after a jump, the
    // sibling's).
    let mut base = stack.len() as isize;
    let mut raw = u
        .cursor(start.map(|o| gimli::UnitOffset(o as usize)))
        .map_err(malformed)?;
    while !raw.is_empty() {
        let depth = base + raw.next_depth();
        let offset = raw.next_offset();
        if BODY && (depth < 1 || offset.0 as u64 >= u64::from(end)) {
            break;
        }
        let Some(abbrev) = raw.read_abbreviation().map_err(malformed)? else {
            continue;
        };
        if depth < 0 {
            return Err(Error::new("malformed DWARF: unbalanced DIE tree"));
        }
        let d = depth as usize;
        stack.truncate(d);
        if d == 0 {
            raw.skip_attributes(abbrev).map_err(malformed)?;
            stack.push((None, true));
            continue;
        }
        let (parent, visible) = stack.get(d - 1).copied().unwrap_or((None, false));
        let tag = abbrev.tag();
        let scope = matches!(
            tag,
            dw::DW_TAG_namespace | dw::DW_TAG_class_type | dw::DW_TAG_structure_type
        );
        let id = u.start + offset.0 as u64;
        let export = visible
            && main
            && out.error.is_none()
            && matches!(tag, dw::DW_TAG_subprogram | dw::DW_TAG_variable);
        // A DIE whose fqn no rule reads needs no scoped name (scopes are
        // kept whatever their tag: their children need their prefix).
        let wanted = scope || fqn_tags.is_none_or(|t| t.contains(tag));
        // Whether it has a name, which is all that is needed (a scope's
        // name is read when a qualified name needs it: `Walker::fqn`).
        let named = (!export && (scope || parent.is_some()) && wanted)
            .then(|| string_form(abbrev, dw::DW_AT_name))
            .flatten();
        if export || ((scope || (parent.is_some() && wanted)) && named.is_none()) {
            entry.tag = tag;
            entry.has_children = abbrev.has_children();
            entry.offset = offset;
            if export {
                raw.read_attributes_in(abbrev, &CANDIDATE_ATTRS, &mut entry.attrs)
            } else {
                raw.read_attributes(abbrev, &mut entry.attrs)
            }
            .map_err(malformed)?;
        } else {
            raw.skip_attributes(abbrev).map_err(malformed)?;
        }
        let e = &entry;
        if export {
            if let Some((syms, prefix)) = exports {
                match candidate(dwarf, ui, id, e, syms, prefix) {
                    Ok(Some(c)) => out.candidates.push(c),
                    Ok(None) => {}
                    Err(err) => out.error = Some(err),
                }
            }
        } else if scope && visible && main && out.error.is_none() && d > MAX_DEPTH {
            out.error = Some(Error::new("DIE tree nested too deeply"));
        }
        let mut passes = None;
        if scope || (parent.is_some() && wanted) {
            let has_name = named.unwrap_or_else(|| Dwarf::has_string(e, dw::DW_AT_name));
            let offset = (id - u.start) as u32;
            match parent {
                Some(p) if scope || has_name => {
                    names.scoped.push((offset, p));
                    if scope {
                        names.scopes.push(Scope {
                            offset,
                            parent: Some(p),
                        });
                        passes = Some((names.scopes.len() - 1) as u32);
                    }
                }
                None if has_name => {
                    names.scopes.push(Scope {
                        offset,
                        parent: None,
                    });
                    passes = Some((names.scopes.len() - 1) as u32);
                }
                _ => {}
            }
        }
        stack.push((passes, visible && scope));
        // A candidate subprogram's body, jumped over when its sibling is
        // where a sibling can be: after the first child's offset, in the
        // unit.
        if !BODY && jump && export && tag == dw::DW_TAG_subprogram && abbrev.has_children() {
            let first = raw.next_offset().0 as u64;
            if let Some(gimli::AttributeValue::UnitRef(sib)) = e.attr_value_raw(dw::DW_AT_sibling) {
                let sib = sib.0 as u64;
                if sib > first && sib < size {
                    names.push_body(Body {
                        start: first as u32,
                        end: sib as u32,
                    });
                    raw.jump(gimli::UnitOffset(sib as usize))
                        .map_err(malformed)?;
                    base = d as isize;
                    continue;
                }
            }
        }
    }
    Ok(())
}

/// Decides which unit describes which listed symbol, as gendwarfksyms'
/// walk does: in unit order, the first DIE found for a symbol wins.
struct Planner<'a, 'r> {
    dwarf: &'a Dwarf<'a>,
    rules: &'r Rules,
    object: usize,
    /// `--debug` lines, when asked for.
    debug: Option<Vec<String>>,
    /// The entry DIEs are read into (`read`), kept for its memory.
    scratch: Entry<'a>,
}

impl<'a, 'r> Planner<'a, 'r> {
    fn new(cfg: WalkConfig<'a, 'r>) -> Self {
        Planner {
            dwarf: cfg.dwarf,
            rules: cfg.rules,
            object: cfg.object,
            debug: cfg.debug.then(Vec::new),
            scratch: new_entry(),
        }
    }

    /// Reads `die` into the scratch entry: its unit, and the entry.
    fn read(&mut self, die: DieId) -> Result<(usize, &Entry<'a>), Error> {
        let ui = self.dwarf.read_entry(usize::MAX, die, &mut self.scratch)?;
        Ok((ui, &self.scratch))
    }

    /// Decides which listed symbols unit `ui` describes, from which DIEs,
    /// in the order the walk meets them; marks them found. Also returns the
    /// error the walk meets after those, if any.
    fn plan_unit(
        &mut self,
        syms: &mut Symbols,
        ui: usize,
        scan: &UnitScan,
    ) -> (Vec<Job>, Option<Error>) {
        let mut jobs = Vec::new();
        if self.dwarf.is_skeleton(ui) {
            let dwo = self
                .dwarf
                .dwo_name(ui)
                .unwrap_or_else(|| "a .dwo file".to_string());
            let e = Error::new(format!(
                "split DWARF: the types are in {dwo}, which ksymrules does not read; \
                 build without -gsplit-dwarf"
            ));
            return (jobs, Some(e));
        }
        for c in &scan.candidates {
            match self.match_export(syms, c) {
                Ok(Some(job)) => jobs.push(job),
                Ok(None) => {}
                Err(e) => return (jobs, Some(e)),
            }
        }
        if let Some(e) = &scan.error {
            return (jobs, Some(e.clone()));
        }
        // Symbols still without a DIE are described from their pointers.
        for k in 0..syms.visiting_order().len() {
            let i = syms.visiting_order()[k];
            let s = &syms.list[i];
            if s.state != SymState::Unprocessed {
                continue;
            }
            let Some((obj, die)) = s.ptr_die else {
                continue;
            };
            if obj != self.object {
                continue;
            }
            let subprogram = match self.read(die) {
                Ok((_, e)) => e.tag() == dw::DW_TAG_subroutine_type,
                Err(e) => return (jobs, Some(e)),
            };
            jobs.push(self.found(syms, i, die, subprogram));
        }
        (jobs, None)
    }

    /// The symbol a candidate describes, if any; symbol pointers are noted.
    fn match_export(&mut self, syms: &mut Symbols, c: &Candidate) -> Result<Option<Job>, Error> {
        let prefix = &*self.rules.settings.symbol_pointer_prefix;
        let mut sym = c.own.as_deref().and_then(|n| syms.unprocessed(n, prefix));
        let source = c.origin.unwrap_or(c.die);
        let source_name = match c.origin {
            Some(_) => &c.origin_name,
            None => &c.own,
        };
        if sym.is_none() && c.origin.is_some() {
            sym = source_name
                .as_deref()
                .and_then(|n| syms.unprocessed(n, prefix));
        }
        let Some(sym) = sym else { return Ok(None) };
        match source_name.as_deref() {
            Some(n) if n.starts_with(prefix) => {
                self.save_symbol_ptr(syms, sym, source, n)?;
                Ok(None)
            }
            _ => Ok(Some(self.found(syms, sym, source, c.subprogram))),
        }
    }

    /// Marks a symbol found at `die`.
    fn found(&mut self, syms: &mut Symbols, sym: usize, die: DieId, subprogram: bool) -> Job {
        syms.set_die(sym, self.object, die);
        if let Some(log) = &mut self.debug {
            let kind = if subprogram { "subprogram" } else { "variable" };
            log.push(format!("{}: {kind} at DIE {die:#x}", syms.list[sym].name));
        }
        Job { die, subprogram }
    }

    fn save_symbol_ptr(
        &mut self,
        syms: &mut Symbols,
        sym: usize,
        die: DieId,
        name: &str,
    ) -> Result<(), Error> {
        let dwarf = self.dwarf;
        let (ui, e) = self.read(die)?;
        let ptr = match dwarf.reference(ui, e, dw::DW_AT_type)? {
            Some(p) => p,
            None => return Err(Error::new(format!("{name} must be a pointer type"))),
        };
        let (pui, pe) = self.read(ptr)?;
        if pe.tag() != dw::DW_TAG_pointer_type {
            return Err(Error::new(format!("{name} must be a pointer type")));
        }
        let Some(target) = dwarf.reference(pui, pe, dw::DW_AT_type)? else {
            return Err(Error::new(format!("{name}: the pointer has no type")));
        };
        let (_, te) = self.read(target)?;
        let described = if te.tag() == dw::DW_TAG_subroutine_type {
            target
        } else {
            ptr
        };
        syms.set_ptr(sym, self.object, described);
        Ok(())
    }
}

/// Builds strings into one die map.
pub struct Walker<'a, 'r> {
    dwarf: &'a Dwarf<'a>,
    rules: &'r Rules,
    kabi: &'r Kabi,
    map: DieMap,
    stable: bool,
    dump: Option<Dumper>,
    warnings: Vec<String>,
    /// What each re-entered DIE whose strings differ is (`warnings` says
    /// it in words).
    reentered_types: Vec<String>,
    /// Per unit: names and export candidates.
    scans: &'r [UnitScan],
    /// The unit being walked. gendwarfksyms resolves a unit's names when
    /// it processes the unit, so a type in a later unit reached through
    /// `DW_FORM_ref_addr` has no name yet.
    current: usize,
    /// A string reached a DIE outside `home`.
    crossed: bool,
    /// File paths by index. For units of `.debug_info` the key is the index
    /// alone, reset per unit, as gendwarfksyms does (even when a reference
    /// leads to another unit); type units have their own.
    files: HashMap<(Option<usize>, u64), String>,
    /// The prefixes scopes pass on, by unit, body (0 for the scan's own
    /// names, else the body's first child) and scope (see `UnitNames`).
    prefixes: HashMap<(usize, u32, u32), String>,
    /// The names in the bodies the scan jumped over, by unit and first
    /// child, scanned when a name in one was asked for.
    bodies: HashMap<(usize, u32), Rc<UnitNames>>,
    /// The tags whose `fqn` the rules can read (`None`: any), for body
    /// scans: found for the first.
    fqn_tags: Option<Option<TagSet>>,
    /// `unit.X` fields read, per unit.
    unit_fields: HashMap<(usize, UnitField), Option<String>>,
    /// Re-entered (DIE, state) pairs, checked once they are complete.
    reentered: Vec<(DieId, State, EntryId)>,
    /// Per entry: the expand-once DIEs a replay visits, in order (see
    /// `replay`), with the die-map generation it was computed in.
    visits: FxHashMap<EntryId, (u64, Rc<[DieId]>)>,
    /// How many times a DIE was described (for `--debug`).
    visits_made: u64,
    /// The deepest nesting of descriptions met (for `--debug`).
    deepest: usize,
    /// Replays can be skipped entirely (see `replays_matter`).
    skip_replays: bool,
    /// Per entry: a lower bound of what a replay writes to the dump (see
    /// `dump_floor`), with the die-map generation it was computed in.
    floors: (Vec<u64>, u64),
    /// The last symbol epoch given out (the die map keeps, per slot, the
    /// epoch of the last symbol that expanded the DIE: `DieMap::mark`).
    epoch: u32,
    /// The children of the DIEs being described, innermost last.
    kids: Vec<(DieId, gimli::DwTag)>,
    /// Their entries, read as they were listed, until described.
    kid_entries: Vec<Option<Entry<'a>>>,
    /// A child's entry, for the `process_type` about to describe it:
    /// (DIE, unit, entry).
    preread: Option<(DieId, usize, Entry<'a>)>,
    /// Entries to read DIEs into, kept for their memory.
    entries: Vec<Entry<'a>>,
    /// Per tag: the rule that describes it, and whether it is expanded once
    /// (looked up at every DIE).
    tags: &'r TagRules<'r>,
}

/// Per tag with a rule, the attributes its description reads of the DIE:
/// those the rule and the `expand` condition name (which any rule may
/// test), and the name (`fqn`). What else is read of other DIEs (a child
/// tested by a condition, a reference followed, kABI conventions) is read
/// from their own entries.
fn described_attrs(rules: &Rules) -> TagAttrs<'_> {
    // The name, and what the `expand` condition reads, for every tag.
    let mut extra = AttrSet::new([dw::DW_AT_name]);
    if let Some(c) = &rules.expand_when {
        c.attributes().into_iter().for_each(|at| extra.insert(at));
    }
    TagAttrs::new(standard_below(rules.types.keys()), move |tag| {
        rules.types.contains_key(&tag).then(|| {
            let mut set = extra;
            rules.for_each_attribute_read(tag, &mut |at| set.insert(at));
            set
        })
    })
}

/// The rules of each tag, by number for the standard ones.
struct TagRules<'r> {
    rules: &'r Rules,
    /// Indexed by tag, for the standard tags up to the highest the rules
    /// name (the standard tags above it have no rule).
    standard: Vec<(Option<&'r Template>, bool)>,
    /// The attributes the walk reads of a DIE it describes.
    attrs: TagAttrs<'r>,
}

const STANDARD_TAGS: u16 = 0x100;

/// One more than the highest standard tag of `tags` (0 when none): the
/// length of a table of them by tag number.
fn standard_below<'t>(tags: impl Iterator<Item = &'t DwTag>) -> u16 {
    tags.filter(|t| t.0 < STANDARD_TAGS)
        .map(|t| t.0 + 1)
        .max()
        .unwrap_or(0)
}

impl<'r> TagRules<'r> {
    fn new(rules: &'r Rules) -> Self {
        // From the rules' own tags (a lookup of every tag number costs a
        // tiny object more than its walk), no larger than they need.
        let below = standard_below(rules.types.keys().chain(rules.expand_tags.iter()));
        let mut standard = vec![(None, false); usize::from(below)];
        for (tag, template) in &rules.types {
            if let Some(s) = standard.get_mut(usize::from(tag.0)) {
                s.0 = Some(template);
            }
        }
        for tag in rules.expand_tags.iter() {
            if let Some(s) = standard.get_mut(usize::from(tag.0)) {
                s.1 = true;
            }
        }
        TagRules {
            rules,
            standard,
            attrs: described_attrs(rules),
        }
    }

    #[inline]
    fn template(&self, tag: DwTag) -> Option<&'r Template> {
        match self.standard.get(usize::from(tag.0)) {
            Some(&(t, _)) => t,
            None if tag.0 < STANDARD_TAGS => None,
            None => self.rules.types.get(&tag),
        }
    }

    #[inline]
    fn is_expanded_once(&self, tag: DwTag) -> bool {
        match self.standard.get(usize::from(tag.0)) {
            Some(&(_, once)) => once,
            None if tag.0 < STANDARD_TAGS => false,
            None => self.rules.is_expanded_once(tag),
        }
    }
}

impl<'a, 'r> Walker<'a, 'r> {
    /// A walker for the whole object, or for unit `home` alone.
    fn new(
        cfg: WalkConfig<'a, 'r>,
        scans: &'r [UnitScan],
        tags: &'r TagRules<'r>,
        home: Option<usize>,
    ) -> Self {
        let dwarf = cfg.dwarf;
        // Exports reach a fraction of the DIEs; about one in 24 bytes of
        // .debug_info is a DIE that ends up in the map.
        const BYTES_PER_DIE: usize = 24;
        let map = match home {
            Some(ui) => {
                let u = &dwarf.units[ui];
                DieMap::for_unit(u.start, u.end, (u.end - u.start) as usize / BYTES_PER_DIE)
            }
            None => DieMap::with_capacity(
                dwarf.units[..dwarf.main_units]
                    .iter()
                    .map(|u| (u.end - u.start) as usize)
                    .sum::<usize>()
                    / BYTES_PER_DIE,
            ),
        };
        let mut map = map;
        if cfg.provenance {
            map.provenance = Some(Default::default());
        }
        Walker {
            kabi: cfg.kabi,
            dwarf,
            rules: cfg.rules,
            map,
            stable: cfg.stable,
            dump: cfg.dump.then(|| Dumper {
                line_ended: true,
                ..Dumper::default()
            }),
            warnings: Vec::new(),
            reentered_types: Vec::new(),
            scans,
            current: home.unwrap_or(0),
            crossed: false,
            files: HashMap::default(),
            prefixes: HashMap::default(),
            bodies: HashMap::default(),
            fqn_tags: None,
            unit_fields: HashMap::default(),
            reentered: Vec::new(),
            visits: FxHashMap::default(),
            visits_made: 0,
            deepest: 0,
            skip_replays: !cfg.dump && !replays_matter(cfg.rules, cfg.stable),
            floors: (Vec::new(), 0),
            epoch: 0,
            kids: Vec::new(),
            kid_entries: Vec::new(),
            preread: None,
            entries: Vec::new(),
            tags,
        }
    }

    // ------------------------------------------------------------ names

    /// The fully qualified name of a DIE ("" when unnamed, or when its unit
    /// has not been reached yet).
    fn fqn(&mut self, ui: usize, die: DieId, entry: &Entry<'a>) -> Result<Cow<'a, str>, Error> {
        let u = &self.dwarf.units[ui];
        if u.main && ui > self.current {
            return Ok(Cow::Borrowed(""));
        }
        let Some(name) = self.dwarf.string(ui, entry, dw::DW_AT_name)? else {
            return Ok(Cow::Borrowed(""));
        };
        let name = text_of(name);
        let scans = self.scans;
        let names = &scans[ui].names;
        let offset = (die - u.start) as u32;
        let scope = match names.place(offset) {
            Place::Scoped(scope) => Some((0, scope)),
            Place::Body(b) => match self.body_names(ui, b)?.place(offset) {
                Place::Scoped(scope) => Some((b.start, scope)),
                _ => None,
            },
            Place::Plain => None,
        };
        Ok(match scope {
            Some((body, scope)) => {
                Cow::Owned(format!("{}::{}", self.scope_prefix(ui, body, scope)?, name))
            }
            None => name,
        })
    }

    /// The names in a body of unit `ui`, scanned the first time.
    fn body_names(&mut self, ui: usize, body: Body) -> Result<Rc<UnitNames>, Error> {
        if let Some(names) = self.bodies.get(&(ui, body.start)) {
            return Ok(names.clone());
        }
        let rules = self.rules;
        let tags = self
            .fqn_tags
            .get_or_insert_with(|| fqn_readers(rules).map(|tags| TagSet::new(&tags)));
        let names = Rc::new(scan_body(self.dwarf, ui, body, tags.as_ref())?);
        self.bodies.insert((ui, body.start), names.clone());
        Ok(names)
    }

    /// The prefix scope `scope` of unit `ui` passes on (of the body that
    /// starts at `body`, when not 0), from its name and its own scope's
    /// prefix (cached).
    fn scope_prefix(&mut self, ui: usize, body: u32, scope: u32) -> Result<&str, Error> {
        let scans = self.scans;
        let held;
        let scopes = match body {
            0 => &scans[ui].names.scopes,
            start => {
                held = self.bodies[&(ui, start)].clone();
                &held.scopes
            }
        };
        // The scopes up to one whose prefix is known, innermost first.
        let mut chain = Vec::new();
        let mut next = Some(scope);
        while let Some(s) = next {
            if self.prefixes.contains_key(&(ui, body, s)) {
                break;
            }
            chain.push(s);
            next = scopes[s as usize].parent;
        }
        let start = self.dwarf.units[ui].start;
        for &s in chain.iter().rev() {
            let sc = scopes[s as usize];
            let (sui, se) = self.dwarf.entry(start + u64::from(sc.offset))?;
            let name = self.dwarf.string(sui, &se, dw::DW_AT_name)?.map(text_of);
            let prefix = match sc.parent {
                None => name.unwrap_or_default().into_owned(),
                Some(p) => format!(
                    "{}::{}",
                    self.prefixes[&(ui, body, p)],
                    name.unwrap_or(Cow::Borrowed("<anonymous>"))
                ),
            };
            self.prefixes.insert((ui, body, s), prefix);
        }
        Ok(&self.prefixes[&(ui, body, scope)])
    }

    /// Notes a DIE this walker's map cannot take (outside its unit).
    fn check_home(&mut self, die: DieId) -> Result<(), Error> {
        if self.map.covers(die) {
            return Ok(());
        }
        self.crossed = true;
        Err(Error::new(format!(
            "DIE {die:#x} is outside the unit walked"
        )))
    }

    /// Builds a symbol's own string, with the `subprogram` or the
    /// `variable` rule.
    fn process_symbol(&mut self, job: Job) -> Result<(), Error> {
        let Job { die, subprogram } = job;
        if self.map.symbol_entry(die).is_some() {
            // Another symbol already described this DIE.
            return Ok(());
        }
        self.check_home(die)?;
        let (ui, entry) = self.dwarf.entry(die)?;
        let id = self.map.create(die, State::Symbol, entry.tag());
        let rules = self.rules;
        let template: &Template = if subprogram {
            &rules.subprogram
        } else {
            &rules.variable
        };
        let mut walk = Walk::new();
        self.epoch += 1;
        walk.epoch = self.epoch;
        let mut ctx = Ctx {
            ui,
            die,
            entry,
            id,
            expanded: None,
            union: None,
            own: true,
            fqn: None,
            last_ref: None,
        };
        self.run_ops(&mut walk, &mut ctx, &template.ops)?;
        self.map.complete(id, State::Symbol);
        if let Some(d) = &mut self.dump {
            d.end_symbol();
        }
        Ok(())
    }

    // ------------------------------------------------------------ types

    /// Describes `die` as a type, appending a reference to it to `parent`.
    fn process_type(
        &mut self,
        walk: &mut Walk<'r>,
        parent: Option<EntryId>,
        die: DieId,
    ) -> Result<(), Error> {
        if walk.depth >= MAX_DEPTH {
            return Err(Error::new(format!(
                "types nested more than {MAX_DEPTH} deep at DIE {die:#x}"
            )));
        }
        walk.depth += 1;
        self.visits_made += 1;
        self.deepest = self.deepest.max(walk.depth);
        let locals = walk.locals.len();
        // Real kernels nest a few hundred deep; grow the stack as needed
        // whatever thread the engine runs on.
        let result = deep(walk.depth, || self.process_type_inner(walk, parent, die));
        walk.locals.truncate(locals);
        walk.depth -= 1;
        result
    }

    fn process_type_inner(
        &mut self,
        walk: &mut Walk<'r>,
        parent: Option<EntryId>,
        die: DieId,
    ) -> Result<(), Error> {
        // A DIE met for the first time is read whole at once: it is about
        // to be described.
        let mut read = None;
        // A child just listed comes read.
        let mut pre = None;
        if let Some((d, ui, e)) = self.preread.take() {
            if d == die {
                pre = Some((ui, e));
            } else {
                self.entries.push(e);
            }
        }
        let slot = match (self.map.slot_of(die), pre) {
            (Some(slot), pre) => {
                if let Some((_, e)) = pre {
                    self.entries.push(e);
                }
                slot
            }
            (None, Some((ui, entry))) => {
                if let Err(e) = self.check_home(die) {
                    self.entries.push(entry);
                    return Err(e);
                }
                let slot = self.map.slot_for(die, entry.tag());
                read = Some((ui, entry));
                slot
            }
            (None, None) => {
                self.check_home(die)?;
                let mut entry = self.entries.pop().unwrap_or_else(new_entry);
                let ui =
                    self.dwarf
                        .read_entry_only(self.current, die, &mut entry, &self.tags.attrs)?;
                self.dwarf
                    .prefetch_refs(ui, &entry, |d| self.map.prefetch_slot(d));
                let slot = self.map.slot_for(die, entry.tag());
                read = Some((ui, entry));
                slot
            }
        };
        let tag = self.map.slot_tag(slot).unwrap_or(gimli::DW_TAG_null);
        let saved_expand = walk.expand;
        let mut want = State::Complete;
        if self.tags.is_expanded_once(tag) {
            let mark = self.map.mark(slot);
            if *mark == walk.epoch {
                walk.expand = false;
            }
            if walk.expand {
                *mark = walk.epoch;
            } else {
                want = State::Unexpanded;
            }
        }
        if let Some(id) = self.map.get_slot(slot, want) {
            if !self.skip_replays {
                self.replay(walk, id)?;
            }
        } else {
            let Some(template) = self.tags.template(tag) else {
                return Err(Error::new(format!(
                    "unexpected type {} at DIE {die:#x}: no rule describes it",
                    tag_name(tag)
                )));
            };
            let reentered = self.map.is_building_slot(slot, want);
            let id = self.map.create_in(slot, want);
            if reentered {
                self.reentered.push((die, want, id));
            }
            let (ui, entry) = match read.take() {
                Some(r) => r,
                None => {
                    let mut entry = self.entries.pop().unwrap_or_else(new_entry);
                    let ui = self.dwarf.read_entry_only(
                        self.current,
                        die,
                        &mut entry,
                        &self.tags.attrs,
                    )?;
                    (ui, entry)
                }
            };
            self.build(walk, ui, die, entry, template, id, want)?;
        }
        if let Some((_, entry)) = read {
            self.entries.push(entry);
        }
        if let Some(p) = parent {
            self.map.add_die(p, slot);
        }
        walk.expand = saved_expand;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        walk: &mut Walk<'r>,
        ui: usize,
        die: DieId,
        entry: Entry<'a>,
        template: &'r Template,
        id: EntryId,
        want: State,
    ) -> Result<(), Error> {
        let mut ctx = Ctx {
            ui,
            die,
            entry,
            id,
            expanded: None,
            union: None,
            own: true,
            fqn: None,
            last_ref: None,
        };
        let result = self.run_ops(walk, &mut ctx, &template.ops);
        self.entries.push(ctx.entry);
        result?;
        self.map.complete(id, want);
        Ok(())
    }

    /// Visits a cached string again: its text goes to the dump, its DIEs
    /// are walked (which may build strings they need in this symbol).
    ///
    /// Without a dump, only the expand-once DIEs matter: any other DIE met
    /// in a replay already has its complete entry (it was described when
    /// the replayed entry was built, and a DIE re-entered then got an inner
    /// entry that completed), so describing it again only replays that
    /// entry in turn; it marks nothing and builds nothing. So the replay
    /// visits the flattened list of expand-once DIEs, in the order the full
    /// walk would meet them, which gives exactly the same marks and builds.
    fn replay(&mut self, walk: &mut Walk<'r>, id: EntryId) -> Result<(), Error> {
        if self.dump.is_none() {
            if let Some(visits) = self.visits_of(id) {
                for &d in visits.iter() {
                    self.process_type(walk, None, d)?;
                }
                return Ok(());
            }
        }
        // What the replay writes at least (without indentation), and how
        // much was written when it began.
        let mut floor = None;
        if self.dump.is_some() {
            let f = self.dump_floor(id);
            let text = self.map.text_len();
            let die = self.map.die(id);
            if let Some(d) = &self.dump {
                d.check(f, text, die)?;
                floor = Some((f, d.plain(), self.map.generation));
            }
        }
        let n = self.map.frags(id).len();
        for i in 0..n {
            match self.map.frags(id)[i] {
                Frag::Text(a, n) => {
                    if let Some(d) = &mut self.dump {
                        d.text(self.map.text(a, n));
                    }
                }
                Frag::Break(b) => {
                    if let Some(d) = &mut self.dump {
                        d.brk(b);
                    }
                }
                Frag::Die(slot) => {
                    let child = self.map.die_of(slot);
                    self.process_type(walk, None, child)?
                }
            }
        }
        // The floor is a lower bound (fuzzing checks it).
        if let (Some((f, start, generation)), Some(d)) = (floor, &self.dump) {
            debug_assert!(
                generation != self.map.generation || d.plain().wrapping_sub(start) >= f,
                "the replay of entry {id} wrote less than its floor of {f} bytes"
            );
        }
        Ok(())
    }

    /// A lower bound of what replaying entry `id` writes to the dump, not
    /// counting indentation: its text, a line break per break followed by
    /// text, and per DIE it refers to the least of the entries a visit may
    /// replay (none yet: nothing, the visit builds one). Memoised per
    /// entry, so O(entries + fragments) per die-map generation; an entry
    /// reached again while it is worked out counts as nothing.
    fn dump_floor(&mut self, id: EntryId) -> u64 {
        const NOT_YET: u64 = u64::MAX;
        const BUSY: u64 = u64::MAX - 1;
        let (floors, generation) = &mut self.floors;
        if *generation != self.map.generation {
            floors.clear();
            *generation = self.map.generation;
        }
        if floors.len() < self.map.entries.len() {
            floors.resize(self.map.entries.len(), NOT_YET);
        }
        let known = |f: u64| if f == BUSY { 0 } else { f };
        if floors[id as usize] != NOT_YET {
            return known(floors[id as usize]);
        }
        let add = |a: u64, b: u64| a.saturating_add(b).min(BUSY - 1);
        // (entry, next fragment, bytes so far)
        let mut stack: Vec<(EntryId, u32, u64)> = vec![(id, 0, 0)];
        floors[id as usize] = BUSY;
        while let Some(top) = stack.last_mut() {
            let (e, i) = (top.0, top.1 as usize);
            let frags = self.map.frags(e);
            let Some(&f) = frags.get(i) else {
                let n = top.2;
                stack.pop();
                floors[e as usize] = n;
                continue;
            };
            let slot = match f {
                Frag::Text(_, n) => {
                    top.2 = add(top.2, u64::from(n));
                    top.1 += 1;
                    continue;
                }
                Frag::Break(_) => {
                    if matches!(frags.get(i + 1), Some(Frag::Text(..))) {
                        top.2 = add(top.2, 1);
                    }
                    top.1 += 1;
                    continue;
                }
                Frag::Die(slot) => slot,
            };
            // The entries a visit may replay: the complete one, or for an
            // expand-once type the unexpanded one too.
            let once = self
                .map
                .slot_tag(slot)
                .is_some_and(|t| self.tags.is_expanded_once(t));
            let complete = self.map.get_slot(slot, State::Complete);
            let unexpanded = once
                .then(|| self.map.get_slot(slot, State::Unexpanded))
                .flatten();
            let todo = [complete, unexpanded]
                .into_iter()
                .flatten()
                .find(|&c| floors[c as usize] == NOT_YET);
            if let Some(c) = todo {
                floors[c as usize] = BUSY;
                stack.push((c, 0, 0));
                continue;
            }
            let least = match (complete, unexpanded) {
                (Some(c), _) if !once => known(floors[c as usize]),
                (Some(c), Some(u)) => known(floors[c as usize]).min(known(floors[u as usize])),
                _ => 0,
            };
            top.2 = add(top.2, least);
            top.1 += 1;
        }
        known(floors[id as usize])
    }

    /// The expand-once DIEs a replay of `id` meets, in order, memoized;
    /// `None` when some other DIE met has no complete entry (then the
    /// replay walks every fragment).
    fn visits_of(&mut self, id: EntryId) -> Option<Rc<[DieId]>> {
        let generation = self.map.generation;
        if let Some((g, v)) = self.visits.get(&id) {
            if *g == generation {
                return Some(v.clone());
            }
        }
        const MAX_VISITS: usize = 1 << 20;
        let mut out = Vec::new();
        let mut stack = vec![(id, 0usize)];
        while let Some((e, i)) = stack.pop() {
            let frags = self.map.frags(e);
            let Some(f) = frags.get(i) else { continue };
            stack.push((e, i + 1));
            let &Frag::Die(slot) = f else { continue };
            let tag = self.map.slot_tag(slot)?;
            if self.tags.is_expanded_once(tag) {
                out.push(self.map.die_of(slot));
                if out.len() > MAX_VISITS {
                    return None;
                }
            } else {
                let c = self.map.get_slot(slot, State::Complete)?;
                if stack.len() > MAX_DEPTH {
                    return None;
                }
                match self.visits.get(&c) {
                    Some((g, v)) if *g == generation => out.extend(v.iter().copied()),
                    _ => stack.push((c, 0)),
                }
            }
        }
        let v: Rc<[DieId]> = out.into();
        self.visits.insert(id, (generation, v.clone()));
        Some(v)
    }

    /// After the walk: a DIE re-entered while it was being built got two
    /// strings, and the inner one is used. Say so when they differ.
    fn check_reentries(&mut self) {
        if self.reentered.is_empty() {
            return;
        }
        let keys: HashSet<(DieId, State)> =
            self.reentered.iter().map(|&(d, st, _)| (d, st)).collect();
        // The slots of those DIEs, so that most entries are passed over
        // without hashing.
        let mut re_slots = vec![false; self.map.slot_count()];
        for &(d, _, _) in &self.reentered {
            if let Some(slot) = self.map.slot_of(d) {
                re_slots[slot as usize] = true;
            }
        }
        let mut by_key: HashMap<(DieId, State), Vec<EntryId>> = HashMap::default();
        for (id, e) in self.map.entries.iter().enumerate() {
            if !re_slots[e.slot as usize] {
                continue;
            }
            let die = self.map.die(id as EntryId);
            if keys.contains(&(die, e.state)) {
                by_key
                    .entry((die, e.state))
                    .or_default()
                    .push(id as EntryId);
            }
        }
        let mut seen = HashSet::default();
        for &(die, state, _) in &self.reentered {
            if !seen.insert((die, state)) {
                continue;
            }
            let Some(used) = self.map.get(die, state) else {
                continue;
            };
            let used_frags = self.map.view(used);
            let differs = by_key
                .get(&(die, state))
                .is_some_and(|ids| ids.iter().any(|&id| self.map.view(id) != used_frags));
            if differs {
                let tag = self.map.entry_tag(used);
                let what = match self.map.fqn(used) {
                    Some(n) if !n.is_empty() => format!("{} {n}", tag_name(tag)),
                    _ => tag_name(tag),
                };
                self.warnings.push(format!(
                    "{what} (DIE {die:#x}) was reached again while its string was being built; \
                     as gendwarfksyms does, the inner string is used, which drops a list separator"
                ));
                self.reentered_types.push(format!("{what} (DIE {die:#x})"));
            }
        }
    }

    // ------------------------------------------------------------ rules

    fn emit(&mut self, id: EntryId, s: &str) {
        if let Some(d) = &mut self.dump {
            d.text(s);
        }
        self.map.add_text(id, s);
    }

    /// Notes where the next piece of `ctx`'s entry comes from, when
    /// provenance is recorded (`--explain`; never on the kbuild path).
    #[inline]
    fn note(&mut self, ctx: &Ctx<'a>, origin: Option<ksymrules_grammar::model::Origin>) {
        if self.map.provenance.is_some() {
            self.map.note(
                ctx.id,
                crate::diemap::Prov {
                    die: ctx.die,
                    origin,
                },
            );
        }
    }

    fn emit_break(&mut self, id: EntryId, n: i8) {
        if let Some(d) = &mut self.dump {
            d.brk(n);
        }
        self.map.add_break(id, n);
    }

    fn run_ops(
        &mut self,
        walk: &mut Walk<'r>,
        ctx: &mut Ctx<'a>,
        ops: &'r [Op],
    ) -> Result<(), Error> {
        for op in ops {
            match op {
                Op::Text(s, o) => {
                    self.note(ctx, Some(*o));
                    self.emit(ctx.id, s)
                }
                Op::Break(n) => self.emit_break(ctx.id, *n),
                Op::Field(f, o) => {
                    self.note(ctx, Some(*o));
                    self.print_field(walk, ctx, f)?;
                }
                Op::Value(e, o) => {
                    self.note(ctx, Some(*o));
                    let v = self.eval(walk, ctx, e)?;
                    self.print(walk, ctx, v)?;
                }
                Op::SetVar(name, e) => match self.eval(walk, ctx, e)? {
                    Val::Absent | Val::Die(_) => {
                        if !walk.globals.is_empty() {
                            walk.globals.remove(&**name);
                        }
                    }
                    v => {
                        walk.globals.insert(name, v.text());
                    }
                },
                Op::LetVar(name, e) => {
                    if let v @ (Val::Int(_) | Val::Str(_)) = self.eval(walk, ctx, e)? {
                        walk.locals.push((name, v.text()));
                    }
                }
                Op::ClearVar(name) => {
                    if !walk.globals.is_empty() {
                        walk.globals.remove(&**name);
                    }
                }
                Op::If(arms, otherwise) => {
                    let mut taken = None;
                    for (cond, body) in arms.iter() {
                        if self.test(walk, ctx, cond)? {
                            taken = Some(body);
                            break;
                        }
                    }
                    self.run_ops(walk, ctx, taken.unwrap_or(otherwise))?;
                }
                Op::Separator(body) => {
                    if walk.first_item {
                        walk.first_item = false;
                    } else {
                        self.run_ops(walk, ctx, body)?;
                    }
                }
                Op::Children(arms) => {
                    walk.first_item = true;
                    let result = self.children(walk, ctx, arms);
                    walk.first_item = false;
                    result?;
                }
            }
        }
        Ok(())
    }

    fn children(
        &mut self,
        walk: &mut Walk<'r>,
        ctx: &mut Ctx<'a>,
        arms: &[ChildArm],
    ) -> Result<(), Error> {
        // The children go on a stack shared by nested calls, read as they
        // are listed (most are described next).
        let start = self.kids.len();
        let (dwarf, tags) = (self.dwarf, self.tags);
        let read = dwarf.children_entries_into(
            ctx.ui,
            ctx.die,
            &mut self.kids,
            &mut self.kid_entries,
            &mut self.entries,
            &tags.attrs,
            // Those that the first arm that fits describes at once.
            |tag| {
                arms.iter()
                    .find(|a| a.fits(tag))
                    .is_some_and(|a| a.when.is_none() && matches!(a.action, Action::Describe))
            },
        );
        let listed = if read {
            for e in self.kid_entries[start..].iter().flatten() {
                dwarf.prefetch_refs(ctx.ui, e, |d| self.map.prefetch_slot(d));
            }
            Ok(())
        } else {
            let listed = dwarf.children_into(ctx.ui, ctx.die, &mut self.kids);
            self.kid_entries.resize_with(self.kids.len(), || None);
            listed
        };
        let result = listed.and_then(|()| self.each_child(walk, ctx, arms, start));
        self.kids.truncate(start);
        let unused = self.kid_entries.drain(start..).flatten();
        self.entries.extend(unused);
        result
    }

    fn each_child(
        &mut self,
        walk: &mut Walk<'r>,
        ctx: &mut Ctx<'a>,
        arms: &[ChildArm],
        start: usize,
    ) -> Result<(), Error> {
        let end = self.kids.len();
        for i in start..end {
            let (child, tag) = self.kids[i];
            let mut action = &Action::Skip;
            for arm in arms {
                if !arm.fits(tag) {
                    continue;
                }
                if let Some(cond) = &arm.when {
                    let (cui, ce) = self.dwarf.entry(child)?;
                    let mut cctx = Ctx {
                        ui: cui,
                        die: child,
                        entry: ce,
                        id: ctx.id,
                        expanded: Some(false),
                        union: None,
                        own: false,
                        fqn: None,
                        last_ref: None,
                    };
                    if !self.test(walk, &mut cctx, cond)? {
                        continue;
                    }
                }
                action = &arm.action;
                break;
            }
            match action {
                Action::Describe => {
                    self.note(ctx, None);
                    if let Some(e) = self.kid_entries[i].take() {
                        self.preread = Some((child, ctx.ui, e));
                    }
                    self.process_type(walk, Some(ctx.id), child)?
                }
                Action::Skip => {}
                Action::Error(msg) => {
                    return Err(Error::new(format!(
                        "{msg}: {} at DIE {child:#x}",
                        tag_name(tag)
                    )))
                }
            }
        }
        Ok(())
    }

    fn print(&mut self, walk: &mut Walk<'r>, ctx: &mut Ctx<'a>, v: Val<'_>) -> Result<(), Error> {
        match v {
            Val::Absent => {}
            Val::Int(n) => {
                let mut digits = itoa::Buffer::new();
                self.emit(ctx.id, digits.format(n))
            }
            Val::Str(s) => self.emit(ctx.id, &s),
            Val::Die(d) => self.process_type(walk, Some(ctx.id), d)?,
        }
        Ok(())
    }

    /// `print` of `field`, the commonest fields printed without making a
    /// value first (which cost a stall per field: a value is returned in
    /// memory, written in pieces and read back whole).
    fn print_field(
        &mut self,
        walk: &mut Walk<'r>,
        ctx: &mut Ctx<'a>,
        f: &Field,
    ) -> Result<(), Error> {
        match f {
            Field::Fqn => {
                let id = ctx.id;
                let fqn = self.read_fqn(ctx)?;
                self.emit(id, fqn);
            }
            Field::Attr(at, AttrClass::Constant) => {
                if let Some(n) = Dwarf::constant(&ctx.entry, *at) {
                    let mut digits = itoa::Buffer::new();
                    self.emit(ctx.id, digits.format(n));
                }
            }
            Field::Attr(at, AttrClass::String) => {
                if let Some(s) = self.dwarf.string(ctx.ui, &ctx.entry, *at)? {
                    self.emit(ctx.id, &text_of(s));
                }
            }
            Field::Attr(at, AttrClass::Reference) => {
                if let Some(d) = self.reference(ctx, *at)? {
                    self.process_type(walk, Some(ctx.id), d)?;
                }
            }
            _ => {
                let v = self.field(ctx, f)?;
                self.print(walk, ctx, v)?;
            }
        }
        Ok(())
    }

    /// The fqn of the DIE described, read once per description; the entry
    /// it builds is named by it.
    fn read_fqn<'c>(&mut self, ctx: &'c mut Ctx<'a>) -> Result<&'c Cow<'a, str>, Error> {
        if ctx.fqn.is_none() {
            ctx.fqn = Some(self.fqn(ctx.ui, ctx.die, &ctx.entry)?);
        }
        let fqn = ctx.fqn.as_ref().expect("just set");
        if ctx.own && self.map.fqn(ctx.id).is_none() {
            self.map.set_fqn(ctx.id, fqn);
        }
        Ok(fqn)
    }

    fn field(&mut self, ctx: &mut Ctx<'a>, f: &Field) -> Result<Val<'a>, Error> {
        Ok(match f {
            Field::Fqn => Val::Str(self.read_fqn(ctx)?.clone()),
            Field::Tag => Val::Str(Cow::Owned(tag_name(ctx.entry.tag()))),
            Field::KabiStatus | Field::KabiPlaceholder | Field::KabiRenamed => {
                if ctx.union.is_none() {
                    ctx.union = Some(union_status(self.dwarf, ctx.die)?);
                }
                let u = ctx.union.as_ref().expect("just set");
                match f {
                    Field::KabiStatus => {
                        u.status.map_or(Val::Absent, |s| Val::Str(Cow::Borrowed(s)))
                    }
                    Field::KabiPlaceholder => u.placeholder.map_or(Val::Absent, Val::Die),
                    _ => u
                        .renamed
                        .clone()
                        .map_or(Val::Absent, |r| Val::Str(Cow::Owned(r))),
                }
            }
            Field::Via(at, inner) => {
                let Some(target) = self.dwarf.reference(ctx.ui, &ctx.entry, *at)? else {
                    return Ok(Val::Absent);
                };
                let (tui, te) = self.dwarf.entry(target)?;
                if matches!(**inner, Field::Fqn) {
                    // Another DIE's name: read it without naming this entry.
                    return Ok(Val::Str(self.fqn(tui, target, &te)?));
                }
                let mut tctx = Ctx {
                    ui: tui,
                    die: target,
                    entry: te,
                    id: ctx.id,
                    expanded: Some(false),
                    union: None,
                    own: false,
                    fqn: None,
                    last_ref: None,
                };
                self.field(&mut tctx, inner)?
            }
            Field::Unit(u) => {
                let key = (ctx.ui, *u);
                if !self.unit_fields.contains_key(&key) {
                    let value = self.dwarf.unit_field(ctx.ui, *u)?;
                    self.unit_fields.insert(key, value);
                }
                match &self.unit_fields[&key] {
                    Some(v) => Val::Str(Cow::Owned(v.clone())),
                    None => Val::Absent,
                }
            }
            Field::Attr(at, class) => {
                let at = *at;
                match class {
                    AttrClass::Constant => match Dwarf::constant(&ctx.entry, at) {
                        Some(v) => Val::Int(v),
                        None => Val::Absent,
                    },
                    AttrClass::Flag => {
                        if Dwarf::flag(&ctx.entry, at) {
                            Val::Int(1)
                        } else {
                            Val::Absent
                        }
                    }
                    AttrClass::String => match self.dwarf.string(ctx.ui, &ctx.entry, at)? {
                        Some(s) => Val::Str(text_of(s)),
                        None => Val::Absent,
                    },
                    AttrClass::Reference => match self.reference(ctx, at)? {
                        Some(d) => Val::Die(d),
                        None => Val::Absent,
                    },
                    AttrClass::File => match Dwarf::constant(&ctx.entry, at) {
                        Some(index) => Val::Str(Cow::Owned(self.file_path(ctx.ui, index)?)),
                        None => Val::Absent,
                    },
                }
            }
        })
    }

    /// Where a reference attribute of the context's DIE leads.
    fn reference(&self, ctx: &mut Ctx<'a>, at: gimli::DwAt) -> Result<Option<DieId>, Error> {
        if let Some((last, target)) = ctx.last_ref {
            if last == at {
                return Ok(target);
            }
        }
        let target = self.dwarf.reference(ctx.ui, &ctx.entry, at)?;
        ctx.last_ref = Some((at, target));
        Ok(target)
    }

    /// The path of a file of a unit's line table, cached as gendwarfksyms
    /// caches it.
    fn file_path(&mut self, ui: usize, index: u64) -> Result<String, Error> {
        self.file_path_ref(ui, index).map(str::to_string)
    }

    /// `file_path`, borrowed from the cache.
    fn file_path_ref(&mut self, ui: usize, index: u64) -> Result<&str, Error> {
        let unit = (!self.dwarf.units[ui].main).then_some(ui);
        let key = (unit, index);
        if !self.files.contains_key(&key) {
            let p = String::from_utf8_lossy(&self.dwarf.file_name(ui, index)?).into_owned();
            self.files.insert(key, p);
        }
        Ok(&self.files[&key])
    }

    fn call(&self, f: Builtin, args: &[Val<'_>]) -> Val<'static> {
        let text = |i: usize| match args.get(i) {
            Some(Val::Str(s)) => Some(s.to_string()),
            Some(Val::Int(n)) => Some(n.to_string()),
            _ => None,
        };
        let yes = |b: bool| if b { Val::Int(1) } else { Val::Absent };
        match f {
            Builtin::KabiDeclonly => {
                text(0).map_or(Val::Absent, |t| yes(self.kabi.is_declonly(&t)))
            }
            Builtin::KabiByteSize => text(0)
                .and_then(|t| self.kabi.byte_size(&t))
                .map_or(Val::Absent, Val::Int),
            Builtin::KabiEnumeratorIgnored => match (text(0), text(1)) {
                (Some(e), Some(n)) => yes(self.kabi.is_enumerator_ignored(&e, &n)),
                _ => Val::Absent,
            },
            Builtin::KabiEnumeratorValue => match (text(0), text(1)) {
                (Some(e), Some(n)) => self
                    .kabi
                    .enumerator_value(&e, &n)
                    .map_or(Val::Absent, Val::Int),
                _ => Val::Absent,
            },
        }
    }

    fn eval(&mut self, walk: &Walk<'r>, ctx: &mut Ctx<'a>, e: &Expr) -> Result<Val<'a>, Error> {
        Ok(match e {
            Expr::Int(v) => Val::Int(*v),
            Expr::Str(s) => Val::Str(Cow::Owned(s.to_string())),
            Expr::Field(f) => self.field(ctx, f)?,
            Expr::Var(name) => walk
                .var(name)
                .map_or(Val::Absent, |v| Val::Str(Cow::Owned(v.to_string()))),
            Expr::Func(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args.iter() {
                    vals.push(self.eval(walk, ctx, a)?);
                }
                self.call(*f, &vals)
            }
            Expr::Add(a, b) | Expr::Sub(a, b) => {
                let (x, y) = (self.eval(walk, ctx, a)?, self.eval(walk, ctx, b)?);
                match (x, y) {
                    (Val::Int(x), Val::Int(y)) => Val::Int(if matches!(e, Expr::Add(..)) {
                        x.wrapping_add(y)
                    } else {
                        x.wrapping_sub(y)
                    }),
                    _ => Val::Absent,
                }
            }
        })
    }

    fn test(&mut self, walk: &mut Walk<'r>, ctx: &mut Ctx<'a>, c: &Cond) -> Result<bool, Error> {
        Ok(match c {
            // Whether a string attribute is there needs no string.
            Cond::Has(Expr::Field(Field::Attr(at, AttrClass::String))) => {
                Dwarf::has_string(&ctx.entry, *at)
            }
            Cond::Has(Expr::Field(Field::Attr(at, AttrClass::Constant))) => {
                Dwarf::constant(&ctx.entry, *at).is_some()
            }
            Cond::Has(Expr::Field(Field::Attr(at, AttrClass::Flag))) => {
                Dwarf::flag(&ctx.entry, *at)
            }
            Cond::Has(Expr::Field(Field::Attr(at, AttrClass::Reference))) => {
                self.reference(ctx, *at)?.is_some()
            }
            // Whether there is a name: read it as `fqn` does (naming the
            // entry), without making a value of it.
            Cond::Has(Expr::Field(Field::Fqn)) => !self.read_fqn(ctx)?.is_empty(),
            Cond::Has(e) => match self.eval(walk, ctx, e)? {
                Val::Absent => false,
                Val::Str(s) => !(matches!(e, Expr::Field(Field::Fqn)) && s.is_empty()),
                _ => true,
            },
            Cond::Expanded => match ctx.expanded {
                Some(e) => e,
                None => {
                    let e = walk.expand
                        && match &self.rules.expand_when {
                            Some(w) => self.test(walk, ctx, w)?,
                            None => true,
                        };
                    ctx.expanded = Some(e);
                    e
                }
            },
            Cond::Stable => self.stable,
            Cond::Not(c) => !self.test(walk, ctx, c)?,
            Cond::And(cs) => {
                for c in cs.iter() {
                    if !self.test(walk, ctx, c)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Or(cs) => {
                for c in cs.iter() {
                    if self.test(walk, ctx, c)? {
                        return Ok(true);
                    }
                }
                false
            }
            Cond::Eq(a, b) | Cond::Ne(a, b) => {
                let same = match (self.eval(walk, ctx, a)?, self.eval(walk, ctx, b)?) {
                    (Val::Int(x), Val::Int(y)) => x == y,
                    (Val::Str(x), Val::Str(y)) => x == y,
                    _ => false,
                };
                same == matches!(c, Cond::Eq(..))
            }
            // A file path (`decl_file ~ "*.c"`) is matched in the cache.
            Cond::Match(Expr::Field(Field::Attr(at, AttrClass::File)), g)
            | Cond::NoMatch(Expr::Field(Field::Attr(at, AttrClass::File)), g) => {
                let m = match Dwarf::constant(&ctx.entry, *at) {
                    Some(index) => g.is_match(self.file_path_ref(ctx.ui, index)?),
                    None => false,
                };
                m == matches!(c, Cond::Match(..))
            }
            Cond::Match(a, g) | Cond::NoMatch(a, g) => {
                let m = match self.eval(walk, ctx, a)? {
                    Val::Str(s) => g.is_match(&s),
                    Val::Int(n) => g.is_match(&n.to_string()),
                    _ => false,
                };
                m == matches!(c, Cond::Match(..))
            }
        })
    }
}

/// The tags of the DIEs whose `fqn` the rules can read: those whose rule
/// reads it (in a piece or a condition), the expanded tags when the
/// `expand` condition reads it, the tags a child arm whose condition reads
/// it fits; `None` (any tag) when an arm fits any tag, or a `X.fqn` reads
/// another DIE's.
pub fn fqn_readers(rules: &Rules) -> Option<Vec<DwTag>> {
    let mut tags = Vec::new();
    let mut any = false;
    let mut scan = |tag: Option<DwTag>, ops: &[Op], tags: &mut Vec<DwTag>| {
        let mut found = Found::default();
        ops_read_fqn(ops, &mut found);
        if found.own {
            tags.extend(tag);
        }
        for arm in found.arms {
            match arm {
                Some(t) => tags.extend(t),
                None => any = true,
            }
        }
        any |= found.via;
    };
    for (tag, t) in &rules.types {
        scan(Some(*tag), &t.ops, &mut tags);
    }
    scan(
        Some(gimli::DW_TAG_subprogram),
        &rules.subprogram.ops,
        &mut tags,
    );
    scan(Some(gimli::DW_TAG_variable), &rules.variable.ops, &mut tags);
    if let Some(c) = &rules.expand_when {
        let mut found = Found::default();
        cond_reads_fqn(c, &mut found);
        if found.own {
            tags.extend(rules.expand_tags.iter().copied());
        }
        any |= found.via;
    }
    if any {
        return None;
    }
    tags.sort_by_key(|t| t.0);
    tags.dedup();
    Some(tags)
}

/// A set of tags, tested once per DIE by the scan: the standard ones in
/// a bitmap.
pub struct TagSet {
    bits: [u64; 4],
    others: Vec<DwTag>,
}

impl TagSet {
    pub fn new(tags: &[DwTag]) -> Self {
        let mut set = TagSet {
            bits: [0; 4],
            others: Vec::new(),
        };
        for t in tags {
            match t.0 {
                n @ 0..=255 => set.bits[usize::from(n >> 6)] |= 1 << (n & 63),
                _ => set.others.push(*t),
            }
        }
        set
    }

    #[inline]
    pub fn contains(&self, tag: DwTag) -> bool {
        match tag.0 {
            n @ 0..=255 => self.bits[usize::from(n >> 6)] & (1 << (n & 63)) != 0,
            _ => self.others.contains(&tag),
        }
    }
}

/// What reads `fqn` in some pieces.
#[derive(Default)]
struct Found {
    /// The DIE's own.
    own: bool,
    /// Another DIE's, through a reference (`type.fqn`).
    via: bool,
    /// A child's, in an arm's condition: the arm's tags (`None`: any).
    arms: Vec<Option<Vec<DwTag>>>,
}

fn ops_read_fqn(ops: &[Op], found: &mut Found) {
    for op in ops {
        match op {
            Op::Field(f, _) => field_reads_fqn(f, found),
            Op::Value(e, _) | Op::SetVar(_, e) | Op::LetVar(_, e) => expr_reads_fqn(e, found),
            Op::If(arms, otherwise) => {
                for (c, body) in arms.iter() {
                    cond_reads_fqn(c, found);
                    ops_read_fqn(body, found);
                }
                ops_read_fqn(otherwise, found);
            }
            Op::Separator(body) => ops_read_fqn(body, found),
            Op::Children(arms) => {
                for arm in arms.iter() {
                    if let Some(c) = &arm.when {
                        let mut child = Found::default();
                        cond_reads_fqn(c, &mut child);
                        if child.own {
                            found.arms.push(arm.tags.as_deref().map(<[_]>::to_vec));
                        }
                        found.via |= child.via;
                        found.arms.extend(child.arms);
                    }
                }
            }
            Op::Text(..) | Op::Break(_) | Op::ClearVar(_) => {}
        }
    }
}

fn field_reads_fqn(f: &Field, found: &mut Found) {
    match f {
        Field::Fqn => found.own = true,
        Field::Via(_, inner) => {
            let mut other = Found::default();
            field_reads_fqn(inner, &mut other);
            found.via |= other.own || other.via;
        }
        _ => {}
    }
}

fn expr_reads_fqn(e: &Expr, found: &mut Found) {
    match e {
        Expr::Field(f) => field_reads_fqn(f, found),
        Expr::Func(_, args) => args.iter().for_each(|a| expr_reads_fqn(a, found)),
        Expr::Add(a, b) | Expr::Sub(a, b) => {
            expr_reads_fqn(a, found);
            expr_reads_fqn(b, found);
        }
        Expr::Int(_) | Expr::Str(_) | Expr::Var(_) => {}
    }
}

fn cond_reads_fqn(c: &Cond, found: &mut Found) {
    match c {
        Cond::Has(e) => expr_reads_fqn(e, found),
        Cond::Eq(a, b) | Cond::Ne(a, b) => {
            expr_reads_fqn(a, found);
            expr_reads_fqn(b, found);
        }
        Cond::Match(e, _) | Cond::NoMatch(e, _) => expr_reads_fqn(e, found),
        Cond::Not(c) => cond_reads_fqn(c, found),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| cond_reads_fqn(c, found)),
        Cond::Expanded | Cond::Stable => {}
    }
}

/// Whether replays can change the output (without a dump).
///
/// A replay builds nothing but unexpanded strings of expand-once types, and
/// otherwise only marks types as expanded for the symbol; a mark decides
/// whether a later visit wants the complete or the unexpanded string, and
/// the complete one exists in both cases (a mark means it was reached
/// before). So with or without replays the same complete strings are built,
/// in the same order, with the same content; only unexpanded strings
/// differ, and those never reach the output when the complete string of the
/// same DIE exists. That holds as long as building an unexpanded string
/// describes no other DIE and sets no variable, which is checked here on
/// the rules (with `--stable` known; other conditions may go either way).
pub fn replays_matter(rules: &Rules, stable: bool) -> bool {
    rules
        .expand_tags
        .iter()
        .filter_map(|t| rules.types.get(t))
        .any(|t| !unexpanded_is_pure(&t.ops, stable))
}

/// A condition's value when `expanded` is false and `stable` is known.
fn static_value(c: &Cond, stable: bool) -> Option<bool> {
    match c {
        Cond::Expanded => Some(false),
        Cond::Stable => Some(stable),
        Cond::Not(c) => static_value(c, stable).map(|v| !v),
        Cond::And(cs) | Cond::Or(cs) => {
            // The value that decides the whole: false for `and`, true for `or`.
            let decisive = matches!(c, Cond::Or(_));
            let vals: Vec<_> = cs.iter().map(|c| static_value(c, stable)).collect();
            if vals.contains(&Some(decisive)) {
                Some(decisive)
            } else if vals.iter().all(|v| *v == Some(!decisive)) {
                Some(!decisive)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn expr_describes(e: &Expr) -> bool {
    match e {
        Expr::Field(f) => f.is_reference(),
        Expr::Add(a, b) | Expr::Sub(a, b) => expr_describes(a) || expr_describes(b),
        Expr::Func(_, args) => args.iter().any(expr_describes),
        Expr::Int(_) | Expr::Str(_) | Expr::Var(_) => false,
    }
}

/// Whether these pieces, run for an unexpanded DIE, describe no DIE and
/// set no variable.
fn unexpanded_is_pure(ops: &[Op], stable: bool) -> bool {
    ops.iter().all(|op| match op {
        Op::Text(..) | Op::Break(_) => true,
        Op::Field(f, _) => !f.is_reference(),
        Op::Value(e, _) => !expr_describes(e),
        Op::Separator(body) => unexpanded_is_pure(body, stable),
        Op::Children(arms) => arms.iter().all(|a| !matches!(a.action, Action::Describe)),
        Op::SetVar(..) | Op::LetVar(..) | Op::ClearVar(_) => false,
        Op::If(arms, otherwise) => {
            for (cond, body) in arms.iter() {
                match static_value(cond, stable) {
                    Some(false) => continue,
                    Some(true) => return unexpanded_is_pure(body, stable),
                    None => {
                        if !unexpanded_is_pure(body, stable) {
                            return false;
                        }
                    }
                }
            }
            unexpanded_is_pure(otherwise, stable)
        }
    })
}

/// The qualified-name prefixes of one unit.
#[derive(Debug, Default)]
pub struct UnitNames {
    /// Namespaces, classes and structures that pass a prefix on: a named
    /// one at the top passes its name, one inside a scope `scope::name`
    /// (`scope::<anonymous>` when unnamed). Their names are read when a
    /// prefix is needed (rarely, in C: structures pass theirs to members,
    /// whose names the rules seldom qualify).
    scopes: Vec<Scope>,
    /// Their direct children that have names: (offset in the unit,
    /// scope), by offset. (Millions in a vmlinux: 8 bytes each.) With
    /// them, the subprogram bodies the scan jumped over (see `scan_body`),
    /// whose DIEs are in neither list: (first child, `BODY_START`) and
    /// (last byte, `BODY_END`). (No DIE is at a body's last byte, which
    /// ends its list of children, and a unit of at most 4 GiB has fewer
    /// scopes than these numbers.)
    scoped: Vec<(u32, u32)>,
}

const BODY_START: u32 = u32::MAX;
const BODY_END: u32 = u32::MAX - 1;

/// Where a DIE's name stands in its unit's names.
enum Place {
    /// It is a direct child of this scope, which passes it a prefix.
    Scoped(u32),
    /// It is in a body the scan jumped over.
    Body(Body),
    /// Neither: its name is its fqn.
    Plain,
}

impl UnitNames {
    fn place(&self, offset: u32) -> Place {
        // The body's first mark, when the DIE is in one.
        let start = match self.scoped.binary_search_by_key(&offset, |&(d, _)| d) {
            Ok(i) => match self.scoped[i].1 {
                BODY_START => i,
                BODY_END => match i.checked_sub(1) {
                    Some(i) => i,
                    None => return Place::Plain,
                },
                scope => return Place::Scoped(scope),
            },
            Err(i) if i > 0 && self.scoped[i - 1].1 == BODY_START => i - 1,
            Err(_) => return Place::Plain,
        };
        match (self.scoped.get(start), self.scoped.get(start + 1)) {
            (Some(&(first, BODY_START)), Some(&(last, BODY_END))) => Place::Body(Body {
                start: first,
                end: last + 1,
            }),
            _ => Place::Plain,
        }
    }

    fn push_body(&mut self, body: Body) {
        self.scoped.push((body.start, BODY_START));
        self.scoped.push((body.end - 1, BODY_END));
    }
}

/// A subprogram body: the offsets in its unit of its first child and of
/// the subprogram's sibling.
#[derive(Debug, Clone, Copy)]
struct Body {
    start: u32,
    end: u32,
}

/// A scope DIE: its offset in its unit, and the scope it is in.
#[derive(Debug, Clone, Copy)]
struct Scope {
    offset: u32,
    parent: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abbrev::Abbreviations;
    use crate::dwarf::DieCursor;
    use crate::test_objects::golden_objects;

    /// The scopes a name is qualified by, innermost first, by offset.
    fn qualifiers(names: &UnitNames, mut s: u32) -> Vec<u32> {
        let mut chain = Vec::new();
        loop {
            let sc = names.scopes[s as usize];
            chain.push(sc.offset);
            match sc.parent {
                Some(p) => s = p,
                None => return chain,
            }
        }
    }

    /// Every object of the golden cases at hand (with its symbols).
    type Attrs<'a> = Vec<gimli::Attribute<crate::dwarf::Reader<'a>>>;

    /// What a cursor over a unit's DIEs reads, DIE by DIE: offset, depth,
    /// abbreviation code (`None`: a null entry) and, when reading, the
    /// attributes of `CANDIDATE_ATTRS` the DIE has; up to the first error.
    type Trace<'a> = Vec<Result<(usize, isize, Option<u64>, Attrs<'a>), String>>;

    /// What the traces do with gimli's cursor and with the scan's.
    trait Cursor<'a> {
        fn at(&self) -> Option<(usize, isize)>;
        /// Reads the next DIE's abbreviation (its code; `None` for a null
        /// entry), and skips its attributes or reads them (at least those
        /// of `CANDIDATE_ATTRS`) into `attrs`.
        fn step(&mut self, read: bool, attrs: &mut Attrs<'a>) -> gimli::Result<Option<u64>>;
    }

    impl<'a> Cursor<'a> for gimli::EntriesRaw<'_, crate::dwarf::Reader<'a>> {
        fn at(&self) -> Option<(usize, isize)> {
            (!self.is_empty()).then(|| (self.next_offset().0, self.next_depth()))
        }
        fn step(&mut self, read: bool, attrs: &mut Attrs<'a>) -> gimli::Result<Option<u64>> {
            let Some(a) = self.read_abbreviation()? else {
                return Ok(None);
            };
            match read {
                true => self.read_attributes(a.attributes(), attrs)?,
                false => self.skip_attributes(a.attributes())?,
            }
            Ok(Some(a.code()))
        }
    }

    impl<'a> Cursor<'a> for DieCursor<'_, 'a> {
        fn at(&self) -> Option<(usize, isize)> {
            (!self.is_empty()).then(|| (self.next_offset().0, self.next_depth()))
        }
        fn step(&mut self, read: bool, attrs: &mut Attrs<'a>) -> gimli::Result<Option<u64>> {
            let Some(a) = self.read_abbreviation()? else {
                return Ok(None);
            };
            match read {
                true => self.read_attributes_in(a, &CANDIDATE_ATTRS, attrs)?,
                false => self.skip_attributes(a)?,
            }
            Ok(Some(a.code()))
        }
    }

    /// The trace of a cursor (or of the error that made it), skipping
    /// every DIE's attributes or reading them.
    fn trace<'a>(cursor: gimli::Result<impl Cursor<'a>>, read: bool) -> Trace<'a> {
        let mut cursor = match cursor {
            Ok(c) => c,
            Err(e) => return vec![Err(e.to_string())],
        };
        let mut out = Vec::new();
        let mut attrs = Vec::new();
        while let Some((offset, depth)) = cursor.at() {
            attrs.clear();
            match cursor.step(read, &mut attrs) {
                Ok(code) => {
                    attrs.retain(|a| CANDIDATE_ATTRS.contains(a.name()));
                    out.push(Ok((offset, depth, code, attrs.clone())));
                }
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        out
    }

    /// gimli's cursor, over a unit gimli read (with its abbreviations).
    fn gimli_trace<'a>(
        unit: &gimli::Unit<crate::dwarf::Reader<'a>>,
        start: Option<usize>,
        read: bool,
    ) -> Trace<'a> {
        trace(unit.entries_raw(start.map(gimli::UnitOffset)), read)
    }

    /// Ours, over a unit `read_unit` read.
    fn cursor_trace<'a>(
        (unit, abbrevs): &(gimli::Unit<crate::dwarf::Reader<'a>>, Abbreviations),
        start: Option<usize>,
        read: bool,
    ) -> Trace<'a> {
        trace(
            DieCursor::new(unit, abbrevs, start.map(gimli::UnitOffset)),
            read,
        )
    }

    /// What `read_unit` and gimli's `Unit::new` read from a unit's first
    /// DIE, or the error they fail with.
    fn unit_fields(
        unit: &gimli::Result<&gimli::Unit<crate::dwarf::Reader<'_>>>,
    ) -> Result<String, String> {
        match unit {
            Ok(u) => Ok(format!(
                "{:?} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?}",
                u.name,
                u.comp_dir,
                u.low_pc,
                u.str_offsets_base,
                u.addr_base,
                u.loclists_base,
                u.rnglists_base,
                u.dwo_id,
                u.line_program.as_ref().map(|p| p.header().offset()),
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Our reading of units and DIEs (`read_unit`, with its own
    /// abbreviations, and the scan's cursor, which skips most DIEs'
    /// attributes by a size worked out per abbreviation) reads what gimli
    /// reads: over every unit of the golden objects, from its start and
    /// from DIEs within it (as after a jump), and over the unit cut short
    /// at many points, where both must fail alike; and reading only a
    /// candidate's attributes (the others skipped where their size is
    /// fixed) gives those gimli reads, and fails where gimli's reading of
    /// them all does.
    #[test]
    fn die_cursor_reads_as_gimli_does() {
        let (mut units, mut cuts, mut failed, mut no_unit) = (0, 0, 0, 0);
        for path in golden_objects() {
            let Ok(obj) = crate::elf::ObjectFile::open(&path) else {
                continue;
            };
            let Ok(dwarf) = Dwarf::load(&obj, false) else {
                continue;
            };
            for u in &dwarf.units {
                units += 1;
                let h = u.unit.header;
                let theirs = gimli::Unit::new(&dwarf.dwarf, h).unwrap();
                let ours = crate::dwarf::read_unit(&dwarf.dwarf, h).unwrap();
                assert_eq!(unit_fields(&Ok(&ours.0)), unit_fields(&Ok(&theirs)));
                let whole = gimli_trace(&theirs, None, false);
                assert_eq!(
                    cursor_trace(&ours, None, false),
                    whole,
                    "{}",
                    path.display()
                );
                let read = gimli_trace(&theirs, None, true);
                assert_eq!(cursor_trace(&ours, None, true), read, "{}", path.display());
                // From some DIEs within the unit, and from offsets that are
                // not a DIE's (or beyond the unit).
                for (i, die) in whole.iter().enumerate().step_by(97) {
                    let offset = die.as_ref().unwrap().0;
                    for start in [offset, offset + 1, h.unit_length() + 64] {
                        let want = gimli_trace(&theirs, Some(start), false);
                        assert_eq!(cursor_trace(&ours, Some(start), false), want, "DIE {i}");
                    }
                }
                // Cut short: the same header with fewer bytes of DIEs.
                let entries = h.range_from(h.root_offset()..).unwrap();
                let step = (entries.len() / 150).max(1);
                for keep in (0..entries.len()).step_by(step) {
                    let mut buf = entries;
                    gimli::Reader::truncate(&mut buf, keep).unwrap();
                    let cut = gimli::UnitHeader::new(
                        h.encoding(),
                        h.unit_length() - (entries.len() - keep),
                        h.type_(),
                        h.debug_abbrev_offset(),
                        h.section(),
                        h.offset(),
                        buf,
                    );
                    let theirs = gimli::Unit::new(&dwarf.dwarf, cut);
                    let ours = crate::dwarf::read_unit(&dwarf.dwarf, cut);
                    assert_eq!(
                        unit_fields(&ours.as_ref().map(|o| &o.0).map_err(|e| *e)),
                        unit_fields(&theirs.as_ref().map_err(|e| *e)),
                        "{} cut to {keep}",
                        path.display()
                    );
                    // (A unit cut inside its first DIE is not a unit.)
                    let (Ok(theirs), Ok(ours)) = (theirs, ours) else {
                        no_unit += 1;
                        continue;
                    };
                    cuts += 1;
                    for read in [false, true] {
                        let want = gimli_trace(&theirs, None, read);
                        failed += usize::from(want.last().is_some_and(|r| r.is_err()));
                        let got = cursor_trace(&ours, None, read);
                        assert_eq!(got, want, "{} cut to {keep}", path.display());
                    }
                }
            }
        }
        assert!(
            units > 50 && cuts > 1000 && failed > 200 && no_unit > 50,
            "{units} units, {cuts} cuts, {failed} failed, {no_unit} not units"
        );
    }

    #[test]
    fn jumping_over_bodies_keeps_every_name_and_candidate() {
        let rules = ksymrules_grammar::default_rules();
        let default_tags = fqn_readers(&rules).map(|t| TagSet::new(&t));
        let prefix = &*rules.settings.symbol_pointer_prefix;
        let (mut objects, mut bodies, mut in_bodies) = (0, 0, 0);
        for path in golden_objects() {
            // (Some error cases are not objects at all.)
            let Ok(obj) = crate::elf::ObjectFile::open(&path) else {
                continue;
            };
            let Ok(dwarf) = Dwarf::load(&obj, false) else {
                continue;
            };
            let text = std::fs::read_to_string(path.with_file_name("symbols")).unwrap();
            let syms = Symbols::parse(&text);
            objects += 1;
            for tags in [default_tags.as_ref(), None] {
                for ui in 0..dwarf.units.len() {
                    let full = scan_unit_jumping(&dwarf, ui, &syms, prefix, tags, false);
                    let jumped = scan_unit_jumping(&dwarf, ui, &syms, prefix, tags, true);
                    let (Ok(full), Ok(jumped)) = (full, jumped) else {
                        panic!("{}: a scan failed", path.display());
                    };
                    let dies = |c: &[Candidate]| c.iter().map(|c| c.die).collect::<Vec<_>>();
                    assert_eq!(dies(&full.candidates), dies(&jumped.candidates));
                    assert_eq!(full.error, jumped.error);
                    let mut scanned: HashMap<u32, UnitNames> = HashMap::default();
                    let u = &dwarf.units[ui];
                    let mut raw = u.cursor(None).unwrap();
                    while !raw.is_empty() {
                        let offset = raw.next_offset().0 as u32;
                        let Some(abbrev) = raw.read_abbreviation().unwrap() else {
                            continue;
                        };
                        raw.skip_attributes(abbrev).unwrap();
                        let want = match full.names.place(offset) {
                            Place::Scoped(s) => Some(qualifiers(&full.names, s)),
                            Place::Plain => None,
                            Place::Body(_) => panic!("a body without jumping"),
                        };
                        let got = match jumped.names.place(offset) {
                            Place::Scoped(s) => Some(qualifiers(&jumped.names, s)),
                            Place::Plain => None,
                            Place::Body(b) => {
                                in_bodies += 1;
                                let names = scanned.entry(b.start).or_insert_with(|| {
                                    bodies += 1;
                                    scan_body(&dwarf, ui, b, tags).unwrap()
                                });
                                match names.place(offset) {
                                    Place::Scoped(s) => Some(qualifiers(names, s)),
                                    _ => None,
                                }
                            }
                        };
                        assert_eq!(want, got, "{}: DIE {offset:#x}", path.display());
                    }
                }
            }
        }
        eprintln!("{objects} objects, {bodies} bodies, {in_bodies} DIEs in them");
        assert!(objects > 0 && bodies > 0);
    }

    #[test]
    fn only_dies_whose_fqn_the_rules_read_get_scoped_names() {
        let rules = ksymrules_grammar::default_rules();
        let tags = fqn_readers(&rules).expect("the default reads no other DIE's fqn");
        for t in [
            gimli::DW_TAG_structure_type,
            gimli::DW_TAG_union_type,
            gimli::DW_TAG_enumeration_type,
            gimli::DW_TAG_typedef,
            gimli::DW_TAG_enumerator,
            gimli::DW_TAG_base_type,
        ] {
            assert!(tags.contains(&t), "{t}");
        }
        for t in [gimli::DW_TAG_member, gimli::DW_TAG_formal_parameter] {
            assert!(!tags.contains(&t), "{t}");
        }
        let set = TagSet::new(&tags);
        assert!(set.contains(gimli::DW_TAG_structure_type));
        assert!(!set.contains(gimli::DW_TAG_member));
        // A child arm that tests its child's fqn adds the arm's tags; one
        // for any tag, or a reference's fqn, makes every tag count.
        let with = |extra: &str| {
            let text = format!("ksymrules 1\ninclude \"default\"\n{extra}\n");
            fqn_readers(&ksymrules_grammar::load_str("t.rules", &text).unwrap())
        };
        let arm =
            with("type variant { each child { member if fqn ~ \"x*\" => skip * => describe } }");
        assert!(arm.unwrap().contains(&gimli::DW_TAG_member));
        assert_eq!(
            with("type variant { each child { * if has(fqn) => skip } }"),
            None
        );
        assert_eq!(with("type member { \"m\" type.fqn }"), None);
    }

    #[test]
    fn replays_matter_only_where_unexpanded_strings_can_describe_dies() {
        let rules = ksymrules_grammar::default_rules();
        // Plain default rules: an unexpanded aggregate prints only its name.
        assert!(!replays_matter(&rules, false));
        // --stable: a kABI placeholder union describes its placeholder and
        // sets $renamed even when not expanded.
        assert!(replays_matter(&rules, true));
        // A rule that describes the members of an unexpanded structure.
        let eager = ksymrules_grammar::load_str(
            "eager.rules",
            "ksymrules 1\ninclude \"default\"\n\
             type structure_type { \"structure_type\" children(member) }\n",
        )
        .unwrap();
        assert!(replays_matter(&eager, false));
        // Describing only when expanded is fine.
        let lazy = ksymrules_grammar::load_str(
            "lazy.rules",
            "ksymrules 1\ninclude \"default\"\n\
             type structure_type { \"s\" if expanded { children(member) } }\n",
        )
        .unwrap();
        assert!(!replays_matter(&lazy, false));
    }
}
