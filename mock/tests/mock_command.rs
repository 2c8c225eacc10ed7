//! The `billbridge-mock` command as a host's test harness runs it: options, `--help`,
//! the readiness line, usage errors, webhook forwarding with the secret it prints or is
//! given, and a clean stop on SIGTERM and Ctrl-C (SIGINT).

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http_common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use billbridge::stripe::webhook::{VerifyOptions, WebhookSecret, construct_event_with};
use billbridge_mock::cli::{self, READY_PREFIX};
use http_common::{Receiver, exchange, get, post, with_key};
use tokio::net::TcpStream;

const BINARY: &str = env!("CARGO_BIN_EXE_billbridge-mock");

/// A guard against hanging, never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    url: String,
    addr: String,
}

impl Running {
    fn start(arguments: &[&str]) -> Running {
        let mut child = Command::new(BINARY)
            .args(arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = lines.recv_timeout(HANG_GUARD).expect("a readiness line");
        let url = ready
            .strip_prefix(READY_PREFIX)
            .unwrap_or_else(|| panic!("not a readiness line: {ready:?}"))
            .to_owned();
        let addr = url.strip_prefix("http://").unwrap().to_owned();
        Running {
            child,
            lines,
            url,
            addr,
        }
    }

    fn next_line(&self) -> String {
        self.lines.recv_timeout(HANG_GUARD).expect("another line")
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.addr).await.unwrap()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the command did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn help_documents_every_option_and_exits_0() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text, cli::help());
    for option in [
        "--host",
        "--port",
        "--key-policy",
        "--api-key",
        "--seed",
        "--start-time",
        "--latency",
        "--fault",
        "--rate-limit",
        "--webhook-secret",
        "--forward-to",
        "--webhook-duplicates",
        "--webhook-reorder",
    ] {
        assert!(text.contains(option), "{option}");
    }
    let version = Command::new(BINARY).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert!(
        String::from_utf8(version.stdout)
            .unwrap()
            .starts_with("billbridge-mock 0.")
    );
}

#[test]
fn usage_errors_exit_2_name_the_option_and_never_serve() {
    for (arguments, expected) in [
        (&["--port", "nope"][..], "--port"),
        (&["--colour"][..], "unknown option --colour"),
        (&["--forward-to", "https://example.com/hook"][..], "http://"),
        (&["--api-key", "sk_live_pasted"][..], "--api-key"),
    ] {
        let output = Command::new(BINARY).args(arguments).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{arguments:?}");
        let errors = String::from_utf8(output.stderr).unwrap();
        assert!(errors.contains(expected), "{arguments:?}: {errors}");
        assert!(!errors.contains("sk_live_pasted"), "{errors}");
        assert!(output.stdout.is_empty(), "{arguments:?}");
    }
}

