//! Whether another account may publish to a topic: the slice of topic access-policy
//! evaluation that cross-account deliveries need (a CloudWatch alarm in account A whose action
//! is a topic in account B, an Auto Scaling group notifying another account's topic).
//!
//! The owner may always publish (its IAM identities are allowed by IAM, not by the topic
//! policy). Anyone else needs an `Allow` statement, and no `Deny` statement, that matches:
//! - `Action`: `SNS:Publish`, `sns:*` or `*` (case-insensitive; a string or a list);
//! - `Resource`: the topic ARN, `*`, or absent;
//! - `Principal`: `"*"`, `{"AWS": …}` naming `*`, the account id or
//!   `arn:aws:iam::<account>:root`, or `{"Service": …}` naming the publishing service
//!   (`cloudwatch.amazonaws.com`, `autoscaling.amazonaws.com`);
//! - `Condition`: only `StringEquals`/`StringLike`/`ArnEquals`/`ArnLike` on
//!   `aws:SourceOwner`, `aws:SourceAccount` and `aws:SourceArn` are understood (keys
//!   case-insensitive, `*`/`?` wildcards for the `Like` forms); a statement with any other
//!   condition does not apply, so an unknown condition never grants access.
//!
//! The default policy (`Principal: *` with `AWS:SourceOwner` = owner) therefore admits only
//! the owner, as on AWS.

use serde_json::Value;

/// Who is publishing.
#[derive(Debug, Clone, Copy)]
pub struct Publisher<'a> {
    /// The publishing account (the alarm's or the group's).
    pub account: &'a str,
    /// The resource on whose behalf it publishes (alarm or group ARN): `aws:SourceArn`.
    pub source_arn: &'a str,
    /// The service principal publishing (`cloudwatch.amazonaws.com`).
    pub service: &'a str,
}

impl<'a> Publisher<'a> {
    /// A CloudWatch alarm of `account` publishing.
    pub fn alarm(account: &'a str, alarm_arn: &'a str) -> Self {
        Self {
            account,
            source_arn: alarm_arn,
            service: "cloudwatch.amazonaws.com",
        }
    }
}

/// Whether `publisher` may publish to `topic_arn`, owned by `owner`, under `policy` (the
/// topic's `Policy` attribute; `None` = the default policy).
pub fn may_publish(
    policy: Option<&str>,
    topic_arn: &str,
    owner: &str,
    publisher: &Publisher<'_>,
) -> bool {
    if publisher.account == owner {
        return true;
    }
    // No policy set: the default one admits only the owner.
    let Some(policy) = policy else {
        return false;
    };
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements: Vec<&Value> = match &doc["Statement"] {
        Value::Array(items) => items.iter().collect(),
        one @ Value::Object(_) => vec![one],
        _ => return false,
    };
    let applies = |s: &&Value| {
        matches_action(&s["Action"])
            && matches_resource(&s["Resource"], topic_arn)
            && matches_principal(&s["Principal"], publisher)
            && matches_condition(&s["Condition"], publisher)
    };
    let effect = |s: &&Value, e: &str| {
        s["Effect"]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case(e))
    };
    if statements
        .iter()
        .filter(|s| effect(s, "Deny"))
        .any(&applies)
    {
        return false;
    }
    statements
        .iter()
        .filter(|s| effect(s, "Allow"))
        .any(applies)
}

/// A string or a list of strings.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn matches_action(v: &Value) -> bool {
    strings(v).iter().any(|a| {
        a.eq_ignore_ascii_case("sns:publish") || a.eq_ignore_ascii_case("sns:*") || *a == "*"
    })
}

fn matches_resource(v: &Value, topic_arn: &str) -> bool {
    v.is_null() || strings(v).iter().any(|r| *r == "*" || *r == topic_arn)
}

