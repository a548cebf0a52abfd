//! The floor for ksymrules' speed: a bare gimli pass that visits every DIE
//! and attribute of an object and reads every name, with nothing else.
//!
//!     cargo run --release -p ksymrules-engine --example bare_pass -- FILE
//!
//! Prints the number of DIEs, attributes and name bytes read.

use ksymrules_engine::dwarf::Dwarf;
use ksymrules_engine::elf::ObjectFile;

fn main() {
    let path = std::env::args().nth(1).expect("usage: bare_pass FILE");
    let obj = ObjectFile::open(std::path::Path::new(&path)).expect("cannot read the object");
    let dwarf = Dwarf::load(&obj, false).expect("no DWARF");
    let (mut dies, mut attrs, mut name_bytes) = (0u64, 0u64, 0u64);
    for u in &dwarf.units {
        let mut cursor = u.unit.entries();
        while let Some(entry) = cursor.next_dfs().expect("malformed DWARF") {
            dies += 1;
            for attr in entry.attrs() {
                attrs += 1;
                if attr.name() == gimli::DW_AT_name {
                    if let Ok(s) = dwarf.dwarf.attr_string(&u.unit, attr.value()) {
                        name_bytes += s.len() as u64;
                    }
                }
            }
        }
    }
    println!("{dies} DIEs, {attrs} attributes, {name_bytes} name bytes");
}
