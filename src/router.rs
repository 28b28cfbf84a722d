//! Single-port routing: which service, protocol and operation a request is for.
//!
//! Cheap checks first (what requests captured from the AWS CLI, boto3 and the AWS SDKs for
//! JavaScript v3 and Rust tell apart, see `tests/it/sigv4_suite.rs`): the rpc-v2-cbor header
//! or path, then `X-Amz-Target`, then the form's `Action` + `Version` (Action names repeat
//! across services; Versions don't).

use http::{HeaderMap, Method};

use crate::error::ApiError;
use crate::protocol::models::{self, ServiceDef};
use crate::protocol::{DecodeError, Protocol, render};

/// Where a request goes.
#[derive(Debug)]
pub enum Route {
    /// An AWS API call.
    Api(ApiRoute),
    /// A request that names no valid operation; rendered in `protocol` (and the service's
    /// envelope when known).
    Reject {
        /// Protocol to answer in.
        protocol: Protocol,
        /// Service, when it could be told.
        service: Option<&'static ServiceDef>,
        /// What to tell the client.
        error: ApiError,
    },
}

/// A routed API call.
#[derive(Debug)]
pub struct ApiRoute {
    /// The service.
    pub service: &'static ServiceDef,
    /// The wire protocol.
    pub protocol: Protocol,
    /// The operation, as the model names it.
    pub operation: String,
    /// Form parameters (query and ec2 only): query string and body, percent-decoded.
    pub form: Vec<(String, String)>,
}

/// The parts of a request routing looks at.
#[derive(Debug)]
pub struct RequestHead<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Path without the query string.
    pub path: &'a str,
    /// Raw query string (may be empty).
    pub query: &'a str,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// SigV4 signing name from the credential scope, when signed.
    pub signing_name: Option<&'a str>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `/service/<svc>/operation/<op>` suffix of an rpc-v2-cbor path.
fn rpc_v2_path(path: &str) -> Option<(&str, &str)> {
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let op = segments.next()?;
    let operation_kw = segments.next()?;
    let svc = segments.next()?;
    let service_kw = segments.next()?;
    (service_kw == "service" && operation_kw == "operation" && !op.is_empty()).then_some((svc, op))
}

fn unknown_operation(
    protocol: Protocol,
    service: Option<&'static ServiceDef>,
    what: &str,
) -> Route {
    let error = ApiError::client(
        "UnknownOperationException",
        format!("Unknown operation: {what}"),
    );
    Route::Reject {
        protocol,
        service,
        error,
    }
}

/// Decide where a request goes. `body` is the (decompressed) request body.
pub fn route(head: &RequestHead<'_>, body: &[u8]) -> Route {
    let smithy = header(head.headers, "smithy-protocol");
    let target =
        header(head.headers, "x-amz-target").or_else(|| header(head.headers, "x-amzn-target"));
    let rpc_path = rpc_v2_path(head.path);

    if smithy.is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor"))
        || (rpc_path.is_some() && *head.method == Method::POST)
    {
        let Some((svc, op)) = rpc_path else {
            return unknown_operation(Protocol::Cbor, None, head.path);
        };
        let service = models::by_target_prefix(svc);
        if target.is_some() {
            // The spec forbids X-Amz-Target on rpc-v2-cbor requests.
            let error = ApiError::client(
                "SerializationException",
                "rpc-v2-cbor requests must not carry X-Amz-Target",
            );
            return Route::Reject {
                protocol: Protocol::Cbor,
                service,
                error,
            };
        }
        return match service {
            Some(s) if s.operation(op).is_some() => Route::Api(ApiRoute {
                service: s,
                protocol: Protocol::Cbor,
                operation: op.to_owned(),
                form: Vec::new(),
            }),
            _ => unknown_operation(Protocol::Cbor, service, &format!("{svc}.{op}")),
        };
    }

    if let Some(target) = target {
        let (prefix, op) = target.rsplit_once('.').unwrap_or(("", target));
        let service = models::by_target_prefix(prefix);
        return match service {
            Some(s) if s.operation(op).is_some() => Route::Api(ApiRoute {
                service: s,
                protocol: Protocol::Json,
                operation: op.to_owned(),
                form: Vec::new(),
            }),
            _ => unknown_operation(Protocol::Json, service, target),
        };
    }

    route_form(head, body)
}

