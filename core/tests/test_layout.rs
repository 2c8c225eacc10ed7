//! Guards that no Rust test can silently stop running: cargo finds every integration
//! test by itself (each crate's `tests/*.rs`), so no manifest may turn that discovery
//! off or register tests by hand, and no Rust test file may sit where cargo never looks
//! (the repository's top-level `tests/` folder holds data and Python tests only).

use std::fs;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn rust_files_under(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files_under(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_rust_test_file_sits_where_cargo_does_not_look() {
    let mut stray = Vec::new();
    rust_files_under(&repository().join("tests"), &mut stray);
    assert!(
        stray.is_empty(),
        "Rust files under the top-level tests/ folder never run; move them into a crate's tests/: {stray:?}"
    );
}

#[test]
fn every_crate_lets_cargo_discover_its_tests() {
    let workspace = fs::read_to_string(repository().join("Cargo.toml")).unwrap_or_default();
    let members_line = workspace
        .lines()
        .find(|line| line.trim_start().starts_with("members"))
        .unwrap_or_default();
    let members: Vec<&str> = members_line.split('"').skip(1).step_by(2).collect();
    assert!(
        members.contains(&"core") && members.contains(&"mock"),
        "{members:?}"
    );
    for member in members {
        let manifest_path = repository().join(member).join("Cargo.toml");
        let manifest = fs::read_to_string(&manifest_path).unwrap_or_default();
        assert!(
            !manifest.is_empty(),
            "cannot read {}",
            manifest_path.display()
        );
        assert!(
            !manifest.contains("autotests = false"),
            "{member}/Cargo.toml turns test discovery off: a new test file would never run"
        );
        assert!(
            !manifest.contains("[[test]]"),
            "{member}/Cargo.toml registers tests by hand: put them in {member}/tests/ instead"
        );
    }
}
