//! No rendering of billbridge's values carries a secret or a person's details: every
//! secret (API keys, the webhook secret, the idempotency and practice secrets) and every
//! personal field (names, email, phone, postcode, date of birth, gender, free text,
//! references, metadata values) is given a distinctive canary value, a practice day is
//! run through the bridge on the mock Stripe, and every `Debug` (`{:?}` and `{:#?}`),
//! `Display` and error message met on the way is scanned for the canaries: keys,
//! clients, transports, builders, policies, parties, drafts, requests (`StripeRequest`
//! as the transport sees it, the mock's `RecordedRequest`), responses, records, store
//! rows, events and errors, including a Stripe error whose message echoes what was sent.
//! Idempotency keys are checked to be derived digests that carry nothing of the input.
//!
//! `core/tests/redaction.rs` covers Stripe's own objects and the client's parameter
//! structs filled from Stripe's published examples; this file covers the secrets and
//! what a host's own data goes through.
//!
//! Logs: the library writes no log line of its own (no `log` or `tracing` dependency,
//! no print macro outside the worker binary in `src/bin`), so there is no log output to
//! capture; [`the_library_writes_no_log_line_of_its_own`] fails when that changes, so
//! that a new log line gets scanned here too.
// Helpers outside #[test] functions are not covered by clippy's `allow-unwrap-in-tests`;
// a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used)]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use billbridge::Error;
use billbridge::clock::TransportClocks;
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{
    AppointmentContext, AppointmentId, InvoiceDraft, InvoiceId, InvoiceLine, Location,
};
use billbridge::domain::ledger::ManualPayment;
use billbridge::domain::metadata::{
    Field, MetadataMap, MetadataPolicy, MetadataTarget, PracticeSecret, Transform,
};
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{
    LocationId, Organisation, OrganisationId, Party, Patient, PatientId, PayerRef, Practitioner,
    PractitionerId,
};
use billbridge::offline::OfflineBilling;
use billbridge::report::{DateRange, InvoiceQuery};
use billbridge::store::{MemoryLedgerStore, MemoryStore, MirrorQuery, PartyKind, SyncStore};
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::stripe::retry::RetryPolicy;
use billbridge::stripe::transport::{
    StripeRequest, StripeResponse, Transport, TransportError, TransportErrorKind,
};
use billbridge::stripe::webhook::{WebhookSecret, construct_event};
use billbridge::sync::Practices;
use billbridge::sync::{Billbridge, IdempotencySecret, PaidOutside, PaymentMethod, Raise};
use billbridge_mock::{MockStripe, SignatureTime, WebhookOptions};

const SECRET_KEY: &str = "sk_test_CanarySecretKey7Qx9Hv";
const RESTRICTED_KEY: &str = "rk_live_CanaryRestrictedKey4Zp";
const WEBHOOK_SECRET: &str = "whsec_CanaryWebhookSecret3Lm8";
const IDEMPOTENCY_SECRET: &str = "canary-idempotency-secret-8Kd2";
const PRACTICE_SECRET: &str = "canary-practice-secret-5Vt1Qa";
const PROXY_PASSWORD: &str = "CanaryProxyPassword6Wn";

const GIVEN_NAME: &str = "Zebedee";
const FAMILY_NAME: &str = "Quillfeather";
const EMAIL: &str = "zebedee.quill@canary.example";
const NEW_EMAIL: &str = "z.quillfeather@canary.example";
const MOBILE: &str = "+447700900987";
const POSTCODE: &str = "ZZ9 9QX";
const DATE_OF_BIRTH: &str = "1968-07-14";
const GENDER: &str = "Canarygender";
const PRACTITIONER_NAME: &str = "Dr Cassia Canaryman";
const ORGANISATION_NAME: &str = "Quillfeather Family Trust";
const ORGANISATION_EMAIL: &str = "trustee@quill-trust.example";
const ORGANISATION_PHONE: &str = "+441170000321";
const LINE_DESCRIPTION: &str = "Knee review for Zebedee's canary injury";
const LINE_METADATA_VALUE: &str = "canary-line-metadata-value-77";
const MEMO: &str = "Canary memo about the patient";
const FOOTER: &str = "Canary footer for the patient";
const BILLING_ARRANGEMENT: &str = "Canary arrangement with the trust";
const BALANCE_REASON: &str = "Canary refund for the missed visit";
const PAYMENT_REFERENCE: &str = "CANARY-CHEQUE-REF-4411";
const INVALID_DATE_OF_BIRTH: &str = "1968-02-30";

