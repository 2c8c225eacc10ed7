//! Search over the wire, as Stripe documents its query language: space, `AND` and `OR`
//! joins in any case, metadata, negation, numeric comparisons, `null`, substrings,
//! quotes with escapes, pagination with `page` / `next_page`, `expand[]=total_count`,
//! Stripe's 400 for a query it cannot parse, and the lag before a write is searchable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_common;

use billbridge::stripe::transport::Method;
use billbridge_mock::MockStripe;
use mock_common::*;
use serde_json::Value;

async fn search(mock: &MockStripe, resource: &str, query: &str) -> Vec<String> {
    let found = get(mock, &format!("/v1/{resource}/search"), &[("query", query)]).await;
    assert_eq!(found["object"], "search_result");
    found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Three invoices of Ada's: 1500 with order 6735, 500 with order 6735, 2500 with none.
async fn invoices(mock: &MockStripe) -> (String, Vec<String>) {
    let ada = customer(
        mock,
        &[("name", "Ada Lovelace"), ("email", "ada@example.com")],
    )
    .await;
    let mut ids = Vec::new();
    for (amount, order) in [(1500, Some("6735")), (500, Some("6735")), (2500, None)] {
        let id = draft_with_line(mock, &ada, "gbp", amount, 1).await;
        if let Some(order) = order {
            post(
                mock,
                &format!("/v1/invoices/{id}"),
                &[("metadata[order_id]", order)],
            )
            .await;
        }
        ids.push(id);
    }
    (ada, ids)
}

#[tokio::test]
async fn clauses_join_by_space_and_or_in_any_case() {
    let mock = MockStripe::new();
    let (_, ids) = invoices(&mock).await;
    let big_order = vec![ids[0].clone()];
    assert_eq!(
        search(&mock, "invoices", "total>999 metadata['order_id']:'6735'").await,
        big_order
    );
    assert_eq!(
        search(
            &mock,
            "invoices",
            "total>999 and metadata['order_id']:'6735'"
        )
        .await,
        big_order
    );
    assert_eq!(
        search(
            &mock,
            "invoices",
            "total>999 AND metadata[\"order_id\"]:\"6735\""
        )
        .await,
        big_order
    );
    let either = search(
        &mock,
        "invoices",
        "total>=2500 or metadata['order_id']:'6735'",
    )
    .await;
    assert_eq!(either.len(), 3);
    let small = search(&mock, "invoices", "total<1000").await;
    assert_eq!(small, vec![ids[1].clone()]);
    let without_order = search(&mock, "invoices", "-metadata['order_id']:'6735'").await;
    assert_eq!(without_order, vec![ids[2].clone()]);
    let by_status = search(&mock, "invoices", "status:'draft' total<=500").await;
    assert_eq!(by_status, vec![ids[1].clone()]);
}

#[tokio::test]
async fn customers_by_text_substring_null_and_quotes() {
    let mock = MockStripe::new();
    let (ada, _) = invoices(&mock).await;
    let quoted = customer(&mock, &[("name", "Bob \"The Builder\" O'Neil")]).await;
    assert_eq!(
        search(&mock, "customers", "email~'example'").await,
        vec![ada.clone()]
    );
    assert_eq!(
        search(&mock, "customers", "email:null").await,
        vec![quoted.clone()]
    );
    assert_eq!(
        search(&mock, "customers", "-email:null").await,
        vec![ada.clone()]
    );
    assert_eq!(
        search(&mock, "customers", r#"name:"Bob \"The Builder\"""#).await,
        vec![quoted.clone()]
    );
    assert_eq!(
        search(&mock, "customers", r"name:'O\'Neil'").await,
        vec![quoted]
    );
    assert_eq!(
        search(&mock, "customers", "name:'lovelace'").await,
        vec![ada]
    );
}

#[tokio::test]
async fn products_and_prices_are_searchable() {
    let mock = MockStripe::new();
    let visit = post(
        &mock,
        "/v1/products",
        &[("name", "Home visit"), ("metadata[code]", "HV")],
    )
    .await;
    post(
        &mock,
        "/v1/products",
        &[("name", "Clinic visit"), ("active", "false")],
    )
    .await;
    let visit_id = visit["id"].as_str().unwrap().to_owned();
    assert_eq!(
        search(&mock, "products", "active:'true'").await,
        vec![visit_id.clone()]
    );
    assert_eq!(
        search(&mock, "products", "metadata['code']:'HV'").await,
        vec![visit_id.clone()]
    );
    let price = post(
        &mock,
        "/v1/prices",
        &[
            ("currency", "gbp"),
            ("unit_amount", "4500"),
            ("product", &visit_id),
            ("lookup_key", "home"),
        ],
    )
    .await;
    let found = search(
        &mock,
        "prices",
        &format!("product:'{visit_id}' currency:'gbp'"),
    )
    .await;
    assert_eq!(found, vec![price["id"].as_str().unwrap().to_owned()]);
    assert_eq!(search(&mock, "prices", "lookup_key:'home'").await.len(), 1);
}

#[tokio::test]
async fn pages_follow_next_page_and_total_count_is_expanded_on_request() {
    let mock = MockStripe::new();
    for index in 0..5 {
        customer(
            &mock,
            &[
                ("name", &format!("Patient {index}")),
                ("metadata[clinic]", "north"),
            ],
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut params = vec![
            ("query", "metadata['clinic']:'north'".to_owned()),
            ("limit", "2".to_owned()),
        ];
        if let Some(token) = &page {
            params.push(("page", token.clone()));
        }
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        let found = get(&mock, "/v1/customers/search", &pairs).await;
        assert!(found.get("total_count").is_none(), "only on request");
        seen.extend(
            found["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].clone()),
        );
        match found["next_page"].as_str() {
            Some(token) => page = Some(token.to_owned()),
            None => {
                assert_eq!(found["has_more"], false);
                break;
            }
        }
    }
    assert_eq!(seen.len(), 5);
    let counted = get(
        &mock,
        "/v1/customers/search",
        &[
            ("query", "metadata['clinic']:'north'"),
            ("limit", "1"),
            ("expand[]", "total_count"),
        ],
    )
    .await;
    assert_eq!(counted["total_count"], 5);
}

#[tokio::test]
async fn a_query_stripe_cannot_parse_gets_its_400_never_an_empty_result() {
    let mock = MockStripe::new();
    for query in [
        "total>>5",
        "colour:'red'",
        "email:'a' AND email:'b' OR email:'c'",
        "name~'ab'",
        "email:'unterminated",
        "",
    ] {
        let (status, body) = call(
            &mock,
            Method::Get,
            "/v1/customers/search",
            &[("query", query)],
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty())
        );
    }
}

#[tokio::test]
async fn with_a_search_lag_a_write_is_searchable_only_after_it() {
    let mock = MockStripe::builder().search_lag(60).build();
    let ada = customer(&mock, &[("name", "Ada"), ("metadata[patient]", "P-1")]).await;
    let query = "metadata['patient']:'P-1'";
    assert!(
        search(&mock, "customers", query).await.is_empty(),
        "not yet indexed"
    );
    // Retrieve and list are read-after-write.
    assert_eq!(
        get(&mock, &format!("/v1/customers/{ada}"), &[]).await["id"],
        Value::String(ada.clone())
    );
    mock.clock().advance(59);
    assert!(search(&mock, "customers", query).await.is_empty());
    mock.clock().advance(1);
    assert_eq!(search(&mock, "customers", query).await, vec![ada.clone()]);
    // A change takes it out of the index again until the lag has passed.
    post(
        &mock,
        &format!("/v1/customers/{ada}"),
        &[("name", "Ada L.")],
    )
    .await;
    assert!(search(&mock, "customers", query).await.is_empty());
    mock.clock().advance(60);
    assert_eq!(search(&mock, "customers", query).await, vec![ada]);
    // And it can be switched off at run time.
    mock.set_search_lag(0);
    customer(&mock, &[("name", "Bob"), ("metadata[patient]", "P-2")]).await;
    assert_eq!(
        search(&mock, "customers", "metadata['patient']:'P-2'")
            .await
            .len(),
        1
    );
}
