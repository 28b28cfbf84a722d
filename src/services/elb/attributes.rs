//! ConfigureHealthCheck and the load balancer attributes.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::errors::ElbError;
use super::store::{Attributes, HealthCheck};
use super::{validation, with_lb};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// What a health check target probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Connect (TCP) or connect and handshake (SSL).
    Connect {
        /// Port.
        port: u16,
        /// SSL: the TLS handshake must succeed too.
        tls: bool,
    },
    /// GET the path, pass on 200 (HTTP and HTTPS).
    Http {
        /// Port.
        port: u16,
        /// Ping path, starting with `/`.
        path: String,
        /// HTTPS: the request goes over TLS.
        tls: bool,
    },
}

/// Parse `TCP:80`, `SSL:443`, `HTTP:80/index.html`, `HTTPS:443/health`.
pub fn parse_target(target: &str) -> Result<Probe, ApiError> {
    let bad = || {
        validation(format!(
            "Invalid health check target {target:?}: it must be TCP:port, SSL:port, HTTP:port/path or HTTPS:port/path, with a port from 1 to 65535."
        ))
    };
    if target.encode_utf16().count() > 1024 {
        return Err(bad());
    }
    let (protocol, rest) = target.split_once(':').ok_or_else(bad)?;
    let protocol = protocol.to_ascii_uppercase();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let port: u16 = rest[..digits]
        .parse()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(bad)?;
    let path = &rest[digits..];
    let tls = matches!(protocol.as_str(), "SSL" | "HTTPS");
    match protocol.as_str() {
        "TCP" | "SSL" if path.is_empty() => Ok(Probe::Connect { port, tls }),
        "HTTP" | "HTTPS" if path.starts_with('/') => Ok(Probe::Http {
            port,
            path: path.to_owned(),
            tls,
        }),
        _ => Err(bad()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct HealthCheckInput {
    target: String,
    interval: i64,
    timeout: i64,
    unhealthy_threshold: i64,
    healthy_threshold: i64,
}

/// ConfigureHealthCheck's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigureHealthCheckInput {
    load_balancer_name: String,
    health_check: HealthCheckInput,
}

fn range(value: i64, member: &str, min: i64, max: i64) -> Result<(), ApiError> {
    if value < min {
        Err(validation(format!(
            "1 validation error detected: Value '{value}' at 'healthCheck.{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
        )))
    } else if value > max {
        Err(validation(format!(
            "1 validation error detected: Value '{value}' at 'healthCheck.{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
        )))
    } else {
        Ok(())
    }
}

/// Check a health check as AWS does.
fn check(h: &HealthCheckInput) -> Result<HealthCheck, ApiError> {
    range(h.interval, "interval", 5, 300)?;
    range(h.timeout, "timeout", 2, 60)?;
    range(h.unhealthy_threshold, "unhealthyThreshold", 2, 10)?;
    range(h.healthy_threshold, "healthyThreshold", 2, 10)?;
    if h.timeout >= h.interval {
        return Err(validation("Interval must be greater than the timeout."));
    }
    parse_target(&h.target)?;
    Ok(HealthCheck {
        target: h.target.clone(),
        interval: h.interval,
        timeout: h.timeout,
        unhealthy_threshold: h.unhealthy_threshold,
        healthy_threshold: h.healthy_threshold,
    })
}

/// `HealthCheck` as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthCheckOut<'a> {
    target: Cow<'a, str>,
    interval: i64,
    timeout: i64,
    unhealthy_threshold: i64,
    healthy_threshold: i64,
}

impl<'a> HealthCheckOut<'a> {
    /// A load balancer's health check.
    pub fn new(h: &'a HealthCheck) -> Self {
        Self {
            target: Cow::Borrowed(&h.target),
            interval: h.interval,
            timeout: h.timeout,
            unhealthy_threshold: h.unhealthy_threshold,
            healthy_threshold: h.healthy_threshold,
        }
    }
}

/// ConfigureHealthCheck's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigureHealthCheckOutput {
    health_check: HealthCheckOut<'static>,
}

