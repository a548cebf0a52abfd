//! Arbitrary bytes as symtypes text (one file or a consolidated one),
//! read and compared as `ksymrules compare` does.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ksymrules_compare::fuzzing::symtypes(data);
});
