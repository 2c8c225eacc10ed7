//! The `billbridge-mock` command: its options, its `--help`, and the loop that serves
//! the mock until Ctrl-C or SIGTERM. The binary (`src/main.rs`) and the Python wheel's
//! console script both call [`main`], so the two behave identically.
//!
//! Every option maps onto a setting of the library ([`MockStripeBuilder`],
//! [`super::Faults`], [`WebhookOptions`], [`ServeOptions`], [`ForwardOptions`]); the
//! words it accepts are the library's words (key policies, fault kinds), so the command,
//! the Rust API and the bindings name things alike.
//!
//! Output: the first line on stdout says the server is ready
//! (`billbridge-mock listening on http://127.0.0.1:12111`), so a host's test harness
//! can start the command and wait for that line. When webhooks are forwarded and no
//! secret was given, the generated signing secret is printed once at start, on
//! purpose, as `stripe listen` does: the host needs it to verify deliveries. Keys,
//! parameters and bodies are never printed.

use std::ffi::OsString;
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

use billbridge::domain::date::Date;
use billbridge::vocabulary::{Vocabulary, probability};

use super::forward::{Endpoint, ForwardError, ForwardOptions, Forwarder, RetrySchedule};
use super::http::{DEFAULT_MAX_BODY_BYTES, ServeOptions};
use super::{
    DEFAULT_API_KEY, DEFAULT_START_TIME, FaultKind, KeyPolicy, MockStripe, MockStripeBuilder,
    RateLimit, WebhookOptions,
};

/// The port Stripe's own stripe-mock uses, so SDK test set-ups written for it work.
pub const DEFAULT_PORT: u16 = 12111;

/// Loopback only unless asked: the mock accepts any test key.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// How long a stop waits for requests and deliveries in progress.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The readiness line's words before the URL.
pub const READY_PREFIX: &str = "billbridge-mock listening on ";

/// Why the command cannot run. Usage errors exit with 2, the others with 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// An option the command does not have.
    #[error("unknown option {0}")]
    UnknownOption(String),
    /// An option given without its value.
    #[error("{option} needs a value")]
    MissingValue {
        /// The option.
        option: String,
    },
    /// A value the option cannot take. The reason never repeats a key or a secret.
    #[error("invalid value for {option}: {reason}")]
    InvalidValue {
        /// The option.
        option: String,
        /// What was expected.
        reason: String,
    },
    /// A `--forward-to` URL that cannot be used.
    #[error("--forward-to: {0}")]
    Forward(#[from] ForwardError),
    /// The address cannot be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// `HOST:PORT` as given.
        addr: String,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime or the signal handlers could not start.
    #[error("cannot start: {0}")]
    Startup(#[source] std::io::Error),
}

impl CliError {
    /// 2 for a usage error (as `--help` would have prevented), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::UnknownOption(_)
            | CliError::MissingValue { .. }
            | CliError::InvalidValue { .. }
            | CliError::Forward(_) => 2,
            CliError::Bind { .. } | CliError::Startup(_) => 1,
        }
    }
}

/// A random fault: `--fault KIND=RATE[@PATH]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomFault {
    /// Which fault.
    pub kind: FaultKind,
    /// The share of matching requests it hits, 0 to 1.
    pub rate: f64,
}

/// The command's options, as parsed.
#[derive(Clone, PartialEq)]
pub struct Options {
    /// The address to bind.
    pub host: String,
    /// The port (0: any free one).
    pub port: u16,
    /// Which keys are accepted.
    pub key_policy: KeyPolicy,
    /// The mock's own key (the only one accepted under [`KeyPolicy::OnlyOwnKey`]).
    pub api_key: Option<String>,
    /// The seed of ids, prefixes, the generated secret and fault dice.
    pub seed: u64,
    /// The mock clock's start, unix seconds.
    pub start_time: i64,
    /// Stripe's search indexing delay, mock seconds.
    pub search_lag: i64,
    /// A delay added to every request.
    pub latency: Option<Duration>,
    /// Random faults with the path prefix they apply to.
    pub faults: Vec<(RandomFault, String)>,
    /// A real-time request rate limit (requests per second).
    pub rate_limit: Option<u32>,
    /// The request body limit.
    pub max_body_bytes: usize,
    /// The webhook signing secret; generated from the seed when `None`.
    pub webhook_secret: Option<String>,
    /// Where to POST webhook deliveries.
    pub forward_to: Vec<Endpoint>,
    /// When failed deliveries are retried.
    pub retry: RetrySchedule,
    /// The time allowed for one delivery attempt.
    pub forward_timeout: Duration,
    /// The share of events delivered twice.
    pub webhook_duplicates: f64,
    /// Shuffle each batch of deliveries.
    pub webhook_reorder: bool,
    /// One line per request and delivery attempt on stderr.
    pub verbose: bool,
}

