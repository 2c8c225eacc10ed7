//! Form encoding and decoding: a parameter tree built by the client's
//! [`Form`]/[`FormValue`] must reach the mock as the same tree, and any pairs at all
//! must be decoded or refused with a 400, never crash the mock.

use std::collections::BTreeMap;

use billbridge::stripe::form::{Form, FormValue, encode_pairs};
use billbridge_mock::fuzzing::{FormNode, decode_form, read_form};

use crate::bytes::Bytes;

/// Deeper trees than Stripe's own parameters (four levels: `lines[0][price_data][…]`).
const MAX_DEPTH: u8 = 5;

/// The mode byte's lowest bit: 0 builds a parameter tree, 1 sends raw pairs.
///
/// Tree mode, properties: the pairs [`Form::encode`] writes percent-encode and decode
/// back to themselves, and the mock decodes them to exactly the tree that was built
/// (absent values and empty hashes dropped, scalars as text, lists indexed from 0).
///
/// Raw mode, properties: any pairs (brackets, empty names, any text) are decoded or
/// refused with a 400 and read by every typed reader without a panic, and their
/// percent-encoding decodes back to them.
pub fn form_round_trip(data: &[u8]) {
    let mut input = Bytes::new(data);
    if input.byte() & 1 == 0 {
        tree(&mut input);
    } else {
        raw(&mut input);
    }
}

fn tree(input: &mut Bytes<'_>) {
    let mut form = Form::new();
    let mut entries = Vec::new();
    for _ in 0..(input.byte() % 8) {
        let key = input.key();
        let value = value(input, 0);
        form = form.field(key.clone(), value.clone());
        // `Form::field` keeps a key's first position and its last value.
        match entries.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, slot)) => *slot = value,
            None => entries.push((key, value)),
        }
    }
    let pairs = form.encode();
    assert_eq!(decode_urlencoded(&encode_pairs(&pairs)), pairs);
    let decoded = match decode_form(&pairs) {
        Ok(decoded) => decoded,
        Err(refusal) => panic!("the mock refused the client's own encoding: {refusal:?}"),
    };
    let expected: BTreeMap<String, FormNode> = entries
        .iter()
        .filter_map(|(key, value)| expected_node(value).map(|node| (key.clone(), node)))
        .collect();
    assert_eq!(decoded, expected, "pairs: {pairs:?}");
    if let Err(refusal) = read_form(&pairs) {
        panic!("pairs that decoded could not be read: {refusal:?}");
    }
}

fn value(input: &mut Bytes<'_>, depth: u8) -> FormValue {
    let choices = if depth >= MAX_DEPTH { 6 } else { 8 };
    match input.byte() % choices {
        0 => FormValue::Text(input.text(24)),
        1 => FormValue::Integer(input.i64()),
        2 => FormValue::Bool(input.byte() & 1 == 1),
        3 => FormValue::Unset,
        4 => FormValue::Absent,
        5 => FormValue::from(u64::from_le_bytes(input.i64().to_le_bytes())),
        6 => {
            let mut entries = Vec::new();
            for _ in 0..(input.byte() % 5) {
                entries.push((input.key(), value(input, depth + 1)));
            }
            FormValue::map(entries)
        }
        _ => FormValue::List(
            (0..(input.byte() % 5))
                .map(|_| value(input, depth + 1))
                .collect(),
        ),
    }
}

/// The tree the mock should decode for one value, `None` when it sends nothing.
fn expected_node(value: &FormValue) -> Option<FormNode> {
    match value {
        FormValue::Text(text) => Some(FormNode::Text(text.clone())),
        FormValue::Integer(number) => Some(FormNode::Text(number.to_string())),
        FormValue::Bool(flag) => Some(FormNode::Text(flag.to_string())),
        FormValue::Unset => Some(FormNode::Text(String::new())),
        FormValue::Absent => None,
        FormValue::Map(entries) => non_empty(
            entries
                .iter()
                .filter_map(|(key, value)| expected_node(value).map(|node| (key.clone(), node)))
                .collect(),
        ),
        FormValue::List(items) => non_empty(
            items
                .iter()
                .filter(|item| **item != FormValue::Absent)
                .enumerate()
                .filter_map(|(index, item)| {
                    expected_node(item).map(|node| (index.to_string(), node))
                })
                .collect(),
        ),
    }
}

fn non_empty(map: BTreeMap<String, FormNode>) -> Option<FormNode> {
    (!map.is_empty()).then_some(FormNode::Map(map))
}

fn raw(input: &mut Bytes<'_>) {
    let mut pairs = Vec::new();
    while !input.is_empty() && pairs.len() < 32 {
        pairs.push((input.text(48), input.text(48)));
    }
    assert_eq!(decode_urlencoded(&encode_pairs(&pairs)), pairs);
    match decode_form(&pairs) {
        Ok(_) => {
            if let Err(refusal) = read_form(&pairs) {
                panic!("pairs that decoded could not be read: {refusal:?}");
            }
        }
        Err(refusal) => {
            assert_eq!(refusal.status, 400, "{refusal:?}");
            assert!(read_form(&pairs).is_err());
        }
    }
}

/// `application/x-www-form-urlencoded` as the HTML standard decodes it: the oracle the
/// client's encoding is checked against (`+` is a space, `%XX` a byte).
fn decode_urlencoded(body: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'+' => out.push(b' '),
                b'%' if index + 2 < bytes.len() => {
                    match (hex(bytes[index + 1]), hex(bytes[index + 2])) {
                        (Some(high), Some(low)) => {
                            out.push((high << 4) | low);
                            index += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                other => out.push(other),
            }
            index += 1;
        }
        match String::from_utf8(out) {
            Ok(text) => text,
            Err(error) => panic!("the encoding of UTF-8 text decoded to other bytes: {error}"),
        }
    }
    fn hex(digit: u8) -> Option<u8> {
        char::from(digit)
            .to_digit(16)
            .and_then(|value| u8::try_from(value).ok())
    }
    if body.is_empty() {
        return Vec::new();
    }
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (decode(key), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}
