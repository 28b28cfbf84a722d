//! HTTP delivery policies ([AWS: "Amazon SNS message delivery retries"](
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html)): a topic's
//! `{"http": {"defaultHealthyRetryPolicy": …}}`, a subscription's `{"healthyRetryPolicy": …}`
//! (unless the topic sets `disableSubscriptionOverrides`), and the retry schedule they make.

use serde_json::Value;

use super::invalid;
use crate::error::ApiError;

/// The retries of one delivery may not span more than an hour.
const MAX_TOTAL_RETRY_SECONDS: f64 = 3600.0;

/// An HTTP retry policy (`healthyRetryPolicy`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RetryPolicy {
    /// `minDelayTarget`, seconds.
    pub min_delay: f64,
    /// `maxDelayTarget`, seconds.
    pub max_delay: f64,
    /// `numRetries`: all retries, every phase included.
    pub num_retries: u32,
    /// `numNoDelayRetries`: immediate retries first.
    pub num_no_delay: u32,
    /// `numMinDelayRetries`: then retries at the minimum delay.
    pub num_min_delay: u32,
    /// `numMaxDelayRetries`: retries at the maximum delay, last.
    pub num_max_delay: u32,
    /// `backoffFunction`: `linear`, `arithmetic`, `geometric` or `exponential`.
    pub backoff: String,
    /// `Content-Type` of the POST (`requestPolicy.headerContentType`).
    pub content_type: String,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            min_delay: 20.0,
            max_delay: 20.0,
            num_retries: 3,
            num_no_delay: 0,
            num_min_delay: 0,
            num_max_delay: 0,
            backoff: "linear".into(),
            content_type: "text/plain; charset=UTF-8".into(),
        }
    }
}

impl RetryPolicy {
    /// From an effective subscription policy (`{"healthyRetryPolicy": …, "requestPolicy": …}`).
    pub(crate) fn from_effective(policy: &Value) -> Self {
        Self::from_parts(&policy["healthyRetryPolicy"], &policy["requestPolicy"])
    }

    /// From a `healthyRetryPolicy` and a `requestPolicy` (either may be null: AWS's defaults).
    fn from_parts(r: &Value, request: &Value) -> Self {
        let d = Self::default();
        let num = |k: &str, default: u32| {
            r[k].as_u64()
                .map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX))
        };
        Self {
            min_delay: r["minDelayTarget"].as_f64().unwrap_or(d.min_delay),
            max_delay: r["maxDelayTarget"].as_f64().unwrap_or(d.max_delay),
            num_retries: num("numRetries", d.num_retries),
            num_no_delay: num("numNoDelayRetries", 0),
            num_min_delay: num("numMinDelayRetries", 0),
            num_max_delay: num("numMaxDelayRetries", 0),
            backoff: r["backoffFunction"].as_str().unwrap_or("linear").to_owned(),
            content_type: request["headerContentType"]
                .as_str()
                .unwrap_or(&d.content_type)
                .to_owned(),
        }
    }

    /// The delays, in seconds, before each retry: AWS's four phases (immediate, pre-backoff at
    /// the minimum, backoff from minimum to maximum, post-backoff at the maximum). The backoff
    /// curves' exact shapes are not published; these follow the documented charts.
    pub fn delays(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.num_no_delay as usize];
        out.extend(std::iter::repeat_n(
            self.min_delay,
            self.num_min_delay as usize,
        ));
        let backoff = self
            .num_retries
            .saturating_sub(self.num_no_delay + self.num_min_delay + self.num_max_delay);
        let n = f64::from(backoff.max(1));
        for i in 1..=backoff {
            let t = f64::from(i) / n;
            let shape = match self.backoff.as_str() {
                "arithmetic" => t * t,
                "geometric" => t * t * t,
                "exponential" => (2f64.powf(f64::from(i)) - 1.0) / (2f64.powf(n) - 1.0),
                _ => t,
            };
            out.push(self.min_delay + (self.max_delay - self.min_delay) * shape);
        }
        out.extend(std::iter::repeat_n(
            self.max_delay,
            self.num_max_delay as usize,
        ));
        out
    }
}