impl fmt::Debug for Options {
    // The key and the secret stay out of logs: destructured so that a new field
    // cannot be forgotten here.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Options {
            host,
            port,
            key_policy,
            api_key,
            seed,
            start_time,
            search_lag,
            latency,
            faults,
            rate_limit,
            max_body_bytes,
            webhook_secret,
            forward_to,
            retry,
            forward_timeout,
            webhook_duplicates,
            webhook_reorder,
            verbose,
        } = self;
        formatter
            .debug_struct("Options")
            .field("host", host)
            .field("port", port)
            .field("key_policy", key_policy)
            .field("api_key", &api_key.as_ref().map(|_| "<redacted>"))
            .field("seed", seed)
            .field("start_time", start_time)
            .field("search_lag", search_lag)
            .field("latency", latency)
            .field("faults", faults)
            .field("rate_limit", rate_limit)
            .field("max_body_bytes", max_body_bytes)
            .field(
                "webhook_secret",
                &webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("forward_to", forward_to)
            .field("retry", retry)
            .field("forward_timeout", forward_timeout)
            .field("webhook_duplicates", webhook_duplicates)
            .field("webhook_reorder", webhook_reorder)
            .field("verbose", verbose)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
            key_policy: KeyPolicy::AnyTestKey,
            api_key: None,
            seed: 0,
            start_time: DEFAULT_START_TIME,
            search_lag: 0,
            latency: None,
            faults: Vec::new(),
            rate_limit: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            webhook_secret: None,
            forward_to: Vec::new(),
            retry: RetrySchedule::default(),
            forward_timeout: Duration::from_secs(10),
            webhook_duplicates: 0.0,
            webhook_reorder: false,
            verbose: false,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Serve with these options.
    Serve(Box<Options>),
    /// Print [`help`].
    Help,
    /// Print the version.
    Version,
}

