//! Every answer of the mock matches Stripe's published schema: a scenario drives every
//! operation the mock serves (successes and errors, lists, searches, `expand[]`,
//! deletes, events) and validates each response body against the spec's schema for
//! that operation and status, strictly (see `spec_common`); every webhook event the
//! mock delivers is checked against the `event` schema and its `data.object` against
//! its object's schema. The test fails with every difference found, not the first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod spec_common;

use std::collections::BTreeSet;

use billbridge::stripe::transport::{Method, StripeRequest, Transport};
use billbridge_mock::{Fault, MockStripe, operations};
use serde_json::Value;
use spec_common::{Checkers, component, response};

/// Drives the mock and checks every answer.
struct Conformance {
    mock: MockStripe,
    checkers: Checkers,
    /// `(method, template)` of every operation answered with a 2xx.
    succeeded: BTreeSet<(String, String)>,
    /// Every answer checked.
    checked: usize,
    failures: Vec<String>,
}

impl Conformance {
    fn new(mock: MockStripe) -> Conformance {
        Conformance {
            mock,
            checkers: Checkers::default(),
            succeeded: BTreeSet::new(),
            checked: 0,
            failures: Vec::new(),
        }
    }

    /// Calls `template` with its `{…}` segments replaced by `ids` in order, checks the
    /// answer against the spec, and returns its status and body.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        ids: &[&str],
        params: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut path = String::new();
        let mut ids = ids.iter();
        for segment in template.split('/').filter(|segment| !segment.is_empty()) {
            path.push('/');
            if segment.starts_with('{') {
                path.push_str(ids.next().expect("an id for every path parameter"));
            } else {
                path.push_str(segment);
            }
        }
        let request = StripeRequest {
            method,
            path,
            params: params
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            idempotency_key: None,
            stripe_account: None,
            stripe_version: String::new(),
        };
        let answer = self.mock.send(&request).await.expect("an HTTP answer");
        let body: Value = serde_json::from_slice(&answer.body).expect("a JSON body");
        self.check(method.as_str(), template, answer.status, &body);
        (answer.status, body)
    }

    /// `call`, expecting `status`.
    async fn expect(
        &mut self,
        status: u16,
        method: Method,
        template: &str,
        ids: &[&str],
        params: &[(&str, &str)],
    ) -> Value {
        let (answered, body) = self.call(method, template, ids, params).await;
        assert_eq!(answered, status, "{method} {template}: {body}");
        body
    }

    fn check(&mut self, method: &str, template: &str, status: u16, body: &Value) {
        let key = format!("{method} {template} {status}");
        let Some(schema) = response(method, template, status) else {
            self.failures
                .push(format!("{key}: the spec has no such operation or answer"));
            return;
        };
        let errors = self.checkers.get(&key, || schema).errors(body);
        self.checked += 1;
        if (200..300).contains(&status) {
            self.succeeded
                .insert((method.to_owned(), template.to_owned()));
        }
        for error in errors {
            self.failures.push(format!("{key}: {error}"));
        }
    }

    /// Checks every webhook delivery queued so far: the event and its snapshot.
    fn check_deliveries(&mut self) -> usize {
        let deliveries = self.mock.take_webhooks();
        for delivery in &deliveries {
            let event: Value = serde_json::from_slice(&delivery.body).expect("an event body");
            let kind = format!("event {}", delivery.event_type);
            for error in self
                .checkers
                .get("event", || component("event"))
                .errors(&event)
            {
                self.failures.push(format!("{kind}: {error}"));
            }
            let object = &event["data"]["object"];
            let name = object["object"].as_str().unwrap_or_default().to_owned();
            let schema = match name.as_str() {
                "line_item" | "list" => continue,
                other => other.to_owned(),
            };
            for error in self
                .checkers
                .get(&format!("object {schema}"), || component(&schema))
                .errors(object)
            {
                self.failures.push(format!("{kind} data.object: {error}"));
            }
            self.checked += 1;
        }
        deliveries.len()
    }
}

/// One GET over a fresh loopback connection: status and JSON body.
async fn raw_get(addr: std::net::SocketAddr, path: &str, headers: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8(answer).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    (status, serde_json::from_str(body).unwrap())
}

