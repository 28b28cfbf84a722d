//! The services Updraft speaks, their embedded models and their wire-level error vocabulary.
//!
//! Models are parsed lazily, on the first request a service receives, so start-up and idle
//! memory stay small.

use std::sync::LazyLock;

use super::model::{Operation, ServiceModel};
use super::{DecodeError, Protocol};
use crate::error::ApiError;

/// One emulated AWS service.
#[derive(Debug)]
pub struct ServiceDef {
    /// The CLI/botocore service name (`ec2`, `autoscaling`, `elb`, `elbv2`, `cloudwatch`, `sns`,
    /// `sts`, `ssm`, `iam`, `acm`).
    pub name: &'static str,
    /// `Version` carried by form requests.
    pub api_version: &'static str,
    /// The protocol of form requests (awsQuery or ec2Query).
    pub form_protocol: Protocol,
    /// SigV4 signing name in the credential scope.
    pub signing_name: &'static str,
    /// Smithy namespace for absolute shape ids in JSON/CBOR `__type`.
    pub smithy_namespace: &'static str,
    /// `X-Amz-Target` prefix of its JSON protocol (and rpc-v2-cbor service segment), if any.
    pub target_prefix: Option<&'static str>,
    model: LazyLock<ServiceModel>,
}

impl ServiceDef {
    /// The service's model (parsed on first use).
    pub fn model(&self) -> &ServiceModel {
        &self.model
    }

    /// An operation of the model, by exact name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.model().operations.get(name)
    }

    /// How many operations the model has, read from the allow-list the models were trimmed
    /// with (`protocol/operations.toml`), so that health checks need not parse the models.
    pub fn modelled_operation_count(&self) -> usize {
        let header = format!("[{}]", self.name);
        OPERATIONS_TOML
            .lines()
            .skip_while(|l| l.trim() != header)
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .filter(|l| l.trim().starts_with('"'))
            .count()
    }

    /// The `Content-Type` of its awsJson answers: 1.0 (CloudWatch) or 1.1 (SSM).
    pub fn json_content_type(&self) -> &'static str {
        match self.model().metadata.json_version.as_deref() {
            Some("1.1") => "application/x-amz-json-1.1",
            _ => "application/x-amz-json-1.0",
        }
    }

    /// The JSON/CBOR `__type` for an error code: the absolute id of the modelled shape whose
    /// awsQuery code it is, or the bare code when no shape models it.
    pub fn error_type_name(&self, code: &str) -> String {
        match self.model().error_shape_by_code(code) {
            Some((shape, _)) => format!("{}#{shape}", self.smithy_namespace),
            None => code.to_owned(),
        }
    }

    /// The AWS error a client gets when its input does not fit the operation's shapes.
    /// Each service family words these differently.
    pub fn decode_error(&self, protocol: Protocol, err: &DecodeError) -> ApiError {
        let ec2 = self.form_protocol == Protocol::Ec2;
        match err {
            // Smithy JSON and CBOR servers answer undecodable bodies with SerializationException.
            DecodeError::Malformed(msg) if matches!(protocol, Protocol::Json | Protocol::Cbor) => {
                ApiError::client(
                    "SerializationException",
                    format!("The request body could not be parsed: {msg}"),
                )
            }
            DecodeError::Malformed(msg) => {
                let code = match self.name {
                    "ec2" => "InvalidParameterValue",
                    "cloudwatch" => "InvalidParameterValue",
                    _ => "MalformedInput",
                };
                ApiError::client(code, format!("The request could not be parsed: {msg}"))
            }
            DecodeError::Missing { path } if ec2 => ApiError::client(
                "MissingParameter",
                format!("The request must contain the parameter {path}"),
            ),
            DecodeError::Missing { path } => match self.name {
                "cloudwatch" => ApiError::client(
                    "MissingParameter",
                    format!("The parameter {path} is required."),
                ),
                "sns" => ApiError::client("InvalidParameter", format!("Invalid parameter: {path}")),
                _ => ApiError::client(
                    "ValidationError",
                    format!(
                        "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                        lower_first(path)
                    ),
                ),
            },
            DecodeError::Invalid {
                path,
                expected,
                got,
            } => {
                let code = match self.name {
                    "ec2" | "cloudwatch" => "InvalidParameterValue",
                    "sns" => "InvalidParameter",
                    _ => "ValidationError",
                };
                ApiError::client(
                    code,
                    format!("Value ({got}) for parameter {path} is invalid. Expected {expected}."),
                )
            }
            // AWS's answer to an oversize PutMetricData (seen from CloudWatch when the limit
            // was 40960 bytes: "Request size 47947 exceeded 40960 bytes", 413).
            DecodeError::TooLarge { size, limit } => ApiError::client(
                "RequestEntityTooLarge",
                format!("Request size {size} exceeded {limit} bytes"),
            )
            .with_status(413),
            // CloudWatch's own wording for NaN/Infinity in MetricData and Threshold, with the
            // awsQuery member path whatever the protocol. Seen from AWS: "The value NaN for
            // parameter MetricData.member.1.Value is invalid." (boto3 against AWS, quoted in
            // getmoto/moto#3880 and sj26/sidekiq-cloudwatchmetrics#16).
            DecodeError::NotFinite { path, got } if self.name == "cloudwatch" => ApiError::client(
                "InvalidParameterValue",
                format!(
                    "The value {got} for parameter {} is invalid.",
                    query_member_path(path)
                ),
            ),
            // UNVERIFIED: no AWS answer to a non-finite number was found for Auto Scaling or
            // EC2 (searched SDK and tool issue trackers, re:Post and the API references).
            // The codes are those these services give other invalid values (Auto Scaling,
            // like the other awsQuery services, ValidationError; EC2 InvalidParameterValue);
            // the message is ours, in the shape of EC2's "Value (…) for parameter … is
            // invalid." texts.
            DecodeError::NotFinite { path, got } => {
                let code = if ec2 {
                    "InvalidParameterValue"
                } else {
                    "ValidationError"
                };
                ApiError::client(
                    code,
                    format!(
                        "Value ({got}) for parameter {path} is invalid. Expected a finite number."
                    ),
                )
            }
        }
    }
}

