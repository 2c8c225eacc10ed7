//! The typed Stripe client over the real HTTP transport, against a local wiremock
//! server on 127.0.0.1: paths, methods, headers and bodies of every endpoint group,
//! retries and idempotency keys, error classes, timeouts, decoding and pagination.
#![cfg(feature = "http")]
// Helpers outside `#[test]` functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use billbridge::stripe::client::{
    API_VERSION, AddressParams, CreateBalanceTransaction, CreateCustomer, CreateInvoice,
    CreateInvoiceItem, CreatePreview, CreatePrice, CreateProduct, CustomFieldParams,
    InvoiceItemPricing, InvoiceLineParams, LinePricing, ListCustomers, ListInvoices, ListPrices,
    PayInvoice, PendingInvoiceItemsBehavior, PreviewItemParams, ProductRef, RequestContext,
    StripeClient, TimeRange, UpdateCustomer, UpdateInvoice,
};
use billbridge::stripe::error::{ApiErrorClass, StripeError};
use billbridge::stripe::http::{HttpTransport, USER_AGENT};
use billbridge::stripe::key::ApiKey;
use billbridge::stripe::models::{CollectionMethod, InvoiceStatus, Period};
use billbridge::stripe::retry::{FixedJitter, RetryPolicy, Sleeper};
use billbridge::stripe::transport::{Method, TransportErrorKind};
use serde_json::{Value, json};
use wiremock::http::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_51ClientTestSecretKey";
const KEY_BODY: &str = "51ClientTestSecretKey";

/// Records every requested delay instead of waiting.
#[derive(Default)]
struct RecordingSleeper {
    delays: Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    fn delays(&self) -> Vec<Duration> {
        self.delays.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, duration: Duration) {
        self.delays.lock().unwrap().push(duration);
    }
}

struct Harness {
    server: MockServer,
    client: StripeClient,
    sleeper: Arc<RecordingSleeper>,
}

impl Harness {
    async fn start() -> Self {
        Self::with(|builder| builder).await
    }

    async fn with(
        configure: impl FnOnce(
            billbridge::stripe::client::StripeClientBuilder,
        ) -> billbridge::stripe::client::StripeClientBuilder,
    ) -> Self {
        let server = MockServer::start().await;
        let transport = HttpTransport::builder(ApiKey::secret(KEY).unwrap())
            .base_url(server.uri())
            .build()
            .unwrap();
        let sleeper = Arc::new(RecordingSleeper::default());
        let builder = StripeClient::builder(transport)
            .sleeper(sleeper.clone())
            .jitter(FixedJitter(1.0));
        let client = configure(builder).build();
        Self {
            server,
            client,
            sleeper,
        }
    }

    async fn respond(&self, verb: &str, at: &str, status: u16, body: Value) {
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("Request-Id", "req_test123")
                    .set_body_json(body),
            )
            .mount(&self.server)
            .await;
    }

    async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap()
    }

    async fn only_request(&self) -> Request {
        let mut requests = self.requests().await;
        assert_eq!(requests.len(), 1, "expected exactly one request");
        requests.remove(0)
    }
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .map(|value| value.to_str().unwrap())
}

fn pairs_of(encoded: &str) -> Vec<(String, String)> {
    Url::parse(&format!("http://decode.invalid/?{encoded}"))
        .unwrap()
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

fn body_pairs(request: &Request) -> Vec<(String, String)> {
    pairs_of(std::str::from_utf8(&request.body).unwrap())
}

fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn assert_post(request: &Request, at: &str) {
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), at);
    assert_eq!(
        header(request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        header(request, "idempotency-key").is_some(),
        "every POST carries an idempotency key"
    );
}

fn assert_get(request: &Request, at: &str) {
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), at);
    assert!(request.body.is_empty());
}

fn customer_json(id: &str) -> Value {
    json!({"id": id, "object": "customer", "created": 1_700_000_000, "livemode": false,
           "balance": 0, "metadata": {}, "name": "Jane Doe"})
}

fn invoice_json(id: &str, status: &str) -> Value {
    json!({"id": id, "object": "invoice", "currency": "gbp",
           "collection_method": "send_invoice", "status": status,
           "subtotal": 4500, "total": 4500, "amount_due": 4500, "amount_paid": 0,
           "amount_remaining": 4500, "starting_balance": 0, "created": 1_700_000_000,
           "livemode": false, "metadata": {}, "status_transitions": {},
           "lines": {"object": "list", "data": [], "has_more": false,
                     "url": format!("/v1/invoices/{id}/lines")}})
}

fn line_json(id: &str) -> Value {
    json!({"id": id, "object": "line_item", "amount": 4500, "currency": "gbp",
           "livemode": false, "metadata": {}, "discountable": true, "quantity": 1})
}

fn price_json(id: &str) -> Value {
    json!({"id": id, "object": "price", "active": true, "currency": "gbp",
           "product": "prod_1", "type": "one_time", "unit_amount": 4500,
           "created": 1_700_000_000, "livemode": false, "metadata": {},
           "lookup_key": "follow_up", "billing_scheme": "per_unit"})
}

fn product_json(id: &str) -> Value {
    json!({"id": id, "object": "product", "name": "Follow-up", "active": true,
           "created": 1_700_000_000, "livemode": false, "metadata": {}})
}

fn deleted_json(id: &str, object: &str) -> Value {
    json!({"id": id, "object": object, "deleted": true})
}

fn list_json(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({"object": "list", "data": data, "has_more": has_more, "url": url})
}

fn error_json(error_type: &str, code: Option<&str>) -> Value {
    json!({"error": {"type": error_type, "code": code,
                     "message": "No such customer: 'cus_missing'", "param": "customer",
                     "doc_url": "https://stripe.com/docs/error-codes"}})
}

// ---------------------------------------------------------------- headers