/// Every value that must never be printed.
const CANARIES: &[&str] = &[
    SECRET_KEY,
    "CanarySecretKey7Qx9Hv",
    RESTRICTED_KEY,
    "CanaryRestrictedKey4Zp",
    WEBHOOK_SECRET,
    "CanaryWebhookSecret3Lm8",
    IDEMPOTENCY_SECRET,
    PRACTICE_SECRET,
    PROXY_PASSWORD,
    GIVEN_NAME,
    FAMILY_NAME,
    EMAIL,
    NEW_EMAIL,
    MOBILE,
    "7700900987",
    POSTCODE,
    DATE_OF_BIRTH,
    GENDER,
    PRACTITIONER_NAME,
    ORGANISATION_NAME,
    ORGANISATION_EMAIL,
    ORGANISATION_PHONE,
    LINE_DESCRIPTION,
    LINE_METADATA_VALUE,
    MEMO,
    FOOTER,
    BILLING_ARRANGEMENT,
    BALANCE_REASON,
    PAYMENT_REFERENCE,
    INVALID_DATE_OF_BIRTH,
    "1968-02-30",
    "1968-2-30",
];

/// Fails naming the first canary found in `shown`.
fn assert_clean(what: &str, shown: &str) {
    for canary in CANARIES {
        assert!(!shown.contains(canary), "{what} shows `{canary}`:\n{shown}");
    }
}

/// Scans `{:?}` and `{:#?}` of `value`.
fn assert_clean_debug<T: Debug + ?Sized>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

/// Fails when `shown` holds a canary written as the list of its bytes, as the derived
/// `Debug` of a `Vec<u8>` body would print it.
fn assert_no_canary_bytes(what: &str, shown: &str) {
    for canary in CANARIES {
        let bytes = format!("{:?}", canary.as_bytes());
        let inner = bytes.trim_start_matches('[').trim_end_matches(']');
        assert!(
            !shown.contains(inner),
            "{what} shows the bytes of `{canary}`"
        );
    }
}

