//! Personal data and metadata values never reach a log through `{:?}`: Stripe's published
//! example objects, filled with a patient's details, print their ids, amounts and
//! metadata keys but none of the details; so do the store's records.

// The fixture helpers sit outside the reach of clippy's `allow-unwrap-in-tests`; a panic
// there is a failed test, as intended.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use billbridge::domain::status::InvoiceStatus;
use billbridge::store::{CustomerLink, InvoiceMirror, MirrorQuery, OutsidePayment, PartyKind};
use billbridge::stripe::client::{
    AddressParams, CreateBalanceTransaction, CreateCustomer, CreateInvoice, CreateInvoiceItem,
    CreatePreview, CreatePrice, CreateProduct, CustomFieldParams, InvoiceItemPricing,
    InvoiceLineParams, LinePricing, ListCustomers, PendingInvoiceItemsBehavior, PreviewItemParams,
    ProductRef, TimeRange, UpdateCustomer, UpdateInvoice,
};
use billbridge::stripe::models::{
    CreditNote, Customer, CustomerBalanceTransaction, Invoice, InvoiceItem, InvoiceLineItem,
    MetadataMap,
};
use serde_json::{Value, json};

/// Every personal value and metadata value written into the objects below; none may be
/// printed.
const SECRETS: &[&str] = &[
    "John Deer",
    "john.deer@example.com",
    "+447700900123",
    "12 Harley Street",
    "Flat 3",
    "Marylebone",
    "W1G 9PF",
    "1971-03-02",
    "P-1001-value",
    "Bristol clinic",
    "Physiotherapy for John's knee",
    "Thanks, John",
    "NHS 485 777 3456",
    "https://invoice.stripe.com/i/acct_1/secret_link",
    "https://pay.stripe.com/invoice/acct_1/secret_pdf",
    "Patient of Dr Lee",
];

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/stripe/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Sets `fields` on the JSON object `target`, replacing what the fixture holds.
fn inject(target: &mut Value, fields: Value) {
    let (Some(target), Value::Object(fields)) = (target.as_object_mut(), fields) else {
        panic!("both sides must be JSON objects");
    };
    target.extend(fields);
}

fn patient_metadata() -> Value {
    json!({
        "patient_name": "John Deer",
        "date_of_birth": "1971-03-02",
        "host_patient_id": "P-1001-value",
        "appointment_location": "Bristol clinic",
    })
}

fn patient_address() -> Value {
    json!({
        "line1": "12 Harley Street",
        "line2": "Flat 3",
        "city": "Marylebone",
        "state": null,
        "postal_code": "W1G 9PF",
        "country": "GB",
    })
}

fn personal_customer() -> Value {
    let mut customer = fixture("customer.json");
    inject(
        &mut customer,
        json!({
            "name": "John Deer",
            "email": "john.deer@example.com",
            "phone": "+447700900123",
            "description": "Patient of Dr Lee",
            "address": patient_address(),
            "shipping": {"name": "John Deer", "phone": "+447700900123", "address": patient_address()},
            "balance": -2500,
            "metadata": patient_metadata(),
        }),
    );
    customer
}

fn personal_line(line: &mut Value) {
    inject(
        line,
        json!({
            "description": "Physiotherapy for John's knee",
            "metadata": {"patient_name": "John Deer", "service_note": "NHS 485 777 3456"},
        }),
    );
}

fn personal_invoice() -> Value {
    let mut invoice = fixture("invoice.json");
    inject(
        &mut invoice,
        json!({
            "customer": personal_customer(),
            "customer_name": "John Deer",
            "customer_email": "john.deer@example.com",
            "customer_phone": "+447700900123",
            "customer_address": patient_address(),
            "customer_shipping": {"name": "John Deer", "address": patient_address()},
            "description": "Physiotherapy for John's knee",
            "footer": "Thanks, John",
            "custom_fields": [{"name": "NHS number", "value": "NHS 485 777 3456"}],
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/secret_link",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct_1/secret_pdf",
            "metadata": patient_metadata(),
        }),
    );
    for line in invoice["lines"]["data"].as_array_mut().unwrap() {
        personal_line(line);
    }
    invoice
}

