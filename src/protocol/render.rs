//! One entry point per direction for the server: decode a routed request's input, render an
//! output or an error in the caller's protocol.

use serde_json::Value;

use super::model::Operation;
use super::models::ServiceDef;
use super::object_sink::{CborEncoding, CborSink, JsonEncoding, JsonSink};
use super::query::FormFlavor;
use super::sink::OutputSink;
use super::{DecodeError, Protocol, cbor, json, query, validate, xml};
use crate::error::ApiError;

/// A response ready to send.
#[derive(Debug)]
pub struct Rendered {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers besides the request id.
    pub headers: Vec<(&'static str, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Request size limits AWS enforces per operation, in bytes of the (uncompressed) body:
/// PutMetricData takes at most 1 MB ([API reference](
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html)).
/// Checked before decoding, so the decoded tree of one request stays bounded.
const BODY_LIMITS: &[(&str, &str, usize)] = &[("cloudwatch", "PutMetricData", 1_048_576)];

/// The smallest of [`BODY_LIMITS`]: bodies up to this size need no limit check.
pub const SMALLEST_BODY_LIMIT: usize = 1_048_576;

/// The body size limit of an operation, if it has one.
pub fn body_limit(service: &str, operation: &str) -> Option<usize> {
    BODY_LIMITS
        .iter()
        .find(|(s, o, _)| *s == service && *o == operation)
        .map(|(_, _, limit)| *limit)
}

/// Decode and validate an operation's input.
pub fn decode_input(
    service: &ServiceDef,
    protocol: Protocol,
    operation: &Operation,
    form: &[(String, String)],
    body: &[u8],
) -> Result<Value, DecodeError> {
    if let Some(limit) = body_limit(service.name, &operation.name)
        && body.len() > limit
    {
        return Err(DecodeError::TooLarge {
            size: body.len(),
            limit,
        });
    }
    let model = service.model();
    let input = operation.input.as_ref();
    let value = match protocol {
        Protocol::Query => query::decode_form(model, input, form, FormFlavor::Query)?,
        Protocol::Ec2 => query::decode_form(model, input, form, FormFlavor::Ec2)?,
        Protocol::Json => json::decode_json(model, input, body)?,
        Protocol::Cbor => cbor::decode_cbor(model, input, body)?,
    };
    validate::check_input(model, input, &value)?;
    Ok(value)
}

/// Render a successful output.
pub fn output(
    service: &ServiceDef,
    protocol: Protocol,
    operation: &Operation,
    value: &Value,
    request_id: &str,
) -> Rendered {
    let model = service.model();
    match protocol {
        Protocol::Query => Rendered {
            status: 200,
            content_type: "text/xml",
            headers: Vec::new(),
            body: xml::encode_query_output(model, operation, value, request_id),
        },
        Protocol::Ec2 => Rendered {
            status: 200,
            content_type: "text/xml;charset=UTF-8",
            headers: Vec::new(),
            body: xml::encode_ec2_output(model, operation, value, request_id),
        },
        Protocol::Json => Rendered {
            status: 200,
            content_type: service.json_content_type(),
            headers: Vec::new(),
            body: json::encode_json(model, operation.output.as_ref(), value),
        },
        Protocol::Cbor => Rendered {
            status: 200,
            content_type: "application/cbor",
            headers: vec![("smithy-protocol", "rpc-v2-cbor".to_owned())],
            body: cbor::encode_cbor(model, operation.output.as_ref(), value),
        },
    }
}

/// Render a successful output that `write` writes into the protocol's sink: typed outputs
/// (see [`super::output`]) and hand-written large listings. An error from `write` is the
/// answer instead; what it wrote is dropped.
pub fn streamed_output(
    service: &ServiceDef,
    protocol: Protocol,
    operation: &Operation,
    request_id: &str,
    write: impl FnOnce(&mut dyn OutputSink) -> Result<(), ApiError>,
) -> Result<Rendered, ApiError> {
    let model = service.model();
    let (content_type, headers, body) = match protocol {
        Protocol::Ec2 => {
            let mut sink = xml::XmlSink::new(model, operation, request_id);
            write(&mut sink)?;
            ("text/xml;charset=UTF-8", Vec::new(), sink.finish())
        }
        Protocol::Query => {
            let mut sink = xml::XmlSink::query(model, operation, request_id);
            write(&mut sink)?;
            ("text/xml", Vec::new(), sink.finish())
        }
        Protocol::Json => {
            let mut sink = JsonSink::new(model, operation, JsonEncoding::default());
            write(&mut sink)?;
            ("application/x-amz-json-1.0", Vec::new(), sink.finish())
        }
        Protocol::Cbor => {
            let mut sink = CborSink::new(model, operation, CborEncoding::default());
            write(&mut sink)?;
            let headers = vec![("smithy-protocol", "rpc-v2-cbor".to_owned())];
            ("application/cbor", headers, sink.finish())
        }
    };
    Ok(Rendered {
        status: 200,
        content_type,
        headers,
        body,
    })
}

/// Render an error. `query_mode` is the request's `x-amzn-query-mode: true`: JSON and CBOR
/// clients of a query-compatible service then read the awsQuery code from `x-amzn-query-error`.
pub fn error(
    service: Option<&ServiceDef>,
    protocol: Protocol,
    err: &ApiError,
    request_id: &str,
    query_mode: bool,
) -> Rendered {
    let query_error = || {
        let fault = if err.sender_fault {
            "Sender"
        } else {
            "Receiver"
        };
        ("x-amzn-query-error", format!("{};{fault}", err.code))
    };
    let type_name =
        || service.map_or_else(|| err.code.to_string(), |s| s.error_type_name(&err.code));
    let compatible =
        query_mode && service.is_some_and(|s| s.model().metadata.aws_query_compatible.is_some());
    match protocol {
        Protocol::Query => Rendered {
            status: err.status,
            content_type: "text/xml",
            headers: Vec::new(),
            body: xml::encode_query_error(
                service.and_then(|s| s.model().metadata.xml_namespace.as_deref()),
                err,
                request_id,
            ),
        },
        Protocol::Ec2 => Rendered {
            status: err.status,
            content_type: "text/xml;charset=UTF-8",
            headers: Vec::new(),
            body: xml::encode_ec2_error(err, request_id),
        },
        Protocol::Json => Rendered {
            status: err.status,
            content_type: service
                .map_or("application/x-amz-json-1.0", ServiceDef::json_content_type),
            headers: if compatible {
                vec![query_error()]
            } else {
                Vec::new()
            },
            body: json::encode_json_error(&type_name(), err),
        },
        Protocol::Cbor => {
            let mut headers = vec![("smithy-protocol", "rpc-v2-cbor".to_owned())];
            if compatible {
                headers.push(query_error());
            }
            Rendered {
                status: err.status,
                content_type: "application/cbor",
                headers,
                body: cbor::encode_cbor_error(&type_name(), err),
            }
        }
    }
}
