//! Every parameter the typed client can send exists in Stripe's published request
//! schema for its operation, with a type the schema allows: each parameter struct,
//! filled in every field (and in its clearing form, `""` where Stripe unsets), is
//! encoded as the client sends it and checked against the spec by the mock's checker
//! (`billbridge_mock::check_parameters`, generated from `spec3.json`). What the schema
//! cannot express is refused by the client before sending.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use billbridge::domain::status::InvoiceStatus;
use billbridge::stripe::client::{
    AddressParams, CreateBalanceTransaction, CreateCustomer, CreateInvoice, CreateInvoiceItem,
    CreatePreview, CreatePrice, CreateProduct, CustomFieldParams, InvoiceItemPricing,
    InvoiceLineParams, LinePricing, ListCustomers, ListInvoices, ListPrices, PayInvoice,
    PendingInvoiceItemsBehavior, PreviewItemParams, ProductRef, RequestContext, StripeClient,
    TimeRange, UpdateCustomer, UpdateInvoice,
};
use billbridge::stripe::form::Form;
use billbridge::stripe::models::{CollectionMethod, Period};
use billbridge::stripe::transport::Method;
use billbridge_mock::{MockStripe, check_parameters};

fn check(method: Method, path: &str, form: Form, failures: &mut Vec<String>) {
    let pairs = form.encode();
    if let Err(problem) = check_parameters(method, path, &pairs) {
        failures.push(problem);
    }
}

fn metadata() -> Vec<(String, String)> {
    vec![
        ("ehr_patient_id".into(), "P-1".into()),
        ("removed_key".into(), String::new()),
    ]
}

fn address(text: &str) -> AddressParams {
    AddressParams {
        line1: Some(text.into()),
        line2: Some(text.into()),
        city: Some(text.into()),
        state: Some(text.into()),
        postal_code: Some(text.into()),
        country: Some(if text.is_empty() { "" } else { "GB" }.into()),
    }
}

fn period() -> Period {
    Period {
        start: 1_700_000_000,
        end: 1_700_086_400,
    }
}

