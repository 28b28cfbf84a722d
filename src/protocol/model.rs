//! Botocore-format ("C2J") service models, read at run time.
//!
//! The trimmed models in `protocol/models/*.json` are embedded in the binary and parsed once.
//! The codecs walk these shapes to turn wire bytes into a [`serde_json::Value`] tree keyed by
//! botocore member names, and back. Only the traits the four protocols need are kept as typed
//! fields; the rest of a shape is ignored.
//!
//! Conventions of the value tree (shared by every codec and by the handlers' serde types):
//! - structures are JSON objects keyed by the *member name* (never `locationName`);
//! - timestamps are epoch seconds as a JSON number (integer when whole);
//! - blobs are base64 strings;
//! - non-finite floats are the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::Deserialize;

/// A whole service model: metadata, operations and the shapes they reach.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceModel {
    /// Service-level protocol facts.
    pub metadata: Metadata,
    /// Operations by name.
    #[serde(default)]
    pub operations: HashMap<String, Operation>,
    /// Shapes by name.
    #[serde(default)]
    pub shapes: HashMap<String, Shape>,
}

/// The `metadata` block of a model.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Legacy single protocol name (`query`, `ec2`, `json`, `smithy-rpc-v2-cbor`).
    #[serde(default)]
    pub protocol: String,
    /// All protocols the service speaks, when more than one.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// `Version` sent by form protocols.
    #[serde(default)]
    pub api_version: String,
    /// `X-Amz-Target` prefix and rpc-v2-cbor service segment.
    #[serde(default)]
    pub target_prefix: Option<String>,
    /// awsJson version (`1.0` or `1.1`): only the `Content-Type` differs on the wire.
    #[serde(default)]
    pub json_version: Option<String>,
    /// `xmlns` of XML responses.
    #[serde(default)]
    pub xml_namespace: Option<String>,
    /// Present when the JSON/CBOR protocols carry awsQuery error codes.
    #[serde(default)]
    pub aws_query_compatible: Option<serde_json::Value>,
    /// SigV4 signing name.
    #[serde(default)]
    pub signing_name: Option<String>,
    /// Endpoint prefix (the signing name when `signing_name` is absent).
    #[serde(default)]
    pub endpoint_prefix: Option<String>,
}

/// One operation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Operation {
    /// Operation name.
    #[serde(default)]
    pub name: String,
    /// Input shape reference.
    #[serde(default)]
    pub input: Option<ShapeRef>,
    /// Output shape reference (carries `resultWrapper` for query).
    #[serde(default)]
    pub output: Option<ShapeRef>,
    /// Modeled error shapes.
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    /// `none` for operations clients send unsigned (STS AssumeRoleWithWebIdentity).
    #[serde(default)]
    pub authtype: Option<String>,
}

/// A reference to a shape, with the serialization traits a member can carry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    /// Target shape name.
    pub shape: String,
    /// Wire name override.
    #[serde(default)]
    pub location_name: Option<String>,
    /// ec2 query-string name override.
    #[serde(default)]
    pub query_name: Option<String>,
    /// Flattened list/map in XML and query.
    #[serde(default)]
    pub flattened: Option<bool>,
    /// Query result wrapper element (on operation outputs).
    #[serde(default)]
    pub result_wrapper: Option<String>,
    /// HTTP binding location (`header`, `statusCode`, ...), unused by our protocols' bodies.
    #[serde(default)]
    pub location: Option<String>,
    /// Idempotency token members are auto-filled by clients.
    #[serde(default)]
    pub idempotency_token: Option<bool>,
    /// Member-level timestamp format override.
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// XML attribute flag (not used by our models; kept for vectors).
    #[serde(default)]
    pub xml_attribute: Option<bool>,
}

/// Error trait of an exception shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    /// awsQuery error code (`AlreadyExists` for shape `AlreadyExistsFault`).
    #[serde(default)]
    pub code: Option<String>,
    /// HTTP status for this error.
    #[serde(default)]
    pub http_status_code: Option<u16>,
    /// Client's fault (`Sender`) or the server's (`Receiver`).
    #[serde(default)]
    pub sender_fault: Option<bool>,
}