/// The subscription-level policy that applies: the subscription's own unless the topic
/// disables overrides, else the topic's HTTP defaults, else AWS's.
pub(crate) fn effective_policy(topic: Option<&str>, subscription: Option<&str>) -> Value {
    // Both policies were checked when set, so a parse failure cannot happen; defaults if so.
    let topic: Value = topic
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_else(super::topics::default_delivery_policy);
    let http = &topic["http"];
    let defaults = super::topics::default_delivery_policy();
    let mut effective = serde_json::json!({
        "healthyRetryPolicy": if http["defaultHealthyRetryPolicy"].is_object() {
            http["defaultHealthyRetryPolicy"].clone()
        } else {
            defaults["http"]["defaultHealthyRetryPolicy"].clone()
        },
        "sicklyRetryPolicy": null,
        "throttlePolicy": http["defaultThrottlePolicy"].clone(),
        "requestPolicy": if http["defaultRequestPolicy"].is_object() {
            http["defaultRequestPolicy"].clone()
        } else {
            defaults["http"]["defaultRequestPolicy"].clone()
        },
        "guaranteed": false
    });
    let overrides_allowed = !http["disableSubscriptionOverrides"]
        .as_bool()
        .unwrap_or(false);
    if overrides_allowed
        && let Some(Value::Object(sub)) = subscription.and_then(|s| serde_json::from_str(s).ok())
    {
        for (k, v) in sub {
            effective[k] = v;
        }
    }
    effective
}

/// Check a delivery policy (a topic's `{"http": …}` or a subscription's) against AWS's limits.
pub(crate) fn check_delivery_policy(policy: &str, topic: bool) -> Result<(), ApiError> {
    let bad = |why: &str| invalid(format!("DeliveryPolicy: {why}"));
    let value: Value = serde_json::from_str(policy).map_err(|_| bad("failed to parse JSON"))?;
    let retry = if topic {
        &value["http"]["defaultHealthyRetryPolicy"]
    } else {
        &value["healthyRetryPolicy"]
    };
    if retry.is_null() {
        return Ok(());
    }
    if !retry.is_object() {
        return Err(bad("healthyRetryPolicy must be an object"));
    }
    let p = RetryPolicy::from_parts(retry, &Value::Null);
    if !(1.0..=3600.0).contains(&p.min_delay) || !(1.0..=3600.0).contains(&p.max_delay) {
        return Err(bad(
            "minDelayTarget and maxDelayTarget must be between 1 and 3600",
        ));
    }
    if p.min_delay > p.max_delay {
        return Err(bad(
            "minDelayTarget must be less than or equal to maxDelayTarget",
        ));
    }
    if p.num_retries > 100 {
        return Err(bad("numRetries must be between 0 and 100"));
    }
    if p.num_no_delay + p.num_min_delay + p.num_max_delay > p.num_retries {
        return Err(bad(
            "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries",
        ));
    }
    if !matches!(
        p.backoff.as_str(),
        "linear" | "arithmetic" | "geometric" | "exponential"
    ) {
        return Err(bad(
            "backoffFunction must be linear, arithmetic, geometric or exponential",
        ));
    }
    if p.delays().iter().sum::<f64>() > MAX_TOTAL_RETRY_SECONDS {
        return Err(bad("the total retry time must not exceed 3600 seconds"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_three_retries_twenty_seconds_apart() {
        assert_eq!(RetryPolicy::default().delays(), vec![20.0, 20.0, 20.0]);
    }

    #[test]
    fn phases_follow_the_policy() {
        let p = RetryPolicy {
            min_delay: 1.0,
            max_delay: 9.0,
            num_retries: 8,
            num_no_delay: 2,
            num_min_delay: 1,
            num_max_delay: 1,
            backoff: "linear".into(),
            ..RetryPolicy::default()
        };
        assert_eq!(p.delays(), vec![0.0, 0.0, 1.0, 3.0, 5.0, 7.0, 9.0, 9.0]);
    }

    #[test]
    fn subscription_policies_override_unless_disabled() {
        let sub =
            r#"{"healthyRetryPolicy":{"numRetries":1,"minDelayTarget":1,"maxDelayTarget":1}}"#;
        let eff = effective_policy(None, Some(sub));
        assert_eq!(RetryPolicy::from_effective(&eff).delays(), vec![1.0]);
        let topic = r#"{"http":{"disableSubscriptionOverrides":true}}"#;
        let eff = effective_policy(Some(topic), Some(sub));
        assert_eq!(RetryPolicy::from_effective(&eff).delays().len(), 3);
        assert!(check_delivery_policy(sub, false).is_ok());
        assert!(
            check_delivery_policy(r#"{"healthyRetryPolicy":{"numRetries":101}}"#, false).is_err()
        );
        assert!(
            check_delivery_policy(
                r#"{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":2}}"#,
                false
            )
            .is_err()
        );
    }
}
