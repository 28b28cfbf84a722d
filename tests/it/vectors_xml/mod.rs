//! botocore's own protocol vectors for `query` and `ec2`, run in the server's direction, plus
//! property tests over the real models.
//!
//! * Input vectors: the serialized form body goes through [`decode_form`] and must give the
//!   case's `params` (as far as the wire can carry them: empty maps, and for ec2 empty lists,
//!   are never sent).
//! * Output vectors: the case's `result` goes through our XML writer, and a small reader that
//!   follows botocore's `QueryParser` / `EC2QueryParser` must read back `result`. The same reader
//!   must also read the vector's own response body to `result`, which keeps the reader honest.
//! * Error vectors: an [`ApiError`] with the case's code and message is written and read back.
//!
//! The vectors are fetched by `protocol/fetch_vectors.sh`; without them these tests fail.

mod proptests;
mod reader;
mod values;

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use updraft::error::ApiError;
use updraft::protocol::model::{Metadata, Operation, ServiceModel, Shape, ShapeRef};
use updraft::protocol::query::{FormFlavor, decode_form};
use updraft::protocol::xml::{
    encode_ec2_error, encode_ec2_output, encode_query_error, encode_query_output,
};

use reader::{read_error, read_output};
use values::{same, to_tree, wire_visible};

// ---------------------------------------------------------------------------------------------
// Loading

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("protocol/vectors/protocols")
}

struct Suite {
    description: String,
    model: ServiceModel,
    cases: Vec<Value>,
}

fn load(rel: &str) -> Vec<Suite> {
    let dir = vectors_dir();
    assert!(
        dir.is_dir(),
        "protocol vectors are missing at {}: run `protocol/fetch_vectors.sh` first",
        dir.display()
    );
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run `protocol/fetch_vectors.sh`",
            path.display()
        )
    });
    let suites: Vec<Value> = serde_json::from_str(&text).expect("vector file is JSON");
    suites
        .into_iter()
        .map(|mut suite| {
            let description = suite["description"].as_str().unwrap_or_default().to_owned();
            let metadata: Metadata =
                serde_json::from_value(suite["metadata"].take()).expect("suite metadata");
            let mut shapes = suite["shapes"].take();
            if let Some(map) = shapes.as_object_mut() {
                for shape in map.values_mut() {
                    // botocore's `character` is a one-letter string; our model has no such type.
                    if shape["type"] == "character" {
                        shape["type"] = json!("string");
                    }
                }
            }
            let shapes: HashMap<String, Shape> =
                serde_json::from_value(shapes).expect("suite shapes");
            let cases = match suite["cases"].take() {
                Value::Array(cases) => cases,
                _ => Vec::new(),
            };
            Suite {
                description,
                model: ServiceModel::from_parts(metadata, shapes),
                cases,
            }
        })
        .collect()
}

/// The case id; legacy cases have none, so they are named `{suite description} #{index}`.
fn case_id(suite: &Suite, index: usize, case: &Value) -> String {
    match case["id"].as_str() {
        Some(id) => id.to_owned(),
        None => format!("{} #{index}", suite.description),
    }
}

// ---------------------------------------------------------------------------------------------
// Skip list: every case we do not run, with the reason.

const IDEMPOTENCY: &str = "the client auto-fills the idempotency token; the server just receives \
                           it as a value, while `params` (the client's input) lacks it";
const COMPRESSION: &str =
    "request compression is the client's job; the vector has no body for a server to decode";
const FLATTENED_ITEM_NAME: &str = "Smithy names the elements of a flattened list after the \
    structure member, botocore after the list member's locationName when it has one; we write \
    what botocore reads (as the legacy vector `Flattened list with location name` expects), and \
    botocore skips this case itself (protocol-tests-ignore-list.json)";