fn matches_principal(v: &Value, p: &Publisher<'_>) -> bool {
    if v.as_str() == Some("*") {
        return true;
    }
    let root = format!("arn:aws:iam::{}:root", p.account);
    let aws = strings(&v["AWS"])
        .into_iter()
        .any(|a| a == "*" || a == p.account || a == root);
    let service = strings(&v["Service"]).into_iter().any(|s| s == p.service);
    aws || service
}

fn matches_condition(v: &Value, p: &Publisher<'_>) -> bool {
    let Some(operators) = v.as_object() else {
        return v.is_null();
    };
    operators.iter().all(|(op, tests)| {
        let like = match op.as_str() {
            "StringEquals" | "ArnEquals" => false,
            "StringLike" | "ArnLike" => true,
            _ => return false,
        };
        let Some(tests) = tests.as_object() else {
            return false;
        };
        tests.iter().all(|(key, wanted)| {
            let actual = match key.to_ascii_lowercase().as_str() {
                "aws:sourceowner" | "aws:sourceaccount" => p.account,
                "aws:sourcearn" => p.source_arn,
                _ => return false,
            };
            strings(wanted).iter().any(|w| {
                if like {
                    wildcard(w.as_bytes(), actual.as_bytes())
                } else {
                    *w == actual
                }
            })
        })
    })
}

/// IAM's `*` (any run) and `?` (one character) matching.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:000000000000:alerts";
    const ALARM: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu";

    fn from_a() -> Publisher<'static> {
        Publisher {
            account: "123456789012",
            source_arn: ALARM,
            service: "cloudwatch.amazonaws.com",
        }
    }

    fn allows(policy: Value) -> bool {
        may_publish(Some(&policy.to_string()), TOPIC, "000000000000", &from_a())
    }

    fn statement(extra: Value) -> Value {
        let mut s = json!({"Effect": "Allow", "Action": "SNS:Publish", "Resource": TOPIC});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        json!({"Version": "2012-10-17", "Statement": [s]})
    }

    #[test]
    fn the_owner_always_and_others_only_when_allowed() {
        let owner = Publisher {
            account: "000000000000",
            ..from_a()
        };
        assert!(may_publish(None, TOPIC, "000000000000", &owner));
        assert!(!may_publish(None, TOPIC, "000000000000", &from_a()));
        // The default policy: Principal * limited to the owner by AWS:SourceOwner.
        assert!(!allows(statement(json!({"Principal": {"AWS": "*"},
            "Condition": {"StringEquals": {"AWS:SourceOwner": "000000000000"}}}))));
    }

    #[test]
    fn principals_actions_conditions_and_denies() {
        assert!(allows(statement(
            json!({"Principal": {"AWS": "123456789012"}})
        )));
        assert!(allows(statement(
            json!({"Principal": {"AWS": ["arn:aws:iam::123456789012:root"]}})
        )));
        assert!(allows(statement(json!({"Principal": "*"}))));
        assert!(allows(statement(
            json!({"Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:123456789012:alarm:*"}}})
        )));
        assert!(!allows(statement(
            json!({"Principal": {"AWS": "999999999999"}})
        )));
        assert!(!allows(statement(
            json!({"Principal": "*", "Action": "SNS:Subscribe"})
        )));
        assert!(!allows(statement(
            json!({"Principal": "*", "Resource": "arn:aws:sns:us-east-1:000000000000:other"})
        )));
        assert!(!allows(statement(json!({"Principal": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}))));
        let mut both = statement(json!({"Principal": "*"}));
        both["Statement"].as_array_mut().unwrap().push(
            json!({"Effect": "Deny", "Principal": {"AWS": "123456789012"}, "Action": "sns:*"}),
        );
        assert!(!allows(both));
        assert!(!may_publish(
            Some("not json"),
            TOPIC,
            "000000000000",
            &from_a()
        ));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard(b"a*c?", b"abbbcd"));
        assert!(wildcard(b"*", b""));
        assert!(!wildcard(b"a?c", b"ac"));
    }
}
