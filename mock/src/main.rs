//! Serve billbridge's in-memory Stripe over loopback HTTP, for any Stripe client:
//!
//! ```text
//! cargo run -p billbridge-mock -- --port 12111 [--api-key sk_test_mock] [--seed 0]
//! ```
//!
//! The first line on stdout is `listening on http://127.0.0.1:PORT` (port 0 picks a
//! free port); point the SDK's API base at that URL and use the API key.

use std::io::Write;

use billbridge_mock::MockStripe;

struct Options {
    port: u16,
    api_key: Option<String>,
    seed: u64,
}

fn parse(arguments: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 12111,
        api_key: None,
        seed: 0,
    };
    let mut arguments = arguments.peekable();
    while let Some(argument) = arguments.next() {
        let mut value = |name: &str| {
            arguments
                .next()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match argument.as_str() {
            "--port" => {
                let text = value("--port")?;
                options.port = text.parse().map_err(|_| format!("invalid port: {text}"))?;
            }
            "--api-key" => options.api_key = Some(value("--api-key")?),
            "--seed" => {
                let text = value("--seed")?;
                options.seed = text.parse().map_err(|_| format!("invalid seed: {text}"))?;
            }
            "--help" | "-h" => {
                return Err(
                    "usage: billbridge-mock [--port N] [--api-key sk_test_…] [--seed N]".to_owned(),
                );
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let mut builder = MockStripe::builder().seed(options.seed);
    if let Some(key) = options.api_key {
        builder = builder.api_key(key);
    }
    let mock = builder.build();
    let server = match mock.serve(("127.0.0.1", options.port)).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {error}", options.port);
            std::process::exit(1);
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", server.url());
    let _ = stdout.flush();
    std::future::pending::<()>().await;
}
