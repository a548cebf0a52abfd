//! Valid objects whose `.debug_info`, `.debug_abbrev`, `.debug_str`,
//! `.debug_line` or relocations are changed by the input.
#![no_main]
use ksymrules_engine::fuzzing::{dwarf, Base};

macro_rules! base {
    ($case:literal) => {
        Base {
            object: include_bytes!(concat!("../../corpus/golden/", $case, "/input.o")),
            symbols: include_str!(concat!("../../corpus/golden/", $case, "/symbols")),
        }
    };
}

const BASES: &[Base] = &[
    base!("basic/gcc-dwarf5"),
    base!("basic/clang-dwarf4"),
    base!("reentry-more/gcc-dwarf5"),
    base!("rust/rustc-debug"),
    base!("kabi/gcc-dwarf5"),
    base!("multicu/riscv64"),
    base!("multicu/armhf"),
    base!("symptr/gcc-dwarf5"),
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = dwarf(BASES, data);
});
