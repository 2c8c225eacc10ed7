//! The mock's HTTP/1.1 front: a small loopback server (request line, headers,
//! `Content-Length` bodies, keep-alive) so any Stripe client, the official SDKs
//! included, can talk to a [`MockStripe`]. A request that the mock fails without a
//! response (timeout, reset, response lost) closes the connection unanswered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::task::JoinHandle;

use super::MockStripe;
use billbridge::stripe::transport::{Method, StripeRequest, StripeResponse};

const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A running HTTP front; stops accepting when dropped or [`MockServer::shutdown`].
pub struct MockServer {
    addr: SocketAddr,
    closed: Arc<AtomicBool>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value for an SDK's API base.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting connections; open connections close after their current request.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
        self.accept.abort();
    }
}

pub(crate) async fn serve(
    mock: MockStripe,
    addr: impl ToSocketAddrs,
) -> std::io::Result<MockServer> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let closed = Arc::new(AtomicBool::new(false));
    let accept_closed = Arc::clone(&closed);
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let mock = mock.clone();
            let closed = Arc::clone(&accept_closed);
            tokio::spawn(async move {
                // A broken connection only ends that connection.
                let _ = connection(mock, stream, closed).await;
            });
        }
    });
    Ok(MockServer {
        addr: bound,
        closed,
        accept,
    })
}

struct HttpRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

async fn connection(
    mock: MockStripe,
    mut stream: TcpStream,
    closed: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        if closed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let request = match read_request(&mut stream, &mut buffer).await? {
            Some(Ok(request)) => request,
            Some(Err((status, message))) => {
                write_plain(&mut stream, status, message).await?;
                return Ok(());
            }
            None => return Ok(()),
        };
        let keep_alive = request.keep_alive;
        let Some(answer) = answer(&mock, request).await else {
            // The mock decided there is no response: drop the connection.
            return Ok(());
        };
        write_response(&mut stream, &answer, keep_alive).await?;
        if !keep_alive {
            return Ok(());
        }
    }
}

/// Read one request; `None` at a clean end of stream.
async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<Result<HttpRequest, (u16, &'static str)>>> {
    let header_end = loop {
        if let Some(position) = find(buffer, b"\r\n\r\n") {
            break position;
        }
        if buffer.len() > MAX_HEADER_BYTES {
            return Ok(Some(Err((431, "request headers too large"))));
        }
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(Some(Err((400, "malformed request line"))));
    };
    let mut headers = Vec::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let connection_header = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .map(|(_, value)| value.to_ascii_lowercase());
    let keep_alive = match connection_header.as_deref() {
        Some(value) if value.contains("close") => false,
        Some(value) if value.contains("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    if headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("transfer-encoding"))
    {
        return Ok(Some(Err((411, "send a Content-Length body"))));
    }
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Ok(Some(Err((413, "request body too large"))));
    }
    let body_start = header_end + 4;
    while buffer.len() < body_start + length {
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = buffer[body_start..body_start + length].to_vec();
    buffer.drain(..body_start + length);
    Ok(Some(Ok(HttpRequest {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
        keep_alive,
    })))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

async fn answer(mock: &MockStripe, request: HttpRequest) -> Option<StripeResponse> {
    let method = match request.method.as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "DELETE" => Method::Delete,
        _ => {
            return Some(StripeResponse {
                status: 405,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body:
                    br#"{"error":{"type":"invalid_request_error","message":"Unsupported method"}}"#
                        .to_vec(),
            });
        }
    };
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (request.target.clone(), String::new()),
    };
    let mut params = decode_pairs(&query);
    if method == Method::Post {
        params.extend(decode_pairs(&String::from_utf8_lossy(&request.body)));
    }
    let api_key = request.header("authorization").and_then(bearer_or_basic);
    let stripe_request = StripeRequest {
        method,
        path: percent_decode(&path),
        params,
        idempotency_key: request.header("idempotency-key").map(str::to_owned),
        stripe_account: request.header("stripe-account").map(str::to_owned),
        stripe_version: request
            .header("stripe-version")
            .unwrap_or_default()
            .to_owned(),
    };
    mock.process(&stripe_request, api_key.as_deref()).await.ok()
}

fn bearer_or_basic(header: &str) -> Option<String> {
    if let Some(token) = header.strip_prefix("Bearer ") {
        return Some(token.trim().to_owned());
    }
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64_decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next().unwrap_or_default().to_owned())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut output = Vec::new();
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            output.push(((bits >> count) & 0xff) as u8);
        }
    }
    Some(output)
}

/// `application/x-www-form-urlencoded` pairs, in order.
fn decode_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (form_decode(key), form_decode(value)),
            None => (form_decode(pair), String::new()),
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    percent_decode(&text.replace('+', " "))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut output = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let high = char::from(bytes[index + 1]).to_digit(16);
            let low = char::from(bytes[index + 2]).to_digit(16);
            if let (Some(high), Some(low)) = (high, low) {
                output.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
        }
        output.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&output).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn write_response(
    stream: &mut TcpStream,
    response: &StripeResponse,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&response.body).await?;
    stream.flush().await
}

async fn write_plain(stream: &mut TcpStream, status: u16, message: &str) -> std::io::Result<()> {
    let response = StripeResponse {
        status,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: message.as_bytes().to_vec(),
    };
    write_response(stream, &response, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_decode_brackets_plus_and_percent() {
        let pairs = decode_pairs("metadata%5Bk%5D=a+b%26c&lines[0][quantity]=2&empty=");
        assert_eq!(
            pairs,
            vec![
                ("metadata[k]".to_owned(), "a b&c".to_owned()),
                ("lines[0][quantity]".to_owned(), "2".to_owned()),
                ("empty".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn basic_auth_gives_the_user_part() {
        // "sk_test_mock:" in base64.
        assert_eq!(
            bearer_or_basic("Basic c2tfdGVzdF9tb2NrOg==").as_deref(),
            Some("sk_test_mock")
        );
        assert_eq!(
            bearer_or_basic("Bearer sk_test_x").as_deref(),
            Some("sk_test_x")
        );
    }

    #[test]
    fn truncated_percent_is_kept_literally() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41"), "A");
    }
}
