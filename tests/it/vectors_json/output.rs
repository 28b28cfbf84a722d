//! Output (response) and error cases: our encoder's bytes read back as a client would.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use updraft::error::ApiError;
use updraft::protocol::cbor::{encode_cbor, encode_cbor_error};
use updraft::protocol::json::{encode_json, encode_json_error};
use updraft::protocol::model::ShapeRef;

use super::cbor::{Cbor, cbor_to_json, client_cbor, strict_cbor};
use super::values::{client_json, loose_eq, vector_to_tree};
use super::{Codec, Suite, check_decoded, shape_ref};

pub(super) fn output_case(suite: &Suite, codec: Codec, case: &Value) -> Result<(), String> {
    if case.get("errorCode").is_some() {
        return error_case(suite, codec, case);
    }
    let model = &suite.model;
    let output = shape_ref(&case["given"], "output");
    let shape = output.as_ref().and_then(|r| model.shape(&r.shape));
    let expected = &case["result"];

    // 1. Our encoder, read back by a client.
    let tree = match shape {
        Some(s) => vector_to_tree(model, s, expected),
        None => expected.clone(),
    };
    let body = match codec {
        Codec::Json => encode_json(model, output.as_ref(), &tree),
        Codec::Cbor => encode_cbor(model, output.as_ref(), &tree),
    };
    let client = match codec {
        Codec::Json => {
            let wire: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("our JSON does not parse: {e}"))?;
            match shape {
                Some(s) => client_json(model, s, &wire)?,
                None if wire.is_object() => json!({}),
                None => return Err(format!("no-output body is {wire}")),
            }
        }
        Codec::Cbor => {
            let wire = strict_cbor(&body)?;
            match shape {
                Some(s) => client_cbor(model, s, &wire)?,
                None if matches!(wire, Cbor::Map(_)) => json!({}),
                None => return Err(format!("no-output body is {wire:?}")),
            }
        }
    };
    if !loose_eq(&client, expected) {
        return Err(format!(
            "client read our body {} as {client}\n      expected {expected}",
            hex_or_text(codec, &body)
        ));
    }

    // 2. Cross-check: our decoder reads the vector's own response body.
    let vector_body = response_body(codec, &case["response"])?;
    check_decoded(model, codec, output.as_ref(), &vector_body, expected)
        .map_err(|e| format!("decoder cross-check on the vector's body: {e}"))
}

fn response_body(codec: Codec, response: &Value) -> Result<Vec<u8>, String> {
    let text = response.get("body").and_then(Value::as_str).unwrap_or("");
    match codec {
        Codec::Json => Ok(text.as_bytes().to_vec()),
        Codec::Cbor => STANDARD
            .decode(text)
            .map_err(|e| format!("bad base64 body: {e}")),
    }
}

fn hex_or_text(codec: Codec, body: &[u8]) -> String {
    match codec {
        Codec::Json => String::from_utf8_lossy(body).into_owned(),
        Codec::Cbor => hex::encode(body),
    }
}

fn error_case(suite: &Suite, codec: Codec, case: &Value) -> Result<(), String> {
    let model = &suite.model;
    let given = &case["given"];
    let error_ref = given["errors"]
        .get(0)
        .and_then(|r| r["shape"].as_str())
        .ok_or("error case without an error shape")?;
    let shape = model.shape(error_ref).ok_or("error shape missing")?;
    let trait_ = shape.error.clone().unwrap_or_default();
    // The ApiError a handler returns: the awsQuery code for query-compatible services.
    let code = match (&trait_.code, suite.query_compatible) {
        (Some(code), true) => code.clone(),
        _ => error_ref.to_owned(),
    };
    let status = case["response"]["status_code"].as_u64().unwrap_or(400) as u16;
    let message = case["errorMessage"].as_str().unwrap_or_default().to_owned();
    let err = ApiError {
        code: code.into(),
        message: message.clone(),
        status,
        sender_fault: trait_.sender_fault.unwrap_or(status < 500),
    };
    let namespace = vector_namespace(codec, &case["response"]).unwrap_or("aws.protocoltests");
    let type_name = format!("{namespace}#{error_ref}");

    let body = match codec {
        Codec::Json => encode_json_error(&type_name, &err),
        Codec::Cbor => encode_cbor_error(&type_name, &err),
    };
    let wire = match codec {
        Codec::Json => serde_json::from_slice::<Value>(&body)
            .map_err(|e| format!("our error JSON does not parse: {e}"))?,
        Codec::Cbor => cbor_to_json(&strict_cbor(&body)?),
    };
    let dunder = wire["__type"].as_str().ok_or("no __type")?;
    let mut client_code = client_error_code(dunder).to_owned();
    if suite.query_compatible {
        // What the server puts in `x-amzn-query-error` for this ApiError.
        let header = format!(
            "{};{}",
            err.code,
            if err.sender_fault {
                "Sender"
            } else {
                "Receiver"
            }
        );
        if let Some(want) = case["response"]["headers"]["x-amzn-query-error"].as_str()
            && want != header
        {
            return Err(format!(
                "x-amzn-query-error would be {header}, vector has {want}"
            ));
        }
        client_code = header.split(';').next().unwrap_or_default().to_owned();
    }
    let want_code = case["errorCode"].as_str().unwrap_or_default();
    if client_code != want_code {
        return Err(format!(
            "client error code {client_code}, expected {want_code}"
        ));
    }
    if let Some(want) = case["errorMessage"].as_str() {
        let got = wire
            .get("message")
            .or_else(|| wire.get("Message"))
            .and_then(Value::as_str);
        if got != Some(want) {
            return Err(format!("client error message {got:?}, expected {want:?}"));
        }
    }

    // Cross-check: our decoder reads the vector's error body as the error structure.
    let vector_body = response_body(codec, &case["response"])?;
    let error_shape = ShapeRef {
        shape: error_ref.to_owned(),
        ..Default::default()
    };
    check_decoded(
        model,
        codec,
        Some(&error_shape),
        &vector_body,
        &case["error"],
    )
    .map_err(|e| format!("decoder cross-check on the vector's error body: {e}"))
}

/// botocore: the code is `__type` after the last `#`, cut at any `:`.
fn client_error_code(dunder: &str) -> &str {
    let tail = dunder.rsplit('#').next().unwrap_or(dunder);
    tail.split(':').next().unwrap_or(tail)
}

fn vector_namespace(codec: Codec, response: &Value) -> Option<&str> {
    if codec != Codec::Json {
        return None;
    }
    let body = response.get("body")?.as_str()?;
    let start = body.find("\"__type\"")?;
    let rest = &body[start + 8..];
    let open = rest.find('"')? + 1;
    let hash = rest[open..].find('#')?;
    Some(&rest[open..open + hash])
}