/// An oversize form body for an operation with a size limit (PutMetricData), found by
/// scanning for `Action` and `Version` only, so that such a body is refused before its pairs
/// are collected (100,000 datums would otherwise become 200,000 strings first).
fn oversize_form(head: &RequestHead<'_>, body: &[u8]) -> Option<Route> {
    let (mut action, mut version) = (None, None);
    let pairs = form_urlencoded::parse(head.query.as_bytes()).chain(form_urlencoded::parse(body));
    for (k, v) in pairs {
        match &*k {
            "Action" if action.is_none() => action = Some(v),
            "Version" if version.is_none() => version = Some(v),
            _ => {}
        }
        if action.is_some() && version.is_some() {
            break;
        }
    }
    let service = models::by_version(&version?)?;
    let limit = render::body_limit(service.name, &action?)?;
    (body.len() > limit).then(|| Route::Reject {
        protocol: service.form_protocol,
        service: Some(service),
        error: service.decode_error(
            service.form_protocol,
            &DecodeError::TooLarge {
                size: body.len(),
                limit,
            },
        ),
    })
}

fn route_form(head: &RequestHead<'_>, body: &[u8]) -> Route {
    if body.len() > render::SMALLEST_BODY_LIMIT
        && let Some(rejected) = oversize_form(head, body)
    {
        return rejected;
    }
    let mut form: Vec<(String, String)> = form_urlencoded::parse(head.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let is_json = header(head.headers, "content-type")
        .is_some_and(|c| c.contains("json") || c.contains("cbor"));
    if !body.is_empty() && !is_json {
        form.extend(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    }
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = get("Action").map(str::to_owned);
    let version = get("Version");

    let service = match version.and_then(models::by_version) {
        Some(s) => Some(s),
        None => {
            // No (known) Version: the signing scope names the service, except that both load
            // balancer APIs sign as `elasticloadbalancing`; the action then decides.
            let signed: Vec<&'static ServiceDef> = models::all()
                .iter()
                .filter(|s| Some(s.signing_name) == head.signing_name)
                .collect();
            match (signed.as_slice(), action.as_deref()) {
                ([one], _) => Some(*one),
                (many, Some(a)) => many
                    .iter()
                    .rev()
                    .find(|s| s.operation(a).is_some())
                    .copied(),
                _ => None,
            }
        }
    };
    let protocol = service.map_or(Protocol::Query, |s| s.form_protocol);

    let Some(action) = action.filter(|a| !a.is_empty()) else {
        let error = ApiError::client(
            "MissingAction",
            "The request must contain the parameter Action.",
        );
        return Route::Reject {
            protocol,
            service,
            error,
        };
    };
    match service {
        Some(s) if s.operation(&action).is_some() => Route::Api(ApiRoute {
            service: s,
            protocol: s.form_protocol,
            operation: action,
            form,
        }),
        Some(_) => Route::Reject {
            protocol,
            service,
            error: invalid_action(&action),
        },
        None => {
            let error = match version {
                Some(v) => ApiError::client(
                    "InvalidAction",
                    format!(
                        "The action {action} is not valid for this web service (unknown API version {v})."
                    ),
                ),
                None => invalid_action(&action),
            };
            Route::Reject {
                protocol,
                service,
                error,
            }
        }
    }
}

fn invalid_action(action: &str) -> ApiError {
    ApiError::client(
        "InvalidAction",
        format!("The action {action} is not valid for this web service."),
    )
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn route_with(
        method: Method,
        path: &str,
        query: &str,
        headers: &[(&'static str, &str)],
        body: &str,
        signing: Option<&str>,
    ) -> Route {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        let head = RequestHead {
            method: &method,
            path,
            query,
            headers: &map,
            signing_name: signing,
        };
        route(&head, body.as_bytes())
    }

    fn api(r: Route) -> (&'static str, Protocol, String) {
        match r {
            Route::Api(a) => (a.service.name, a.protocol, a.operation),
            Route::Reject { error, .. } => panic!("rejected: {error}"),
        }
    }

    fn rejected(r: Route) -> (Protocol, String) {
        match r {
            Route::Reject {
                protocol, error, ..
            } => (protocol, error.code.into_owned()),
            Route::Api(a) => panic!("routed to {}", a.operation),
        }
    }

    #[test]
    fn forms_route_by_version() {
        let body = "Action=DescribeTags&Version=2011-01-01";
        assert_eq!(
            api(route_with(Method::POST, "/", "", &[], body, None)),
            ("autoscaling", Protocol::Query, "DescribeTags".into())
        );
        let body = "Action=DescribeTags&Version=2016-11-15";
        assert_eq!(
            api(route_with(Method::POST, "/", "", &[], body, None)).1,
            Protocol::Ec2
        );
        let body = "Action=CreateLoadBalancer&Version=2012-06-01";
        assert_eq!(
            api(route_with(Method::POST, "/", "", &[], body, None)).0,
            "elb"
        );
        let body = "Action=CreateLoadBalancer&Version=2015-12-01";
        assert_eq!(
            api(route_with(Method::POST, "/", "", &[], body, None)).0,
            "elbv2"
        );
        assert_eq!(
            api(route_with(
                Method::GET,
                "/",
                "Action=ListTopics&Version=2010-03-31",
                &[],
                "",
                None
            ))
            .0,
            "sns"
        );
        assert_eq!(
            api(route_with(
                Method::POST,
                "/",
                "",
                &[],
                "Action=DescribeAlarms&Version=2010-08-01",
                None
            ))
            .0,
            "cloudwatch"
        );
    }

    #[test]
    fn json_and_cbor_route_by_target_and_path() {
        let h = [(
            "x-amz-target",
            "GraniteServiceVersion20100801.DescribeAlarms",
        )];
        assert_eq!(
            api(route_with(Method::POST, "/", "", &h, "{}", None)),
            ("cloudwatch", Protocol::Json, "DescribeAlarms".into())
        );
        let h = [("smithy-protocol", "rpc-v2-cbor")];
        let path = "/service/GraniteServiceVersion20100801/operation/PutMetricData";
        assert_eq!(
            api(route_with(Method::POST, path, "", &h, "", None)).1,
            Protocol::Cbor
        );
        let path = "/prefix/service/com.amazonaws.cloudwatch.GraniteServiceVersion20100801/operation/PutMetricData";
        assert_eq!(
            api(route_with(Method::POST, path, "", &[], "", None)).1,
            Protocol::Cbor
        );
    }

    #[test]
    fn unknown_operations_are_rejected_in_the_callers_protocol() {
        assert_eq!(
            rejected(route_with(
                Method::POST,
                "/",
                "",
                &[],
                "Action=Nope&Version=2011-01-01",
                None
            )),
            (Protocol::Query, "InvalidAction".into())
        );
        assert_eq!(
            rejected(route_with(
                Method::POST,
                "/",
                "",
                &[],
                "Action=Nope&Version=2016-11-15",
                None
            )),
            (Protocol::Ec2, "InvalidAction".into())
        );
        let h = [("x-amz-target", "GraniteServiceVersion20100801.Nope")];
        assert_eq!(
            rejected(route_with(Method::POST, "/", "", &h, "{}", None)),
            (Protocol::Json, "UnknownOperationException".into())
        );
        let h = [("smithy-protocol", "rpc-v2-cbor")];
        let path = "/service/GraniteServiceVersion20100801/operation/Nope";
        assert_eq!(
            rejected(route_with(Method::POST, path, "", &h, "", None)),
            (Protocol::Cbor, "UnknownOperationException".into())
        );
        assert_eq!(
            rejected(route_with(
                Method::POST,
                "/",
                "",
                &[],
                "Version=2011-01-01",
                None
            ))
            .1,
            "MissingAction"
        );
    }

    #[test]
    fn sts_iam_and_ssm_route_by_version_and_target() {
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        assert_eq!(
            api(route_with(Method::POST, "/", "", &[], body, None)),
            ("sts", Protocol::Query, "GetCallerIdentity".into())
        );
        let body = "Action=ListRoles&Version=2010-05-08";
        assert_eq!(
            api(route_with(Method::POST, "/", "", &[], body, None)).0,
            "iam"
        );
        let h = [("x-amz-target", "AmazonSSM.GetParameter")];
        assert_eq!(
            api(route_with(Method::POST, "/", "", &h, "{}", None)),
            ("ssm", Protocol::Json, "GetParameter".into())
        );
        let h = [("x-amz-target", "AmazonSSM.SendCommand")];
        assert_eq!(
            rejected(route_with(Method::POST, "/", "", &h, "{}", None)),
            (Protocol::Json, "UnknownOperationException".into())
        );
    }

    #[test]
    fn missing_version_falls_back_to_the_signing_scope() {
        assert_eq!(
            api(route_with(
                Method::POST,
                "/",
                "",
                &[],
                "Action=DescribeInstances",
                Some("ec2")
            ))
            .0,
            "ec2"
        );
        assert_eq!(
            api(route_with(
                Method::POST,
                "/",
                "",
                &[],
                "Action=DescribeTargetGroups",
                Some("elasticloadbalancing")
            ))
            .0,
            "elbv2"
        );
        assert_eq!(
            api(route_with(
                Method::POST,
                "/",
                "",
                &[],
                "Action=DescribeInstanceHealth",
                Some("elasticloadbalancing")
            ))
            .0,
            "elb"
        );
    }
}