/// Scans an error's `Display`, its `Debug`, and the `Display` of each of its sources.
fn assert_clean_error(what: &str, error: &(dyn std::error::Error + 'static)) {
    assert_clean(what, &error.to_string());
    assert_clean_debug(what, error);
    let mut source = error.source();
    while let Some(cause) = source {
        assert_clean(what, &cause.to_string());
        source = cause.source();
    }
}

fn dr_canaryman() -> Practitioner {
    Practitioner::new(PractitionerId::new("PR-9").unwrap(), PRACTITIONER_NAME)
}

fn zebedee() -> Patient {
    Patient::new(PatientId::new("P-9001").unwrap(), GIVEN_NAME, FAMILY_NAME)
        .with_date_of_birth(Date::parse(DATE_OF_BIRTH).unwrap())
        .with_gender(GENDER)
        .with_mobile(MOBILE)
        .with_email(EMAIL)
        .with_postcode(POSTCODE)
        .with_registered_practitioner(dr_canaryman())
}

fn trust() -> Organisation {
    Organisation::new(OrganisationId::new("ORG-9").unwrap(), ORGANISATION_NAME)
        .with_email(ORGANISATION_EMAIL)
        .with_phone(ORGANISATION_PHONE)
}

fn gbp(pence: i64) -> Money {
    Money::new(pence, Currency::GBP)
}

fn appointment() -> AppointmentContext {
    AppointmentContext::for_appointment(AppointmentId::new("APT-9").unwrap())
        .on(Date::parse("2026-03-02").unwrap())
        .at(Location::new(
            LocationId::new("LOC-9").unwrap(),
            "Harbour Street Clinic",
        ))
        .with_practitioner(dr_canaryman())
        .billing_and_collection(BILLING_ARRANGEMENT)
}

fn draft(host_id: &str) -> InvoiceDraft {
    InvoiceDraft::for_patient(&zebedee())
        .host_id(InvoiceId::new(host_id).unwrap())
        .line(
            InvoiceLine::ad_hoc(LINE_DESCRIPTION, gbp(6500), 1)
                .with_metadata("ward", LINE_METADATA_VALUE),
        )
        .line(InvoiceLine::ad_hoc(LINE_DESCRIPTION, gbp(-1500), 1))
        .memo(MEMO)
        .footer(FOOTER)
        .due_in_days(14)
        .context(appointment())
}

/// Every field the policy knows, the mobile pseudonymised under the practice secret and
/// the postcode generalised: metadata values of every kind reach Stripe.
fn policy() -> MetadataPolicy {
    MetadataPolicy::hero_compatible()
        .key(
            Field::PatientEmail,
            MetadataTarget::Customer,
            "patient_email",
        )
        .transform(Field::PatientMobile, Transform::Pseudonym)
        .pseudonym_secret(PracticeSecret::new(PRACTICE_SECRET).unwrap())
}

/// The mock behind a transport that keeps every request as the client built it.
struct Recording {
    mock: MockStripe,
    requests: Mutex<Vec<StripeRequest>>,
    responses: Mutex<Vec<StripeResponse>>,
}

#[async_trait]
impl Transport for Recording {
    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        self.requests.lock().unwrap().push(request.clone());
        let response = self.mock.send(request).await?;
        self.responses.lock().unwrap().push(response.clone());
        Ok(response)
    }

    fn livemode(&self) -> Option<bool> {
        self.mock.livemode()
    }

    fn clocks(&self) -> Option<TransportClocks> {
        self.mock.clocks()
    }
}

struct Day {
    mock: MockStripe,
    recording: Arc<Recording>,
    store: MemoryStore,
    bridge: Billbridge,
}

fn day() -> Day {
    let mock = MockStripe::builder().api_key(SECRET_KEY).build();
    mock.set_webhook_secret(WEBHOOK_SECRET);
    mock.set_webhook_options(WebhookOptions {
        signature_time: SignatureTime::MockClock,
        ..WebhookOptions::default()
    });
    let recording = Arc::new(Recording {
        mock: mock.clone(),
        requests: Mutex::new(Vec::new()),
        responses: Mutex::new(Vec::new()),
    });
    let store = MemoryStore::new();
    let client = StripeClient::builder_shared(recording.clone()).build();
    let bridge = Billbridge::builder(client)
        .metadata_policy(policy())
        .store(store.clone())
        .idempotency_secret(IdempotencySecret::new(IDEMPOTENCY_SECRET).unwrap())
        .webhook_secret(WebhookSecret::new(WEBHOOK_SECRET).unwrap())
        .build()
        .unwrap();
    Day {
        mock,
        recording,
        store,
        bridge,
    }
}

