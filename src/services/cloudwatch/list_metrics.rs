//! ListMetrics: metrics with data in the past two weeks (or three hours with
//! `RecentlyActive=PT3H`), filtered by namespace, name and dimension filters, dimensions sorted
//! by name, 500 per page (research §2.7).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Dimension, dimensions_of, invalid_value, parse_token};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::{parse_input, to_output};
use crate::state::AppState;

const PAGE: usize = 500;
const LISTED_FOR: f64 = 14.0 * 86_400.0;
const RECENT: f64 = 3.0 * 3600.0;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DimensionFilter {
    name: String,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListMetricsInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Vec<DimensionFilter>,
    next_token: Option<String>,
    recently_active: Option<String>,
}

/// A metric as the read APIs return it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    /// Namespace.
    pub namespace: String,
    /// MetricName.
    pub metric_name: String,
    /// Dimensions, sorted by name.
    pub dimensions: Vec<Dimension>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListMetricsOutput {
    metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// ListMetrics.
pub fn list_metrics(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: ListMetricsInput = parse_input(input)?;
    let window = match req.recently_active.as_deref() {
        None => LISTED_FOR,
        Some("PT3H") => RECENT,
        Some(other) => {
            // UNVERIFIED: AWS's text for a RecentlyActive value other than PT3H.
            return Err(invalid_value(format!(
                "The value {other} for parameter RecentlyActive is invalid."
            )));
        }
    };
    if req.dimensions.len() > 10 {
        return Err(invalid_value(
            "The collection Dimensions must not have a size greater than 10.",
        ));
    }
    let skip = parse_token(req.next_token.as_deref())?;
    let now = state.clock.now();
    let mut metrics: Vec<Metric> = state.stores.with(&ctx.scope, |s| {
        s.cloudwatch
            .metrics
            .iter()
            .filter(|(k, series)| {
                series.last_timestamp >= now - window
                    && req.namespace.as_ref().is_none_or(|n| *n == k.namespace)
                    && req.metric_name.as_ref().is_none_or(|n| *n == k.name)
                    && req.dimensions.iter().all(|f| {
                        k.dimensions.iter().any(|(n, v)| {
                            *n == f.name && f.value.as_ref().is_none_or(|want| want == v)
                        })
                    })
            })
            .skip(skip)
            .take(PAGE + 1)
            .map(|(k, _)| Metric {
                namespace: k.namespace.clone(),
                metric_name: k.name.clone(),
                dimensions: dimensions_of(&k.dimensions),
            })
            .collect()
    });
    let next_token = (metrics.len() > PAGE).then(|| {
        metrics.truncate(PAGE);
        (skip + PAGE).to_string()
    });
    to_output(&ListMetricsOutput {
        metrics,
        next_token,
    })
}
