//! The AWS SDK for Rust pointed at one Updraft endpoint, configured by hand: static
//! credentials, one region, a plain-http hyper client and no retries. Nothing is read from the
//! environment (no aws-config: no profile files, no IMDS, no SSO), so a test talks to its own
//! server and nothing else. The tests in `tests/sdk/` start the server and drive the clients.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatch::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatch::error::BoxError;

/// One client per service, all signed with the same static key for the same endpoint.
#[derive(Debug, Clone)]
pub struct Clients {
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancing::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sts: aws_sdk_sts::Client,
    /// What CloudWatch's requests and answers said about their protocol.
    pub cloudwatch_wire: WireLog,
}

/// Builds one service's client. Every generated crate has the same config builder but no
/// shared trait for it, hence a macro.
macro_rules! client {
    ($krate:ident, $endpoint:expr, $key:expr, $http:expr $(, $interceptor:expr)?) => {{
        use $krate::config::{Credentials, Region, retry::RetryConfig};
        let config = $krate::Config::builder()
            .behavior_version($krate::config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new($key, "test", None, None, "updraft-tests"))
            .endpoint_url($endpoint)
            .http_client($http.clone())
            // One attempt: a test that sees an error sees Updraft's first answer.
            .retry_config(RetryConfig::disabled())
            $(.interceptor($interceptor))?
            .build();
        $krate::Client::from_conf(config)
    }};
}

impl Clients {
    /// Clients for `endpoint` (`http://127.0.0.1:port`) signing with access key `key`
    /// (Updraft takes the account from a 12-digit key, `000000000000` otherwise).
    pub fn new(endpoint: &str, key: &str) -> Self {
        // Updraft listens on plain http: the SDK's own hyper client without a TLS stack.
        // `build_http` is public but doc-hidden; it is what the SDK builds for http endpoints.
        let http = aws_smithy_http_client::Builder::new().build_http();
        let wire = WireLog::default();
        Self {
            autoscaling: client!(aws_sdk_autoscaling, endpoint, key, http),
            cloudwatch: client!(aws_sdk_cloudwatch, endpoint, key, http, wire.clone()),
            ec2: client!(aws_sdk_ec2, endpoint, key, http),
            elb: client!(aws_sdk_elasticloadbalancing, endpoint, key, http),
            elbv2: client!(aws_sdk_elasticloadbalancingv2, endpoint, key, http),
            iam: client!(aws_sdk_iam, endpoint, key, http),
            sns: client!(aws_sdk_sns, endpoint, key, http),
            ssm: client!(aws_sdk_ssm, endpoint, key, http),
            sts: client!(aws_sdk_sts, endpoint, key, http),
            cloudwatch_wire: wire,
        }
    }
}

/// One request and its answer, as far as the protocol goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    pub path: String,
    /// The request's `smithy-protocol` header (`rpc-v2-cbor` for Smithy RPC v2 CBOR).
    pub smithy_protocol: Option<String>,
    pub request_content_type: Option<String>,
    pub status: u16,
    pub response_content_type: Option<String>,
    /// The answer's `smithy-protocol` header, which the spec requires on every response.
    pub response_smithy_protocol: Option<String>,
}

/// An interceptor that records each [`Exchange`] of the client it is installed on.
#[derive(Debug, Clone, Default)]
pub struct WireLog(Arc<Mutex<Vec<Exchange>>>);

impl WireLog {
    /// Everything recorded so far, oldest first.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0.lock().expect("wire log").clone()
    }
}

impl Intercept for WireLog {
    fn name(&self) -> &'static str {
        "WireLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = context.request();
        let path = req
            .uri()
            .split_once("//")
            .map_or(req.uri(), |(_, rest)| rest);
        self.0.lock().expect("wire log").push(Exchange {
            path: path.find('/').map_or("/", |i| &path[i..]).to_owned(),
            smithy_protocol: req.headers().get("smithy-protocol").map(str::to_owned),
            request_content_type: req.headers().get("content-type").map(str::to_owned),
            ..Exchange::default()
        });
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let resp = context.response();
        let mut log = self.0.lock().expect("wire log");
        if let Some(last) = log.last_mut() {
            last.status = resp.status().as_u16();
            last.response_content_type = resp.headers().get("content-type").map(str::to_owned);
            last.response_smithy_protocol =
                resp.headers().get("smithy-protocol").map(str::to_owned);
        }
        Ok(())
    }
}
