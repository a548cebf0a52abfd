//! Arbitrary bytes as an object file, through the whole pipeline.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ksymrules_engine::fuzzing::object(data);
});