#[tokio::test]
async fn every_request_carries_auth_version_and_user_agent_headers() {
    let harness = Harness::start().await;
    harness
        .respond("GET", "/v1/customers/cus_1", 200, customer_json("cus_1"))
        .await;
    let customer = harness
        .client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(customer.id, "cus_1");
    let request = harness.only_request().await;
    assert_get(&request, "/v1/customers/cus_1");
    assert_eq!(
        header(&request, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(header(&request, "stripe-version"), Some(API_VERSION));
    assert_eq!(header(&request, "user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("billbridge/"));
    assert_eq!(
        header(&request, "idempotency-key"),
        None,
        "GETs carry no key"
    );
    assert_eq!(header(&request, "stripe-account"), None);
}

#[tokio::test]
async fn context_sets_stripe_account_and_caller_idempotency_key() {
    let harness = Harness::start().await;
    harness
        .respond("POST", "/v1/customers", 200, customer_json("cus_1"))
        .await;
    let context = RequestContext::new()
        .with_account("acct_practice_7")
        .with_idempotency_key("bb-customer-P1-r3");
    harness
        .client
        .customers()
        .create(&CreateCustomer::default(), &context)
        .await
        .unwrap();
    let request = harness.only_request().await;
    assert_eq!(header(&request, "stripe-account"), Some("acct_practice_7"));
    assert_eq!(
        header(&request, "idempotency-key"),
        Some("bb-customer-P1-r3")
    );
}

#[tokio::test]
async fn api_version_can_be_overridden_per_client() {
    let harness = Harness::with(|builder| builder.api_version("2025-03-31.basil")).await;
    harness
        .respond("GET", "/v1/customers/cus_1", 200, customer_json("cus_1"))
        .await;
    assert_eq!(harness.client.api_version(), "2025-03-31.basil");
    harness
        .client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap();
    let request = harness.only_request().await;
    assert_eq!(header(&request, "stripe-version"), Some("2025-03-31.basil"));
}

#[tokio::test]
async fn generated_idempotency_keys_differ_between_calls() {
    let harness = Harness::start().await;
    harness
        .respond("POST", "/v1/customers", 200, customer_json("cus_1"))
        .await;
    let context = RequestContext::new();
    for _ in 0..2 {
        harness
            .client
            .customers()
            .create(&CreateCustomer::default(), &context)
            .await
            .unwrap();
    }
    let requests = harness.requests().await;
    let keys: Vec<&str> = requests
        .iter()
        .map(|request| header(request, "idempotency-key").unwrap())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
    assert!(keys.iter().all(|key| key.len() <= 255));
}

// ---------------------------------------------------------------- customers

#[tokio::test]
async fn customer_create_sends_every_field_in_order() {
    let harness = Harness::start().await;
    harness
        .respond("POST", "/v1/customers", 200, customer_json("cus_new"))
        .await;
    let params = CreateCustomer {
        name: Some("Jane Doe".into()),
        email: Some("jane+billing@example.com".into()),
        phone: Some("+44 7700 900123".into()),
        address: Some(AddressParams {
            line1: Some("1 High St".into()),
            postal_code: Some("AB1 2CD".into()),
            country: Some("GB".into()),
            ..AddressParams::default()
        }),
        metadata: vec![("ehr_patient_id".into(), "P-1".into())],
        preferred_locales: vec!["en-GB".into()],
        ..CreateCustomer::default()
    };
    let customer = harness
        .client
        .customers()
        .create(&params, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(customer.id, "cus_new");
    let request = harness.only_request().await;
    assert_post(&request, "/v1/customers");
    assert_eq!(
        body_pairs(&request),
        pairs(&[
            ("name", "Jane Doe"),
            ("email", "jane+billing@example.com"),
            ("phone", "+44 7700 900123"),
            ("address[line1]", "1 High St"),
            ("address[postal_code]", "AB1 2CD"),
            ("address[country]", "GB"),
            ("metadata[ehr_patient_id]", "P-1"),
            ("preferred_locales[0]", "en-GB"),
        ])
    );
}

#[tokio::test]
async fn customer_update_sends_metadata_diff_with_empty_values_unsetting() {
    let harness = Harness::start().await;
    harness
        .respond("POST", "/v1/customers/cus_1", 200, customer_json("cus_1"))
        .await;
    let params = UpdateCustomer {
        email: Some(String::new()),
        metadata: vec![
            ("postcode".into(), "AB1 2CD".into()),
            ("gender".into(), String::new()),
        ],
        preferred_locales: Some(vec!["fr".into()]),
        ..UpdateCustomer::default()
    };
    harness
        .client
        .customers()
        .update("cus_1", &params, &RequestContext::new())
        .await
        .unwrap();
    let request = harness.only_request().await;
    assert_post(&request, "/v1/customers/cus_1");
    assert_eq!(
        body_pairs(&request),
        pairs(&[
            ("email", ""),
            ("metadata[postcode]", "AB1 2CD"),
            ("metadata[gender]", ""),
            ("preferred_locales[0]", "fr"),
        ])
    );
}

#[tokio::test]
async fn customer_delete_and_list_use_the_right_methods_and_query() {
    let harness = Harness::start().await;
    harness
        .respond(
            "DELETE",
            "/v1/customers/cus_1",
            200,
            deleted_json("cus_1", "customer"),
        )
        .await;
    harness
        .respond(
            "GET",
            "/v1/customers",
            200,
            list_json(vec![customer_json("cus_2")], false, "/v1/customers"),
        )
        .await;
    let deleted = harness
        .client
        .customers()
        .delete("cus_1", &RequestContext::new())
        .await
        .unwrap();
    assert!(deleted.deleted);
    let listed = harness
        .client
        .customers()
        .list(
            &ListCustomers {
                email: Some("jane@example.com".into()),
                created: Some(TimeRange::between(100, 200)),
                limit: Some(50),
            },
            &RequestContext::new(),
        )
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let requests = harness.requests().await;
    assert_eq!(requests[0].method.as_str(), "DELETE");
    assert_eq!(requests[0].url.path(), "/v1/customers/cus_1");
    assert_get(&requests[1], "/v1/customers");
    assert_eq!(
        query_pairs(&requests[1]),
        pairs(&[
            ("email", "jane@example.com"),
            ("created[gte]", "100"),
            ("created[lt]", "200"),
            ("limit", "50"),
        ])
    );
}

// ---------------------------------------------------------------- balance transactions

#[tokio::test]
async fn balance_transactions_create_and_list() {
    let harness = Harness::start().await;
    let transaction = json!({"id": "cbtxn_1", "object": "customer_balance_transaction",
        "amount": -5000, "currency": "gbp", "ending_balance": -5000, "type": "adjustment",
        "created": 1_700_000_000, "livemode": false, "metadata": {}, "customer": "cus_1"});
    let at = "/v1/customers/cus_1/balance_transactions";
    harness.respond("POST", at, 200, transaction.clone()).await;
    harness
        .respond("GET", at, 200, list_json(vec![transaction], false, at))
        .await;
    let created = harness
        .client
        .balance_transactions()
        .create(
            "cus_1",
            &CreateBalanceTransaction {
                amount: -5000,
                currency: "gbp".into(),
                description: Some("Missed appointment kept as credit".into()),
                metadata: vec![("reason".into(), "late_cancellation".into())],
            },
            &RequestContext::new(),
        )
        .await
        .unwrap();
    assert_eq!(created.amount, -5000);
    let listed = harness
        .client
        .balance_transactions()
        .list("cus_1", Some(10), &RequestContext::new())
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let requests = harness.requests().await;
    assert_post(&requests[0], at);
    assert_eq!(
        body_pairs(&requests[0]),
        pairs(&[
            ("amount", "-5000"),
            ("currency", "gbp"),
            ("description", "Missed appointment kept as credit"),
            ("metadata[reason]", "late_cancellation"),
        ])
    );
    assert_get(&requests[1], at);
    assert_eq!(query_pairs(&requests[1]), pairs(&[("limit", "10")]));
}

// ---------------------------------------------------------------- invoices

#[tokio::test]
async fn invoice_create_sends_every_parameter() {
    let harness = Harness::start().await;
    harness
        .respond("POST", "/v1/invoices", 200, invoice_json("in_1", "draft"))
        .await;
    let params = CreateInvoice {
        currency: Some("gbp".into()),
        collection_method: Some(CollectionMethod::SendInvoice),
        days_until_due: Some(14),
        auto_advance: Some(false),
        description: Some("Thank you for your visit".into()),
        footer: Some("Practice Ltd, 1 High St".into()),
        metadata: vec![("ehr_invoice_id".into(), "INV-9".into())],
        custom_fields: vec![CustomFieldParams {
            name: "Practitioner".into(),
            value: "Dr Who".into(),
        }],
        pending_invoice_items_behavior: Some(PendingInvoiceItemsBehavior::Exclude),
        ..CreateInvoice::new("cus_1")
    };
    let invoice = harness
        .client
        .invoices()
        .create(&params, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(invoice.id, "in_1");
    let request = harness.only_request().await;
    assert_post(&request, "/v1/invoices");
    assert_eq!(
        body_pairs(&request),
        pairs(&[
            ("customer", "cus_1"),
            ("currency", "gbp"),
            ("collection_method", "send_invoice"),
            ("days_until_due", "14"),
            ("auto_advance", "false"),
            ("description", "Thank you for your visit"),
            ("footer", "Practice Ltd, 1 High St"),
            ("metadata[ehr_invoice_id]", "INV-9"),
            ("custom_fields[0][name]", "Practitioner"),
            ("custom_fields[0][value]", "Dr Who"),
            ("pending_invoice_items_behavior", "exclude"),
        ])
    );
}

#[tokio::test]
async fn invoice_update_can_clear_custom_fields() {
    let harness = Harness::start().await;
    harness
        .respond(
            "POST",
            "/v1/invoices/in_1",
            200,
            invoice_json("in_1", "open"),
        )
        .await;
    let params = UpdateInvoice {
        footer: Some("New footer".into()),
        metadata: vec![("patient_gender".into(), String::new())],
        custom_fields: Some(Vec::new()),
        ..UpdateInvoice::default()
    };
    harness
        .client
        .invoices()
        .update("in_1", &params, &RequestContext::new())
        .await
        .unwrap();
    let request = harness.only_request().await;
    assert_post(&request, "/v1/invoices/in_1");
    assert_eq!(
        body_pairs(&request),
        pairs(&[
            ("footer", "New footer"),
            ("metadata[patient_gender]", ""),
            ("custom_fields", ""),
        ])
    );
}

#[tokio::test]
async fn invoice_add_lines_encodes_catalogue_and_ad_hoc_lines() {
    let harness = Harness::start().await;
    harness
        .respond(
            "POST",
            "/v1/invoices/in_1/add_lines",
            200,
            invoice_json("in_1", "draft"),
        )
        .await;
    let lines = [
        InvoiceLineParams {
            description: Some("Follow-up consultation".into()),
            quantity: Some(2),
            metadata: vec![("service_id".into(), "S-1".into())],
            period: Some(Period {
                start: 1_700_000_000,
                end: 1_700_003_600,
            }),
            pricing: LinePricing::PriceData {
                currency: "gbp".into(),
                product: ProductRef::Data {
                    name: "Consultation".into(),
                },
                unit_amount: 4500,
            },
        },
        InvoiceLineParams {
            description: None,
            quantity: Some(1),
            metadata: Vec::new(),
            period: None,
            pricing: LinePricing::Price("price_1".into()),
        },
        InvoiceLineParams {
            description: Some("Postage".into()),
            quantity: None,
            metadata: Vec::new(),
            period: None,
            pricing: LinePricing::PriceData {
                currency: "gbp".into(),
                product: ProductRef::Id("prod_post".into()),
                unit_amount: 150,
            },
        },
    ];
    harness
        .client
        .invoices()
        .add_lines("in_1", &lines, &RequestContext::new())
        .await
        .unwrap();
    let request = harness.only_request().await;
    assert_post(&request, "/v1/invoices/in_1/add_lines");
    assert_eq!(
        body_pairs(&request),
        pairs(&[
            ("lines[0][description]", "Follow-up consultation"),
            ("lines[0][quantity]", "2"),
            ("lines[0][metadata][service_id]", "S-1"),
            ("lines[0][period][start]", "1700000000"),
            ("lines[0][period][end]", "1700003600"),
            ("lines[0][price_data][currency]", "gbp"),
            ("lines[0][price_data][product_data][name]", "Consultation"),
            ("lines[0][price_data][unit_amount]", "4500"),
            ("lines[1][quantity]", "1"),
            ("lines[1][pricing][price]", "price_1"),
            ("lines[2][description]", "Postage"),
            ("lines[2][price_data][currency]", "gbp"),
            ("lines[2][price_data][product]", "prod_post"),
            ("lines[2][price_data][unit_amount]", "150"),
        ])
    );
}

#[tokio::test]
async fn invoice_lifecycle_actions_post_to_their_paths() {
    let harness = Harness::start().await;
    for (action, status) in [
        ("/finalize", "open"),
        ("/send", "open"),
        ("/pay", "paid"),
        ("/void", "void"),
        ("/mark_uncollectible", "uncollectible"),
    ] {
        harness
            .respond(
                "POST",
                &format!("/v1/invoices/in_1{action}"),
                200,
                invoice_json("in_1", status),
            )
            .await;
    }
    harness
        .respond(
            "DELETE",
            "/v1/invoices/in_1",
            200,
            deleted_json("in_1", "invoice"),
        )
        .await;
    let invoices = harness.client.invoices();
    let context = RequestContext::new();
    let finalized = invoices
        .finalize("in_1", Some(false), &context)
        .await
        .unwrap();
    assert_eq!(finalized.status, Some(InvoiceStatus::Open));
    invoices.send("in_1", &context).await.unwrap();
    let paid = invoices
        .pay("in_1", &PayInvoice::out_of_band(), &context)
        .await
        .unwrap();
    assert_eq!(paid.status, Some(InvoiceStatus::Paid));
    invoices.void("in_1", &context).await.unwrap();
    invoices.mark_uncollectible("in_1", &context).await.unwrap();
    let deleted = invoices.delete("in_1", &context).await.unwrap();
    assert!(deleted.deleted);

    let requests = harness.requests().await;
    let seen: Vec<(String, String)> = requests
        .iter()
        .map(|request| (request.method.to_string(), request.url.path().to_owned()))
        .collect();
    assert_eq!(
        seen,
        pairs(&[
            ("POST", "/v1/invoices/in_1/finalize"),
            ("POST", "/v1/invoices/in_1/send"),
            ("POST", "/v1/invoices/in_1/pay"),
            ("POST", "/v1/invoices/in_1/void"),
            ("POST", "/v1/invoices/in_1/mark_uncollectible"),
            ("DELETE", "/v1/invoices/in_1"),
        ])
    );
    assert_eq!(
        body_pairs(&requests[0]),
        pairs(&[("auto_advance", "false")])
    );
    assert_eq!(body_pairs(&requests[1]), Vec::new());
    assert_eq!(
        body_pairs(&requests[2]),
        pairs(&[("paid_out_of_band", "true")])
    );
    for request in &requests[..5] {
        assert!(header(request, "idempotency-key").is_some());
    }
}

#[tokio::test]
async fn invoice_list_sends_filters_and_retrieve_and_lines_use_get() {
    let harness = Harness::start().await;
    harness
        .respond(
            "GET",
            "/v1/invoices",
            200,
            list_json(vec![invoice_json("in_1", "open")], false, "/v1/invoices"),
        )
        .await;
    harness
        .respond(
            "GET",
            "/v1/invoices/in_1",
            200,
            invoice_json("in_1", "open"),
        )
        .await;
    harness
        .respond(
            "GET",
            "/v1/invoices/in_1/lines",
            200,
            list_json(vec![line_json("il_1")], false, "/v1/invoices/in_1/lines"),
        )
        .await;
    let context = RequestContext::new();
    let invoices = harness
        .client
        .invoices()
        .list(
            &ListInvoices {
                customer: Some("cus_1".into()),
                status: Some(InvoiceStatus::Open),
                created: Some(TimeRange {
                    gte: Some(100),
                    lte: Some(200),
                    ..TimeRange::default()
                }),
                collection_method: Some(CollectionMethod::SendInvoice),
                limit: Some(100),
            },
            &context,
        )
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(invoices.len(), 1);
    harness
        .client
        .invoices()
        .retrieve("in_1", &context)
        .await
        .unwrap();
    let lines = harness
        .client
        .invoices()
        .list_lines("in_1", Some(100), &context)
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(lines[0].amount, 4500);
    let requests = harness.requests().await;
    assert_get(&requests[0], "/v1/invoices");
    assert_eq!(
        query_pairs(&requests[0]),
        pairs(&[
            ("customer", "cus_1"),
            ("status", "open"),
            ("created[gte]", "100"),
            ("created[lte]", "200"),
            ("collection_method", "send_invoice"),
            ("limit", "100"),
        ])
    );
    assert_get(&requests[1], "/v1/invoices/in_1");
    assert_get(&requests[2], "/v1/invoices/in_1/lines");
    assert_eq!(query_pairs(&requests[2]), pairs(&[("limit", "100")]));
}

#[tokio::test]
async fn invoice_create_preview_posts_customer_and_items() {
    let harness = Harness::start().await;
    harness
        .respond(
            "POST",
            "/v1/invoices/create_preview",
            200,
            invoice_json("upcoming_in_1", "draft"),
        )
        .await;
    let preview = harness
        .client
        .invoices()
        .create_preview(
            &CreatePreview {
                customer: "cus_1".into(),
                currency: Some("gbp".into()),
                invoice_items: vec![PreviewItemParams {
                    description: Some("Follow-up".into()),
                    quantity: Some(1),
                    currency: "gbp".into(),
                    product: "prod_1".into(),
                    unit_amount: 4500,
                }],
            },
            &RequestContext::new(),
        )
        .await
        .unwrap();
    assert_eq!(preview.amount_due, 4500);
    let request = harness.only_request().await;
    assert_post(&request, "/v1/invoices/create_preview");
    assert_eq!(
        body_pairs(&request),
        pairs(&[
            ("customer", "cus_1"),
            ("currency", "gbp"),
            ("invoice_items[0][description]", "Follow-up"),
            ("invoice_items[0][quantity]", "1"),
            ("invoice_items[0][price_data][currency]", "gbp"),
            ("invoice_items[0][price_data][product]", "prod_1"),
            ("invoice_items[0][price_data][unit_amount]", "4500"),
        ])
    );
}

// ---------------------------------------------------------------- items, products, prices

#[tokio::test]
async fn invoice_items_create_and_delete() {
    let harness = Harness::start().await;
    let item = json!({"id": "ii_1", "object": "invoiceitem", "amount": -1000,
        "currency": "gbp", "quantity": 1, "date": 1_700_000_000, "livemode": false,
        "metadata": {}, "discountable": false, "proration": false});
    harness.respond("POST", "/v1/invoiceitems", 200, item).await;
    harness
        .respond(
            "DELETE",
            "/v1/invoiceitems/ii_1",
            200,
            deleted_json("ii_1", "invoiceitem"),
        )
        .await;
    let created = harness
        .client
        .invoice_items()
        .create(
            &CreateInvoiceItem {
                customer: "cus_1".into(),
                invoice: Some("in_1".into()),
                description: Some("Insurance share".into()),
                quantity: None,
                pricing: InvoiceItemPricing::Amount {
                    amount: -1000,
                    currency: "gbp".into(),
                },
                metadata: vec![("payer".into(), "insurer".into())],
                period: None,
            },
            &RequestContext::new(),
        )
        .await
        .unwrap();
    assert_eq!(created.amount, -1000);
    harness
        .client
        .invoice_items()
        .delete("ii_1", &RequestContext::new())
        .await
        .unwrap();
    let requests = harness.requests().await;
    assert_post(&requests[0], "/v1/invoiceitems");
    assert_eq!(
        body_pairs(&requests[0]),
        pairs(&[
            ("customer", "cus_1"),
            ("invoice", "in_1"),
            ("description", "Insurance share"),
            ("amount", "-1000"),
            ("currency", "gbp"),
            ("metadata[payer]", "insurer"),
        ])
    );
    assert_eq!(requests[1].method.as_str(), "DELETE");
    assert_eq!(requests[1].url.path(), "/v1/invoiceitems/ii_1");
}

#[tokio::test]
async fn products_and_prices_create_retrieve_and_list_by_lookup_key() {
    let harness = Harness::start().await;
    harness
        .respond("POST", "/v1/products", 200, product_json("prod_1"))
        .await;
    harness
        .respond("GET", "/v1/products/prod_1", 200, product_json("prod_1"))
        .await;
    harness
        .respond("POST", "/v1/prices", 200, price_json("price_1"))
        .await;
    harness
        .respond("GET", "/v1/prices/price_1", 200, price_json("price_1"))
        .await;
    harness
        .respond(
            "GET",
            "/v1/prices",
            200,
            list_json(vec![price_json("price_1")], false, "/v1/prices"),
        )
        .await;
    let context = RequestContext::new();
    let product = harness
        .client
        .products()
        .create(
            &CreateProduct {
                name: "Follow-up".into(),
                ..CreateProduct::default()
            },
            &context,
        )
        .await
        .unwrap();
    assert_eq!(product.name, "Follow-up");
    harness
        .client
        .products()
        .retrieve("prod_1", &context)
        .await
        .unwrap();
    let price = harness
        .client
        .prices()
        .create(
            &CreatePrice {
                currency: "gbp".into(),
                unit_amount: 4500,
                product: ProductRef::Id("prod_1".into()),
                lookup_key: Some("follow_up".into()),
                transfer_lookup_key: Some(true),
                nickname: None,
                metadata: Vec::new(),
            },
            &context,
        )
        .await
        .unwrap();
    assert_eq!(price.id, "price_1");
    harness
        .client
        .prices()
        .retrieve("price_1", &context)
        .await
        .unwrap();
    let found = harness
        .client
        .prices()
        .list(
            &ListPrices {
                lookup_keys: vec!["follow_up".into(), "first_visit".into()],
                ..ListPrices::default()
            },
            &context,
        )
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let requests = harness.requests().await;
    assert_post(&requests[0], "/v1/products");
    assert_eq!(body_pairs(&requests[0]), pairs(&[("name", "Follow-up")]));
    assert_get(&requests[1], "/v1/products/prod_1");
    assert_post(&requests[2], "/v1/prices");
    assert_eq!(
        body_pairs(&requests[2]),
        pairs(&[
            ("currency", "gbp"),
            ("unit_amount", "4500"),
            ("product", "prod_1"),
            ("lookup_key", "follow_up"),
            ("transfer_lookup_key", "true"),
        ])
    );
    assert_get(&requests[3], "/v1/prices/price_1");
    assert_get(&requests[4], "/v1/prices");
    assert_eq!(
        query_pairs(&requests[4]),
        pairs(&[
            ("lookup_keys[0]", "follow_up"),
            ("lookup_keys[1]", "first_visit")
        ])
    );
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn server_error_is_retried_with_the_same_idempotency_key() {
    let harness = Harness::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/invoices/in_1/finalize"))
        .respond_with(ResponseTemplate::new(500).set_body_json(error_json("api_error", None)))
        .up_to_n_times(1)
        .mount(&harness.server)
        .await;
    harness
        .respond(
            "POST",
            "/v1/invoices/in_1/finalize",
            200,
            invoice_json("in_1", "open"),
        )
        .await;
    let invoice = harness
        .client
        .invoices()
        .finalize("in_1", None, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(invoice.status, Some(InvoiceStatus::Open));
    let requests = harness.requests().await;
    assert_eq!(requests.len(), 2);
    let first = header(&requests[0], "idempotency-key").unwrap();
    let second = header(&requests[1], "idempotency-key").unwrap();
    assert_eq!(first, second);
    assert_eq!(requests[0].body, requests[1].body);
    assert_eq!(harness.sleeper.delays(), vec![Duration::from_millis(500)]);
}

#[tokio::test]
async fn should_retry_false_stops_retrying_a_server_error() {
    let harness = Harness::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("Stripe-Should-Retry", "false")
                .set_body_json(error_json("api_error", None)),
        )
        .mount(&harness.server)
        .await;
    let error = harness
        .client
        .customers()
        .create(&CreateCustomer::default(), &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.class(), Some(ApiErrorClass::Server));
    assert!(error.outcome_unknown());
    assert_eq!(harness.requests().await.len(), 1);
    assert!(harness.sleeper.delays().is_empty());
}

#[tokio::test]
async fn should_retry_true_retries_even_a_client_error() {
    let harness = Harness::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_1"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("Stripe-Should-Retry", "true")
                .set_body_json(error_json("invalid_request_error", None)),
        )
        .mount(&harness.server)
        .await;
    let error = harness
        .client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.class(), Some(ApiErrorClass::InvalidRequest));
    assert_eq!(harness.requests().await.len(), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn rate_limit_backs_off_and_then_succeeds() {
    let harness = Harness::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_1"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(error_json("invalid_request_error", Some("rate_limit"))),
        )
        .up_to_n_times(2)
        .mount(&harness.server)
        .await;
    harness
        .respond("GET", "/v1/customers/cus_1", 200, customer_json("cus_1"))
        .await;
    harness
        .client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(harness.requests().await.len(), 3);
    assert_eq!(
        harness.sleeper.delays(),
        vec![Duration::from_millis(500), Duration::from_millis(1000)]
    );
}

#[tokio::test]
async fn lock_timeout_is_retried_and_then_reported_as_its_own_class() {
    let harness =
        Harness::with(|builder| builder.retry_policy(RetryPolicy::with_max_retries(3))).await;
    Mock::given(method("POST"))
        .and(path("/v1/invoices/in_1/pay"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Request-Id", "req_lock")
                .set_body_json(error_json("invalid_request_error", Some("lock_timeout"))),
        )
        .mount(&harness.server)
        .await;
    let error = harness
        .client
        .invoices()
        .pay("in_1", &PayInvoice::out_of_band(), &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.class(), Some(ApiErrorClass::LockTimeout));
    assert_eq!(error.code(), "stripe_lock_timeout");
    assert_eq!(error.stripe_code(), Some("lock_timeout"));
    assert_eq!(error.request_id(), Some("req_lock"));
    assert_eq!(harness.requests().await.len(), 4);
    assert_eq!(
        harness.sleeper.delays(),
        vec![
            Duration::from_millis(500),
            Duration::from_millis(1000),
            Duration::from_millis(2000)
        ]
    );
    let keys: Vec<String> = harness
        .requests()
        .await
        .iter()
        .map(|request| header(request, "idempotency-key").unwrap().to_owned())
        .collect();
    assert!(keys.windows(2).all(|pair| pair[0] == pair[1]));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let harness = Harness::start().await;
    harness
        .respond(
            "GET",
            "/v1/customers/cus_missing",
            404,
            error_json("invalid_request_error", Some("resource_missing")),
        )
        .await;
    let error = harness
        .client
        .customers()
        .retrieve("cus_missing", &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.class(), Some(ApiErrorClass::InvalidRequest));
    assert_eq!(harness.requests().await.len(), 1);
    assert!(harness.sleeper.delays().is_empty());
}

// ---------------------------------------------------------------- transport errors

#[tokio::test]
async fn a_slow_response_surfaces_as_a_typed_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(customer_json("cus_1"))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let transport = HttpTransport::builder(ApiKey::secret(KEY).unwrap())
        .base_url(server.uri())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = StripeClient::builder(transport)
        .retry_policy(RetryPolicy::with_max_retries(1))
        .sleeper(sleeper.clone())
        .jitter(FixedJitter(1.0))
        .build();
    let error = client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap_err();
    match &error {
        StripeError::Transport(transport) => {
            assert_eq!(transport.kind, TransportErrorKind::Timeout)
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(error.code(), "stripe_timeout");
    assert!(error.outcome_unknown());
    assert_eq!(sleeper.delays().len(), 1, "timeouts are retried");
    assert!(!format!("{error} {error:?}").contains(KEY_BODY));
}

#[tokio::test]
async fn a_refused_connection_surfaces_as_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let transport = HttpTransport::builder(ApiKey::secret(KEY).unwrap())
        .base_url(format!("http://{address}"))
        .build()
        .unwrap();
    let client = StripeClient::builder(transport)
        .retry_policy(RetryPolicy::none())
        .build();
    let error = client
        .customers()
        .list(
            &ListCustomers {
                email: Some("jane@example.com".into()),
                ..ListCustomers::default()
            },
            &RequestContext::new(),
        )
        .unwrap()
        .next_page()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_connection_error");
    let text = format!("{error} {error:?}");
    assert!(!text.contains(KEY_BODY), "{text}");
    assert!(
        !text.contains("jane@example.com"),
        "query values stay out: {text}"
    );
}

// ---------------------------------------------------------------- error classes

#[tokio::test]
async fn each_error_status_maps_to_its_class_and_code() {
    let cases: [(u16, &str, Option<&str>, ApiErrorClass, &str); 9] = [
        (
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            ApiErrorClass::InvalidRequest,
            "stripe_invalid_request",
        ),
        (
            400,
            "idempotency_error",
            None,
            ApiErrorClass::Idempotency,
            "stripe_idempotency_error",
        ),
        (
            401,
            "invalid_request_error",
            None,
            ApiErrorClass::Authentication,
            "stripe_authentication_failed",
        ),
        (
            402,
            "invalid_request_error",
            None,
            ApiErrorClass::RequestFailed,
            "stripe_request_failed",
        ),
        (
            403,
            "invalid_request_error",
            None,
            ApiErrorClass::Permission,
            "stripe_permission_denied",
        ),
        (
            404,
            "invalid_request_error",
            Some("resource_missing"),
            ApiErrorClass::InvalidRequest,
            "stripe_invalid_request",
        ),
        (
            409,
            "invalid_request_error",
            Some("idempotency_key_in_use"),
            ApiErrorClass::Conflict,
            "stripe_conflict",
        ),
        (
            429,
            "invalid_request_error",
            Some("rate_limit"),
            ApiErrorClass::RateLimited,
            "stripe_rate_limited",
        ),
        (
            500,
            "idempotency_error",
            None,
            ApiErrorClass::Server,
            "stripe_server_error",
        ),
    ];
    for (status, error_type, code, class, billbridge_code) in cases {
        let harness = Harness::with(|builder| builder.retry_policy(RetryPolicy::none())).await;
        harness
            .respond(
                "GET",
                "/v1/customers/cus_1",
                status,
                error_json(error_type, code),
            )
            .await;
        let error = harness
            .client
            .customers()
            .retrieve("cus_1", &RequestContext::new())
            .await
            .unwrap_err();
        assert_eq!(error.class(), Some(class), "status {status} {error_type}");
        assert_eq!(error.code(), billbridge_code, "status {status}");
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.stripe_code(), code);
        assert_eq!(error.request_id(), Some("req_test123"));
        let api = error.api_error().unwrap();
        assert_eq!(api.param(), Some("customer"));
        assert_eq!(api.message(), Some("No such customer: 'cus_missing'"));
        assert_eq!(
            api.error_type.as_ref().map(|t| t.as_str()),
            Some(error_type)
        );
        assert!(!error.to_string().contains("No such customer"));
    }
}

#[tokio::test]
async fn card_error_carries_its_decline_code() {
    let harness = Harness::start().await;
    harness
        .respond(
            "POST",
            "/v1/invoices/in_1/pay",
            402,
            json!({"error": {"type": "card_error", "code": "card_declined",
                             "decline_code": "insufficient_funds",
                             "message": "Your card has insufficient funds."}}),
        )
        .await;
    let error = harness
        .client
        .invoices()
        .pay("in_1", &PayInvoice::default(), &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.class(), Some(ApiErrorClass::Card));
    assert_eq!(error.code(), "stripe_card_error");
    assert_eq!(error.stripe_code(), Some("card_declined"));
    assert_eq!(error.decline_code(), Some("insufficient_funds"));
    assert!(error.to_string().contains("insufficient_funds"));
    assert_eq!(harness.requests().await.len(), 1, "402 is not retried");
}

#[tokio::test]
async fn an_error_without_a_stripe_body_is_classified_by_status() {
    let harness = Harness::with(|builder| builder.retry_policy(RetryPolicy::none())).await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_1"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
        .mount(&harness.server)
        .await;
    let error = harness
        .client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.class(), Some(ApiErrorClass::Server));
    assert_eq!(error.api_error().unwrap().error_type, None);
}

#[tokio::test]
async fn an_undecodable_success_body_is_a_decode_error() {
    let harness = Harness::start().await;
    harness
        .respond(
            "GET",
            "/v1/customers/cus_1",
            200,
            json!({"id": 42, "object": "customer", "email": "private@example.com"}),
        )
        .await;
    let error = harness
        .client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap_err();
    assert!(matches!(error, StripeError::Decode(_)), "{error:?}");
    assert_eq!(error.code(), "stripe_decode_error");
    assert_eq!(error.status(), Some(200));
    assert_eq!(error.request_id(), Some("req_test123"));
    assert!(!error.to_string().contains("private@example.com"));
    assert_eq!(
        harness.requests().await.len(),
        1,
        "decode errors are not retried"
    );
}

// ---------------------------------------------------------------- input checks

#[tokio::test]
async fn invalid_input_is_refused_before_sending() {
    let harness = Harness::start().await;
    let customers = harness.client.customers();
    let long_key = RequestContext::new().with_idempotency_key("k".repeat(256));
    let error = customers
        .create(&CreateCustomer::default(), &long_key)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_invalid_input");
    let error = customers
        .retrieve("", &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_invalid_input");
    let error = customers
        .retrieve("cus_1/../../v1/charges", &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_invalid_input");
    for limit in [0, 101] {
        let result = customers.list(
            &ListCustomers {
                limit: Some(limit),
                ..ListCustomers::default()
            },
            &RequestContext::new(),
        );
        assert!(
            matches!(result, Err(StripeError::InvalidRequest(_))),
            "{limit}"
        );
    }
    let both_due = CreateInvoice {
        days_until_due: Some(30),
        due_date: Some(2_000_000_000),
        ..CreateInvoice::new("cus_1")
    };
    let error = harness
        .client
        .invoices()
        .create(&both_due, &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_invalid_input");
    let error = harness
        .client
        .invoices()
        .add_lines("in_1", &[], &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_invalid_input");
    assert!(harness.requests().await.is_empty(), "nothing was sent");
}

// ---------------------------------------------------------------- pagination

#[tokio::test]
async fn list_pager_walks_every_page_with_starting_after() {
    let harness = Harness::start().await;
    let at = "/v1/customers";
    let pages = [
        (None, vec!["cus_5", "cus_4"], true),
        (Some("cus_4"), vec!["cus_3", "cus_2"], true),
        (Some("cus_2"), vec!["cus_1"], false),
    ];
    for (after, ids, has_more) in pages {
        let data = ids.iter().map(|id| customer_json(id)).collect();
        let mut mock = Mock::given(method("GET")).and(path(at));
        mock = match after {
            Some(after) => mock.and(wiremock::matchers::query_param("starting_after", after)),
            None => mock.and(wiremock::matchers::query_param_is_missing("starting_after")),
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(list_json(data, has_more, at)))
            .expect(1)
            .mount(&harness.server)
            .await;
    }
    let mut pager = harness
        .client
        .customers()
        .list(
            &ListCustomers {
                limit: Some(2),
                ..ListCustomers::default()
            },
            &RequestContext::new(),
        )
        .unwrap();
    let mut seen = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        seen.extend(page.into_iter().map(|customer| customer.id));
    }
    assert_eq!(seen, ["cus_5", "cus_4", "cus_3", "cus_2", "cus_1"]);
    assert_eq!(pager.pages_fetched(), 3);
    assert!(pager.next_page().await.unwrap().is_none());
    for request in harness.requests().await {
        assert!(query_pairs(&request).contains(&("limit".to_owned(), "2".to_owned())));
    }
}

#[tokio::test]
async fn search_pager_follows_next_page_tokens() {
    let harness = Harness::start().await;
    let at = "/v1/invoices/search";
    let query = "metadata['ehr_patient_id']:'P-1' AND status:'open'";
    let pages = [
        (None, vec!["in_3", "in_2"], Some("token_2")),
        (Some("token_2"), vec!["in_1"], None),
    ];
    for (token, ids, next) in pages {
        let data: Vec<Value> = ids.iter().map(|id| invoice_json(id, "open")).collect();
        let mut mock = Mock::given(method("GET"))
            .and(path(at))
            .and(wiremock::matchers::query_param("query", query));
        mock = match token {
            Some(token) => mock.and(wiremock::matchers::query_param("page", token)),
            None => mock.and(wiremock::matchers::query_param_is_missing("page")),
        };
        let body = json!({"object": "search_result", "data": data,
                          "has_more": next.is_some(), "next_page": next, "url": at});
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&harness.server)
            .await;
    }
    let all = harness
        .client
        .invoices()
        .search(query, None, &RequestContext::new())
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|invoice| invoice.id.as_str()).collect();
    assert_eq!(ids, ["in_3", "in_2", "in_1"]);
}

#[tokio::test]
async fn customer_search_pager_sends_the_query() {
    let harness = Harness::start().await;
    let at = "/v1/customers/search";
    harness
        .respond(
            "GET",
            at,
            200,
            json!({"object": "search_result", "data": [customer_json("cus_1")],
                   "has_more": false, "next_page": null}),
        )
        .await;
    let found = harness
        .client
        .customers()
        .search(
            "metadata['ehr_patient_id']:'P-1'",
            Some(5),
            &RequestContext::new(),
        )
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let request = harness.only_request().await;
    assert_get(&request, at);
    assert_eq!(
        query_pairs(&request),
        pairs(&[
            ("query", "metadata['ehr_patient_id']:'P-1'"),
            ("limit", "5")
        ])
    );
}

#[tokio::test]
async fn pager_stops_with_a_typed_error_at_the_page_cap() {
    let harness = Harness::with(|builder| builder.max_pages(2)).await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_json(
            vec![customer_json("cus_again")],
            true,
            "/v1/customers",
        )))
        .mount(&harness.server)
        .await;
    let error = harness
        .client
        .customers()
        .list(&ListCustomers::default(), &RequestContext::new())
        .unwrap()
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        matches!(error, StripeError::PageCapExceeded { max_pages: 2, .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "stripe_page_cap_exceeded");
    assert_eq!(harness.requests().await.len(), 2);
}

// ---------------------------------------------------------------- secrets

#[tokio::test]
async fn the_api_key_never_appears_in_debug_or_errors() {
    let harness = Harness::with(|builder| builder.retry_policy(RetryPolicy::none())).await;
    harness
        .respond(
            "GET",
            "/v1/customers/cus_1",
            401,
            json!({"error": {"type": "invalid_request_error",
                             "message": format!("Invalid API Key provided: {KEY}")}}),
        )
        .await;
    let error = harness
        .client
        .customers()
        .retrieve("cus_1", &RequestContext::new())
        .await
        .unwrap_err();
    assert_eq!(error.class(), Some(ApiErrorClass::Authentication));
    let key = ApiKey::secret(KEY).unwrap();
    let transport = HttpTransport::new(key.clone()).unwrap();
    let texts = [
        format!("{error}"),
        format!("{key:?}"),
        format!("{key}"),
        format!("{transport:?}"),
        format!("{:?}", harness.client),
    ];
    for text in texts {
        assert!(!text.contains(KEY_BODY), "{text}");
    }
}

#[tokio::test]
async fn the_generic_send_reaches_any_endpoint() {
    let harness = Harness::start().await;
    harness
        .respond(
            "GET",
            "/v1/balance",
            200,
            json!({"object": "balance", "livemode": false}),
        )
        .await;
    let balance: Value = harness
        .client
        .send(
            Method::Get,
            "/v1/balance",
            Vec::new(),
            &RequestContext::new(),
        )
        .await
        .unwrap();
    assert_eq!(balance["object"], "balance");
}