#[test]
fn keys_secrets_transports_clients_and_builders_print_no_secret() {
    let secret = ApiKey::secret(SECRET_KEY).unwrap();
    let restricted = ApiKey::restricted(RESTRICTED_KEY).unwrap();
    for key in [&secret, &restricted] {
        assert_clean_debug("ApiKey", key);
        assert_clean("ApiKey Display", &key.to_string());
    }
    assert_eq!(secret.to_string(), "sk_test_[redacted]");
    assert_eq!(restricted.to_string(), "rk_live_[redacted]");

    let webhook = WebhookSecret::new(WEBHOOK_SECRET).unwrap();
    assert_clean_debug("WebhookSecret", &webhook);
    assert_clean("WebhookSecret Display", &webhook.to_string());
    let idempotency = IdempotencySecret::new(IDEMPOTENCY_SECRET).unwrap();
    assert_clean_debug("IdempotencySecret", &idempotency);
    let practice = PracticeSecret::new(PRACTICE_SECRET).unwrap();
    assert_clean_debug("PracticeSecret", &practice);
    assert_clean("PracticeSecret Display", &practice.to_string());
    let policy = policy();
    assert!(policy.has_pseudonym_secret());
    assert_clean_debug("MetadataPolicy", &policy);

    let builder = HttpTransport::builder(secret.clone()).base_url(format!(
        "https://billing:{PROXY_PASSWORD}@proxy.example/stripe"
    ));
    assert_clean_debug("HttpTransportBuilder", &builder);
    let transport = builder.build().unwrap();
    assert_clean_debug("HttpTransport", &transport);
    assert!(
        format!("{transport:?}").contains("proxy.example/stripe"),
        "the host stays visible: {transport:?}"
    );
    let refused = HttpTransport::builder(secret.clone())
        .base_url(format!("ftp://billing:{PROXY_PASSWORD}@proxy.example/"))
        .build()
        .map(|_| ())
        .unwrap_err();
    assert_clean_error("an unusable base URL", &Error::from(refused));

    let client = StripeClient::builder(transport.clone());
    assert_clean_debug("StripeClientBuilder", &client);
    let client = client.build();
    assert_clean_debug("StripeClient", &client);
    let builder = Billbridge::builder(client)
        .idempotency_secret(idempotency)
        .webhook_secret(webhook)
        .metadata_policy(policy);
    assert_clean_debug("BillbridgeBuilder", &builder);
    let bridge = builder.build().unwrap();
    assert_clean_debug("Billbridge", &bridge);
    let practices = Practices::new().with(bridge).unwrap();
    assert_clean_debug("Practices", &practices);

    let mock = MockStripe::builder().api_key(SECRET_KEY);
    assert_clean_debug("MockStripeBuilder", &mock);
    let mock = mock.build();
    mock.set_webhook_secret(WEBHOOK_SECRET);
    assert_clean_debug("MockStripe", &mock);
}

#[test]
fn refused_keys_and_secrets_are_not_echoed_by_their_errors() {
    for bad in [
        "sk_CanarySecretKey7Qx9Hv",
        "pk_test_CanarySecretKey7Qx9Hv",
        "xk_test_CanarySecretKey7Qx9Hv",
        "sk_test_CanarySecretKey7Qx9Hv\r\nX-Leak: 1",
        "rk_test_CanarySecretKey7Qx9Hv ",
    ] {
        let error = Error::from(ApiKey::parse(bad).unwrap_err());
        assert_clean_error("a refused key", &error);
        let error = Error::from(ApiKey::secret(RESTRICTED_KEY).unwrap_err());
        assert_clean_error("a key of the wrong kind", &error);
    }
    let error = Error::from(WebhookSecret::new("CanaryWebhookSecret3Lm8").unwrap_err());
    assert_clean_error("a refused webhook secret", &error);
    let error = Error::from(IdempotencySecret::new("CanaryWebhook").unwrap_err());
    assert_clean_error("a short idempotency secret", &error);
    let error = Error::from(PracticeSecret::new("Canary").unwrap_err());
    assert_clean_error("a short practice secret", &error);
}

#[test]
fn parties_drafts_and_lines_print_ids_and_amounts_only() {
    let patient = zebedee();
    assert_clean_debug("Patient", &patient);
    assert_clean_debug("Practitioner", &dr_canaryman());
    let organisation = trust();
    assert_clean_debug("Organisation", &organisation);
    assert!(format!("{organisation:?}").contains("ORG-9"));
    assert_clean_debug("Party::Patient", &Party::Patient(patient.clone()));
    assert_clean_debug("Party::Organisation", &Party::Organisation(organisation));
    assert_clean_debug("AppointmentContext", &appointment());

    let draft = draft("INV-S1");
    assert_clean_debug("InvoiceDraft", &draft);
    let shown = format!("{draft:?}");
    for expected in ["INV-S1", "P-9001", "6500", "APT-9", "ward"] {
        assert!(shown.contains(expected), "`{expected}` missing: {shown}");
    }
    assert_clean_debug("InvoiceLine", &draft.lines[0]);
    let payment = ManualPayment::new(
        PaymentMethod::Cheque,
        gbp(100),
        Date::parse("2026-03-03").unwrap(),
    )
    .with_reference(PAYMENT_REFERENCE);
    assert_clean_debug("ManualPayment", &payment);
    assert_clean_debug(
        "PaidOutside",
        &PaidOutside::new(PaymentMethod::Cheque).reference(PAYMENT_REFERENCE),
    );
}

