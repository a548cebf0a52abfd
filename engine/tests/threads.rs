//! The type map and the versions are computed on all cores, then kept in
//! the sequential order: CRCs, symtypes and version strings must not depend
//! on the number of threads, whatever symbols are asked for.

use ksymrules_engine::{run, Options, Symbols};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn case(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/golden")
        .join(rel)
}

/// (CRCs in input order, symtypes, version dump) with `threads` threads.
fn outputs(obj: &Path, list: &str, threads: usize, stable: bool) -> (Vec<u32>, String, Vec<u8>) {
    let rules = ksymrules_grammar::default_rules();
    let opts = Options {
        stable,
        symtypes: true,
        dump_versions: true,
        ..Options::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut syms = Symbols::parse(list);
        let mut diag = Vec::new();
        let outcome = run(&rules, &opts, &mut syms, &[obj], &mut diag).unwrap();
        (
            syms.list.iter().map(|s| s.crc).collect(),
            outcome.symtypes.concat(),
            diag,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn results_do_not_depend_on_the_number_of_threads(
        pick in prop::sample::select(vec!["kmod/kbuild-6.1.0-56-cloud-amd64", "basic/gcc-dwarf5", "kabi/aarch64", "rust/rustc-opt", "reentry-more/gcc-dwarf4", "multicu/gcc-dwarf5", "multicu/armhf"]),
        order in prop::collection::vec(any::<prop::sample::Index>(), 1..40),
        stable in any::<bool>(),
        threads in 2usize..5,
    ) {
        let dir = case(pick);
        let all: Vec<String> = std::fs::read_to_string(dir.join("symbols")).unwrap().lines().map(String::from).collect();
        // A random selection (with repeats, in random order) of the exports.
        let list: String = order.iter().map(|i| format!("{}\n", all[i.index(all.len())])).collect();
        let obj = dir.join("input.o");
        let one = outputs(&obj, &list, 1, stable);
        let many = outputs(&obj, &list, threads, stable);
        prop_assert_eq!(&one.0, &many.0);
        prop_assert_eq!(&one.1, &many.1);
        prop_assert_eq!(&one.2, &many.2);
        prop_assert!(one.0.iter().any(|&c| c != 0));
    }
}
