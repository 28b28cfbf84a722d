//! botocore's protocol vectors for awsJson 1.0 and rpc-v2-cbor, run in the server's direction,
//! plus hand-written server-side rpc-v2-cbor cases and our own captured client requests.
//!
//! * Input vectors: the serialized request body goes through our decoder; the tree must equal
//!   the vector's `params` (blobs compared as plain text, numbers compared by value).
//! * Output vectors: the `result` goes through our encoder; our bytes are then read back the
//!   way a client would (JSON: `serde_json` and the shapes; CBOR: `minicbor` in `cbor.rs`, which
//!   also insists on definite lengths, smallest integers and float64 floats) and must equal
//!   `result`. As a cross-check our *decoder* must also read the vector's own response body
//!   (indefinite lengths, half floats, extra fields, nulls) into the same `result`.
//! * Error vectors: `encode_json_error`/`encode_cbor_error` with the absolute shape id; the
//!   client's code is `__type` after `#` and before `:`, or, for query-compatible services,
//!   the first half of the `x-amzn-query-error` header the server adds (`Code;Sender`).
//!
//! The vectors are third-party files fetched by `protocol/fetch_vectors.sh`; when they are
//! missing this test fails rather than passing silently.

mod cbor;
mod hand_ported;
mod output;
mod values;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use updraft::protocol::cbor::decode_cbor;
use updraft::protocol::json::decode_json;
use updraft::protocol::model::{Metadata, ServiceModel, Shape, ShapeRef};

use output::output_case;
use values::{loose_eq, tree_to_vector};

/// Cases that test client behaviour only, with the reason.
const SKIP: &[(&str, &str)] = &[
    (
        "AwsJson10EndpointTrait",
        "client-only: endpoint host prefix",
    ),
    (
        "AwsJson10EndpointTraitWithHostLabel",
        "client-only: endpoint host label",
    ),
    ("AwsJson10HostWithPath", "client-only: endpoint path"),
    (
        "SDKAppliedContentEncoding_awsJson1_0",
        "client-only: request compression (no body in vector)",
    ),
    (
        "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsJson1_0",
        "client-only: request compression (no body in vector)",
    ),
    (
        "RpcV2CborClientDoesntSerializeNullStructureValues",
        "client-only: clients skip nulls (server side: hand-ported ServerDoesntDeSerializeNullStructureValues)",
    ),
    // botocore's ignore list: error encodings older services used, which a server never emits.
    (
        "AwsJson10FooErrorUsingXAmznErrorType",
        "client-only: X-Amzn-Errortype header encoding",
    ),
    (
        "AwsJson10FooErrorUsingXAmznErrorTypeWithUri",
        "client-only: X-Amzn-Errortype header encoding",
    ),
    (
        "AwsJson10FooErrorUsingXAmznErrorTypeWithUriAndNamespace",
        "client-only: X-Amzn-Errortype header encoding",
    ),
    (
        "AwsJson10FooErrorUsingCode",
        "client-only: `code` body key encoding",
    ),
    (
        "AwsJson10FooErrorUsingCodeAndNamespace",
        "client-only: `code` body key encoding",
    ),
    (
        "AwsJson10FooErrorUsingCodeUriAndNamespace",
        "client-only: `code` body key encoding",
    ),
];

const FILES: &[(&str, Codec)] = &[
    ("json_1_0", Codec::Json),
    ("json_1_0-query-compatible", Codec::Json),
    ("smithy-rpc-v2-cbor", Codec::Cbor),
    ("smithy-rpc-v2-cbor-query-compatible", Codec::Cbor),
    ("smithy-rpc-v2-cbor-non-query-compatible", Codec::Cbor),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Codec {
    Json,
    Cbor,
}

#[derive(Default)]
struct Tally {
    passed: usize,
    skipped: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, label: &str, id: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.passed += 1,
            Err(why) => self.failures.push(format!("[{label}] {id}: {why}")),
        }
    }

    fn summary(&self, label: &str, before: usize) -> String {
        format!(
            "{label}: {} passed, {} skipped, {} failed",
            self.passed,
            self.skipped.len(),
            self.failures.len() - before
        )
    }
}

fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("protocol/vectors/protocols");
    assert!(
        dir.join("input/json_1_0.json").is_file(),
        "botocore protocol vectors are missing from {}: run `protocol/fetch_vectors.sh` first",
        dir.display()
    );
    dir
}