#[test]
fn forms_error_bodies_and_raw_events_print_keys_and_sizes_only() {
    use billbridge::stripe::form::Form;
    use billbridge::stripe::models::ErrorBody;

    let form = Form::new()
        .field("email", EMAIL)
        .field("balance", -2500_i64)
        .map("metadata", [("patient_name", GIVEN_NAME), ("old", "")])
        .list("preferred_locales", ["en-GB"]);
    assert_clean_debug("Form", &form);
    let shown = format!("{form:?}");
    for expected in ["email", "-2500", "patient_name", "old", "preferred_locales"] {
        assert!(shown.contains(expected), "`{expected}` missing: {shown}");
    }

    let body: ErrorBody = serde_json::from_value(serde_json::json!({"error": {
        "type": "invalid_request_error",
        "code": "email_invalid",
        "param": "email",
        "message": format!("Invalid email address: {EMAIL}"),
    }}))
    .unwrap();
    assert_clean_debug("ErrorBody", &body);
    assert!(format!("{body:?}").contains("email_invalid"));

    // An event billbridge does not decode keeps its raw JSON: a charge names its payer.
    let secret = WebhookSecret::new(WEBHOOK_SECRET).unwrap();
    let raw = serde_json::to_vec(&serde_json::json!({
        "id": "evt_canary",
        "object": "event",
        "type": "charge.succeeded",
        "created": 1_780_000_000,
        "livemode": false,
        "data": {"object": {
            "id": "ch_canary",
            "object": "charge",
            "billing_details": {"name": format!("{GIVEN_NAME} {FAMILY_NAME}"), "email": EMAIL},
        }, "previous_attributes": {"receipt_email": EMAIL}},
    }))
    .unwrap();
    let header = billbridge::stripe::webhook::sign(&secret, 1_780_000_000, &raw);
    let event = construct_event(
        &raw,
        Some(&header),
        &secret,
        Duration::from_secs(300),
        1_780_000_000,
    )
    .unwrap();
    assert_clean_debug("an undecoded event", &event);
    assert!(format!("{event:?}").contains("receipt_email"));
}

#[test]
fn refused_personal_values_are_not_echoed_by_their_errors() {
    let mut patient = zebedee();
    patient.email = Some(format!("{EMAIL} {MOBILE}"));
    assert_clean_error(
        "an invalid email",
        &Error::from(patient.validate().unwrap_err()),
    );
    let mut patient = zebedee();
    patient.mobile = Some(format!("{MOBILE} {GIVEN_NAME}"));
    assert_clean_error(
        "an invalid phone",
        &Error::from(patient.validate().unwrap_err()),
    );
    let mut patient = zebedee();
    patient.email = Some(format!("{}@canary.example", "z".repeat(600)));
    assert_clean_error(
        "a long email",
        &Error::from(patient.validate().unwrap_err()),
    );

    let error = Error::from(Date::parse(INVALID_DATE_OF_BIRTH).unwrap_err());
    assert_eq!(error.code(), "invalid_date");
    assert_clean_error("an impossible date of birth", &error);
    let error = Error::from(Date::new(1968, 2, 30).unwrap_err());
    assert_clean_error("an impossible date of birth", &error);

    let mut line = InvoiceLine::ad_hoc(LINE_DESCRIPTION, gbp(100), 1);
    line.metadata
        .insert("ward".to_owned(), LINE_METADATA_VALUE.repeat(20));
    let error = InvoiceDraft::for_patient(&zebedee())
        .line(line)
        .validate()
        .unwrap_err();
    assert_clean_error("an over-long metadata value", &Error::from(error));

    let mut patient = zebedee();
    patient.given_name = LINE_METADATA_VALUE.repeat(20);
    let rendered = policy().render(
        MetadataTarget::Customer,
        &billbridge::domain::metadata::FieldValues::new()
            .with(Field::PatientName, patient.given_name.clone()),
    );
    assert_clean_error(
        "an over-long rendered value",
        &Error::from(rendered.unwrap_err()),
    );
}

