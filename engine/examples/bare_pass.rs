//! The floor for ksymrules' speed: a bare gimli pass that visits every DIE
//! and attribute of an object and reads every name, with nothing else.
//!
//!     cargo run --release -p ksymrules-engine --example bare_pass -- FILE
//!
//! Prints the number of DIEs, attributes and name bytes read.
//!
//! The sections `Dwarf::load` reads (`dwarf::reads_section`) are read and
//! relocated by the engine's ELF code; the rest is gimli's alone, its
//! units (abbreviations, line tables) read on all cores as `Dwarf::load`
//! reads the engine's.

use gimli::{EndianSlice, RunTimeEndian};
use ksymrules_engine::dwarf::reads_section;
use ksymrules_engine::elf::ObjectFile;
use rayon::prelude::*;

fn main() {
    let path = std::env::args().nth(1).expect("usage: bare_pass FILE");
    let obj = ObjectFile::open(std::path::Path::new(&path)).expect("cannot read the object");
    let endian = if obj.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    };
    let dwarf = gimli::Dwarf::load(|id| -> Result<_, String> {
        let data = if reads_section(id) {
            obj.debug_section(id.name()).map_err(|e| e.to_string())?
        } else {
            None
        };
        Ok(EndianSlice::new(data.unwrap_or(&[]), endian))
    })
    .expect("cannot read the DWARF sections");
    let mut headers = Vec::new();
    let mut it = dwarf.units();
    while let Some(header) = it.next().expect("malformed unit header") {
        headers.push(header);
    }
    let units: Vec<_> = headers
        .par_iter()
        .map(|h| dwarf.unit(*h).expect("malformed unit"))
        .collect();
    let (mut dies, mut attrs, mut name_bytes) = (0u64, 0u64, 0u64);
    for unit in &units {
        let mut cursor = unit.entries();
        while let Some(entry) = cursor.next_dfs().expect("malformed DWARF") {
            dies += 1;
            for attr in entry.attrs() {
                attrs += 1;
                if attr.name() == gimli::DW_AT_name {
                    if let Ok(s) = dwarf.attr_string(unit, attr.value()) {
                        name_bytes += s.len() as u64;
                    }
                }
            }
        }
    }
    println!("{dies} DIEs, {attrs} attributes, {name_bytes} name bytes");
}
