//! ksymrules in a kernel build: our module `corpus/kbuild/module/` built by
//! kbuild against a prepared Linux tree (`tests/kbuild/build-tree.sh`,
//! `KSYMRULES_KTREE`), with and without `KBUILD_GENDWARFKSYMS_STABLE=1` and
//! `KBUILD_SYMTYPES=1`, once with the tree's own gendwarfksyms and once with
//! this ksymrules binary in its place; `tests/kbuild/run.sh` does the builds
//! and requires the same `Module.symvers`, `.symtypes`, `.mod.c` and
//! `#SYMVER` lines from both tools. See `tests/kbuild/README.md`.
//!
//! Without `KSYMRULES_KTREE` the test prints SKIPPING and passes, unless `CI`
//! is set: then it fails.

use std::path::Path;
use std::process::Command;

#[test]
fn kbuild_module_same_as_gendwarfksyms() {
    let Some(tree) = std::env::var_os("KSYMRULES_KTREE") else {
        let why = "no KSYMRULES_KTREE (run tests/kbuild/build-tree.sh)";
        assert!(
            std::env::var_os("CI").is_none(),
            "kbuild_module_same_as_gendwarfksyms: {why} (CI must provide it)"
        );
        eprintln!("!!! SKIPPING kbuild_module_same_as_gendwarfksyms: {why}");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/kbuild/run.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&tree)
        .arg(env!("CARGO_BIN_EXE_ksymrules"))
        .output()
        .expect("run tests/kbuild/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "tests/kbuild/run.sh failed ({}): {}",
        out.status,
        match out.status.code() {
            Some(1) => "ksymrules and gendwarfksyms made different outputs (the diff is above)",
            _ => "a build or a check failed (see above)",
        }
    );
    assert!(
        stdout.contains("all ways identical"),
        "run.sh succeeded without its verdict"
    );
}
