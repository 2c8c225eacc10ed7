//! The PostgreSQL server the tests use: the one named by `BILLBRIDGE_TEST_POSTGRES_URL`
//! (set by `tests/postgres/cluster.sh run`, as `make test-postgres` does), or else a
//! throwaway cluster this test process starts with the same script and that stops by
//! itself when the process exits. No test is skipped for want of a server.
//!
//! Each store gets a schema of its own ([`TempSchema`]), dropped afterwards, so tests
//! running at once never see each other's rows.
#![allow(dead_code)]
// each test target uses a different part of this module
// Helpers outside #[test] functions are not covered by clippy's `allow-unwrap-in-tests`;
// a panic here is a failed test, as intended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use billbridge::store::PostgresStore;

/// The variable naming the test server.
pub const URL_VARIABLE: &str = "BILLBRIDGE_TEST_POSTGRES_URL";

/// The repository's cluster script.
pub fn cluster_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/postgres/cluster.sh")
}

/// The URL of the test server, starting a throwaway cluster on first use when none is
/// given.
pub fn database_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var(URL_VARIABLE)
            && !url.is_empty()
        {
            return url;
        }
        let output = std::process::Command::new("bash")
            .arg(cluster_script())
            .args(["start", "--owner-pid", &std::process::id().to_string()])
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run tests/postgres/cluster.sh");
        assert!(
            output.status.success(),
            "tests/postgres/cluster.sh could not start a PostgreSQL cluster"
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix("url="))
            .expect("cluster.sh prints url=…")
            .to_owned()
    })
    .clone()
}

/// A schema no other test uses, dropped with everything in it when this is dropped.
pub struct TempSchema {
    /// The schema's name.
    pub name: String,
}

impl TempSchema {
    /// A fresh schema name for `suite` (not created: the store creates it).
    pub fn new(suite: &str) -> TempSchema {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        TempSchema {
            name: format!(
                "t_{suite}_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    /// A store in this schema.
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::builder(database_url())
            .schema(self.name.clone())
            .connect()
            .await
            .unwrap()
    }

    /// Runs SQL in this schema, for tests that inspect or damage rows.
    pub async fn sql(&self, statements: &str) -> Vec<tokio_postgres::SimpleQueryMessage> {
        let client = connect_raw().await;
        client
            .batch_execute(&format!("SET search_path TO {}", self.name))
            .await
            .unwrap();
        client.simple_query(statements).await.unwrap()
    }
}

/// A plain connection to the test database, outside any store.
pub async fn connect_raw() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&database_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

impl Drop for TempSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a test's runtime: clean up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let client = connect_raw().await;
                let _ = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await;
            });
        })
        .join();
    }
}

/// A store in a fresh schema for the contract suite, whose makers are plain closures
/// called inside a multi-threaded test runtime.
pub fn contract_store() -> (PostgresStore, TempSchema) {
    let schema = TempSchema::new("contract");
    let store =
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(schema.store()));
    (store, schema)
}
