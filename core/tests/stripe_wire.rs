//! The Stripe wire format: form encoding against the pairs stripe-python's encoder
//! produces, decoding of Stripe's published example objects, and forward
//! compatibility of every decoded enum.
// Helpers outside `#[test]` functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use billbridge::domain::status::InvoiceStatus;
use billbridge::stripe::form::{Form, FormValue, encode_pairs};
use billbridge::stripe::models::{
    ApiError, BalanceTransactionType, CollectionMethod, CreditNote, CreditNoteStatus, Customer,
    CustomerBalanceTransaction, Deleted, ErrorBody, ErrorType, Event, EventObject, EventType,
    Expandable, Invoice, InvoiceItem, InvoiceItemParentType, InvoiceLineItem, InvoicePayment,
    LineParentType, List, PaymentIntent, Price, PriceType, PricingType, Product, RecurringInterval,
    SearchResult, WebhookEndpoint,
};
use serde::de::DeserializeOwned;

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------
// Form encoding. Expected pairs are the ones stripe-python's `_api_encode`
// yields for the equivalent Python dict (noted above each case).
// ---------------------------------------------------------------------------

#[test]
fn form_flat_fields_booleans_integers_and_metadata_keep_order() {
    // {"customer": "cus_123", "currency": "gbp", "collection_method": "send_invoice",
    //  "days_until_due": 30, "auto_advance": False, "due_date": None,
    //  "metadata": {"ehr_invoice_id": "INV-1", "practice": "north"}}
    let form = Form::new()
        .field("customer", "cus_123")
        .field("currency", "gbp")
        .field("collection_method", "send_invoice")
        .field("days_until_due", 30)
        .field("auto_advance", false)
        .opt_field("due_date", None::<i64>)
        .map(
            "metadata",
            [("ehr_invoice_id", "INV-1"), ("practice", "north")],
        );
    assert_eq!(
        form.encode(),
        pairs(&[
            ("customer", "cus_123"),
            ("currency", "gbp"),
            ("collection_method", "send_invoice"),
            ("days_until_due", "30"),
            ("auto_advance", "false"),
            ("metadata[ehr_invoice_id]", "INV-1"),
            ("metadata[practice]", "north"),
        ])
    );
    assert_eq!(
        form.to_urlencoded(),
        "customer=cus_123&currency=gbp&collection_method=send_invoice&days_until_due=30\
         &auto_advance=false&metadata[ehr_invoice_id]=INV-1&metadata[practice]=north"
    );
}

#[test]
fn form_nested_lists_of_maps_are_indexed_and_empty_maps_vanish() {
    // {"lines": [
    //   {"description": "Session", "quantity": 2,
    //    "price_data": {"currency": "gbp", "product_data": {"name": "Therapy session"},
    //                   "unit_amount": 4500},
    //    "period": {"start": 1700000000, "end": 1700003600}},
    //   {"pricing": {"price": "price_1"}, "metadata": {}},
    //   {"description": "Discount",
    //    "price_data": {"currency": "gbp", "product": "prod_1", "unit_amount": -500}}]}
    let session = Form::new()
        .field("description", "Session")
        .field("quantity", 2)
        .field(
            "price_data",
            Form::new()
                .field("currency", "gbp")
                .map("product_data", [("name", "Therapy session")])
                .field("unit_amount", 4500),
        )
        .field(
            "period",
            Form::new()
                .field("start", 1_700_000_000)
                .field("end", 1_700_003_600),
        );
    let priced = Form::new()
        .map("pricing", [("price", "price_1")])
        .map("metadata", Vec::<(String, String)>::new());
    let discount = Form::new().field("description", "Discount").field(
        "price_data",
        Form::new()
            .field("currency", "gbp")
            .field("product", "prod_1")
            .field("unit_amount", -500),
    );
    let form = Form::new().list("lines", vec![session, priced, discount]);
    assert_eq!(
        form.encode(),
        pairs(&[
            ("lines[0][description]", "Session"),
            ("lines[0][quantity]", "2"),
            ("lines[0][price_data][currency]", "gbp"),
            (
                "lines[0][price_data][product_data][name]",
                "Therapy session"
            ),
            ("lines[0][price_data][unit_amount]", "4500"),
            ("lines[0][period][start]", "1700000000"),
            ("lines[0][period][end]", "1700003600"),
            ("lines[1][pricing][price]", "price_1"),
            ("lines[2][description]", "Discount"),
            ("lines[2][price_data][currency]", "gbp"),
            ("lines[2][price_data][product]", "prod_1"),
            ("lines[2][price_data][unit_amount]", "-500"),
        ])
    );
}