/// The `--help` text.
pub fn help() -> String {
    let faults = FaultKind::WORDS.join(", ");
    let policies = KeyPolicy::WORDS.join(", ");
    format!(
        "\
billbridge-mock {version}: billbridge's stateful mock Stripe over HTTP, for any Stripe SDK.

Point the SDK's API base at the URL of the readiness line and use a test key
(sk_test_...). Stops cleanly on Ctrl-C or SIGTERM.

Usage: billbridge-mock [OPTIONS]

Server:
  --host HOST                 Address to bind [default: {DEFAULT_HOST}]; 0.0.0.0 to
                              accept other machines (e.g. from inside a container)
  --port PORT                 Port [default: {DEFAULT_PORT}]; 0 picks a free one, read
                              it from the readiness line
  --max-body-bytes N          Refuse request bodies over N bytes with a 413
                              [default: {DEFAULT_MAX_BODY_BYTES}]
  --verbose                   One line per request and per webhook attempt on
                              stderr (never keys, parameters or bodies)

Keys:
  --key-policy POLICY         One of: {policies} [default: any_test_key].
                              any_test_key: every sk_test_/rk_test_ key is
                              accepted, each with its own isolated state, so test
                              suites can share one server; own_key_only: only
                              --api-key is accepted
  --api-key KEY               The mock's own test key [default: {DEFAULT_API_KEY}]

Behaviour:
  --seed N                    Seed of ids, invoice prefixes, the generated webhook
                              secret and random faults [default: 0]
  --start-time TIME           Where the mock clock starts: unix seconds,
                              YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or now
                              [default: 2026-01-01]; it moves only when told
  --search-lag SECONDS        Keep written objects out of search results for this
                              many mock seconds, as Stripe's index lags [default: 0]
  --latency DURATION          Delay every request (e.g. 250ms, 1.5s, 1m)
  --fault KIND=RATE[@PATH]    Fail this share (0 to 1) of requests whose path starts
                              with PATH [default: every path]. KIND is one of:
                              {faults}. Repeatable
  --rate-limit N              Answer 429 rate_limit above N requests per second

Webhooks:
  --forward-to URL            POST every event, signed, to this http:// URL, as
                              Stripe does (Stripe-Signature, JSON, Stripe's user
                              agent); user:password@ in the URL is sent as basic
                              auth. Repeatable. Attempts are listed at
                              GET /_billbridge/webhook_deliveries
  --webhook-secret SECRET     The whsec_... secret deliveries are signed with
                              [default: generated from --seed, printed at start]
  --forward-attempts N        Attempts per delivery before giving up [default: 8]
  --forward-backoff DURATION  Wait before the first retry, doubled before each next
                              one, at most 60s [default: 1s]
  --forward-timeout DURATION  Time allowed for each attempt [default: 10s]
  --webhook-duplicates RATE   Deliver this share (0 to 1) of events twice, as
                              Stripe's at-least-once delivery may [default: 0]
  --webhook-reorder           Shuffle each batch of deliveries (Stripe does not
                              guarantee order)

  -h, --help                  Print this help
  -V, --version               Print the version
",
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// Parses the command line (without the program name).
///
/// # Errors
/// [`CliError::UnknownOption`], [`CliError::MissingValue`], [`CliError::InvalidValue`]
/// or [`CliError::Forward`] for a `--forward-to` URL that cannot be used.
pub fn parse<I, S>(arguments: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let mut options = Options::default();
    let mut arguments = arguments.into_iter().map(Into::into);
    while let Some(argument) = arguments.next() {
        let argument = argument
            .into_string()
            .map_err(|_| CliError::UnknownOption("(an argument that is not UTF-8)".into()))?;
        let (name, inline) = match argument.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (argument.clone(), None),
        };
        let mut value = || -> Result<String, CliError> {
            match inline.clone() {
                Some(value) => Ok(value),
                None => arguments
                    .next()
                    .and_then(|value| value.into_string().ok())
                    .ok_or_else(|| CliError::MissingValue {
                        option: name.clone(),
                    }),
            }
        };
        let flag = |inline: &Option<String>| match inline {
            Some(_) => Err(CliError::InvalidValue {
                option: name.clone(),
                reason: "takes no value".into(),
            }),
            None => Ok(()),
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--host" => {
                let host = value()?;
                if host.trim().is_empty() {
                    return Err(invalid(&name, "an address such as 127.0.0.1 or 0.0.0.0"));
                }
                options.host = host;
            }
            "--port" => options.port = number(&name, &value()?)?,
            "--key-policy" => {
                options.key_policy = value()?.replace('-', "_").parse().map_err(
                    |error: billbridge::vocabulary::ArgumentError| {
                        invalid(&name, &error.to_string())
                    },
                )?;
            }
            "--api-key" => {
                let key = value()?;
                let test_key = ["sk_test_", "rk_test_"]
                    .iter()
                    .any(|prefix| key.len() > prefix.len() && key.starts_with(prefix));
                if !test_key {
                    // Never echo the key: it may be a live one pasted by mistake.
                    return Err(invalid(
                        &name,
                        "a test key (sk_test_... or rk_test_...): the mock refuses live keys",
                    ));
                }
                options.api_key = Some(key);
            }
            "--seed" => options.seed = number(&name, &value()?)?,
            "--start-time" => options.start_time = start_time(&name, &value()?)?,
            "--search-lag" => options.search_lag = number(&name, &value()?)?,
            "--latency" => options.latency = Some(duration(&name, &value()?)?),
            "--fault" => options.faults.push(fault(&name, &value()?)?),
            "--rate-limit" => {
                let limit: u32 = number(&name, &value()?)?;
                if limit == 0 {
                    return Err(invalid(&name, "at least 1 request per second"));
                }
                options.rate_limit = Some(limit);
            }
            "--max-body-bytes" => options.max_body_bytes = number(&name, &value()?)?,
            "--webhook-secret" => {
                let secret = value()?;
                if secret.is_empty() || secret.chars().any(char::is_whitespace) {
                    return Err(invalid(&name, "a secret such as whsec_..., without spaces"));
                }
                options.webhook_secret = Some(secret);
            }
            "--forward-to" => options.forward_to.push(Endpoint::parse(&value()?)?),
            "--forward-attempts" => {
                let attempts: u32 = number(&name, &value()?)?;
                if attempts == 0 {
                    return Err(invalid(&name, "at least 1"));
                }
                options.retry.attempts = attempts;
            }
            "--forward-backoff" => options.retry.first_delay = duration(&name, &value()?)?,
            "--forward-timeout" => {
                let timeout = duration(&name, &value()?)?;
                if timeout.is_zero() {
                    return Err(invalid(&name, "more than 0"));
                }
                options.forward_timeout = timeout;
            }
            "--webhook-duplicates" => options.webhook_duplicates = rate(&name, &value()?)?,
            "--webhook-reorder" => {
                flag(&inline)?;
                options.webhook_reorder = true;
            }
            "--verbose" => {
                flag(&inline)?;
                options.verbose = true;
            }
            _ => return Err(CliError::UnknownOption(name)),
        }
    }
    Ok(Command::Serve(Box::new(options)))
}