/// Fails naming the first personal or metadata value found in `shown`.
fn assert_nothing_personal(shown: &str) {
    for secret in SECRETS {
        assert!(!shown.contains(secret), "`{secret}` printed in: {shown}");
    }
}

#[test]
fn customer_debug_shows_id_balance_and_metadata_keys_but_no_personal_value() {
    let customer: Customer = serde_json::from_value(personal_customer()).unwrap();
    assert_eq!(
        customer.name.as_deref(),
        Some("John Deer"),
        "decoded as sent"
    );
    assert_eq!(customer.metadata.get("patient_name"), Some("John Deer"));
    let shown = format!("{customer:?}");
    assert_nothing_personal(&shown);
    for expected in [
        "cus_QXg1o8vcGmoR32",
        "-2500",
        "patient_name",
        "date_of_birth",
        "name: Some(<redacted>)",
        "address: Some(<redacted>)",
    ] {
        assert!(
            shown.contains(expected),
            "`{expected}` missing from: {shown}"
        );
    }
    let alternate = format!("{customer:#?}");
    assert_nothing_personal(&alternate);
}

#[test]
fn customer_debug_shows_which_personal_fields_are_absent() {
    let customer: Customer = serde_json::from_value(fixture("customer.json")).unwrap();
    let shown = format!("{customer:?}");
    assert!(shown.contains("email: None"), "{shown}");
    assert!(shown.contains("phone: None"), "{shown}");
    assert!(shown.contains("address: Some(<redacted>)"), "{shown}");
}

#[test]
fn invoice_debug_shows_ids_amounts_and_status_but_no_personal_value() {
    let invoice: Invoice = serde_json::from_value(personal_invoice()).unwrap();
    assert_eq!(
        invoice.customer_email.as_deref(),
        Some("john.deer@example.com")
    );
    assert!(!invoice.lines.data.is_empty(), "the fixture has lines");
    let shown = format!("{invoice:?}");
    assert_nothing_personal(&shown);
    let line_id = invoice.lines.data[0].id.as_str();
    for expected in [
        "in_1Pgc6tB7WZ01zgkWu9fdqL6I",
        "cus_QXg1o8vcGmoR32",
        line_id,
        "amount_due: 1000",
        "usd",
        "patient_name",
        "service_note",
        "NHS number",
        "customer_name: Some(<redacted>)",
        "hosted_invoice_url: Some(<redacted>)",
    ] {
        assert!(
            shown.contains(expected),
            "`{expected}` missing from: {shown}"
        );
    }
    assert_nothing_personal(&format!("{invoice:#?}"));
}

#[test]
fn line_item_and_invoice_item_debug_hide_descriptions_and_metadata_values() {
    let mut line = fixture("line_item.json");
    personal_line(&mut line);
    let line: InvoiceLineItem = serde_json::from_value(line).unwrap();
    let shown = format!("{line:?}");
    assert_nothing_personal(&shown);
    assert!(
        shown.contains(&line.id) && shown.contains("service_note"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("amount: {}", line.amount)),
        "{shown}"
    );

    let mut item = fixture("invoiceitem.json");
    personal_line(&mut item);
    inject(&mut item, json!({"customer": personal_customer()}));
    let item: InvoiceItem = serde_json::from_value(item).unwrap();
    let shown = format!("{item:?}");
    assert_nothing_personal(&shown);
    assert!(
        shown.contains(&item.id) && shown.contains("patient_name"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("amount: {}", item.amount)),
        "{shown}"
    );
}

#[test]
fn null_metadata_decodes_as_empty_and_metadata_encodes_as_a_plain_object() {
    let mut customer = fixture("customer.json");
    inject(&mut customer, json!({"metadata": null}));
    let customer: Customer = serde_json::from_value(customer).unwrap();
    assert!(customer.metadata.is_empty());

    let invoice: Invoice = serde_json::from_value(personal_invoice()).unwrap();
    let encoded = serde_json::to_value(&invoice).unwrap();
    assert_eq!(encoded["metadata"], patient_metadata());
    let keys: Vec<&str> = invoice.metadata.keys().collect();
    assert_eq!(
        keys,
        [
            "appointment_location",
            "date_of_birth",
            "host_patient_id",
            "patient_name"
        ]
    );
}