#[test]
fn form_empty_string_and_unset_clear_fields_and_none_is_left_out() {
    // {"metadata": {"old": "", "keep": "v"}, "footer": "", "description": None}
    let form = Form::new()
        .map(
            "metadata",
            [("old", FormValue::Unset), ("keep", FormValue::from("v"))],
        )
        .field("footer", "")
        .opt_field("description", None::<String>);
    assert_eq!(
        form.encode(),
        pairs(&[
            ("metadata[old]", ""),
            ("metadata[keep]", "v"),
            ("footer", "")
        ])
    );

    // {"metadata": ""}: removes every key.
    assert_eq!(
        Form::new().unset("metadata").encode(),
        pairs(&[("metadata", "")])
    );
    assert_eq!(
        Form::new().field("metadata", "").encode(),
        pairs(&[("metadata", "")])
    );
}

#[test]
fn form_empty_maps_lists_and_absent_values_encode_to_nothing() {
    // {"metadata": {}, "lines": [], "expand": None, "x": "y"}
    let form = Form::new()
        .map("metadata", Vec::<(String, String)>::new())
        .list("lines", Vec::<Form>::new())
        .field("expand", FormValue::Absent)
        .field("x", "y");
    assert_eq!(form.encode(), pairs(&[("x", "y")]));
    assert!(
        Form::new()
            .map("m", [("k", None::<&str>)])
            .encode()
            .is_empty()
    );
}

#[test]
fn form_lists_of_scalars_and_negative_or_extreme_integers() {
    // {"expand": ["customer", "lines.data"], "n": [1, -2], "amount": 0,
    //  "big": -9223372036854775808}
    let form = Form::new()
        .list("expand", ["customer", "lines.data"])
        .list("n", [1, -2])
        .field("amount", 0)
        .field("big", i64::MIN)
        .field("huge", u64::MAX);
    assert_eq!(
        form.encode(),
        pairs(&[
            ("expand[0]", "customer"),
            ("expand[1]", "lines.data"),
            ("n[0]", "1"),
            ("n[1]", "-2"),
            ("amount", "0"),
            ("big", "-9223372036854775808"),
            ("huge", "18446744073709551615"),
        ])
    );
}

#[test]
fn form_list_of_maps_for_custom_fields() {
    // {"custom_fields": [{"name": "Provider", "value": "Dr Ng"},
    //                    {"name": "Ref", "value": "R-9"}],
    //  "pending_invoice_items_behavior": "exclude"}
    let form = Form::new()
        .list(
            "custom_fields",
            vec![
                FormValue::map([("name", "Provider"), ("value", "Dr Ng")]),
                FormValue::map([("name", "Ref"), ("value", "R-9")]),
            ],
        )
        .field("pending_invoice_items_behavior", "exclude");
    let expected = pairs(&[
        ("custom_fields[0][name]", "Provider"),
        ("custom_fields[0][value]", "Dr Ng"),
        ("custom_fields[1][name]", "Ref"),
        ("custom_fields[1][value]", "R-9"),
        ("pending_invoice_items_behavior", "exclude"),
    ]);
    assert_eq!(form.encode(), expected);
    assert_eq!(
        encode_pairs(&expected),
        "custom_fields[0][name]=Provider&custom_fields[0][value]=Dr+Ng&custom_fields[1][name]=Ref\
         &custom_fields[1][value]=R-9&pending_invoice_items_behavior=exclude"
    );
}

#[test]
fn form_unicode_values_and_keys_with_brackets_pass_through_unchanged() {
    // {"description": "診療 naïve & co=1+1", "metadata[raw]": "a b", "metadata": {"a[b]": "c"}}
    let form = Form::new()
        .field("description", "診療 naïve & co=1+1")
        .field("metadata[raw]", "a b")
        .map("metadata", [("a[b]", "c")]);
    let encoded = form.encode();
    assert_eq!(
        encoded,
        pairs(&[
            ("description", "診療 naïve & co=1+1"),
            ("metadata[raw]", "a b"),
            ("metadata[a[b]]", "c")
        ])
    );
    // Python's urlencode of the same pairs, with %5B/%5D left as brackets.
    assert_eq!(
        encode_pairs(&encoded),
        "description=%E8%A8%BA%E7%99%82+na%C3%AFve+%26+co%3D1%2B1&metadata[raw]=a+b&metadata[a[b]]=c"
    );
}