fn invalid(option: &str, reason: &str) -> CliError {
    CliError::InvalidValue {
        option: option.to_owned(),
        reason: reason.to_owned(),
    }
}

fn number<T: std::str::FromStr>(option: &str, text: &str) -> Result<T, CliError> {
    text.trim()
        .parse()
        .map_err(|_| invalid(option, &format!("{text:?} is not a whole number in range")))
}

fn rate(option: &str, text: &str) -> Result<f64, CliError> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| invalid(option, &format!("{text:?} is not a number from 0 to 1")))?;
    probability("rate", value).map_err(|_| invalid(option, "a number from 0 to 1"))
}

/// `250ms`, `1.5s`, `2m`: a unit is required, so that nobody wonders which one a bare
/// number means.
fn duration(option: &str, text: &str) -> Result<Duration, CliError> {
    let text = text.trim();
    let bad = || {
        invalid(
            option,
            &format!("{text:?} is not a duration such as 250ms, 1.5s or 2m"),
        )
    };
    let (number, scale) = if let Some(number) = text.strip_suffix("ms") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60.0)
    } else {
        return Err(bad());
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| bad())
}

/// Unix seconds, `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` (UTC) or `now`.
fn start_time(option: &str, text: &str) -> Result<i64, CliError> {
    let text = text.trim();
    let bad = || {
        invalid(
            option,
            &format!("{text:?} is not unix seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or now"),
        )
    };
    if text == "now" {
        return Ok(billbridge::clock::Clock::now_unix(
            &billbridge::clock::SystemClock,
        ));
    }
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let midnight = Date::parse(date).map_err(|_| bad())?.to_unix_timestamp();
    let Some(time) = time else {
        return Ok(midnight);
    };
    let time = time.strip_suffix('Z').ok_or_else(bad)?;
    let parts: Vec<&str> = time.split(':').collect();
    let [hours, minutes, seconds] = parts.as_slice() else {
        return Err(bad());
    };
    let field = |text: &str, below: i64| -> Result<i64, CliError> {
        let value: i64 = if text.len() == 2 {
            text.parse().map_err(|_| bad())?
        } else {
            return Err(bad());
        };
        if (0..below).contains(&value) {
            Ok(value)
        } else {
            Err(bad())
        }
    };
    Ok(midnight + field(hours, 24)? * 3600 + field(minutes, 60)? * 60 + field(seconds, 60)?)
}

/// `KIND=RATE[@PATH]`.
fn fault(option: &str, text: &str) -> Result<(RandomFault, String), CliError> {
    let (kind, rest) = text.split_once('=').ok_or_else(|| {
        invalid(
            option,
            "KIND=RATE or KIND=RATE@PATH, e.g. server_error=0.05",
        )
    })?;
    let (rate_text, path) = match rest.split_once('@') {
        Some((rate_text, path)) => (rate_text, path.to_owned()),
        None => (rest, "/".to_owned()),
    };
    let kind: FaultKind = kind.trim().replace('-', "_").parse().map_err(
        |error: billbridge::vocabulary::ArgumentError| invalid(option, &error.to_string()),
    )?;
    if !path.starts_with('/') {
        return Err(invalid(
            option,
            "a PATH starting with /, e.g. @/v1/invoices",
        ));
    }
    Ok((
        RandomFault {
            kind,
            rate: rate(option, rate_text)?,
        },
        path,
    ))
}

