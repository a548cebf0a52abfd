//! The floor for a small object, as kbuild runs us: map the object, read
//! its symbol table and its DWARF unit headers, exit. No relocations, no
//! DIEs, no threads: what any tool that versions the object must at least
//! do, process start-up included.
//!
//!     cargo run --release -p ksymrules-engine --example small_floor -- FILE
//!
//! Prints the number of symbols and units.

use object::{Object, ObjectSection, ObjectSymbol};

/// Stops as a tool would on bad input: a message and exit status 1 (no
/// panic, whose backtrace would cost more than the whole floor).
fn fail(what: &str) -> ! {
    eprintln!("error: {what}");
    std::process::exit(1)
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| fail("usage: small_floor FILE"));
    let file = std::fs::File::open(&path).unwrap_or_else(|_| fail("cannot open the object"));
    // SAFETY: the object is only read, and not expected to change under us.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap_or_else(|_| fail("cannot map it"));
    let obj = object::File::parse(&*map).unwrap_or_else(|_| fail("not an object file"));
    let symbols = obj
        .symbols()
        .filter(|s| !s.name_bytes().unwrap_or_default().is_empty());
    let symbols = symbols.count();
    let info = obj
        .section_by_name(".debug_info")
        .and_then(|s| s.uncompressed_data().ok())
        .unwrap_or_default();
    let endian = if obj.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let mut units = 0;
    let mut headers = gimli::DebugInfo::new(&info, endian).units();
    while let Ok(Some(_)) = headers.next() {
        units += 1;
    }
    println!("{symbols} symbols, {units} units");
}