struct Suite {
    model: ServiceModel,
    query_compatible: bool,
    cases: Vec<Value>,
}

fn load_suites(path: &std::path::Path) -> Vec<Suite> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `protocol/fetch_vectors.sh`", path.display()));
    let suites: Vec<Value> = serde_json::from_str(&text).expect("vector file is JSON");
    suites.into_iter().map(suite).collect()
}

fn suite(mut raw: Value) -> Suite {
    let metadata: Metadata =
        serde_json::from_value(raw["metadata"].take()).expect("suite metadata");
    let shapes: HashMap<String, Shape> =
        serde_json::from_value(raw["shapes"].take()).expect("suite shapes");
    let query_compatible = metadata.aws_query_compatible.is_some();
    let cases = match raw["cases"].take() {
        Value::Array(cases) => cases,
        _ => Vec::new(),
    };
    Suite {
        model: ServiceModel::from_parts(metadata, shapes),
        query_compatible,
        cases,
    }
}

fn shape_ref(given: &Value, key: &str) -> Option<ShapeRef> {
    given
        .get(key)
        .map(|r| serde_json::from_value(r.clone()).expect("shape reference"))
}

fn skip_reason(id: &str) -> Option<&'static str> {
    SKIP.iter()
        .find(|(case, _)| *case == id)
        .map(|(_, why)| *why)
}

#[test]
fn botocore_vectors() {
    let dir = vectors_dir();
    let mut report = String::new();
    let mut failures = Vec::new();
    for &(file, codec) in FILES {
        for direction in ["input", "output"] {
            let label = format!("{file} {direction}");
            let mut tally = Tally::default();
            for suite in load_suites(&dir.join(direction).join(format!("{file}.json"))) {
                for case in &suite.cases {
                    let id = case["id"].as_str().unwrap_or("<no id>");
                    if let Some(why) = skip_reason(id) {
                        tally.skipped.push(format!("{id}: {why}"));
                        continue;
                    }
                    let outcome = if direction == "input" {
                        input_case(&suite, codec, case)
                    } else {
                        output_case(&suite, codec, case)
                    };
                    tally.record(&label, id, outcome);
                }
            }
            let _ = writeln!(report, "{}", tally.summary(&label, 0));
            for skipped in &tally.skipped {
                let _ = writeln!(report, "    skipped {skipped}");
            }
            failures.extend(tally.failures);
        }
    }
    println!("{report}");
    assert!(
        failures.is_empty(),
        "{} vector failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Input (request) cases

fn request_body(codec: Codec, serialized: &Value) -> Result<Vec<u8>, String> {
    let body = serialized.get("body").ok_or("the vector has no body")?;
    if let Some(hex_body) = serialized.get("bodyHex").and_then(Value::as_str) {
        return hex::decode(hex_body).map_err(|e| format!("bad hex: {e}"));
    }
    let text = body.as_str().ok_or("body is not a string")?;
    match codec {
        Codec::Json => Ok(text.as_bytes().to_vec()),
        Codec::Cbor => STANDARD
            .decode(text)
            .map_err(|e| format!("bad base64 body: {e}")),
    }
}

fn input_case(suite: &Suite, codec: Codec, case: &Value) -> Result<(), String> {
    let input = shape_ref(&case["given"], "input");
    let body = request_body(codec, &case["serialized"])?;
    check_decoded(&suite.model, codec, input.as_ref(), &body, &case["params"])
}

fn decode(
    model: &ServiceModel,
    codec: Codec,
    shape: Option<&ShapeRef>,
    body: &[u8],
) -> Result<Value, String> {
    let decoded = match codec {
        Codec::Json => decode_json(model, shape, body),
        Codec::Cbor => decode_cbor(model, shape, body),
    };
    decoded.map_err(|e| format!("decoder refused the body: {e} ({e:?})"))
}

fn check_decoded(
    model: &ServiceModel,
    codec: Codec,
    shape: Option<&ShapeRef>,
    body: &[u8],
    expected: &Value,
) -> Result<(), String> {
    let tree = decode(model, codec, shape, body)?;
    let got = match shape.and_then(|r| model.shape(&r.shape)) {
        Some(s) => tree_to_vector(model, s, &tree),
        None => tree,
    };
    if loose_eq(&got, expected) {
        Ok(())
    } else {
        Err(format!("decoded {got}\n      expected {expected}"))
    }
}