#[test]
fn form_setting_a_key_again_replaces_it_in_its_first_position() {
    let form = Form::new().field("a", "1").field("b", "2").field("a", "3");
    assert_eq!(form.encode(), pairs(&[("a", "3"), ("b", "2")]));
}

#[test]
fn form_booleans_inside_lists_and_nested_lists_stay_stripe_readable() {
    // Deliberate differences from stripe-python (documented in `stripe::form`).
    let form = Form::new().list("flags", [true, false]).field(
        "grid",
        FormValue::List(vec![
            FormValue::from(vec![1, 2]),
            FormValue::Absent,
            FormValue::from(vec![3]),
        ]),
    );
    assert_eq!(
        form.encode(),
        pairs(&[
            ("flags[0]", "true"),
            ("flags[1]", "false"),
            ("grid[0][0]", "1"),
            ("grid[0][1]", "2"),
            ("grid[1][0]", "3"),
        ])
    );
}

#[test]
fn encode_pairs_escapes_reserved_characters_and_utf8() {
    let encoded = encode_pairs(&pairs(&[
        ("q", "metadata['k']:'v' AND x"),
        ("e", "a/b?c#d%e"),
        ("empty", ""),
    ]));
    assert_eq!(
        encoded,
        "q=metadata[%27k%27]%3A%27v%27+AND+x&e=a%2Fb%3Fc%23d%25e&empty="
    );
    assert_eq!(encode_pairs(&[]), "");
}

// ---------------------------------------------------------------------------
// Models: every published example object decodes.
// ---------------------------------------------------------------------------

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/stripe/fixtures")
        .join(name)
}

fn fixture<T: DeserializeOwned>(name: &str) -> T {
    let bytes = std::fs::read(fixture_path(name)).unwrap();
    match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(error) => panic!("{name} does not decode: {error}"),
    }
}

#[test]
fn every_fixture_file_has_a_model_that_decodes_it() {
    let dir = fixture_path("");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let result = match name.as_str() {
            "credit_note.json" => serde_json::from_slice::<CreditNote>(&bytes).map(drop),
            "customer.json" => serde_json::from_slice::<Customer>(&bytes).map(drop),
            "customer_balance_transaction.json" => {
                serde_json::from_slice::<CustomerBalanceTransaction>(&bytes).map(drop)
            }
            "deleted_customer.json" | "deleted_invoice.json" | "deleted_invoiceitem.json" => {
                serde_json::from_slice::<Deleted>(&bytes).map(drop)
            }
            "event.json" => serde_json::from_slice::<Event>(&bytes).map(drop),
            "invoice.json" => serde_json::from_slice::<Invoice>(&bytes).map(drop),
            "invoice_payment.json" => serde_json::from_slice::<InvoicePayment>(&bytes).map(drop),
            "invoiceitem.json" => serde_json::from_slice::<InvoiceItem>(&bytes).map(drop),
            "line_item.json" => serde_json::from_slice::<InvoiceLineItem>(&bytes).map(drop),
            "payment_intent.json" => serde_json::from_slice::<PaymentIntent>(&bytes).map(drop),
            "price.json" => serde_json::from_slice::<Price>(&bytes).map(drop),
            "product.json" => serde_json::from_slice::<Product>(&bytes).map(drop),
            "webhook_endpoint.json" => serde_json::from_slice::<WebhookEndpoint>(&bytes).map(drop),
            other => panic!("fixture {other} has no model: add one"),
        };
        if let Err(error) = result {
            panic!("{name} does not decode: {error}");
        }
        seen.push(name);
    }
    assert_eq!(seen.len(), 15, "fixture files found: {seen:?}");
}