fn patient_metadata_map() -> MetadataMap {
    serde_json::from_value(patient_metadata()).unwrap()
}

#[test]
fn store_records_print_ids_and_amounts_but_no_metadata_value_or_link() {
    let link = CustomerLink {
        account: Some("acct_1Practice".to_owned()),
        party_kind: PartyKind::Patient,
        host_party_id: "P-1001".to_owned(),
        stripe_customer_id: "cus_Redact1".to_owned(),
        metadata_sent: patient_metadata_map(),
    };
    let shown = format!("{link:?}");
    assert_nothing_personal(&shown);
    assert!(
        shown.contains("cus_Redact1") && shown.contains("patient_name"),
        "{shown}"
    );

    let mirror = InvoiceMirror {
        account: None,
        host_invoice_id: "INV-7".to_owned(),
        stripe_invoice_id: "in_Redact7".to_owned(),
        stripe_customer_id: "cus_Redact1".to_owned(),
        status: InvoiceStatus::Paid,
        unrecognised_status: None,
        number: Some("7FE1103-0001".to_owned()),
        currency: "gbp".to_owned(),
        subtotal: 6500,
        total: 6500,
        amount_due: 6500,
        amount_paid: 6500,
        amount_remaining: 0,
        starting_balance: 0,
        ending_balance: Some(0),
        hosted_invoice_url: Some("https://invoice.stripe.com/i/acct_1/secret_link".to_owned()),
        invoice_pdf: Some("https://pay.stripe.com/invoice/acct_1/secret_pdf".to_owned()),
        due_date: None,
        created: 1_700_000_000,
        metadata: patient_metadata_map(),
        paid_at: Some(1_700_000_600),
        paid_outside: Some(OutsidePayment {
            method: "cash".to_owned(),
            reference: None,
            paid_on: None,
        }),
        stripe_updated_at: 1_700_000_600,
        payer_kind: PartyKind::Patient,
        payer_host_id: "P-1001".to_owned(),
        patient_host_id: Some("P-1001".to_owned()),
    };
    let shown = format!("{mirror:?}");
    assert_nothing_personal(&shown);
    for expected in ["in_Redact7", "INV-7", "6500", "gbp", "appointment_location"] {
        assert!(
            shown.contains(expected),
            "`{expected}` missing from: {shown}"
        );
    }

    let query = MirrorQuery {
        metadata: patient_metadata_map(),
        ..MirrorQuery::for_account(None)
    };
    let shown = format!("{query:?}");
    assert_nothing_personal(&shown);
    assert!(shown.contains("host_patient_id"), "{shown}");
}

/// Metadata parameters filled with the patient's details, in order.
fn patient_metadata_params() -> Vec<(String, String)> {
    vec![
        ("patient_name".to_owned(), "John Deer".to_owned()),
        ("host_patient_id".to_owned(), "P-1001-value".to_owned()),
        (
            "appointment_location".to_owned(),
            "Bristol clinic".to_owned(),
        ),
    ]
}

fn patient_address_params() -> AddressParams {
    AddressParams {
        line1: Some("12 Harley Street".to_owned()),
        line2: Some("Flat 3".to_owned()),
        city: Some("Marylebone".to_owned()),
        state: None,
        postal_code: Some("W1G 9PF".to_owned()),
        country: Some("GB".to_owned()),
    }
}

/// Checks `{:?}` and `{:#?}` of `value`: no personal value, every `expected` text shown.
fn assert_redacted_debug<T: std::fmt::Debug>(value: &T, expected: &[&str]) {
    for shown in [format!("{value:?}"), format!("{value:#?}")] {
        assert_nothing_personal(&shown);
        for expected in expected {
            assert!(
                shown.contains(expected),
                "`{expected}` missing from: {shown}"
            );
        }
    }
}

