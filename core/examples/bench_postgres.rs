//! Raises per second with 1, 2, 4 and 8 worker processes sharing a PostgreSQL store,
//! and with one process on SQLite, each against the mock Stripe over loopback HTTP, in
//! one run. A benchmark, not a test: run it with `bash tests/postgres/bench.sh` (which
//! starts a throwaway cluster and builds in release mode).
//!
//! Each run gets the mock's state of its own (a distinct test key) and a schema of its
//! own. Every worker process (`billbridge-postgres-worker bench`) first upserts its own
//! patients, then waits; the driver starts them all at once and counts raises
//! (create, add lines, finalize, send: four Stripe requests and the store's writes each)
//! from that moment to the last worker's end.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use billbridge_mock::MockStripe;

const RAISES_PER_WORKER: usize = 100;

fn worker_program() -> PathBuf {
    // Examples build into target/<profile>/examples/, binaries into target/<profile>/.
    let mut path = std::env::current_exe().unwrap_or_default();
    path.pop();
    path.pop();
    path.push("billbridge-postgres-worker");
    path
}

/// Runs `workers` processes with `store` arguments; returns raises per second.
fn run(stripe: &str, api_key: &str, store: &[String], workers: usize) -> Result<f64, String> {
    let mut children = Vec::new();
    for worker in 0..workers {
        let child = Command::new(worker_program())
            .args(["--stripe", stripe, "--api-key", api_key])
            .args(store)
            .args(["--worker", &worker.to_string()])
            .args([
                "bench",
                "--patients",
                &RAISES_PER_WORKER.to_string(),
                "--lines",
                "2",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("start {}: {error}", worker_program().display()))?;
        children.push(child);
    }
    let mut readers = Vec::new();
    for child in &mut children {
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err(String::from("a worker ended before it was ready"));
            }
            if line.trim() == "armed" {
                break;
            }
        }
        readers.push(reader);
    }
    let go = Instant::now();
    for child in &mut children {
        let stdin = child.stdin.as_mut().ok_or("no stdin")?;
        stdin.write_all(b"go\n").map_err(|e| e.to_string())?;
        stdin.flush().map_err(|e| e.to_string())?;
    }
    let mut raised = 0;
    for (child, reader) in children.iter_mut().zip(readers) {
        for line in reader.lines() {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(rest) = line.strip_prefix("bench ") {
                raised += rest
                    .split(' ')
                    .next()
                    .and_then(|count| count.parse::<usize>().ok())
                    .unwrap_or(0);
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("a worker failed: {status}"));
        }
    }
    let elapsed = go.elapsed().as_secs_f64();
    if raised != workers * RAISES_PER_WORKER {
        return Err(format!(
            "{raised} raises, expected {}",
            workers * RAISES_PER_WORKER
        ));
    }
    Ok(raised as f64 / elapsed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Ok(database) = std::env::var("BILLBRIDGE_TEST_POSTGRES_URL") else {
        eprintln!("set BILLBRIDGE_TEST_POSTGRES_URL, or run tests/postgres/bench.sh");
        std::process::exit(2);
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default();
    let mock = MockStripe::builder().start_time(now).build();
    let server = match mock.serve("127.0.0.1:0").await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("serve the mock: {error}");
            std::process::exit(1);
        }
    };
    let stripe = server.url();
    let tag = std::process::id();
    let mut rows = Vec::new();
    for workers in [1_usize, 2, 4, 8] {
        let store = [
            "--store".to_owned(),
            "postgres".to_owned(),
            "--database".to_owned(),
            database.clone(),
            "--schema".to_owned(),
            format!("bench_{tag}_{workers}"),
        ];
        let key = format!("sk_test_bench_postgres_{workers}");
        let stripe = stripe.clone();
        let result = tokio::task::spawn_blocking(move || run(&stripe, &key, &store, workers))
            .await
            .unwrap_or_else(|error| Err(error.to_string()));
        rows.push((format!("PostgreSQL, {workers} worker process(es)"), result));
    }
    let file = std::env::temp_dir().join(format!("billbridge-bench-{tag}.db"));
    let store = [
        "--store".to_owned(),
        "sqlite".to_owned(),
        "--database".to_owned(),
        file.display().to_string(),
    ];
    let sqlite_stripe = stripe.clone();
    let result =
        tokio::task::spawn_blocking(move || run(&sqlite_stripe, "sk_test_bench_sqlite", &store, 1))
            .await
            .unwrap_or_else(|error| Err(error.to_string()));
    rows.push((String::from("SQLite, 1 process"), result));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    server.shutdown();

    println!("| store | raises/s ({RAISES_PER_WORKER} per worker, 2 lines, finalize and send) |");
    println!("|---|---|");
    let mut failed = false;
    for (name, result) in rows {
        match result {
            Ok(rate) => println!("| {name} | {rate:.0} |"),
            Err(error) => {
                failed = true;
                println!("| {name} | failed: {error} |");
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
