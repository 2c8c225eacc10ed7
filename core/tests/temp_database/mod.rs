//! A SQLite database file for tests that need a real file: under the test target's
//! scratch folder, unique per process and call, removed with its WAL files when dropped.
// Helpers outside #[test] functions are not covered by clippy's `allow-unwrap-in-tests`;
// a panic here is a failed test, as intended.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A database path that no other test uses, cleaned up on drop.
pub struct TempDatabase {
    /// The database file.
    pub path: PathBuf,
}

impl TempDatabase {
    /// A fresh path in the scratch folder `suite` (one folder per test target).
    pub fn new(suite: &str) -> TempDatabase {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(suite);
        std::fs::create_dir_all(&folder).unwrap();
        let name = format!(
            "{}-{}.db",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let database = TempDatabase {
            path: folder.join(name),
        };
        database.remove();
        database
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        self.remove();
    }
}