#[test]
fn customer_params_debug_shows_metadata_keys_and_ids_but_no_personal_value() {
    let create = CreateCustomer {
        name: Some("John Deer".to_owned()),
        email: Some("john.deer@example.com".to_owned()),
        phone: Some("+447700900123".to_owned()),
        description: Some("Patient of Dr Lee".to_owned()),
        address: Some(patient_address_params()),
        metadata: patient_metadata_params(),
        preferred_locales: vec!["en-GB".to_owned()],
        default_payment_method: Some("pm_Redact1".to_owned()),
    };
    assert_redacted_debug(
        &create,
        &[
            "CreateCustomer",
            "patient_name",
            "host_patient_id",
            "appointment_location",
            "en-GB",
            "pm_Redact1",
            "<redacted>",
        ],
    );
    assert!(format!("{create:?}").contains("state: None"));

    let update = UpdateCustomer {
        name: Some("John Deer".to_owned()),
        email: Some("john.deer@example.com".to_owned()),
        phone: Some("+447700900123".to_owned()),
        description: Some("Patient of Dr Lee".to_owned()),
        address: Some(patient_address_params()),
        metadata: vec![
            ("patient_name".to_owned(), "John Deer".to_owned()),
            ("date_of_birth".to_owned(), String::new()),
        ],
        preferred_locales: Some(Vec::new()),
        default_payment_method: None,
    };
    assert_redacted_debug(
        &update,
        &["UpdateCustomer", "patient_name", "date_of_birth"],
    );
    assert!(
        format!("{update:?}").contains(r#""date_of_birth": """#),
        "a removed key shows as removed: {update:?}"
    );

    let list = ListCustomers {
        email: Some("john.deer@example.com".to_owned()),
        created: Some(TimeRange::between(1_700_000_000, 1_700_086_400)),
        limit: Some(25),
    };
    assert_redacted_debug(&list, &["<redacted>", "1700000000", "1700086400", "25"]);
    assert!(
        format!("{list:?}").contains("email: Some(<redacted>)"),
        "{list:?}"
    );
}

#[test]
fn invoice_params_debug_shows_ids_amounts_and_labels_but_no_personal_value() {
    let create = CreateInvoice {
        customer: "cus_Redact1".to_owned(),
        currency: Some("gbp".to_owned()),
        collection_method: None,
        days_until_due: Some(14),
        due_date: None,
        auto_advance: Some(false),
        description: Some("Physiotherapy for John's knee".to_owned()),
        footer: Some("Thanks, John".to_owned()),
        metadata: patient_metadata_params(),
        custom_fields: vec![CustomFieldParams {
            name: "NHS number".to_owned(),
            value: "NHS 485 777 3456".to_owned(),
        }],
        pending_invoice_items_behavior: Some(PendingInvoiceItemsBehavior::Exclude),
    };
    assert_redacted_debug(
        &create,
        &["cus_Redact1", "gbp", "14", "NHS number", "host_patient_id"],
    );

    let update = UpdateInvoice {
        description: Some("Physiotherapy for John's knee".to_owned()),
        footer: Some("Thanks, John".to_owned()),
        metadata: patient_metadata_params(),
        custom_fields: Some(vec![CustomFieldParams {
            name: "NHS number".to_owned(),
            value: "NHS 485 777 3456".to_owned(),
        }]),
        due_date: Some(1_700_500_000),
        ..UpdateInvoice::default()
    };
    assert_redacted_debug(&update, &["1700500000", "NHS number", "patient_name"]);

    let line = InvoiceLineParams {
        description: Some("Physiotherapy for John's knee".to_owned()),
        quantity: Some(2),
        metadata: patient_metadata_params(),
        period: None,
        pricing: LinePricing::PriceData {
            currency: "gbp".to_owned(),
            product: ProductRef::Data {
                name: "Physiotherapy for John's knee".to_owned(),
            },
            unit_amount: 6500,
        },
    };
    assert_redacted_debug(&line, &["6500", "gbp", "quantity", "host_patient_id"]);
    let catalogue = ProductRef::Id("prod_Redact1".to_owned());
    assert_redacted_debug(&catalogue, &["prod_Redact1"]);

    let preview = CreatePreview {
        customer: "cus_Redact1".to_owned(),
        currency: Some("gbp".to_owned()),
        invoice_items: vec![PreviewItemParams {
            description: Some("Physiotherapy for John's knee".to_owned()),
            quantity: Some(1),
            currency: "gbp".to_owned(),
            product: "prod_Redact1".to_owned(),
            unit_amount: 4200,
        }],
    };
    assert_redacted_debug(&preview, &["cus_Redact1", "prod_Redact1", "4200"]);
}

#[test]
fn item_balance_price_and_product_params_debug_hide_free_text_and_metadata_values() {
    let item = CreateInvoiceItem {
        customer: "cus_Redact1".to_owned(),
        invoice: Some("in_Redact1".to_owned()),
        description: Some("Physiotherapy for John's knee".to_owned()),
        quantity: None,
        pricing: InvoiceItemPricing::Amount {
            amount: -1500,
            currency: "gbp".to_owned(),
        },
        metadata: patient_metadata_params(),
        period: None,
    };
    assert_redacted_debug(
        &item,
        &["cus_Redact1", "in_Redact1", "-1500", "appointment_location"],
    );

    let balance = CreateBalanceTransaction {
        amount: -2500,
        currency: "gbp".to_owned(),
        description: Some("Thanks, John".to_owned()),
        metadata: patient_metadata_params(),
    };
    assert_redacted_debug(&balance, &["-2500", "gbp", "patient_name"]);

    let price = CreatePrice {
        currency: "gbp".to_owned(),
        unit_amount: 6500,
        product: ProductRef::Data {
            name: "Physiotherapy for John's knee".to_owned(),
        },
        lookup_key: Some("physio_session".to_owned()),
        transfer_lookup_key: None,
        nickname: Some("Patient of Dr Lee".to_owned()),
        metadata: patient_metadata_params(),
    };
    assert_redacted_debug(&price, &["6500", "physio_session", "host_patient_id"]);

    let product = CreateProduct {
        name: "Physiotherapy session".to_owned(),
        description: Some("Patient of Dr Lee".to_owned()),
        active: Some(true),
        id: Some("prod_Redact1".to_owned()),
        metadata: patient_metadata_params(),
    };
    assert_redacted_debug(
        &product,
        &["Physiotherapy session", "prod_Redact1", "patient_name"],
    );
}

#[test]
fn balance_transaction_and_credit_note_debug_hide_host_written_text() {
    let balance: CustomerBalanceTransaction = serde_json::from_value(json!({
        "id": "cbtxn_Redact1",
        "object": "customer_balance_transaction",
        "amount": -2500,
        "currency": "gbp",
        "customer": "cus_Redact1",
        "description": "Thanks, John",
        "ending_balance": -2500,
        "invoice": null,
        "credit_note": null,
        "metadata": patient_metadata(),
        "type": "adjustment",
        "created": 1_700_000_000,
        "livemode": false,
    }))
    .unwrap();
    assert_eq!(balance.description.as_deref(), Some("Thanks, John"));
    assert_redacted_debug(
        &balance,
        &["cbtxn_Redact1", "cus_Redact1", "-2500", "patient_name"],
    );

    let credit_note: CreditNote = serde_json::from_value(json!({
        "id": "cn_Redact1",
        "object": "credit_note",
        "number": "CN-0001",
        "invoice": "in_Redact1",
        "customer": "cus_Redact1",
        "amount": 1500,
        "currency": "gbp",
        "total": 1500,
        "status": "issued",
        "memo": "Physiotherapy for John's knee",
        "metadata": patient_metadata(),
        "created": 1_700_000_000,
        "livemode": false,
    }))
    .unwrap();
    assert_eq!(
        credit_note.memo.as_deref(),
        Some("Physiotherapy for John's knee")
    );
    assert_redacted_debug(
        &credit_note,
        &[
            "cn_Redact1",
            "CN-0001",
            "in_Redact1",
            "1500",
            "host_patient_id",
        ],
    );
}
