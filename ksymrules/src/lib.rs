//! The `ksymrules` command line, as a library so that its documentation
//! (man page, shell completions) is generated from the same definition:
//! see `examples/docs.rs`.

pub mod cli;
pub mod default_rules;
pub mod docs;
