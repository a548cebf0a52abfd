//! Arbitrary bytes as a `.discard.gendwarfksyms.kabi_rules` section.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ksymrules_engine::fuzzing::kabi(data);
});