/// `MetricData.1.Values.2` → `MetricData.member.1.Values.member.2`: list positions as an
/// awsQuery client names them.
fn query_member_path(path: &str) -> String {
    path.split('.')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                format!("member.{seg}")
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn lower_first(path: &str) -> String {
    let mut chars = path.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

macro_rules! service {
    ($name:literal, $version:literal, $proto:expr, $signing:literal, $ns:literal) => {
        service!($name, $version, $proto, $signing, $ns, None)
    };
    ($name:literal, $version:literal, $proto:expr, $signing:literal, $ns:literal, $target:expr) => {
        ServiceDef {
            name: $name,
            api_version: $version,
            form_protocol: $proto,
            signing_name: $signing,
            smithy_namespace: $ns,
            target_prefix: $target,
            model: LazyLock::new(|| {
                // The embedded models are checked by tests; failing here is a build defect.
                ServiceModel::from_json(include_str!(concat!(
                    "../../protocol/models/",
                    $name,
                    ".json"
                )))
                .expect(concat!("embedded model ", $name, " is valid"))
            }),
        }
    };
}

static SERVICES: [ServiceDef; 10] = [
    service!(
        "ec2",
        "2016-11-15",
        Protocol::Ec2,
        "ec2",
        "com.amazonaws.ec2"
    ),
    service!(
        "autoscaling",
        "2011-01-01",
        Protocol::Query,
        "autoscaling",
        "com.amazonaws.autoscaling"
    ),
    service!(
        "elb",
        "2012-06-01",
        Protocol::Query,
        "elasticloadbalancing",
        "com.amazonaws.elasticloadbalancing"
    ),
    service!(
        "elbv2",
        "2015-12-01",
        Protocol::Query,
        "elasticloadbalancing",
        "com.amazonaws.elasticloadbalancingv2"
    ),
    service!(
        "cloudwatch",
        "2010-08-01",
        Protocol::Query,
        "monitoring",
        "com.amazonaws.cloudwatch",
        Some(CLOUDWATCH_TARGET_PREFIX)
    ),
    service!(
        "sns",
        "2010-03-31",
        Protocol::Query,
        "sns",
        "com.amazonaws.sns"
    ),
    service!(
        "sts",
        "2011-06-15",
        Protocol::Query,
        "sts",
        "com.amazonaws.sts"
    ),
    // SSM speaks awsJson 1.1 only; `form_protocol` is never used for it (no form `Version`
    // names it in practice, and a form that does gets answered in awsQuery's shape).
    service!(
        "ssm",
        "2014-11-06",
        Protocol::Query,
        "ssm",
        "com.amazonaws.ssm",
        Some("AmazonSSM")
    ),
    // IAM is global: clients sign it for us-east-1 whatever their region.
    service!(
        "iam",
        "2010-05-08",
        Protocol::Query,
        "iam",
        "com.amazonaws.iam"
    ),
    // ACM speaks awsJson 1.1 only, like SSM.
    service!(
        "acm",
        "2015-12-08",
        Protocol::Query,
        "acm",
        "com.amazonaws.acm",
        Some("CertificateManager")
    ),
];

/// The allow-list the embedded models were trimmed from.
const OPERATIONS_TOML: &str = include_str!("../../protocol/operations.toml");

/// The CloudWatch JSON/CBOR target prefix (the Smithy service shape name).
pub const CLOUDWATCH_TARGET_PREFIX: &str = "GraniteServiceVersion20100801";

/// Every service.
pub fn all() -> &'static [ServiceDef] {
    &SERVICES
}

/// The service a form request's `Version` names.
pub fn by_version(version: &str) -> Option<&'static ServiceDef> {
    SERVICES.iter().find(|s| s.api_version == version)
}

/// A service by its CLI name.
pub fn by_name(name: &str) -> Option<&'static ServiceDef> {
    SERVICES.iter().find(|s| s.name == name)
}

/// The service a JSON `X-Amz-Target` prefix or an rpc-v2-cbor service segment names.
pub fn by_target_prefix(prefix: &str) -> Option<&'static ServiceDef> {
    let bare = prefix.rsplit(['.', '#']).next().unwrap_or(prefix);
    SERVICES.iter().find(|s| s.target_prefix == Some(bare))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_model_loads_and_matches_its_registry_entry() {
        for s in all() {
            let m = s.model();
            assert_eq!(m.metadata.api_version, s.api_version, "{}", s.name);
            let signing = m
                .metadata
                .signing_name
                .as_deref()
                .or(m.metadata.endpoint_prefix.as_deref());
            assert_eq!(signing, Some(s.signing_name), "{}", s.name);
            assert!(!m.operations.is_empty(), "{}", s.name);
            assert_eq!(
                s.modelled_operation_count(),
                m.operations.len(),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn cloudwatch_errors_map_to_absolute_shape_ids() {
        let cw = by_name("cloudwatch").unwrap();
        assert_eq!(
            cw.error_type_name("InvalidParameterValue"),
            "com.amazonaws.cloudwatch#InvalidParameterValueException"
        );
        assert_eq!(cw.error_type_name("SomethingElse"), "SomethingElse");
        assert!(
            by_target_prefix("com.amazonaws.cloudwatch.GraniteServiceVersion20100801").is_some()
        );
        assert!(by_target_prefix("Nope").is_none());
    }
}
