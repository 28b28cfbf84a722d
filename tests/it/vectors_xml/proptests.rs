//! Property tests over the real models: generated inputs through a botocore-style form
//! serializer into our decoder, and generated outputs through our XML writer into the reader.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use serde_json::{Map, Value, json};
use updraft::protocol::model::{ServiceModel, Shape, ShapeRef, ShapeType};
use updraft::protocol::query::{FormFlavor, decode_form};
use updraft::protocol::timestamp::epoch_number;
use updraft::protocol::xml::{encode_ec2_output, encode_query_output};

use super::reader::read_output;
use super::values::same;

fn real_model(name: &str) -> &'static ServiceModel {
    static MODELS: OnceLock<Vec<(&'static str, ServiceModel)>> = OnceLock::new();
    let all = MODELS.get_or_init(|| {
        [
            (
                "autoscaling",
                include_str!("../../../protocol/models/autoscaling.json"),
            ),
            ("ec2", include_str!("../../../protocol/models/ec2.json")),
            (
                "cloudwatch",
                include_str!("../../../protocol/models/cloudwatch.json"),
            ),
            ("elbv2", include_str!("../../../protocol/models/elbv2.json")),
            ("sns", include_str!("../../../protocol/models/sns.json")),
        ]
        .into_iter()
        .map(|(n, j)| (n, ServiceModel::from_json(j).expect("model parses")))
        .collect()
    });
    &all.iter().find(|(n, _)| *n == name).expect("known model").1
}

/// Where a generated value goes, which decides what "canonical" means.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    /// A form body: no empty structures or maps (never sent); no empty lists in ec2.
    Form(FormFlavor),
    /// An XML response: anything goes.
    Xml,
}

const MAX_GEN_DEPTH: usize = 6;

/// A strategy for canonical values of `r`'s shape; `Null` means "absent".
fn gen_value(
    model: &'static ServiceModel,
    r: &ShapeRef,
    depth: usize,
    target: Target,
) -> BoxedStrategy<Value> {
    let Some(shape) = model.shape(&r.shape) else {
        return Just(Value::Null).boxed();
    };
    match shape.kind {
        ShapeType::Structure => {
            if depth >= MAX_GEN_DEPTH {
                return Just(Value::Null).boxed();
            }
            let names: Vec<String> = shape.members.keys().cloned().collect();
            let members: Vec<BoxedStrategy<Value>> = shape
                .members
                .values()
                .map(|m| {
                    prop_oneof![2 => Just(Value::Null), 1 => gen_value(model, m, depth + 1, target)]
                        .boxed()
                })
                .collect();
            members
                .prop_map(move |values| {
                    let object: Map<String, Value> = names
                        .iter()
                        .zip(values)
                        .filter(|(_, v)| !v.is_null())
                        .map(|(n, v)| (n.clone(), v))
                        .collect();
                    if object.is_empty() && target != Target::Xml {
                        Value::Null
                    } else {
                        Value::Object(object)
                    }
                })
                .boxed()
        }
        ShapeType::List => {
            let Some(member) = shape.member.as_ref() else { return Just(Value::Null).boxed() };
            if depth >= MAX_GEN_DEPTH {
                return Just(Value::Null).boxed();
            }
            prop::collection::vec(gen_value(model, member, depth + 1, target), 0..4)
                .prop_map(move |items| {
                    let items: Vec<Value> = items.into_iter().filter(|v| !v.is_null()).collect();
                    if items.is_empty() && target == Target::Form(FormFlavor::Ec2) {
                        Value::Null
                    } else {
                        Value::Array(items)
                    }
                })
                .boxed()
        }
        ShapeType::Map => {
            let Some(value) = shape.value.as_ref() else { return Just(Value::Null).boxed() };
            if depth >= MAX_GEN_DEPTH {
                return Just(Value::Null).boxed();
            }
            prop::collection::btree_map(text(), gen_value(model, value, depth + 1, target), 0..3)
                .prop_map(move |entries: BTreeMap<String, Value>| {
                    let object: Map<String, Value> =
                        entries.into_iter().filter(|(_, v)| !v.is_null()).collect();
                    if object.is_empty() && target != Target::Xml {
                        Value::Null
                    } else {
                        Value::Object(object)
                    }
                })
                .boxed()
        }
        ShapeType::String => match &shape.enum_values {
            Some(values) if !values.is_empty() => {
                prop::sample::select(values.clone()).prop_map(Value::String).boxed()
            }
            _ => text().prop_map(Value::String).boxed(),
        },
        ShapeType::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        ShapeType::Byte => any::<i8>().prop_map(Value::from).boxed(),
        ShapeType::Short => any::<i16>().prop_map(Value::from).boxed(),
        ShapeType::Integer => any::<i32>().prop_map(Value::from).boxed(),
        ShapeType::Long | ShapeType::BigInteger => any::<i64>().prop_map(Value::from).boxed(),
        ShapeType::Float => prop_oneof![
            8 => (any::<i32>(), 0u32..4).prop_map(|(n, k)| json!(f64::from(n) / 10f64.powi(k as i32))),
            1 => prop::sample::select(vec!["NaN", "Infinity", "-Infinity"]).prop_map(|s| json!(s)),
        ]
        .boxed(),
        ShapeType::Double | ShapeType::BigDecimal => prop_oneof![
            8 => any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| json!(v)),
            1 => prop::sample::select(vec!["NaN", "Infinity", "-Infinity"]).prop_map(|s| json!(s)),
        ]
        .boxed(),
        ShapeType::Timestamp => (0i64..4_102_444_800_000)
            .prop_map(|ms| epoch_number(ms as f64 / 1000.0))
            .boxed(),
        ShapeType::Blob => prop::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| Value::String(B64.encode(b)))
            .boxed(),
    }
}

