//! ListMetrics: metrics with data in the past two weeks (or three hours with
//! `RecentlyActive=PT3H`), filtered by namespace, name and dimension filters, dimensions sorted
//! by name, 500 per page (CloudWatch API Reference, ListMetrics; the dimension order as
//! recorded against AWS in LocalStack's CloudWatch tests).

use serde::{Deserialize, Serialize};

use super::{Dimension, dimensions_of, invalid_token, invalid_value};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::paging::{BadToken, Paging, page};
use crate::state::AppState;

const PAGE: usize = 500;
const LISTED_FOR: f64 = 14.0 * 86_400.0;
const RECENT: f64 = 3.0 * 3600.0;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DimensionFilter {
    name: String,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListMetricsInput {
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

/// ListMetrics output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsOutput {
    metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// ListMetrics.
pub fn list_metrics(
    ctx: &RequestContext,
    state: &AppState,
    req: ListMetricsInput,
) -> Result<ListMetricsOutput, ApiError> {
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
    let now = state.clock.now();
    let (metrics, next_token) = state
        .stores
        .with(&ctx.scope, |s| {
            let listed = s.cloudwatch.metrics.iter().filter(|(k, series)| {
                series.last_timestamp >= now - window
                    && req.namespace.as_ref().is_none_or(|n| *n == k.namespace)
                    && req.metric_name.as_ref().is_none_or(|n| *n == k.name)
                    && req.dimensions.iter().all(|f| {
                        k.dimensions.iter().any(|(n, v)| {
                            *n == f.name && f.value.as_ref().is_none_or(|want| want == v)
                        })
                    })
            });
            let (keys, next) = page(
                listed,
                req.next_token.as_deref(),
                PAGE,
                Paging::LENIENT_OFFSET,
            )?;
            let metrics = keys
                .into_iter()
                .map(|(k, _)| Metric {
                    namespace: k.namespace.clone(),
                    metric_name: k.name.clone(),
                    dimensions: dimensions_of(&k.dimensions),
                })
                .collect();
            Ok::<_, BadToken>((metrics, next))
        })
        .map_err(|_| invalid_token())?;
    Ok(ListMetricsOutput {
        metrics,
        next_token,
    })
}