/// A transport that answers every request as Stripe answers an email it refuses, with
/// Stripe's message quoting the address sent.
struct RefusingEmail;

#[async_trait]
impl Transport for RefusingEmail {
    async fn send(&self, _request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        let body = serde_json::json!({"error": {
            "type": "invalid_request_error",
            "code": "email_invalid",
            "param": "email",
            "message": format!("Invalid email address: {EMAIL} ({GIVEN_NAME} {FAMILY_NAME})"),
            "doc_url": "https://stripe.com/docs/error-codes/email-invalid",
        }});
        Ok(StripeResponse {
            status: 400,
            headers: vec![("request-id".to_owned(), "req_canary".to_owned())],
            body: serde_json::to_vec(&body).unwrap(),
        })
    }
}

/// A transport whose connection breaks, as a proxy's would.
struct Broken;

#[async_trait]
impl Transport for Broken {
    async fn send(&self, _request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        Err(TransportError::new(
            TransportErrorKind::Connection,
            "connection reset by peer",
        ))
    }
}

fn bridge_over(transport: impl Transport + 'static) -> Billbridge {
    let client = StripeClient::builder(transport)
        .retry_policy(RetryPolicy::none())
        .build();
    Billbridge::builder(client)
        .metadata_policy(policy())
        .idempotency_secret(IdempotencySecret::new(IDEMPOTENCY_SECRET).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_stripe_error_echoing_the_request_keeps_its_message_out_of_every_rendering() {
    let bridge = bridge_over(RefusingEmail);
    let error = bridge
        .upsert_customer(&Party::Patient(zebedee()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_invalid_request");
    assert!(
        error
            .stripe_message()
            .is_some_and(|text| text.contains(EMAIL)),
        "the message stays reachable for the person who made the request"
    );
    assert_clean_error("a Stripe error", &error);
    assert_clean_debug("ErrorDetails", &error.details());
    assert_eq!(error.details().param.as_deref(), Some("email"));
    let api = error.stripe_error().and_then(|stripe| stripe.api_error());
    assert_clean_debug("ApiError", &api.unwrap());

    let error = bridge_over(Broken)
        .upsert_customer(&Party::Patient(zebedee()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "stripe_connection_error");
    assert_clean_error("a transport error", &error);
}

#[tokio::test]
async fn a_practice_day_prints_nothing_personal_and_sends_no_personal_key() {
    let Day {
        mock,
        recording,
        store,
        bridge,
    } = day();
    let patient = zebedee();
    let mut shown: Vec<(String, String)> = Vec::new();
    let mut show = |what: &str, value: &dyn Debug| {
        shown.push((what.to_owned(), format!("{value:?}")));
        shown.push((what.to_owned(), format!("{value:#?}")));
    };

    let customer = bridge
        .upsert_customer(&Party::Patient(patient.clone()))
        .await
        .unwrap();
    show("CustomerRecord", &customer);
    let organisation = bridge
        .upsert_customer(&Party::Organisation(trust()))
        .await
        .unwrap();
    show("CustomerRecord", &organisation);
    let payer = PayerRef::Patient(patient.id.clone());
    let adjustment = bridge
        .adjust_balance(&payer, gbp(-2500), BALANCE_REASON, "ADJ-9")
        .await
        .unwrap();
    show("BalanceAdjustment", &adjustment);
    let preview = bridge.preview(&draft("INV-S1")).await.unwrap();
    show("InvoicePreview", &preview);

    let raised = bridge
        .raise_invoice(&draft("INV-S1"), Some(&patient), Raise::FinalizeAndSend)
        .await
        .unwrap();
    assert!(
        raised
            .metadata
            .iter()
            .any(|(_, value)| value.contains(FAMILY_NAME)),
        "the policy sends the patient's name as metadata: {:?}",
        raised.metadata.keys().collect::<Vec<_>>()
    );
    show("InvoiceRecord", &raised);
    // The payment page and the PDF open the invoice to whoever holds the link.
    let links: Vec<String> = [&raised.hosted_invoice_url, &raised.invoice_pdf]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    assert_eq!(links.len(), 2, "a sent invoice has both links");
    bridge
        .raise_invoice(&draft("INV-S2"), Some(&patient), Raise::Finalize)
        .await
        .unwrap();
    let paid = bridge
        .mark_paid_outside_stripe(
            "INV-S2",
            &PaidOutside::new(PaymentMethod::Cheque).reference(PAYMENT_REFERENCE),
        )
        .await
        .unwrap();
    assert_eq!(
        paid.paid_outside
            .as_ref()
            .and_then(|payment| payment.reference.as_deref()),
        Some(PAYMENT_REFERENCE)
    );
    show("InvoiceRecord paid outside", &paid);

    // A changed email: Stripe's customer.updated event carries the old one in
    // `previous_attributes`.
    let moved = zebedee().with_email(NEW_EMAIL);
    bridge
        .upsert_customer(&Party::Patient(moved))
        .await
        .unwrap();

    let secret = WebhookSecret::new(WEBHOOK_SECRET).unwrap();
    let deliveries = mock.take_webhooks();
    assert!(
        deliveries
            .iter()
            .any(|delivery| delivery.event_type == "customer.updated"),
        "{:?}",
        deliveries
            .iter()
            .map(|delivery| &delivery.event_type)
            .collect::<Vec<_>>()
    );
    for delivery in &deliveries {
        show("WebhookDelivery", delivery);
        let event = construct_event(
            &delivery.body,
            Some(&delivery.signature_header),
            &secret,
            Duration::from_secs(300),
            delivery.signed_at,
        )
        .unwrap();
        show("Event", &event);
        let outcome = bridge
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
        show("WebhookOutcome", &outcome);
    }
    // A forged delivery: the error names no secret and no part of the body.
    let forged = bridge
        .handle_webhook(&deliveries[0].body, Some("t=1,v1=00"))
        .await
        .unwrap_err();
    show("forged delivery", &forged);
    show("forged delivery Display", &forged.to_string());

    show("portal", &bridge.portal(&payer).await.unwrap());
    show(
        "invoices",
        &bridge
            .invoices(&InvoiceQuery::new())
            .collect_all()
            .await
            .unwrap(),
    );
    let today = bridge.today().unwrap();
    let range = DateRange::new(today.add_days(-30).unwrap(), today.add_days(30).unwrap()).unwrap();
    show(
        "payments",
        &bridge.payments_received(range).collect_all().await.unwrap(),
    );
    show(
        "Stripe's invoices",
        &bridge
            .stripe_invoices(&InvoiceQuery::new())
            .await
            .unwrap()
            .collect_all()
            .await
            .unwrap(),
    );

    // The store's rows.
    show(
        "customer link",
        &store
            .customer_link(None, PartyKind::Patient, "P-9001")
            .await
            .unwrap(),
    );
    show(
        "invoice mirrors",
        &store
            .query_invoice_mirrors(&MirrorQuery::for_account(None))
            .await
            .unwrap(),
    );
    show(
        "raise checkpoint",
        &store.raise_checkpoint(None, "INV-S1").await.unwrap(),
    );
    show("MemoryStore", &store);

    // Requests as the transport saw them, the mock's record of them, and the answers.
    let requests = recording.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|request| request.params.iter().any(|(_, value)| value == EMAIL)),
        "the email was sent to Stripe"
    );
    for request in &requests {
        show("StripeRequest", request);
    }
    for response in recording.responses.lock().unwrap().iter() {
        assert_no_canary_bytes("StripeResponse", &format!("{response:?}"));
        show("StripeResponse", response);
    }
    for request in mock.requests() {
        show("RecordedRequest", &request);
    }

    for (what, text) in &shown {
        assert_clean(what, text);
        for link in &links {
            assert!(
                !text.contains(link.as_str()),
                "{what} shows a pay link: {text}"
            );
        }
    }

    // Idempotency keys are derived digests: nothing of the patient, the invoice or
    // the secret, so Stripe's request log learns nothing from them.
    let keys: Vec<&str> = requests
        .iter()
        .filter_map(|request| request.idempotency_key.as_deref())
        .collect();
    assert!(keys.len() >= 8, "{} keys", keys.len());
    for key in keys {
        let digest = key.strip_prefix("bb1_").unwrap_or_default();
        assert!(
            digest.len() == 64 && digest.bytes().all(|byte| byte.is_ascii_hexdigit()),
            "not a derived key: {key}"
        );
        assert_clean("an idempotency key", key);
    }
}

#[tokio::test]
async fn offline_books_print_ids_and_amounts_only() {
    let billing = OfflineBilling::new(MemoryStore::new(), MemoryLedgerStore::new());
    let on = Date::parse("2026-03-02").unwrap();
    let mut metadata = MetadataMap::new();
    metadata.insert("patient_name".to_owned(), GIVEN_NAME.to_owned());
    let record = billing
        .raise_with_metadata(&draft("INV-O1"), on, metadata)
        .await
        .unwrap();
    assert_clean_debug("offline InvoiceRecord", &record);
    let payment =
        ManualPayment::new(PaymentMethod::Cheque, gbp(1000), on).with_reference(PAYMENT_REFERENCE);
    let paid = billing.record_payment("INV-O1", payment).await.unwrap();
    assert_clean_debug("offline InvoiceRecord", &paid);
    let stored = billbridge::store::LedgerStore::ledger_invoice(billing.ledger(), None, "INV-O1")
        .await
        .unwrap();
    assert_clean_debug("LedgerRecord", &stored);
    let stored = stored.unwrap();
    assert_clean_debug("LedgerInvoice", &stored.invoice);
    assert_clean_debug("ledger mirror", &stored.to_mirror().unwrap());
    assert_clean_debug("ledger payments", &stored.payments());
    let range = DateRange::new(on, on).unwrap();
    assert_clean_debug(
        "offline payments",
        &billing
            .payments_received(range)
            .collect_all()
            .await
            .unwrap(),
    );
    assert_clean_debug(
        "offline portal",
        &billing
            .portal(&PayerRef::Patient(PatientId::new("P-9001").unwrap()))
            .await
            .unwrap(),
    );
}

#[test]
fn the_library_writes_no_log_line_of_its_own() {
    // Every rendering a host can log is scanned above; a line the library printed
    // itself would reach the host's logs unscanned. `src/bin` holds the worker process
    // of the PostgreSQL tests, which prints errors through their `Display` (scanned).
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut printing = Vec::new();
    let mut folders = vec![source.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path != source.join("bin") {
                    folders.push(path);
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if [
                    "println!",
                    "eprintln!",
                    "print!(",
                    "eprint!(",
                    "dbg!(",
                    "log::",
                    "tracing::",
                ]
                .iter()
                .any(|needle| code.contains(needle))
                {
                    printing.push(format!("{}:{}: {line}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(
        printing.is_empty(),
        "the library prints; scan what it prints in this file: {printing:#?}"
    );
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
    )
    .unwrap();
    for logger in ["\nlog", "\ntracing", "\nenv_logger"] {
        assert!(
            !manifest.contains(&format!("{logger} ")) && !manifest.contains(&format!("{logger}.")),
            "the library depends on a logger: scan its output in this file"
        );
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_postgres_store_shows_no_password_when_it_cannot_connect() {
    use billbridge::store::PostgresStore;

    // Nothing listens on port 1 of loopback: the connection is refused at once.
    for url in [
        format!("postgres://billing:{PROXY_PASSWORD}@127.0.0.1:1/ehr"),
        format!("host=127.0.0.1 port=1 user=billing password={PROXY_PASSWORD} dbname=ehr"),
        format!("postgres://127.0.0.1:1/ehr?user=billing&password={PROXY_PASSWORD}"),
    ] {
        let builder = PostgresStore::builder(url).wait_timeout(Duration::from_secs(10));
        assert_clean_debug("PostgresStoreBuilder", &builder);
        let error = builder.connect().await.unwrap_err();
        assert_clean_error("a refused PostgreSQL connection", &Error::from(error));
    }
}