fn id(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn every_answer_of_every_operation_matches_stripes_schema() {
    use Method::{Delete, Get, Post};
    let mut run = Conformance::new(MockStripe::new());

    // Customers, their balance, search.
    let ada = run
        .expect(
            200,
            Post,
            "/v1/customers",
            &[],
            &[
                ("name", "Ada Lovelace"),
                ("email", "ada@example.com"),
                ("phone", "+447700900101"),
                ("address[line1]", "1 Harbour St"),
                ("address[postal_code]", "BS1 4DJ"),
                ("address[country]", "GB"),
                ("metadata[host_patient_id]", "P-1"),
                ("preferred_locales[]", "en-GB"),
            ],
        )
        .await;
    let ada = id(&ada);
    let bob = id(&run
        .expect(200, Post, "/v1/customers", &[], &[("name", "Bob Byte")])
        .await);
    run.expect(200, Get, "/v1/customers/{customer}", &[&ada], &[])
        .await;
    run.expect(
        200,
        Post,
        "/v1/customers/{customer}",
        &[&ada],
        &[("phone", ""), ("metadata[clinic]", "Bristol")],
    )
    .await;
    run.expect(200, Get, "/v1/customers", &[], &[("limit", "1")])
        .await;
    run.expect(
        200,
        Get,
        "/v1/customers/search",
        &[],
        &[("query", "metadata['host_patient_id']:'P-1'")],
    )
    .await;
    let credit = run
        .expect(
            200,
            Post,
            "/v1/customers/{customer}/balance_transactions",
            &[&ada],
            &[
                ("amount", "-500"),
                ("currency", "gbp"),
                ("description", "Missed visit"),
            ],
        )
        .await;
    let credit = id(&credit);
    run.expect(
        200,
        Get,
        "/v1/customers/{customer}/balance_transactions",
        &[&ada],
        &[],
    )
    .await;
    run.expect(
        200,
        Get,
        "/v1/customers/{customer}/balance_transactions/{transaction}",
        &[&ada, &credit],
        &[("expand[]", "customer")],
    )
    .await;
    run.expect(
        200,
        Post,
        "/v1/customers/{customer}/balance_transactions/{transaction}",
        &[&ada, &credit],
        &[("metadata[reason]", "missed")],
    )
    .await;

    // The catalogue.
    let product = id(&run
        .expect(
            200,
            Post,
            "/v1/products",
            &[],
            &[("name", "Follow-up session")],
        )
        .await);
    run.expect(200, Get, "/v1/products/{id}", &[&product], &[])
        .await;
    run.expect(
        200,
        Post,
        "/v1/products/{id}",
        &[&product],
        &[("description", "A 30-minute follow-up")],
    )
    .await;
    run.expect(200, Get, "/v1/products", &[], &[]).await;
    run.expect(
        200,
        Get,
        "/v1/products/search",
        &[],
        &[("query", "name~'Follow'")],
    )
    .await;
    let price = id(&run
        .expect(
            200,
            Post,
            "/v1/prices",
            &[],
            &[
                ("product", &product),
                ("unit_amount", "5000"),
                ("currency", "gbp"),
            ],
        )
        .await);
    run.expect(200, Get, "/v1/prices/{price}", &[&price], &[])
        .await;
    run.expect(
        200,
        Post,
        "/v1/prices/{price}",
        &[&price],
        &[("nickname", "Standard")],
    )
    .await;
    run.expect(200, Get, "/v1/prices", &[], &[]).await;
    run.expect(
        200,
        Get,
        "/v1/prices/search",
        &[],
        &[("query", "currency:'gbp' AND active:'true'")],
    )
    .await;
    let spare = id(&run
        .expect(200, Post, "/v1/products", &[], &[("name", "Spare")])
        .await);
    run.expect(200, Delete, "/v1/products/{id}", &[&spare], &[])
        .await;

    // An invoice through its whole life.
    let invoice = id(&run
        .expect(
            200,
            Post,
            "/v1/invoices",
            &[],
            &[
                ("customer", &ada),
                ("currency", "gbp"),
                ("collection_method", "send_invoice"),
                ("days_until_due", "14"),
                ("metadata[host_invoice_id]", "INV-1"),
            ],
        )
        .await);
    run.expect(
        200,
        Post,
        "/v1/invoices/{invoice}/add_lines",
        &[&invoice],
        &[
            ("lines[0][pricing][price]", &price),
            ("lines[0][quantity]", "2"),
            ("lines[1][description]", "Home test kit"),
            ("lines[1][price_data][currency]", "gbp"),
            ("lines[1][price_data][product]", &product),
            ("lines[1][price_data][unit_amount]", "3500"),
        ],
    )
    .await;
    let item = id(&run
        .expect(
            200,
            Post,
            "/v1/invoiceitems",
            &[],
            &[
                ("customer", &ada),
                ("invoice", &invoice),
                ("amount", "-500"),
                ("currency", "gbp"),
                ("description", "Voucher"),
            ],
        )
        .await);
    run.expect(200, Get, "/v1/invoiceitems/{invoiceitem}", &[&item], &[])
        .await;
    run.expect(
        200,
        Post,
        "/v1/invoiceitems/{invoiceitem}",
        &[&item],
        &[("description", "Loyalty voucher")],
    )
    .await;
    run.expect(200, Get, "/v1/invoiceitems", &[], &[]).await;
    run.expect(200, Get, "/v1/invoices/{invoice}", &[&invoice], &[])
        .await;
    run.expect(
        200,
        Get,
        "/v1/invoices/{invoice}",
        &[&invoice],
        &[("expand[]", "customer")],
    )
    .await;
    run.expect(200, Get, "/v1/invoices/{invoice}/lines", &[&invoice], &[])
        .await;
    run.expect(
        200,
        Post,
        "/v1/invoices/{invoice}",
        &[&invoice],
        &[("description", "Thank you"), ("footer", "Harbour Health")],
    )
    .await;
    run.expect(
        200,
        Post,
        "/v1/invoices/create_preview",
        &[],
        &[
            ("customer", &ada),
            ("invoice_items[0][price]", &price),
            ("invoice_items[1][amount]", "1200"),
            ("invoice_items[1][currency]", "gbp"),
        ],
    )
    .await;
    run.expect(
        200,
        Post,
        "/v1/invoices/{invoice}/finalize",
        &[&invoice],
        &[],
    )
    .await;
    run.expect(200, Post, "/v1/invoices/{invoice}/send", &[&invoice], &[])
        .await;
    run.expect(
        200,
        Post,
        "/v1/invoices/{invoice}/pay",
        &[&invoice],
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    run.expect(
        200,
        Get,
        "/v1/invoices",
        &[],
        &[("customer", &ada), ("expand[]", "data.customer")],
    )
    .await;
    run.expect(
        200,
        Get,
        "/v1/invoices/search",
        &[],
        &[("query", "status:'paid' AND total>1000")],
    )
    .await;

    // The other endings: void, uncollectible, a deleted draft, a deleted item.
    let mut ended = Vec::new();
    for action in ["void", "mark_uncollectible"] {
        let other = id(&run
            .expect(
                200,
                Post,
                "/v1/invoices",
                &[],
                &[("customer", &bob), ("currency", "gbp")],
            )
            .await);
        run.expect(
            200,
            Post,
            "/v1/invoiceitems",
            &[],
            &[
                ("customer", &bob),
                ("invoice", &other),
                ("amount", "2500"),
                ("currency", "gbp"),
            ],
        )
        .await;
        run.expect(200, Post, "/v1/invoices/{invoice}/finalize", &[&other], &[])
            .await;
        let template = format!("/v1/invoices/{{invoice}}/{action}");
        run.expect(200, Post, &template, &[&other], &[]).await;
        ended.push(other);
    }
    let draft = id(&run
        .expect(200, Post, "/v1/invoices", &[], &[("customer", &bob)])
        .await);
    let loose = id(&run
        .expect(
            200,
            Post,
            "/v1/invoiceitems",
            &[],
            &[("customer", &bob), ("amount", "100"), ("currency", "gbp")],
        )
        .await);
    run.expect(
        200,
        Delete,
        "/v1/invoiceitems/{invoiceitem}",
        &[&loose],
        &[],
    )
    .await;
    run.expect(200, Delete, "/v1/invoices/{invoice}", &[&draft], &[])
        .await;
    let gone = id(&run
        .expect(200, Post, "/v1/customers", &[], &[("name", "Gone")])
        .await);
    run.expect(200, Delete, "/v1/customers/{customer}", &[&gone], &[])
        .await;
    run.expect(200, Get, "/v1/customers/{customer}", &[&gone], &[])
        .await;

    // Events.
    let events = run
        .expect(200, Get, "/v1/events", &[], &[("limit", "100")])
        .await;
    let first = events["data"][0]["id"].as_str().unwrap().to_owned();
    run.expect(200, Get, "/v1/events/{id}", &[&first], &[])
        .await;

    // Errors: unknown objects, unknown and missing parameters, a bad query, a card
    // decline, an idempotency conflict, no key.
    run.expect(404, Get, "/v1/customers/{customer}", &["cus_missing"], &[])
        .await;
    run.expect(404, Get, "/v1/invoices/{invoice}", &["in_missing"], &[])
        .await;
    run.expect(400, Post, "/v1/customers", &[], &[("shoe_size", "9")])
        .await;
    run.expect(
        400,
        Post,
        "/v1/customers/{customer}/balance_transactions",
        &[&ada],
        &[("amount", "100")],
    )
    .await;
    run.expect(
        400,
        Get,
        "/v1/invoices/search",
        &[],
        &[("query", "total>>5")],
    )
    .await;
    let declined = id(&run
        .expect(
            200,
            Post,
            "/v1/invoices",
            &[],
            &[("customer", &bob), ("currency", "gbp")],
        )
        .await);
    run.expect(
        200,
        Post,
        "/v1/invoiceitems",
        &[],
        &[
            ("customer", &bob),
            ("invoice", &declined),
            ("amount", "2500"),
            ("currency", "gbp"),
        ],
    )
    .await;
    run.expect(
        200,
        Post,
        "/v1/invoices/{invoice}/finalize",
        &[&declined],
        &[],
    )
    .await;
    run.expect(
        402,
        Post,
        "/v1/invoices/{invoice}/pay",
        &[&declined],
        &[("payment_method", "pm_card_chargeDeclined")],
    )
    .await;
    run.expect(400, Post, "/v1/invoices/{invoice}/void", &[&ended[0]], &[])
        .await;
    // A parameter the mock does not model, an expansion it cannot make, a rate limit.
    run.expect(400, Post, "/v1/customers", &[], &[("tax_exempt", "exempt")])
        .await;
    run.expect(400, Get, "/v1/customers", &[], &[("expand[]", "email")])
        .await;
    run.mock
        .faults()
        .next_request_to("/v1/customers", Fault::RateLimited);
    run.expect(429, Get, "/v1/customers", &[], &[]).await;
    // Idempotency keys reused with other parameters and on another endpoint.
    for (path, name) in [
        ("/v1/customers", "Ada"),
        ("/v1/customers", "Bob"),
        ("/v1/products", "Visit"),
    ] {
        let request = StripeRequest {
            method: Post,
            path: path.to_owned(),
            params: vec![("name".to_owned(), name.to_owned())],
            idempotency_key: Some("schema-reused-key".to_owned()),
            stripe_account: None,
            stripe_version: String::new(),
        };
        let answer = run.mock.send(&request).await.unwrap();
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        run.check("POST", path, answer.status, &body);
    }
    // Over HTTP: no key, a live key, a key that is not a test key (401s).
    let server = run.mock.serve("127.0.0.1:0").await.unwrap();
    for authorization in [
        "",
        "Authorization: Bearer sk_live_x\r\n",
        "Authorization: Bearer nope\r\n",
    ] {
        let (status, body) = raw_get(server.addr(), "/v1/customers", authorization).await;
        assert_eq!(status, 401, "{body}");
        run.check("GET", "/v1/customers", status, &body);
    }

    let deliveries = run.check_deliveries();
    assert!(deliveries > 20, "{deliveries} deliveries");

    let served: BTreeSet<(String, String)> = operations()
        .iter()
        .map(|operation| (operation.method.to_string(), operation.template.to_owned()))
        .collect();
    let missed: Vec<_> = served.difference(&run.succeeded).collect();
    assert!(
        missed.is_empty(),
        "operations never answered with success: {missed:?}"
    );
    println!(
        "checked {} answers and event payloads across {} operations",
        run.checked,
        served.len()
    );
    assert!(
        run.failures.is_empty(),
        "{} differences from Stripe's schema:\n{}",
        run.failures.len(),
        run.failures.join("\n")
    );
}
