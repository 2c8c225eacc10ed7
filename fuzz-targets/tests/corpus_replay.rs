//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the same target
//! functions libFuzzer runs, in a plain `cargo test`: every seed and every input that
//! once found a bug is checked on every build, without a fuzzer or a nightly compiler.
//! Also keeps the target list, the libFuzzer wrappers and the corpus folders in step.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use billbridge_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
                .path()
        })
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_passes_its_target() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let files = files_in(&dir);
        assert!(!files.is_empty(), "{} has no seeds", dir.display());
        for file in files {
            let data =
                fs::read(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failures.push(format!("{name}: {}", file.display()));
            }
            replayed += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "failing corpus files:\n{}",
        failures.join("\n")
    );
    eprintln!(
        "replayed {replayed} corpus files through {} targets",
        TARGETS.len()
    );
}

#[test]
fn every_target_has_a_libfuzzer_wrapper_and_every_wrapper_a_target() {
    let wrappers: Vec<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|path| path.file_stem()?.to_str().map(str::to_owned))
        .collect();
    let mut names: Vec<String> = TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    names.sort();
    assert_eq!(wrappers, names);
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap_or_default();
    for name in &names {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml declares no [[bin]] {name}"
        );
        let wrapper =
            fs::read_to_string(fuzz_dir().join("fuzz_targets").join(format!("{name}.rs")))
                .unwrap_or_default();
        assert!(
            wrapper.contains(&format!("billbridge_fuzz_targets::{name}(")),
            "fuzz/fuzz_targets/{name}.rs does not call its target"
        );
    }
}