#[test]
fn invoice_fixture_decodes_amounts_status_and_post_basil_lines() {
    let invoice: Invoice = fixture("invoice.json");
    assert_eq!(invoice.id, "in_1Pgc6tB7WZ01zgkWu9fdqL6I");
    assert_eq!(invoice.status, Some(InvoiceStatus::Draft));
    assert_eq!(
        invoice.collection_method,
        CollectionMethod::ChargeAutomatically
    );
    assert_eq!(
        (
            invoice.subtotal,
            invoice.total,
            invoice.amount_due,
            invoice.amount_paid,
            invoice.amount_remaining
        ),
        (1000, 1000, 1000, 0, 1000)
    );
    assert_eq!(
        (invoice.starting_balance, invoice.ending_balance),
        (0, None)
    );
    assert_eq!(
        invoice.customer.as_ref().map(Expandable::id),
        Some("cus_QXg1o8vcGmoR32")
    );
    assert_eq!(invoice.due_date, Some(1_234_567_890));
    assert_eq!(invoice.status_transitions.paid_at, None);
    assert!(!invoice.auto_advance);
    assert_eq!(
        invoice.last_finalization_error.map(|e| e.error_type),
        Some(ErrorType::IdempotencyError)
    );

    assert_eq!(invoice.lines.object, "list");
    assert_eq!(
        invoice.lines.url,
        "/v1/invoices/in_1Pgc6tB7WZ01zgkWu9fdqL6I/lines"
    );
    assert!(!invoice.lines.has_more);
    let line = &invoice.lines.data[0];
    assert_eq!((line.amount, line.quantity), (1000, Some(1)));
    assert_eq!(
        line.pricing.as_ref().map(|p| &p.pricing_type),
        Some(&PricingType::PriceDetails)
    );
    let parent = line.parent.as_ref().unwrap();
    assert_eq!(parent.parent_type, LineParentType::InvoiceItemDetails);
    assert_eq!(
        parent
            .invoice_item_details
            .as_ref()
            .unwrap()
            .invoice_item
            .as_deref(),
        Some("invoice_item")
    );
    assert_eq!(
        line.period.map(|p| (p.start, p.end)),
        Some((1_721_954_054, 1_721_954_054))
    );
}

#[test]
fn customer_and_balance_fixtures_decode_balance_signs() {
    let customer: Customer = fixture("customer.json");
    assert_eq!(customer.id, "cus_QXg1o8vcGmoR32");
    assert_eq!(customer.balance, 0);
    assert_eq!(customer.currency.as_deref(), Some("usd"));
    assert!(customer.address.as_ref().unwrap().line1.is_none());
    assert!(customer.metadata.is_empty());

    let transaction: CustomerBalanceTransaction = fixture("customer_balance_transaction.json");
    assert_eq!(
        (transaction.amount, transaction.ending_balance),
        (-500, -500)
    );
    assert_eq!(
        transaction.transaction_type,
        BalanceTransactionType::Adjustment
    );
    assert!(
        transaction.metadata.is_empty(),
        "null metadata decodes as empty"
    );

    let deleted: Deleted = fixture("deleted_customer.json");
    assert!(deleted.deleted);
    assert_eq!(deleted.object, "customer");
}

#[test]
fn catalogue_and_item_fixtures_decode() {
    let item: InvoiceItem = fixture("invoiceitem.json");
    assert_eq!((item.amount, item.quantity), (1000, 1));
    assert!(item.invoice.is_none());
    assert_eq!(
        item.parent.unwrap().parent_type,
        InvoiceItemParentType::SubscriptionDetails
    );

    let price: Price = fixture("price.json");
    assert_eq!(price.unit_amount, Some(2000));
    assert_eq!(price.price_type, PriceType::Recurring);
    assert_eq!(price.recurring.unwrap().interval, RecurringInterval::Month);
    assert_eq!(price.product.id(), "prod_QXg1hqf4jFNsqG");

    let product: Product = fixture("product.json");
    assert_eq!(product.name, "T-shirt");
    assert_eq!(
        product.default_price.unwrap().id(),
        "price_1PgafmB7WZ01zgkW02Hf9z6c"
    );

    let note: CreditNote = fixture("credit_note.json");
    assert_eq!(note.status, CreditNoteStatus::Issued);
}

#[test]
fn event_fixture_of_an_unmodelled_type_keeps_its_object_raw() {
    let event: Event = fixture("event.json");
    assert_eq!(
        event.event_type,
        EventType::Unknown("plan.created".to_owned())
    );
    assert_eq!(event.api_version, None);
    match &event.data.object {
        EventObject::Other(raw) => {
            let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap();
            assert_eq!(value["object"], "plan");
            assert_eq!(value["amount"], 2000);
        }
        other => panic!("expected a raw object, got {other:?}"),
    }
}

