//! Prints one section of an object, read with the engine's own ELF code
//! (any architecture or byte order it reads, compressed sections
//! decompressed, no relocations applied): `fuzz/smoke.sh` takes the kABI
//! seeds from the golden objects with it.
//!
//!     cargo run --release -p ksymrules-engine --example section -- NAME FILE
//!
//! The section's bytes go to stdout; an object that cannot be read, or
//! has no such section, is an error (exit status 1).

use ksymrules_engine::elf::ObjectFile;
use std::io::Write;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, path] = &args[..] else {
        eprintln!("usage: section NAME FILE");
        std::process::exit(2);
    };
    let fail = |what: String| -> ! {
        eprintln!("section: {path}: {what}");
        std::process::exit(1);
    };
    let obj = ObjectFile::open(Path::new(path)).unwrap_or_else(|e| fail(e.to_string()));
    let data = match obj.section_data(name) {
        Ok(Some(data)) => data,
        Ok(None) => fail(format!("no section {name}")),
        Err(e) => fail(e.to_string()),
    };
    if let Err(e) = std::io::stdout().lock().write_all(data) {
        fail(format!("writing: {e}"));
    }
}