#[test]
fn every_parameter_the_client_sends_is_in_stripes_schema() {
    let mut failures = Vec::new();
    let period = period();

    // Customers.
    let create = CreateCustomer {
        name: Some("Ada".into()),
        email: Some("ada@example.com".into()),
        phone: Some("+441234567890".into()),
        description: Some("Patient".into()),
        address: Some(address("1 Main St")),
        metadata: metadata(),
        preferred_locales: vec!["en-GB".into(), "fr".into()],
        default_payment_method: Some("pm_card_visa".into()),
    };
    check(
        Method::Post,
        "/v1/customers",
        create.to_form(),
        &mut failures,
    );
    for text in ["new", ""] {
        let update = UpdateCustomer {
            name: Some(text.into()),
            email: Some(text.into()),
            phone: Some(text.into()),
            description: Some(text.into()),
            address: Some(address(text)),
            metadata: metadata(),
            preferred_locales: Some(vec!["en-GB".into()]),
            default_payment_method: Some(text.into()),
        };
        check(
            Method::Post,
            "/v1/customers/cus_1",
            update.to_form(),
            &mut failures,
        );
    }
    let list = ListCustomers {
        email: Some("ada@example.com".into()),
        created: Some(TimeRange {
            gt: Some(1),
            gte: Some(2),
            lt: Some(3),
            lte: Some(4),
        }),
        limit: Some(100),
    };
    check(Method::Get, "/v1/customers", list.to_form(), &mut failures);

    // Balance.
    let credit = CreateBalanceTransaction {
        amount: -500,
        currency: "gbp".into(),
        description: Some("Missed visit".into()),
        metadata: metadata(),
    };
    check(
        Method::Post,
        "/v1/customers/cus_1/balance_transactions",
        credit.to_form(),
        &mut failures,
    );

    // Products and prices.
    let product = CreateProduct {
        name: "Visit".into(),
        description: Some("A home visit".into()),
        active: Some(true),
        id: Some("prod_visit".into()),
        metadata: metadata(),
    };
    check(
        Method::Post,
        "/v1/products",
        product.to_form(),
        &mut failures,
    );
    for product in [
        ProductRef::Id("prod_1".into()),
        ProductRef::Data { name: "Kit".into() },
    ] {
        let price = CreatePrice {
            currency: "gbp".into(),
            unit_amount: 4500,
            product,
            lookup_key: Some("visit".into()),
            transfer_lookup_key: Some(true),
            nickname: Some("Visit".into()),
            metadata: metadata(),
        };
        check(Method::Post, "/v1/prices", price.to_form(), &mut failures);
    }
    let prices = ListPrices {
        lookup_keys: vec!["a".into(), "b".into()],
        product: Some("prod_1".into()),
        active: Some(true),
        limit: Some(10),
    };
    check(Method::Get, "/v1/prices", prices.to_form(), &mut failures);

    // Invoice items, in each pricing form.
    for pricing in [
        InvoiceItemPricing::Amount {
            amount: -500,
            currency: "gbp".into(),
        },
        InvoiceItemPricing::PriceData {
            currency: "gbp".into(),
            product: "prod_1".into(),
            unit_amount: 2500,
        },
        InvoiceItemPricing::Price("price_1".into()),
    ] {
        let item = CreateInvoiceItem {
            customer: "cus_1".into(),
            invoice: Some("in_1".into()),
            description: Some("Kit".into()),
            quantity: Some(2),
            pricing,
            metadata: metadata(),
            period: Some(period),
        };
        check(
            Method::Post,
            "/v1/invoiceitems",
            item.to_form(),
            &mut failures,
        );
    }

    // Invoices.
    let fields = vec![CustomFieldParams {
        name: "Patient".into(),
        value: "P-1".into(),
    }];
    for behaviour in [
        PendingInvoiceItemsBehavior::Exclude,
        PendingInvoiceItemsBehavior::Include,
    ] {
        let invoice = CreateInvoice {
            customer: "cus_1".into(),
            currency: Some("gbp".into()),
            collection_method: Some(CollectionMethod::SendInvoice),
            days_until_due: Some(14),
            due_date: None,
            auto_advance: Some(false),
            description: Some("Memo".into()),
            footer: Some("Thanks".into()),
            metadata: metadata(),
            custom_fields: fields.clone(),
            pending_invoice_items_behavior: Some(behaviour),
        };
        check(
            Method::Post,
            "/v1/invoices",
            invoice.to_form(),
            &mut failures,
        );
    }
    for (custom_fields, text) in [(Some(fields.clone()), "memo"), (Some(Vec::new()), "")] {
        let update = UpdateInvoice {
            description: Some(text.into()),
            footer: Some(text.into()),
            metadata: metadata(),
            collection_method: Some(CollectionMethod::ChargeAutomatically),
            days_until_due: None,
            due_date: Some(1_800_000_000),
            auto_advance: Some(true),
            custom_fields,
        };
        check(
            Method::Post,
            "/v1/invoices/in_1",
            update.to_form(),
            &mut failures,
        );
    }
    for status in [
        InvoiceStatus::Draft,
        InvoiceStatus::Open,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
        InvoiceStatus::Uncollectible,
    ] {
        let list = ListInvoices {
            customer: Some("cus_1".into()),
            status: Some(status),
            created: Some(TimeRange::between(1, 2)),
            collection_method: Some(CollectionMethod::SendInvoice),
            limit: Some(100),
        };
        check(Method::Get, "/v1/invoices", list.to_form(), &mut failures);
    }
    let lines: Vec<InvoiceLineParams> = [
        LinePricing::Price("price_1".into()),
        LinePricing::PriceData {
            currency: "gbp".into(),
            product: ProductRef::Id("prod_1".into()),
            unit_amount: 1000,
        },
        LinePricing::PriceData {
            currency: "gbp".into(),
            product: ProductRef::Data { name: "Kit".into() },
            unit_amount: 0,
        },
    ]
    .into_iter()
    .map(|pricing| InvoiceLineParams {
        description: Some("Line".into()),
        quantity: Some(3),
        metadata: metadata(),
        period: Some(period),
        pricing,
    })
    .collect();
    let mut add_lines = Form::new();
    for (index, line) in lines.iter().enumerate() {
        add_lines = add_lines.field(format!("lines[{index}]"), line.to_form());
    }
    check(
        Method::Post,
        "/v1/invoices/in_1/add_lines",
        add_lines,
        &mut failures,
    );
    for pay in [
        PayInvoice::out_of_band(),
        PayInvoice {
            paid_out_of_band: Some(false),
            payment_method: Some("pm_card_visa".into()),
        },
    ] {
        check(
            Method::Post,
            "/v1/invoices/in_1/pay",
            pay.to_form(),
            &mut failures,
        );
    }
    let preview = CreatePreview {
        customer: "cus_1".into(),
        currency: Some("gbp".into()),
        invoice_items: vec![PreviewItemParams {
            description: Some("Visit".into()),
            quantity: Some(1),
            currency: "gbp".into(),
            product: "prod_1".into(),
            unit_amount: 4500,
        }],
    };
    check(
        Method::Post,
        "/v1/invoices/create_preview",
        preview.to_form(),
        &mut failures,
    );

    assert!(
        failures.is_empty(),
        "outside Stripe's schema:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn what_the_schema_cannot_express_is_refused_before_sending() {
    let mock = MockStripe::new();
    let client = StripeClient::new(mock.clone());
    let clear_locales = UpdateCustomer {
        preferred_locales: Some(Vec::new()),
        ..UpdateCustomer::default()
    };
    let error = client
        .customers()
        .update("cus_1", &clear_locales, &RequestContext::new())
        .await
        .unwrap_err();
    let error = billbridge::Error::from(error);
    assert_eq!(error.category(), billbridge::ErrorCategory::Validation);
    assert!(error.to_string().contains("preferred_locales"), "{error}");
    let deleted = ListInvoices {
        status: Some(InvoiceStatus::Deleted),
        ..ListInvoices::default()
    };
    assert!(
        client
            .invoices()
            .list(&deleted, &RequestContext::new())
            .is_err()
    );
    assert!(mock.requests().is_empty(), "nothing was sent");
}