const SKIPS: &[(&str, &str, &str)] = &[
    (
        "input/query.json",
        "SDKAppliedContentEncoding_awsQuery",
        COMPRESSION,
    ),
    (
        "input/query.json",
        "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsQuery",
        COMPRESSION,
    ),
    (
        "input/query.json",
        "QueryProtocolIdempotencyTokenAutoFill",
        IDEMPOTENCY,
    ),
    (
        "legacy/input/query.json",
        "Idempotency token auto fill #1",
        IDEMPOTENCY,
    ),
    (
        "input/ec2.json",
        "SDKAppliedContentEncoding_ec2Query",
        COMPRESSION,
    ),
    (
        "input/ec2.json",
        "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_ec2Query",
        COMPRESSION,
    ),
    (
        "input/ec2.json",
        "Ec2ProtocolIdempotencyTokenAutoFill",
        IDEMPOTENCY,
    ),
    (
        "legacy/input/ec2.json",
        "Idempotency token auto fill #1",
        IDEMPOTENCY,
    ),
    ("output/query.json", "QueryXmlLists", FLATTENED_ITEM_NAME),
    ("output/ec2.json", "Ec2XmlLists", FLATTENED_ITEM_NAME),
];

fn skip_reason(file: &str, id: &str) -> Option<&'static str> {
    SKIPS
        .iter()
        .find(|(f, i, _)| *f == file && *i == id)
        .map(|(_, _, r)| *r)
}

#[derive(Default)]
struct Tally {
    passed: usize,
    skipped: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, file: &str, id: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.passed += 1,
            Err(why) => self.failures.push(format!("[{file}] {id}: {why}")),
        }
    }

    fn finish(self, label: &str) -> Vec<String> {
        println!(
            "{label}: {} passed, {} skipped (listed)",
            self.passed, self.skipped
        );
        assert!(self.passed > 0, "{label}: no case ran");
        self.failures
    }
}

fn assert_no_failures(failures: Vec<String>) {
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAIL {f}");
        }
        panic!("{} vector case(s) failed (listed above)", failures.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Vector runners

fn flavor_of(model: &ServiceModel) -> FormFlavor {
    if model.metadata.protocol == "ec2" {
        FormFlavor::Ec2
    } else {
        FormFlavor::Query
    }
}

fn run_input_case(suite: &Suite, case: &Value) -> Result<(), String> {
    let model = &suite.model;
    let flavor = flavor_of(model);
    let input: Option<ShapeRef> = match &case["given"]["input"] {
        Value::Null => None,
        v => Some(serde_json::from_value(v.clone()).map_err(|e| format!("input ref: {e}"))?),
    };
    let body = case["serialized"]["body"]
        .as_str()
        .ok_or("no serialized body")?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let decoded =
        decode_form(model, input.as_ref(), &pairs, flavor).map_err(|e| format!("decode: {e}"))?;
    let params = &case["params"];
    let expected = match &input {
        Some(r) => {
            wire_visible(model, r, &to_tree(model, r, params), flavor).unwrap_or_else(|| json!({}))
        }
        None => params.clone(),
    };
    if same(&decoded, &expected) {
        Ok(())
    } else {
        Err(format!(
            "body {body}\n    decoded  {decoded}\n    expected {expected}"
        ))
    }
}

fn run_output_case(suite: &Suite, case: &Value) -> Result<(), String> {
    let model = &suite.model;
    let ec2 = model.metadata.protocol == "ec2";
    let given = &case["given"];
    let name = given["name"].as_str().unwrap_or("OperationName").to_owned();
    let mut output: Option<ShapeRef> = match &given["output"] {
        Value::Null => None,
        v => Some(serde_json::from_value(v.clone()).map_err(|e| format!("output ref: {e}"))?),
    };
    let rid = "vector-request-id";
    if case.get("error").is_some() {
        let code = case["errorCode"].as_str().ok_or("no errorCode")?.to_owned();
        let message = case["errorMessage"]
            .as_str()
            .or_else(|| case["error"]["Message"].as_str())
            .unwrap_or_default()
            .to_owned();
        let err = ApiError::client(code.clone(), message.clone());
        let xml = if ec2 {
            encode_ec2_error(&err, rid)
        } else {
            encode_query_error(model.metadata.xml_namespace.as_deref(), &err, rid)
        };
        let parsed = read_error(&xml, ec2)?;
        let error = &parsed["Error"];
        let got_message = error["Message"].as_str().unwrap_or_default();
        let ok = error["Code"] == json!(code)
            && got_message == message
            && parsed["ResponseMetadata"]["RequestId"] == json!(rid)
            && (ec2 || error["Type"] == json!("Sender"));
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "error read back as {parsed} from {}",
                String::from_utf8_lossy(&xml)
            ))
        };
    }
    // Like botocore's runner: a query output shape with members is wrapped in `{Op}Result`.
    if !ec2
        && let Some(out) = output.as_mut()
        && out.result_wrapper.is_none()
        && model
            .shape(&out.shape)
            .is_some_and(|s| !s.members.is_empty())
    {
        out.result_wrapper = Some(format!("{name}Result"));
    }
    let op = Operation {
        name,
        input: None,
        output,
        errors: Vec::new(),
        authtype: None,
    };
    let result = &case["result"];
    let expected = match &op.output {
        Some(r) => to_tree(model, r, result),
        None => result.clone(),
    };
    // 1. The reader agrees with botocore on the vector's own body.
    if let Some(body) = case["response"]["body"]
        .as_str()
        .filter(|b| !b.trim().is_empty())
    {
        let (theirs, _) = read_output(model, &op, body.as_bytes(), ec2)
            .map_err(|e| format!("reader failed on the vector body: {e}"))?;
        if !same(&theirs, &expected) {
            return Err(format!(
                "reader self-check: read {theirs}, expected {expected}"
            ));
        }
    }
    // 2. Our XML reads back as the result.
    let xml = if ec2 {
        encode_ec2_output(model, &op, &expected, rid)
    } else {
        encode_query_output(model, &op, &expected, rid)
    };
    let shown = || String::from_utf8_lossy(&xml).into_owned();
    let (ours, request_id) =
        read_output(model, &op, &xml, ec2).map_err(|e| format!("{e} in {}", shown()))?;
    if request_id.as_deref() != Some(rid) {
        return Err(format!("request id not found in {}", shown()));
    }
    if same(&ours, &expected) {
        Ok(())
    } else {
        Err(format!(
            "read back {ours}\n    expected {expected}\n    from {}",
            shown()
        ))
    }
}