#[test]
fn an_address_in_use_exits_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = Command::new(BINARY)
        .args(["--port", &port])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let errors = String::from_utf8(output.stderr).unwrap();
    assert!(errors.contains("cannot listen on 127.0.0.1:"), "{errors}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_with_the_key_seed_and_clock_given_and_stops_on_sigterm() {
    let arguments = [
        "--port",
        "0",
        "--seed",
        "5",
        "--start-time",
        "2030-06-01",
        "--key-policy",
        "own_key_only",
        "--api-key",
        "sk_test_cli_key",
    ];
    let mut running = Running::start(&arguments);
    assert!(
        running.url.starts_with("http://127.0.0.1:"),
        "{}",
        running.url
    );
    let mut stream = running.connect().await;
    let created = exchange(
        &mut stream,
        &with_key(&post("/v1/customers", "name=Ada", ""), "sk_test_cli_key"),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 200);
    assert_eq!(created.body["created"], 1_906_502_400);
    // The seed makes the same ids as the library with the same options.
    let cli::Command::Serve(options) = cli::parse(arguments).unwrap() else {
        unreachable!()
    };
    let twin = cli::build_mock(&options);
    let twin_server = twin.serve("127.0.0.1:0").await.unwrap();
    let mut twin_stream = TcpStream::connect(twin_server.addr()).await.unwrap();
    let twin_created = exchange(
        &mut twin_stream,
        &with_key(&post("/v1/customers", "name=Ada", ""), "sk_test_cli_key"),
    )
    .await
    .unwrap();
    assert_eq!(created.body["id"], twin_created.body["id"]);

    // Strict key mode: the default test key is refused.
    let refused = exchange(&mut stream, &get("/v1/customers", ""))
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
    drop(stream);
    running.signal("TERM");
    assert!(running.wait().success(), "a clean stop exits 0");
    assert!(
        TcpStream::connect(&running.addr).await.is_err(),
        "the port is closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_hit_the_paths_named() {
    let running = Running::start(&["--port", "0", "--fault", "server_error=1@/v1/customers"]);
    let mut stream = running.connect().await;
    let failed = exchange(&mut stream, &post("/v1/customers", "name=A", ""))
        .await
        .unwrap();
    assert_eq!(failed.status, 500);
    assert_eq!(failed.body["error"]["type"], "api_error");
    let listed = exchange(&mut stream, &get("/v1/invoices", ""))
        .await
        .unwrap();
    assert_eq!(listed.status, 200);
}

/// Waits until the receiver accepted `count` deliveries.
async fn accepted(receiver: &Receiver, count: usize) -> Vec<http_common::Received> {
    tokio::time::timeout(
        HANG_GUARD,
        receiver
            .wait_until(|received| received.iter().filter(|r| r.status == 200).count() >= count),
    )
    .await
    .expect("deliveries arrived");
    receiver.accepted()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_events_signed_with_the_secret_it_prints_and_stops_on_ctrl_c() {
    let receiver = Receiver::start(1).await;
    let mut running = Running::start(&[
        "--port",
        "0",
        "--forward-to",
        &receiver.url(),
        "--forward-backoff",
        "10ms",
    ]);
    assert_eq!(
        running.next_line(),
        format!("forwarding webhooks to {}", receiver.url())
    );
    let secret_line = running.next_line();
    let secret = secret_line
        .strip_prefix("webhook signing secret: ")
        .unwrap_or_else(|| panic!("{secret_line:?}"))
        .to_owned();
    assert!(secret.starts_with("whsec_"));

    let mut stream = running.connect().await;
    let created = exchange(&mut stream, &post("/v1/customers", "name=Ada", ""))
        .await
        .unwrap();
    assert_eq!(created.status, 200);
    let delivered = accepted(&receiver, 1).await;
    let event = construct_event_with(
        &delivered[0].body,
        delivered[0].signature.as_deref(),
        &WebhookSecret::new(secret).unwrap(),
        VerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(event.event_type.as_str(), "customer.created");
    // The failed first attempt and the retry, as the server shows them once the
    // forwarder has recorded the answer (the receiver saw it a moment earlier).
    let path = format!("/_billbridge/webhook_deliveries?event={}", event.id);
    let deadline = Instant::now() + HANG_GUARD;
    let shown = loop {
        let shown = exchange(&mut stream, &get(&path, "")).await.unwrap();
        if shown.body["data"][0]["state"] == "delivered" {
            break shown;
        }
        assert!(Instant::now() < deadline, "{}", shown.body);
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let statuses: Vec<u64> = shown.body["data"][0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 200]);

    drop(stream);
    running.signal("INT");
    assert!(running.wait().success(), "Ctrl-C stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_given_is_used_and_not_printed() {
    let receiver = Receiver::start(0).await;
    let mut running = Running::start(&[
        "--port",
        "0",
        "--forward-to",
        &receiver.url(),
        "--webhook-secret",
        "whsec_from_the_hosts_settings",
    ]);
    assert_eq!(
        running.next_line(),
        format!("forwarding webhooks to {}", receiver.url())
    );
    let mut stream = running.connect().await;
    exchange(&mut stream, &post("/v1/customers", "name=Ada", ""))
        .await
        .unwrap();
    let delivered = accepted(&receiver, 1).await;
    construct_event_with(
        &delivered[0].body,
        delivered[0].signature.as_deref(),
        &WebhookSecret::new("whsec_from_the_hosts_settings").unwrap(),
        VerifyOptions::default(),
    )
    .unwrap();
    drop(stream);
    running.signal("TERM");
    assert!(running.wait().success());
    // Stdout is closed now: everything it printed is in the channel, and no secret.
    let rest: Vec<String> = running.lines.try_iter().collect();
    assert!(rest.iter().all(|line| !line.contains("whsec_")), "{rest:?}");
}