/// The type of a shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    /// Structure with named members.
    Structure,
    /// Ordered list.
    List,
    /// String-keyed map.
    Map,
    /// UTF-8 string (also enums).
    String,
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    Long,
    /// 16-bit integer.
    Short,
    /// 8-bit integer.
    Byte,
    /// 32-bit float.
    Float,
    /// 64-bit float.
    Double,
    /// Boolean.
    Boolean,
    /// Point in time.
    Timestamp,
    /// Bytes.
    Blob,
    /// Arbitrary precision integer.
    BigInteger,
    /// Arbitrary precision decimal.
    BigDecimal,
}

impl ShapeType {
    /// Whole-number types.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Self::Integer | Self::Long | Self::Short | Self::Byte | Self::BigInteger
        )
    }
    /// Floating-point types.
    pub fn is_float(self) -> bool {
        matches!(self, Self::Float | Self::Double | Self::BigDecimal)
    }
}

/// One shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    /// Shape type.
    #[serde(rename = "type")]
    pub kind: ShapeType,
    /// Structure members in model order.
    #[serde(default)]
    pub members: IndexMap<String, ShapeRef>,
    /// Required member names.
    #[serde(default)]
    pub required: Vec<String>,
    /// List member.
    #[serde(default)]
    pub member: Option<ShapeRef>,
    /// Map key.
    #[serde(default)]
    pub key: Option<ShapeRef>,
    /// Map value.
    #[serde(default)]
    pub value: Option<ShapeRef>,
    /// Flattened list/map.
    #[serde(default)]
    pub flattened: bool,
    /// Exception shape.
    #[serde(default)]
    pub exception: bool,
    /// Error trait of an exception.
    #[serde(default)]
    pub error: Option<ErrorTrait>,
    /// Shape-level timestamp format.
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// Shape-level wire name (rare).
    #[serde(default)]
    pub location_name: Option<String>,
    /// Allowed values of a string enum.
    #[serde(rename = "enum", default)]
    pub enum_values: Option<Vec<String>>,
    /// Minimum length / value.
    #[serde(default)]
    pub min: Option<f64>,
    /// Maximum length / value.
    #[serde(default)]
    pub max: Option<f64>,
}

/// Errors that make a model unusable.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The JSON does not parse as a model.
    #[error("model does not parse: {0}")]
    Parse(#[from] serde_json::Error),
    /// A reference names a shape the model lacks.
    #[error("shape {0} is referenced but not defined")]
    MissingShape(String),
}

impl ServiceModel {
    /// Parse a model and check that every reference resolves.
    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        let model: ServiceModel = serde_json::from_str(json)?;
        model.check_refs()?;
        Ok(model)
    }

    /// Build a model from a vector suite's `metadata` + `shapes` (operations are given per case).
    pub fn from_parts(metadata: Metadata, shapes: HashMap<String, Shape>) -> Self {
        Self {
            metadata,
            operations: HashMap::new(),
            shapes,
        }
    }

    fn check_refs(&self) -> Result<(), ModelError> {
        let known = |r: &ShapeRef| {
            if self.shapes.contains_key(&r.shape) {
                Ok(())
            } else {
                Err(ModelError::MissingShape(r.shape.clone()))
            }
        };
        for op in self.operations.values() {
            op.input
                .iter()
                .chain(&op.output)
                .chain(&op.errors)
                .try_for_each(known)?;
        }
        for shape in self.shapes.values() {
            shape
                .members
                .values()
                .chain(&shape.member)
                .chain(&shape.key)
                .chain(&shape.value)
                .try_for_each(known)?;
        }
        Ok(())
    }

    /// Look a shape up by name. Models are checked at load, so a miss is a bug in a vector.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// The error shape whose awsQuery code (or, failing that, name) is `code`. Several shapes
    /// may share a code (CloudWatch's `ResourceNotFound`); the first by name wins, so the
    /// answer is stable.
    pub fn error_shape_by_code(&self, code: &str) -> Option<(&str, &Shape)> {
        self.shapes
            .iter()
            .filter(|(_, s)| s.exception)
            .filter(|(name, s)| {
                s.error
                    .as_ref()
                    .and_then(|e| e.code.as_deref())
                    .unwrap_or(name.as_str())
                    == code
            })
            .min_by_key(|(name, _)| name.as_str())
            .map(|(n, s)| (n.as_str(), s))
    }
}