/// Strings with the characters that need care: XML specials, CR/LF/tab, `+`, `%`, `&`, `=`,
/// non-ASCII, surrounding spaces.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>\"'\r\n\t+%=/.é€😀-]{0,10}"
}

// --- a botocore-style form serializer (test-only) ---

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

struct FormWriter {
    model: &'static ServiceModel,
    flavor: FormFlavor,
    pairs: Vec<(String, String)>,
}

impl FormWriter {
    fn loc(&self, r: &ShapeRef) -> Option<String> {
        r.location_name.clone().or_else(|| {
            self.model
                .shape(&r.shape)
                .and_then(|s| s.location_name.clone())
        })
    }

    /// `_get_serialized_name`.
    fn name(&self, r: &ShapeRef, default: &str) -> String {
        match self.flavor {
            FormFlavor::Query => self.loc(r).unwrap_or_else(|| default.to_owned()),
            FormFlavor::Ec2 => match (&r.query_name, self.loc(r)) {
                (Some(q), _) => q.clone(),
                (None, Some(l)) => capitalize(&l),
                (None, None) => default.to_owned(),
            },
        }
    }

    fn structure(&mut self, shape: &Shape, value: &Map<String, Value>, prefix: &str) {
        for (name, member) in &shape.members {
            if let Some(v) = value.get(name) {
                let key = self.name(member, name);
                let key = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                self.value(member, v, &key);
            }
        }
    }

    fn value(&mut self, r: &ShapeRef, value: &Value, key: &str) {
        let Some(shape) = self.model.shape(&r.shape) else {
            return;
        };
        match (shape.kind, value) {
            (ShapeType::Structure, Value::Object(o)) => self.structure(shape, o, key),
            (ShapeType::List, Value::Array(items)) => {
                let Some(member) = shape.member.as_ref() else {
                    return;
                };
                let list_prefix = match self.flavor {
                    FormFlavor::Ec2 => key.to_owned(),
                    FormFlavor::Query => {
                        if items.is_empty() {
                            self.pairs.push((key.to_owned(), String::new()));
                            return;
                        }
                        if r.flattened.unwrap_or(false) || shape.flattened {
                            match self.loc(member) {
                                Some(name) => match key.rsplit_once('.') {
                                    Some((head, _)) => format!("{head}.{name}"),
                                    None => name,
                                },
                                None => key.to_owned(),
                            }
                        } else {
                            format!(
                                "{key}.{}",
                                self.loc(member).unwrap_or_else(|| "member".into())
                            )
                        }
                    }
                };
                for (i, item) in items.iter().enumerate() {
                    self.value(member, item, &format!("{list_prefix}.{}", i + 1));
                }
            }
            (ShapeType::Map, Value::Object(entries)) => {
                let (Some(k), Some(v)) = (shape.key.as_ref(), shape.value.as_ref()) else {
                    return;
                };
                let prefix = if r.flattened.unwrap_or(false) || shape.flattened {
                    key.to_owned()
                } else {
                    format!("{key}.entry")
                };
                let (ks, vs) = (self.name(k, "key"), self.name(v, "value"));
                for (i, (entry_key, entry_value)) in entries.iter().enumerate() {
                    self.pairs
                        .push((format!("{prefix}.{}.{ks}", i + 1), entry_key.clone()));
                    self.value(v, entry_value, &format!("{prefix}.{}.{vs}", i + 1));
                }
            }
            (kind, v) => {
                let text = match (kind, v) {
                    (ShapeType::Boolean, Value::Bool(b)) => b.to_string(),
                    (ShapeType::Timestamp, Value::Number(n)) => {
                        iso_micros(n.as_f64().unwrap_or(0.0))
                    }
                    (k, Value::Number(n)) if k.is_float() => py_float(n.as_f64().unwrap_or(0.0)),
                    (_, Value::String(s)) => s.clone(),
                    (_, other) => other.to_string(),
                };
                self.pairs.push((key.to_owned(), text));
            }
        }
    }
}

/// Python's `repr(float)`: `12.5`, `1.0`, `1e-07`, `1.5e+16`.
fn py_float(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..16).contains(&exp) {
        format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let plain = format!("{v}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    }
}

/// botocore's query timestamp: `%Y-%m-%dT%H:%M:%SZ`, or `.%fZ` (microseconds) when fractional.
fn iso_micros(epoch: f64) -> String {
    let ms = (epoch * 1000.0).round() as i64;
    let dt = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).expect("in range");
    let frac = ms.rem_euclid(1000);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if frac == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{:06}Z", frac * 1000)
    }
}

