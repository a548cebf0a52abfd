//! The floor for a small object, as kbuild runs us: map the object, read
//! its symbol table and its DWARF unit headers, exit. No relocations, no
//! DIEs, no threads: what any tool that versions the object must at least
//! do, process start-up included.
//!
//!     cargo run --release -p ksymrules-engine --example small_floor -- FILE
//!
//! Prints the number of symbols and units.
//!
//! Its start-up is ksymrules' (see `ksymrules/src/main.rs`): on Unix, the C
//! entry point, without std's (which reads /proc/self/maps and sets up a
//! signal stack), so that the floor is the least a run could cost.
#![cfg_attr(unix, no_main)]

use object::{Object, ObjectSection, ObjectSymbol};
use std::io::Write;
use std::path::Path;

/// Stops as a tool would on bad input: a message and exit status 1 (no
/// panic, whose backtrace would cost more than the whole floor).
fn fail(what: &str) -> ! {
    eprintln!("error: {what}");
    std::process::exit(1)
}

#[cfg(unix)]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use std::os::unix::ffi::OsStrExt;
    if argc < 2 {
        fail("usage: small_floor FILE");
    }
    // SAFETY: the C runtime passes `argc` NUL-terminated strings.
    let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(1)) };
    floor(Path::new(std::ffi::OsStr::from_bytes(arg.to_bytes())));
    0
}

#[cfg(not(unix))]
fn main() {
    let path = std::env::args_os()
        .nth(1)
        .unwrap_or_else(|| fail("usage: small_floor FILE"));
    floor(Path::new(&path));
}

fn floor(path: &Path) {
    let file = std::fs::File::open(path).unwrap_or_else(|_| fail("cannot open the object"));
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
    let _ = std::io::stdout().flush();
}