#[test]
fn expanded_customer_on_an_invoice_decodes_as_an_object() {
    let mut invoice: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture_path("invoice.json")).unwrap()).unwrap();
    invoice["customer"] =
        serde_json::from_slice(&std::fs::read(fixture_path("customer.json")).unwrap()).unwrap();
    let invoice: Invoice = serde_json::from_value(invoice).unwrap();
    let customer = invoice.customer.unwrap();
    assert_eq!(customer.id(), "cus_QXg1o8vcGmoR32");
    assert_eq!(customer.as_object().map(|c| c.balance), Some(0));
}

#[test]
fn list_search_and_error_bodies_decode() {
    let list: List<Customer> = serde_json::from_str(&format!(
        r#"{{"object":"list","data":[{}],"has_more":true,"url":"/v1/customers"}}"#,
        std::fs::read_to_string(fixture_path("customer.json")).unwrap()
    ))
    .unwrap();
    assert!(list.has_more);
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.url, "/v1/customers");

    let search: SearchResult<Invoice> = serde_json::from_str(
        r#"{"object":"search_result","data":[],"has_more":true,"next_page":"page_abc","url":"/v1/invoices/search"}"#,
    )
    .unwrap();
    assert_eq!(search.next_page.as_deref(), Some("page_abc"));
    assert!(search.has_more && search.data.is_empty());

    let body: ErrorBody = serde_json::from_str(
        r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such customer: 'cus_x'",
            "param":"customer","doc_url":"https://stripe.com/docs/error-codes/resource-missing",
            "request_log_url":"https://dashboard.stripe.com/test/logs/req_1"}}"#,
    )
    .unwrap();
    assert_eq!(body.error.error_type, ErrorType::InvalidRequestError);
    assert_eq!(body.error.code.as_deref(), Some("resource_missing"));
    assert_eq!(body.error.param.as_deref(), Some("customer"));
    assert_eq!(body.error.decline_code, None);

    let future: ApiError = serde_json::from_str(r#"{"type":"brand_new_error"}"#).unwrap();
    assert_eq!(
        future.error_type,
        ErrorType::Unknown("brand_new_error".to_owned())
    );
}

// ---------------------------------------------------------------------------
// Forward compatibility.
// ---------------------------------------------------------------------------

#[test]
fn invoice_with_future_status_and_collection_method_decodes_and_round_trips() {
    let mut invoice: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture_path("invoice.json")).unwrap()).unwrap();
    invoice["status"] = "some_future_status".into();
    invoice["collection_method"] = "pay_by_carrier_pigeon".into();
    invoice["lines"]["data"][0]["pricing"]["type"] = "future_pricing".into();
    invoice["brand_new_field"] = serde_json::json!({"nested": [1, 2]});
    let decoded: Invoice = serde_json::from_value(invoice).unwrap();
    assert_eq!(
        decoded.status,
        Some(InvoiceStatus::Unknown("some_future_status".to_owned()))
    );
    assert_eq!(
        decoded.collection_method,
        CollectionMethod::Unknown("pay_by_carrier_pigeon".to_owned())
    );
    assert_eq!(
        decoded.lines.data[0].pricing.as_ref().unwrap().pricing_type,
        PricingType::Unknown("future_pricing".to_owned())
    );

    let again: Invoice = serde_json::from_str(&serde_json::to_string(&decoded).unwrap()).unwrap();
    assert_eq!(again, decoded);
    let json = serde_json::to_value(&decoded).unwrap();
    assert_eq!(json["status"], "some_future_status");
    assert_eq!(json["collection_method"], "pay_by_carrier_pigeon");
}

#[test]
fn known_enum_values_round_trip_through_their_wire_spelling() {
    for wire in ["charge_automatically", "send_invoice"] {
        let method: CollectionMethod = serde_json::from_str(&format!("\"{wire}\"")).unwrap();
        assert!(
            !matches!(method, CollectionMethod::Unknown(_)),
            "{wire} is known"
        );
        assert_eq!(
            serde_json::to_string(&method).unwrap(),
            format!("\"{wire}\"")
        );
        assert_eq!(method.to_string(), wire);
    }
    assert_eq!(EventType::from("invoice.paid"), EventType::InvoicePaid);
    assert_eq!(EventType::from("invoice.paid").as_str(), "invoice.paid");
    assert!(
        serde_json::from_str::<CollectionMethod>("42").is_err(),
        "a number is not a string enum"
    );
}