fn form_round_trip(model_name: &str, op_name: &str, flavor: FormFlavor) -> u32 {
    let model = real_model(model_name);
    let op = &model.operations[op_name];
    let input = op.input.clone().expect("operation has input");
    let strategy = gen_value(model, &input, 0, Target::Form(flavor))
        .prop_map(|v| if v.is_null() { json!({}) } else { v });
    let config = PropConfig {
        cases: 256,
        failure_persistence: None,
        ..PropConfig::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let pairs_seen = std::cell::Cell::new(0usize);
    runner
        .run(&strategy, |value| {
            let shape = model.shape(&input.shape).expect("input shape");
            let mut writer = FormWriter {
                model,
                flavor,
                pairs: Vec::new(),
            };
            writer.pairs.push(("Action".into(), op_name.into()));
            writer
                .pairs
                .push(("Version".into(), model.metadata.api_version.clone()));
            if let Value::Object(o) = &value {
                writer.structure(shape, o, "");
            }
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(writer.pairs.iter())
                .finish();
            let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
            pairs_seen.set(pairs_seen.get() + pairs.len() - 2);
            let decoded = decode_form(model, Some(&input), &pairs, flavor)
                .map_err(|e| TestCaseError::fail(format!("decode failed: {e}\nbody: {body}")))?;
            prop_assert!(
                same(&decoded, &value),
                "decoded {decoded}\nexpected {value}\nbody {body}"
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{model_name} {op_name}: {e}"));
    let average = pairs_seen.get() as f64 / f64::from(config.cases);
    println!(
        "  {model_name} {op_name}: {} cases, {average:.1} parameters per body",
        config.cases
    );
    // A guard against a generator that only makes empty inputs. SNS Publish averages 3.1-3.4
    // parameters, so the bar sits well below that to stay deterministic across random runs.
    assert!(
        average >= 2.0,
        "{model_name} {op_name}: generated bodies are too small to mean much"
    );
    config.cases
}

fn xml_round_trip(model_name: &str, op_name: &str) -> u32 {
    let model = real_model(model_name);
    let op = &model.operations[op_name];
    let output = op.output.clone().expect("operation has output");
    let ec2 = model.metadata.protocol == "ec2";
    let strategy = gen_value(model, &output, 0, Target::Xml);
    let config = PropConfig {
        cases: 256,
        failure_persistence: None,
        ..PropConfig::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let bytes_seen = std::cell::Cell::new(0usize);
    runner
        .run(&strategy, |value| {
            let xml = if ec2 {
                encode_ec2_output(model, op, &value, "rid")
            } else {
                encode_query_output(model, op, &value, "rid")
            };
            bytes_seen.set(bytes_seen.get() + xml.len());
            let shown = String::from_utf8_lossy(&xml).into_owned();
            let (read, rid) = read_output(model, op, &xml, ec2)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{shown}")))?;
            prop_assert_eq!(rid.as_deref(), Some("rid"));
            prop_assert!(
                same(&read, &value),
                "read {read}\nexpected {value}\nxml {shown}"
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{model_name} {op_name}: {e}"));
    let average = bytes_seen.get() as f64 / f64::from(config.cases);
    println!(
        "  {model_name} {op_name}: {} cases, {average:.0} bytes of XML per response",
        config.cases
    );
    config.cases
}

#[test]
fn form_round_trips_through_a_botocore_style_serializer() {
    let targets = [
        ("autoscaling", "CreateAutoScalingGroup", FormFlavor::Query),
        ("autoscaling", "PutScalingPolicy", FormFlavor::Query),
        ("ec2", "RunInstances", FormFlavor::Ec2),
        ("ec2", "CreateLaunchTemplate", FormFlavor::Ec2),
        ("ec2", "AuthorizeSecurityGroupIngress", FormFlavor::Ec2),
        ("cloudwatch", "PutMetricData", FormFlavor::Query),
        ("cloudwatch", "PutMetricAlarm", FormFlavor::Query),
        ("elbv2", "CreateListener", FormFlavor::Query),
        ("sns", "Publish", FormFlavor::Query),
    ];
    let mut total = 0;
    for (model, op, flavor) in targets {
        total += form_round_trip(model, op, flavor);
    }
    println!(
        "form round trip: {total} proptest cases over {} operations",
        targets.len()
    );
}

#[test]
fn xml_round_trips_through_a_botocore_style_reader() {
    let targets = [
        ("autoscaling", "DescribeAutoScalingGroups"),
        ("autoscaling", "DescribePolicies"),
        ("ec2", "DescribeInstances"),
        ("ec2", "RunInstances"),
        ("ec2", "DescribeSecurityGroups"),
        ("cloudwatch", "DescribeAlarms"),
        ("cloudwatch", "GetMetricStatistics"),
        ("elbv2", "DescribeListeners"),
        ("sns", "GetTopicAttributes"),
    ];
    let mut total = 0;
    for (model, op) in targets {
        total += xml_round_trip(model, op);
    }
    println!(
        "xml round trip: {total} proptest cases over {} operations",
        targets.len()
    );
}