/// The mock the options describe, faults and webhook options set.
pub fn build_mock(options: &Options) -> MockStripe {
    let mut builder: MockStripeBuilder = MockStripe::builder()
        .seed(options.seed)
        .start_time(options.start_time)
        .key_policy(options.key_policy)
        .search_lag(options.search_lag);
    if let Some(key) = &options.api_key {
        builder = builder.api_key(key.clone());
    }
    let mock = builder.build();
    if let Some(secret) = &options.webhook_secret {
        mock.set_webhook_secret(secret.clone());
    }
    let faults = mock.faults();
    faults.latency(options.latency);
    for (fault, path) in &options.faults {
        // Kinds named on the command line carry no status: their default one.
        if let Ok(made) = fault.kind.fault(None) {
            faults.random(path, made, fault.rate);
        }
    }
    if let Some(limit) = options.rate_limit {
        faults.rate_limit(Some(RateLimit::per_second(limit).real_time()));
    }
    mock.set_webhook_options(WebhookOptions {
        duplicate_rate: options.webhook_duplicates,
        reorder: options.webhook_reorder,
        ..WebhookOptions::default()
    });
    mock
}

/// Serves until `stop` completes: binds, prints the readiness line (and, when
/// forwarding with a generated secret, the secret) to `out`, then shuts down
/// gracefully. Needs a tokio runtime with I/O and time.
///
/// # Errors
/// [`CliError::Bind`] when the address cannot be bound.
pub async fn run(
    options: &Options,
    out: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    let mock = build_mock(options);
    let forwarder = if options.forward_to.is_empty() {
        None
    } else {
        let forward = ForwardOptions {
            retry: options.retry,
            timeout: options.forward_timeout,
            log: options.verbose,
            ..ForwardOptions::new(options.forward_to.clone())
        };
        Some(Forwarder::start(&mock, forward)?)
    };
    let serve = ServeOptions {
        max_body_bytes: options.max_body_bytes,
        forwarder: forwarder.clone(),
        log_requests: options.verbose,
    };
    let server = mock
        .serve_with((options.host.as_str(), options.port), serve)
        .await
        .map_err(|source| CliError::Bind {
            addr: format!("{}:{}", options.host, options.port),
            source,
        })?;
    // A closed stdout must not stop the server: the readiness line is a courtesy.
    let _ = writeln!(out, "{READY_PREFIX}{}", server.url());
    if let Some(forwarder) = &forwarder {
        for endpoint in forwarder.endpoints() {
            let _ = writeln!(out, "forwarding webhooks to {endpoint}");
        }
        if options.webhook_secret.is_none() {
            // Printed on purpose, once, as `stripe listen` prints its secret: the host
            // verifies deliveries with it.
            let _ = writeln!(out, "webhook signing secret: {}", mock.webhook_secret());
        }
    }
    let _ = out.flush();
    stop.await;
    server.shutdown_gracefully(SHUTDOWN_GRACE).await;
    if let Some(forwarder) = forwarder {
        forwarder.shutdown(SHUTDOWN_GRACE).await;
    }
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM. Registered before the server starts, so that a signal
/// arriving right after the readiness line is not missed.
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// The whole command: parse `arguments` (without the program name), serve until
/// Ctrl-C or SIGTERM, and return the exit code (0 after a clean stop or `--help`, 2
/// for a usage error, 1 when it cannot serve). Errors go to stderr.
///
/// It builds its own tokio runtime: it is a program's main loop (the binary's, or the
/// Python console script's with the GIL released), not a library call inside someone
/// else's runtime. Do not call it from within a tokio runtime. The runtime has one
/// thread: an SDK's keep-alive request/response exchange gains nothing from a second
/// worker, and measured slightly slower with one.
pub fn main<I, S>(arguments: I) -> u8
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let options = match parse(arguments) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(help().as_bytes());
            let _ = stdout.flush();
            return 0;
        }
        Ok(Command::Version) => {
            // `writeln!`, not `println!`: a closed pipe must not panic.
            let _ = writeln!(
                std::io::stdout(),
                "billbridge-mock {}",
                env!("CARGO_PKG_VERSION")
            );
            return 0;
        }
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "billbridge-mock: {error}\nTry 'billbridge-mock --help'."
            );
            return error.exit_code();
        }
    };
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Startup)
        .and_then(|runtime| {
            runtime.block_on(async {
                let stop = stop_signal().map_err(CliError::Startup)?;
                run(&options, &mut std::io::stdout(), stop).await
            })
        });
    match outcome {
        Ok(()) => 0,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "billbridge-mock: {error}");
            error.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(arguments: &[&str]) -> Options {
        match parse(arguments.iter().copied()) {
            Ok(Command::Serve(options)) => *options,
            other => panic!("{arguments:?}: {other:?}"),
        }
    }

    fn refused(arguments: &[&str]) -> CliError {
        match parse(arguments.iter().copied()) {
            Err(error) => error,
            Ok(other) => panic!("{arguments:?} accepted: {other:?}"),
        }
    }

    #[test]
    fn no_option_serves_stripe_mocks_port_on_loopback_with_any_test_key() {
        let options = serve(&[]);
        assert_eq!(options, Options::default());
        assert_eq!((options.host.as_str(), options.port), ("127.0.0.1", 12111));
        assert_eq!(options.key_policy, KeyPolicy::AnyTestKey);
        assert!(options.forward_to.is_empty());
    }

    #[test]
    fn every_option_is_read_in_both_spellings() {
        let options = serve(&[
            "--host",
            "0.0.0.0",
            "--port=0",
            "--key-policy",
            "own-key-only",
            "--api-key=sk_test_practice",
            "--seed",
            "42",
            "--start-time",
            "2026-03-01T09:30:00Z",
            "--search-lag",
            "60",
            "--latency",
            "250ms",
            "--fault",
            "server_error=0.05@/v1/invoices",
            "--fault=rate-limited=0.5",
            "--rate-limit",
            "25",
            "--max-body-bytes",
            "1024",
            "--webhook-secret",
            "whsec_fixed",
            "--forward-to",
            "http://127.0.0.1:8000/stripe/webhooks",
            "--forward-to=http://localhost:9000/hook",
            "--forward-attempts",
            "3",
            "--forward-backoff",
            "1.5s",
            "--forward-timeout",
            "2m",
            "--webhook-duplicates",
            "0.25",
            "--webhook-reorder",
            "--verbose",
        ]);
        assert_eq!(options.host, "0.0.0.0");
        assert_eq!(options.port, 0);
        assert_eq!(options.key_policy, KeyPolicy::OnlyOwnKey);
        assert_eq!(options.api_key.as_deref(), Some("sk_test_practice"));
        assert_eq!(options.seed, 42);
        assert_eq!(options.start_time, 1_772_357_400);
        assert_eq!(options.search_lag, 60);
        assert_eq!(options.latency, Some(Duration::from_millis(250)));
        assert_eq!(
            options.faults,
            vec![
                (
                    RandomFault {
                        kind: FaultKind::ServerError,
                        rate: 0.05
                    },
                    "/v1/invoices".to_owned()
                ),
                (
                    RandomFault {
                        kind: FaultKind::RateLimited,
                        rate: 0.5
                    },
                    "/".to_owned()
                ),
            ]
        );
        assert_eq!(options.rate_limit, Some(25));
        assert_eq!(options.max_body_bytes, 1024);
        assert_eq!(options.webhook_secret.as_deref(), Some("whsec_fixed"));
        let urls: Vec<&str> = options.forward_to.iter().map(Endpoint::url).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:8000/stripe/webhooks",
                "http://localhost:9000/hook"
            ]
        );
        assert_eq!(options.retry.attempts, 3);
        assert_eq!(options.retry.first_delay, Duration::from_millis(1500));
        assert_eq!(options.forward_timeout, Duration::from_secs(120));
        assert_eq!(options.webhook_duplicates, 0.25);
        assert!(options.webhook_reorder && options.verbose);
    }

    #[test]
    fn start_times_in_each_form() {
        assert_eq!(serve(&["--start-time", "0"]).start_time, 0);
        assert_eq!(
            serve(&["--start-time", "2026-01-01"]).start_time,
            DEFAULT_START_TIME
        );
        assert_eq!(
            serve(&["--start-time", "2026-01-01T00:00:01Z"]).start_time,
            DEFAULT_START_TIME + 1
        );
        let now = billbridge::clock::Clock::now_unix(&billbridge::clock::SystemClock);
        assert!(serve(&["--start-time", "now"]).start_time >= now);
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-01-01T24:00:00Z",
            "2026-01-01T10:00:00",
        ] {
            assert!(
                matches!(
                    refused(&["--start-time", bad]),
                    CliError::InvalidValue { .. }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn help_and_version_win_over_everything_else() {
        assert_eq!(parse(["--port", "1", "--help"]).unwrap(), Command::Help);
        assert_eq!(parse(["-h"]).unwrap(), Command::Help);
        assert_eq!(parse(["-V"]).unwrap(), Command::Version);
    }

    #[test]
    fn help_documents_every_option_the_parser_reads() {
        let text = help();
        for option in [
            "--host",
            "--port",
            "--max-body-bytes",
            "--verbose",
            "--key-policy",
            "--api-key",
            "--seed",
            "--start-time",
            "--search-lag",
            "--latency",
            "--fault",
            "--rate-limit",
            "--forward-to",
            "--webhook-secret",
            "--forward-attempts",
            "--forward-backoff",
            "--forward-timeout",
            "--webhook-duplicates",
            "--webhook-reorder",
            "--help",
            "--version",
        ] {
            assert!(
                text.contains(&format!("  {option} ")) || text.contains(&format!(", {option}")),
                "{option}"
            );
            // And the parser knows it: anything else would be an unknown option.
            assert!(
                !matches!(
                    parse([option, "x"]),
                    Err(CliError::UnknownOption(name)) if name == option
                ),
                "{option}"
            );
        }
        for word in FaultKind::WORDS.iter().chain(KeyPolicy::WORDS) {
            assert!(text.contains(word), "{word}");
        }
    }

    #[test]
    fn usage_errors_name_the_option_and_exit_with_2() {
        let cases: [(&[&str], &str); 12] = [
            (&["--bogus"], "unknown option --bogus"),
            (&["--port"], "--port needs a value"),
            (&["--port", "70000"], "invalid value for --port"),
            (&["--seed", "-1"], "invalid value for --seed"),
            (
                &["--key-policy", "everyone"],
                "invalid value for --key-policy",
            ),
            (&["--latency", "250"], "invalid value for --latency"),
            (&["--fault", "server_error"], "invalid value for --fault"),
            (&["--fault", "meteor=0.1"], "invalid value for --fault"),
            (&["--fault", "timeout=2"], "invalid value for --fault"),
            (
                &["--webhook-duplicates", "1.5"],
                "invalid value for --webhook-duplicates",
            ),
            (
                &["--webhook-reorder=yes"],
                "invalid value for --webhook-reorder",
            ),
            (
                &["--forward-to", "https://example.com/hook"],
                "not an http:// URL",
            ),
        ];
        for (arguments, message) in cases {
            let error = refused(arguments);
            assert!(
                error.to_string().contains(message),
                "{arguments:?}: {error}"
            );
            assert_eq!(error.exit_code(), 2, "{arguments:?}");
        }
    }

    #[test]
    fn keys_and_secrets_are_never_echoed() {
        let live = "sk_live_51Hpasted_by_mistake";
        let error = refused(&["--api-key", live]);
        assert!(!error.to_string().contains("51Hpasted"), "{error}");
        let options = serve(&[
            "--api-key",
            "sk_test_private_value",
            "--webhook-secret",
            "whsec_private_value",
        ]);
        let shown = format!("{options:?}");
        assert!(!shown.contains("private_value"), "{shown}");
        let error = refused(&["--webhook-secret", "whsec_has a space"]);
        assert!(!error.to_string().contains("has a space"), "{error}");
    }

    #[test]
    fn the_built_mock_carries_the_options() {
        let options = serve(&[
            "--seed",
            "9",
            "--start-time",
            "2030-06-01",
            "--webhook-secret",
            "whsec_from_the_command_line",
            "--latency",
            "0ms",
        ]);
        let mock = build_mock(&options);
        assert_eq!(mock.clock().now(), 1_906_502_400);
        assert_eq!(mock.webhook_secret(), "whsec_from_the_command_line");
        let generated = build_mock(&serve(&["--seed", "9"])).webhook_secret();
        assert!(generated.starts_with("whsec_"));
        assert_eq!(
            generated,
            build_mock(&serve(&["--seed", "9"])).webhook_secret()
        );
        assert_ne!(
            generated,
            build_mock(&serve(&["--seed", "10"])).webhook_secret()
        );
    }
}
