//! Rule conditions: their API shapes, validation and the normalised form DescribeRules shows
//! (`host-header` and `path-pattern` conditions carry both `Values` and their config, as AWS
//! shows them). Matching lives in `routing`.

use serde::{Deserialize, Serialize};

use super::errors::validation;
use crate::error::ApiError;

/// `RuleCondition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Condition {
    /// `host-header`, `path-pattern`, `http-header`, `query-string`, `http-request-method`,
    /// `source-ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Legacy values (host-header and path-pattern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// Host patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_header_config: Option<ValuesConfig>,
    /// Path patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_pattern_config: Option<ValuesConfig>,
    /// A header and its value patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_header_config: Option<HttpHeaderConfig>,
    /// Query key/value patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string_config: Option<QueryStringConfig>,
    /// Methods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_request_method_config: Option<ValuesConfig>,
    /// Client CIDRs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip_config: Option<ValuesConfig>,
    /// Regular expressions (refused: Updraft has no regex engine for rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_values: Option<Vec<String>>,
}

/// A list of values (`HostHeaderConditionConfig` and friends).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValuesConfig {
    /// Values.
    #[serde(default)]
    pub values: Vec<String>,
    /// Regular expressions (refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_values: Option<Vec<String>>,
}

/// `HttpHeaderConditionConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpHeaderConfig {
    /// Header name.
    pub http_header_name: Option<String>,
    /// Value patterns.
    #[serde(default)]
    pub values: Vec<String>,
    /// Regular expressions (refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_values: Option<Vec<String>>,
}

/// `QueryStringConditionConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryStringConfig {
    /// Key/value patterns.
    #[serde(default)]
    pub values: Vec<QueryPair>,
}

/// `QueryStringKeyValuePair`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryPair {
    /// Key pattern (any key when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Value pattern.
    #[serde(default)]
    pub value: String,
}

fn values_of(
    c: &Condition,
    config: Option<&ValuesConfig>,
    field: &str,
) -> Result<Vec<String>, ApiError> {
    match (&c.values, config) {
        (Some(_), Some(_)) => Err(validation(format!(
            "You cannot specify both 'Values' and a configuration for the '{field}' condition"
        ))),
        (Some(v), None) => Ok(v.clone()),
        (None, Some(cfg)) => Ok(cfg.values.clone()),
        (None, None) => Err(validation(format!(
            "A configuration must be specified for the '{field}' condition"
        ))),
    }
}

/// Check and normalise a rule's conditions.
pub fn normalise_conditions(conditions: Vec<Condition>) -> Result<Vec<Condition>, ApiError> {
    let mut out = Vec::with_capacity(conditions.len());
    let mut singles: Vec<String> = Vec::new();
    let mut total_values = 0usize;
    for c in conditions {
        let regex = c.regex_values.is_some()
            || [&c.host_header_config, &c.path_pattern_config]
                .iter()
                .any(|cfg| cfg.as_ref().is_some_and(|v| v.regex_values.is_some()))
            || c.http_header_config
                .as_ref()
                .is_some_and(|h| h.regex_values.is_some());
        if regex {
            return Err(validation(
                "Updraft does not support RegexValues in rule conditions; use Values with * and ? wildcards",
            ));
        }
        let field = c
            .field
            .clone()
            .ok_or_else(|| validation("A condition field must be specified"))?;
        let mut n = Condition {
            field: Some(field.clone()),
            values: None,
            host_header_config: None,
            path_pattern_config: None,
            http_header_config: None,
            query_string_config: None,
            http_request_method_config: None,
            source_ip_config: None,
            regex_values: None,
        };
        let count;
        match field.as_str() {
            "host-header" | "path-pattern" => {
                let cfg = if field == "host-header" {
                    c.host_header_config.as_ref()
                } else {
                    c.path_pattern_config.as_ref()
                };
                let values = values_of(&c, cfg, &field)?;
                for v in &values {
                    if v.is_empty() || v.len() > 128 {
                        return Err(validation(format!(
                            "Condition value '{v}' must be between 1 and 128 characters"
                        )));
                    }
                }
                count = values.len();
                let cfg = ValuesConfig {
                    values: values.clone(),
                    regex_values: None,
                };
                if field == "host-header" {
                    n.host_header_config = Some(cfg);
                } else {
                    n.path_pattern_config = Some(cfg);
                }
                n.values = Some(values);
            }
            "http-header" => {
                let h = c.http_header_config.clone().ok_or_else(|| {
                    validation("A configuration must be specified for the 'http-header' condition")
                })?;
                let name = h.http_header_name.clone().unwrap_or_default();
                if name.is_empty() || name.contains(['*', '?']) {
                    return Err(validation(
                        "A header name without wildcards must be specified for the 'http-header' condition",
                    ));
                }
                count = h.values.len();
                n.http_header_config = Some(h);
            }
            "query-string" => {
                let q = c.query_string_config.clone().ok_or_else(|| {
                    validation("A configuration must be specified for the 'query-string' condition")
                })?;
                count = q.values.len();
                n.query_string_config = Some(q);
            }
            "http-request-method" => {
                let m = c.http_request_method_config.clone().ok_or_else(|| {
                    validation(
                        "A configuration must be specified for the 'http-request-method' condition",
                    )
                })?;
                for v in &m.values {
                    if v.is_empty()
                        || !v
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b == b'_' || b == b'-')
                    {
                        return Err(validation(format!("Invalid HTTP request method '{v}'")));
                    }
                }
                count = m.values.len();
                n.http_request_method_config = Some(m);
            }
            "source-ip" => {
                let s = c.source_ip_config.clone().ok_or_else(|| {
                    validation("A configuration must be specified for the 'source-ip' condition")
                })?;
                for v in &s.values {
                    if super::routing::parse_cidr(v).is_none() || v == "255.255.255.255/32" {
                        return Err(validation(format!("Invalid source IP CIDR '{v}'")));
                    }
                }
                count = s.values.len();
                n.source_ip_config = Some(s);
            }
            other => {
                return Err(validation(format!(
                    "Condition field '{other}' must be one of [http-header, http-request-method, host-header, path-pattern, query-string, source-ip]"
                )));
            }
        }
        if count == 0 {
            return Err(validation(format!(
                "At least one value must be specified for the '{field}' condition"
            )));
        }
        if field != "http-header" && field != "query-string" {
            if singles.contains(&field) {
                return Err(validation(format!(
                    "A rule can only have one '{field}' condition"
                )));
            }
            singles.push(field.clone());
        }
        total_values += count;
        out.push(n);
    }
    if total_values > 5 {
        return Err(validation("A rule can only have '5' condition values"));
    }
    Ok(out)
}