fn run_files(
    label: &str,
    files: &[&str],
    run: fn(&Suite, &Value) -> Result<(), String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for file in files {
        let mut tally = Tally::default();
        for suite in load(file) {
            for (index, case) in suite.cases.iter().enumerate() {
                let id = case_id(&suite, index, case);
                if skip_reason(file, &id).is_some() {
                    tally.skipped += 1;
                    continue;
                }
                tally.record(file, &id, run(&suite, case));
            }
        }
        let legacy = if file.starts_with("legacy/") {
            "legacy "
        } else {
            ""
        };
        failures.extend(tally.finish(&format!("{legacy}{label}")));
    }
    failures
}

#[test]
fn skip_list_names_real_cases() {
    for (file, id, reason) in SKIPS {
        assert!(!reason.is_empty());
        let found = load(file).iter().any(|suite| {
            suite
                .cases
                .iter()
                .enumerate()
                .any(|(i, c)| case_id(suite, i, c) == *id)
        });
        assert!(found, "skip list names {id} which is not in {file}");
    }
}

#[test]
fn query_input_vectors() {
    assert_no_failures(run_files(
        "query input",
        &["input/query.json", "legacy/input/query.json"],
        run_input_case,
    ));
}

#[test]
fn ec2_input_vectors() {
    assert_no_failures(run_files(
        "ec2 input",
        &["input/ec2.json", "legacy/input/ec2.json"],
        run_input_case,
    ));
}

#[test]
fn query_output_vectors() {
    assert_no_failures(run_files(
        "query output",
        &["output/query.json", "legacy/output/query.json"],
        run_output_case,
    ));
}

#[test]
fn ec2_output_vectors() {
    assert_no_failures(run_files(
        "ec2 output",
        &["output/ec2.json", "legacy/output/ec2.json"],
        run_output_case,
    ));
}