/// ConfigureHealthCheck.
pub fn configure_health_check(
    ctx: &RequestContext,
    state: &AppState,
    req: ConfigureHealthCheckInput,
) -> Result<ConfigureHealthCheckOutput, ApiError> {
    let hc = check(&req.health_check)?;
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, _| {
        lb.health_check = hc.clone();
        Ok(())
    })?;
    let HealthCheckInput {
        target,
        interval,
        timeout,
        unhealthy_threshold,
        healthy_threshold,
    } = req.health_check;
    Ok(ConfigureHealthCheckOutput {
        health_check: HealthCheckOut {
            target: Cow::Owned(target),
            interval,
            timeout,
            unhealthy_threshold,
            healthy_threshold,
        },
    })
}

/// `LoadBalancerAttributes` as the API shows them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributesOut {
    cross_zone_load_balancing: EnabledOut,
    access_log: AccessLogOut,
    connection_draining: DrainingOut,
    connection_settings: SettingsOut,
    /// Left out when none was set.
    additional_attributes: Option<Vec<KeyValueOut>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnabledOut {
    enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccessLogOut {
    enabled: bool,
    s3_bucket_name: Option<String>,
    emit_interval: Option<i64>,
    s3_bucket_prefix: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DrainingOut {
    enabled: bool,
    timeout: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SettingsOut {
    idle_timeout: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyValueOut {
    key: String,
    value: String,
}

impl AttributesOut {
    /// A load balancer's attributes.
    pub fn new(a: &Attributes) -> Self {
        let (enabled, bucket, interval, prefix) = &a.access_log;
        Self {
            cross_zone_load_balancing: EnabledOut {
                enabled: a.cross_zone,
            },
            access_log: AccessLogOut {
                enabled: *enabled,
                s3_bucket_name: bucket.clone(),
                emit_interval: *interval,
                s3_bucket_prefix: prefix.clone(),
            },
            connection_draining: DrainingOut {
                enabled: a.draining_enabled,
                timeout: a.draining_timeout,
            },
            connection_settings: SettingsOut {
                idle_timeout: a.idle_timeout,
            },
            additional_attributes: (!a.additional.is_empty()).then(|| {
                a.additional
                    .iter()
                    .map(|(key, value)| KeyValueOut {
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect()
            }),
        }
    }
}

/// DescribeLoadBalancerAttributes' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeLoadBalancerAttributesInput {
    load_balancer_name: String,
}

/// DescribeLoadBalancerAttributes' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLoadBalancerAttributesOutput {
    load_balancer_attributes: AttributesOut,
}

/// DescribeLoadBalancerAttributes.
pub fn describe_load_balancer_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeLoadBalancerAttributesInput,
) -> Result<DescribeLoadBalancerAttributesOutput, ApiError> {
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, _| {
        Ok(DescribeLoadBalancerAttributesOutput {
            load_balancer_attributes: AttributesOut::new(&lb.attributes),
        })
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Enabled {
    enabled: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AccessLogInput {
    enabled: bool,
    s3_bucket_name: Option<String>,
    emit_interval: Option<i64>,
    s3_bucket_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DrainingInput {
    enabled: bool,
    timeout: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SettingsInput {
    idle_timeout: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyValue {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AttributesInput {
    cross_zone_load_balancing: Option<Enabled>,
    access_log: Option<AccessLogInput>,
    connection_draining: Option<DrainingInput>,
    connection_settings: Option<SettingsInput>,
    additional_attributes: Option<Vec<KeyValue>>,
}

/// ModifyLoadBalancerAttributes' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ModifyLoadBalancerAttributesInput {
    load_balancer_name: String,
    load_balancer_attributes: AttributesInput,
}

/// ModifyLoadBalancerAttributes' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyLoadBalancerAttributesOutput {
    load_balancer_name: String,
    load_balancer_attributes: AttributesOut,
}

/// ModifyLoadBalancerAttributes: changes the attributes given, keeps the others.
pub fn modify_load_balancer_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: ModifyLoadBalancerAttributesInput,
) -> Result<ModifyLoadBalancerAttributesOutput, ApiError> {
    let a = req.load_balancer_attributes;
    if let Some(t) = a.connection_draining.as_ref().and_then(|d| d.timeout)
        && !(1..=3600).contains(&t)
    {
        return Err(validation(format!(
            "ConnectionDraining timeout must be between 1 and 3600 seconds, got {t}."
        )));
    }
    if let Some(s) = &a.connection_settings
        && !(1..=4000).contains(&s.idle_timeout)
    {
        return Err(validation(format!(
            "IdleTimeout must be between 1 and 4000 seconds, got {}.",
            s.idle_timeout
        )));
    }
    if let Some(log) = &a.access_log {
        if log.enabled && log.s3_bucket_name.as_deref().unwrap_or("").is_empty() {
            return Err(validation(
                "S3BucketName is required when access logs are enabled.",
            ));
        }
        if let Some(i) = log.emit_interval
            && i != 5
            && i != 60
        {
            return Err(validation(format!(
                "EmitInterval must be 5 or 60 minutes, got {i}."
            )));
        }
    }
    let mut additional = Vec::new();
    for kv in a.additional_attributes.iter().flatten() {
        let key = kv.key.clone().unwrap_or_default();
        if key != "elb.http.desyncmitigationmode" {
            return Err(ElbError::LoadBalancerAttributeNotFound.with(format!(
                "The specified load balancer attribute does not exist: {key}"
            )));
        }
        let value = kv.value.clone().unwrap_or_default();
        if !["monitor", "defensive", "strictest"].contains(&value.as_str()) {
            return Err(validation(format!(
                "Invalid value {value:?} for elb.http.desyncmitigationmode: use monitor, defensive or strictest."
            )));
        }
        additional.push((key, value));
    }
    let name = req.load_balancer_name.clone();
    with_lb(state, &ctx.scope, &name, |lb, _| {
        let attrs = &mut lb.attributes;
        if let Some(c) = a.cross_zone_load_balancing {
            attrs.cross_zone = c.enabled;
        }
        if let Some(d) = a.connection_draining {
            attrs.draining_enabled = d.enabled;
            if let Some(t) = d.timeout {
                attrs.draining_timeout = t;
            }
        }
        if let Some(s) = a.connection_settings {
            attrs.idle_timeout = s.idle_timeout;
        }
        if let Some(log) = a.access_log {
            attrs.access_log = (
                log.enabled,
                log.s3_bucket_name,
                log.emit_interval,
                log.s3_bucket_prefix,
            );
        }
        for (k, v) in additional {
            attrs.additional.retain(|(key, _)| key != &k);
            attrs.additional.push((k, v));
        }
        Ok(ModifyLoadBalancerAttributesOutput {
            load_balancer_name: lb.name.clone(),
            load_balancer_attributes: AttributesOut::new(&lb.attributes),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_aws_documents_them() {
        assert_eq!(
            parse_target("TCP:80").unwrap(),
            Probe::Connect {
                port: 80,
                tls: false
            }
        );
        assert_eq!(
            parse_target("ssl:443").unwrap(),
            Probe::Connect {
                port: 443,
                tls: true
            }
        );
        assert_eq!(
            parse_target("HTTP:80/index.html").unwrap(),
            Probe::Http {
                port: 80,
                path: "/index.html".into(),
                tls: false
            }
        );
        assert_eq!(
            parse_target("HTTPS:443/").unwrap(),
            Probe::Http {
                port: 443,
                path: "/".into(),
                tls: true
            }
        );
        for bad in [
            "HTTP:80",
            "TCP:80/x",
            "UDP:53",
            "HTTP:0/",
            "HTTP:70000/",
            "HTTP",
            "HTTP:/x",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
