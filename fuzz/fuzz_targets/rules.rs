//! Arbitrary text as a rules file; rules that load run over a small object.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ksymrules_engine::fuzzing::rules(
        data,
        include_bytes!("../../corpus/golden/basic/gcc-dwarf5/input.o"),
        include_str!("../../corpus/golden/basic/gcc-dwarf5/symbols"),
    );
});
