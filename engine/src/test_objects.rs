//! The golden objects the engine's tests read (each an `input.o` with a
//! `symbols` list beside it): the corpus, and what `../shared` has of the
//! golden modules, kbuild objects and Rust objects.

pub fn golden_objects() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for dir in [
        "corpus/golden",
        "../shared/golden-ko",
        "../shared/golden-kbuild",
        "../shared/golden-rust",
    ] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.file_name().is_some_and(|n| n == "input.o")
                    && p.with_file_name("symbols").exists()
                {
                    found.push(p);
                }
            }
        }
    }
    found.sort();
    found
}
