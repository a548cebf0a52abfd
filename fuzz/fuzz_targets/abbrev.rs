//! A unit's abbreviations, parsed by ksymrules and by gimli: they must
//! agree (the first byte picks the unit's encoding).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ksymrules_engine::fuzzing::abbrev(data);
});
