//! Composite alarms (CloudWatch User Guide, "Create a composite alarm"; CloudWatch API
//! Reference, PutCompositeAlarm): the AlarmRule grammar, PutCompositeAlarm, and the
//! re-evaluation the evaluator runs whenever a child's state changes.

use serde::{Deserialize, Serialize};

use super::CloudWatchStore;
use super::actions::AlarmNotice;
use super::alarms::{AlarmCore, AlarmSettings};
use super::anomaly::Empty;
pub use super::composite_data::config_item;
use super::composite_data::triggering_data;
use super::evaluate::StateValue;
use super::format::long_date;
use super::put_alarm::check_actions;
use super::tags::Tag;
use super::{alarm_arn, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, Topic};

/// A parsed AlarmRule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Rule {
    /// TRUE / FALSE.
    Const(bool),
    /// ALARM(x) / OK(x) / INSUFFICIENT_DATA(x).
    State(StateValue, String),
    /// NOT.
    Not(Box<Rule>),
    /// AND.
    And(Box<Rule>, Box<Rule>),
    /// OR.
    Or(Box<Rule>, Box<Rule>),
}

struct RuleParser<'a> {
    src: &'a [u8],
    pos: usize,
}

impl RuleParser<'_> {
    fn err(&self) -> String {
        let tok = self
            .src
            .get(self.pos)
            .map_or("end of rule".to_owned(), |c| format!("'{}'", *c as char));
        format!(
            "Error in AlarmRule [Unsupported token {tok} at char {}]",
            self.pos + 1
        )
    }

    fn skip_ws(&mut self) {
        while self.src.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> String {
        self.skip_ws();
        let s = self.pos;
        while self
            .src
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.src[s..self.pos]).into_owned()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ws();
        if self.src.get(self.pos) == Some(&c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn or(&mut self) -> Result<Rule, String> {
        let mut lhs = self.and()?;
        loop {
            let save = self.pos;
            if self.word() == "OR" {
                lhs = Rule::Or(Box::new(lhs), Box::new(self.and()?));
            } else {
                self.pos = save;
                return Ok(lhs);
            }
        }
    }

    fn and(&mut self) -> Result<Rule, String> {
        let mut lhs = self.term()?;
        loop {
            let save = self.pos;
            if self.word() == "AND" {
                lhs = Rule::And(Box::new(lhs), Box::new(self.term()?));
            } else {
                self.pos = save;
                return Ok(lhs);
            }
        }
    }

    fn term(&mut self) -> Result<Rule, String> {
        self.skip_ws();
        if self.src.get(self.pos) == Some(&b'(') {
            self.pos += 1;
            let r = self.or()?;
            self.expect(b')')?;
            return Ok(r);
        }
        let start = self.pos;
        let w = self.word();
        let state = match w.as_str() {
            "TRUE" => return Ok(Rule::Const(true)),
            "FALSE" => return Ok(Rule::Const(false)),
            "NOT" => return Ok(Rule::Not(Box::new(self.term()?))),
            "ALARM" => StateValue::Alarm,
            "OK" => StateValue::Ok,
            "INSUFFICIENT_DATA" => StateValue::InsufficientData,
            _ => {
                self.pos = start;
                return Err(self.err());
            }
        };
        self.expect(b'(')?;
        self.skip_ws();
        let name = if self.src.get(self.pos) == Some(&b'"') {
            self.pos += 1;
            let s = self.pos;
            while self.src.get(self.pos).is_some_and(|c| *c != b'"') {
                self.pos += 1;
            }
            let n = String::from_utf8_lossy(&self.src[s..self.pos]).into_owned();
            self.expect(b'"')?;
            n
        } else {
            let s = self.pos;
            while self.src.get(self.pos).is_some_and(|c| *c != b')') {
                self.pos += 1;
            }
            String::from_utf8_lossy(&self.src[s..self.pos])
                .trim()
                .to_owned()
        };
        self.expect(b')')?;
        if name.is_empty() {
            return Err(self.err());
        }
        let name = name
            .rsplit_once(":alarm:")
            .map_or(name.clone(), |(_, n)| n.to_owned());
        Ok(Rule::State(state, name))
    }
}

/// Parse an AlarmRule; errors carry AWS's `Error in AlarmRule [...]` text.
pub fn parse_rule(src: &str) -> Result<Rule, String> {
    let mut p = RuleParser {
        src: src.as_bytes(),
        pos: 0,
    };
    let r = p.or()?;
    p.skip_ws();
    if p.pos < src.len() {
        return Err(p.err());
    }
    Ok(r)
}

impl Rule {
    fn children(&self, out: &mut Vec<String>) {
        match self {
            Rule::Const(_) => {}
            Rule::State(_, n) => {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
            Rule::Not(a) => a.children(out),
            Rule::And(a, b) | Rule::Or(a, b) => {
                a.children(out);
                b.children(out);
            }
        }
    }

    /// Evaluate with a lookup of child states.
    pub fn eval(&self, state_of: &dyn Fn(&str) -> Option<StateValue>) -> bool {
        match self {
            Rule::Const(b) => *b,
            Rule::State(s, n) => state_of(n) == Some(*s),
            Rule::Not(a) => !a.eval(state_of),
            Rule::And(a, b) => a.eval(state_of) && b.eval(state_of),
            Rule::Or(a, b) => a.eval(state_of) || b.eval(state_of),
        }
    }
}

/// A composite alarm as stored; serializes as the `CompositeAlarm` shape.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompositeAlarm {
    /// The shared fields.
    #[serde(flatten)]
    pub core: AlarmCore,
    /// AlarmRule.
    pub alarm_rule: String,
    /// ActionsSuppressor (applied by [`super::suppression::gate`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor: Option<String>,
    /// ActionsSuppressorWaitPeriod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_wait_period: Option<i64>,
    /// ActionsSuppressorExtensionPeriod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_extension_period: Option<i64>,
    /// The parsed rule.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub rule: Option<Rule>,
    /// Tags.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub tags: Vec<Tag>,
    /// Children's states at the last evaluation (`None`: evaluate now). A composite is
    /// re-evaluated only when these change, so a SetAlarmState holds until a child changes.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub last_inputs: Option<Vec<Option<StateValue>>>,
    /// ActionsSuppressedBy: `WaitPeriod`, `ExtensionPeriod` or `Alarm` while suppressing.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "crate::state::persist::fields::opt_static_str"
    )]
    pub actions_suppressed_by: Option<crate::state::persist::fields::StaticStr>,
    /// ActionsSuppressedReason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressed_reason: Option<String>,
    /// The suppressor was in ALARM at the last evaluation.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub suppressor_was_alarm: bool,
    /// End of the current WaitPeriod.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub wait_until: Option<f64>,
    /// End of the current ExtensionPeriod.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub extension_until: Option<f64>,
    /// Actions held by a WaitPeriod or ExtensionPeriod.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub pending: Option<super::suppression::Fired>,
}

impl CompositeAlarm {
    /// The alarm names the rule refers to.
    pub fn children(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(r) = &self.rule {
            r.children(&mut out);
        }
        out
    }
}

/// `PutCompositeAlarmInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutCompositeAlarmInput {
    actions_enabled: Option<bool>,
    alarm_actions: Option<Vec<String>>,
    alarm_description: Option<String>,
    alarm_name: String,
    alarm_rule: String,
    insufficient_data_actions: Option<Vec<String>>,
    #[serde(rename = "OKActions")]
    ok_actions: Option<Vec<String>>,
    tags: Option<Vec<Tag>>,
    actions_suppressor: Option<String>,
    actions_suppressor_wait_period: Option<i64>,
    actions_suppressor_extension_period: Option<i64>,
}

/// PutCompositeAlarm: create or replace; evaluated at once (and then on every child change).
pub fn put_composite_alarm(
    ctx: &RequestContext,
    state: &AppState,
    req: PutCompositeAlarmInput,
) -> Result<Empty, ApiError> {
    if req.alarm_name.is_empty() || req.alarm_name.chars().count() > 255 {
        return Err(validation(
            "1 validation error detected: Value at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255",
        ));
    }
    if req.alarm_rule.chars().count() > 10_240 {
        return Err(validation(
            "1 validation error detected: Value at 'alarmRule' failed to satisfy constraint: Member must have length less than or equal to 10240",
        ));
    }
    let rule = parse_rule(&req.alarm_rule).map_err(validation)?;
    check_actions(
        [
            ("oKActions", &req.ok_actions),
            ("alarmActions", &req.alarm_actions),
            ("insufficientDataActions", &req.insufficient_data_actions),
        ],
        &ctx.scope,
        true,
    )?;
    if req.actions_suppressor.is_some()
        && (req.actions_suppressor_wait_period.is_none()
            || req.actions_suppressor_extension_period.is_none())
    {
        // UNVERIFIED wording.
        return Err(validation(
            "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when ActionsSuppressor is specified.",
        ));
    }
    let now = state.clock.now();
    let arn = alarm_arn(&ctx.scope, &req.alarm_name);
    state.stores.with(&ctx.scope, |s| {
        let cw = &mut s.cloudwatch;
        let mut children = Vec::new();
        rule.children(&mut children);
        let missing: Vec<&String> = children
            .iter()
            .filter(|c| !cw.alarms.contains_key(*c) && !cw.composites.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            // UNVERIFIED exact wording (awsdocs cfn-guide#911 paraphrase).
            return Err(validation(format!(
                "Could not save the composite alarm as alarms [{}] in the alarm rule do not exist",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if cw.alarms.contains_key(&req.alarm_name) {
            return Err(super::invalid_value(format!(
                "The alarm name {} is already used by a metric alarm.",
                req.alarm_name
            )));
        }
        let old = cw.composites.get(&req.alarm_name);
        let settings = AlarmSettings {
            name: &req.alarm_name,
            arn,
            description: req.alarm_description.as_ref(),
            actions_enabled: req.actions_enabled,
            ok_actions: req.ok_actions.as_ref(),
            alarm_actions: req.alarm_actions.as_ref(),
            insufficient_data_actions: req.insufficient_data_actions.as_ref(),
        };
        let core = AlarmCore::put(settings, old.map(|o| &o.core), now);
        let alarm = CompositeAlarm {
            core,
            alarm_rule: req.alarm_rule.clone(),
            actions_suppressor: req.actions_suppressor.clone(),
            actions_suppressor_wait_period: req.actions_suppressor_wait_period,
            actions_suppressor_extension_period: req.actions_suppressor_extension_period,
            rule: Some(rule),
            tags: match old {
                Some(o) => o.tags.clone(),
                None => req.tags.clone().unwrap_or_default(),
            },
            last_inputs: None,
            // Replacing the alarm (or its suppressor) drops active periods.
            actions_suppressed_by: None,
            actions_suppressed_reason: None,
            suppressor_was_alarm: false,
            wait_until: None,
            extension_until: None,
            pending: None,
        };
        let kind = if old.is_some() { "Update" } else { "Create" };
        cw.history.push(config_item(kind, &alarm, now));
        cw.composites.insert(req.alarm_name.clone(), alarm);
        Ok(())
    })?;
    state.touched(Topic::CloudWatch);
    Ok(Empty {})
}

/// Re-evaluate composites whose children changed (or that are new or updated), until stable
/// (composites can nest). Returns the actions to dispatch.
pub fn evaluate_composites(cw: &mut CloudWatchStore, now: f64) -> Vec<(AlarmNotice, Vec<String>)> {
    let mut out = Vec::new();
    let mut fired: Vec<(String, super::suppression::Fired)> = Vec::new();
    for _round in 0..8 {
        let mut changed = false;
        let names: Vec<String> = cw.composites.keys().cloned().collect();
        for name in names {
            let Some(c) = cw.composites.get(&name) else {
                continue;
            };
            let children = c.children();
            let state_of = |n: &str| {
                cw.alarms
                    .get(n)
                    .map(|a| a.core.state_value)
                    .or_else(|| cw.composites.get(n).map(|c| c.core.state_value))
            };
            let inputs: Vec<Option<StateValue>> = children.iter().map(|n| state_of(n)).collect();
            if c.last_inputs.as_ref() == Some(&inputs) {
                continue;
            }
            let fires = c.rule.as_ref().is_some_and(|r| r.eval(&state_of));
            let new = if fires {
                StateValue::Alarm
            } else {
                StateValue::Ok
            };
            // The trigger: the child that transitioned last, preferring children in the new
            // state (ties go to the first child of the rule).
            let cores: Vec<&AlarmCore> = children
                .iter()
                .filter_map(|n| {
                    cw.alarms
                        .get(n)
                        .map(|a| &a.core)
                        .or_else(|| cw.composites.get(n).map(|c| &c.core))
                })
                .collect();
            let latest = |want: Option<StateValue>| {
                cores
                    .iter()
                    .filter(|c| want.is_none_or(|w| c.state_value == w))
                    .fold(None::<&&AlarmCore>, |best, c| match best {
                        Some(b)
                            if b.state_transitioned_timestamp >= c.state_transitioned_timestamp =>
                        {
                            Some(b)
                        }
                        _ => Some(c),
                    })
            };
            let trigger = latest(Some(new)).or_else(|| latest(None)).map(|t| {
                (
                    t.alarm_arn.clone(),
                    t.state_value,
                    t.state_transitioned_timestamp,
                )
            });
            let (reason, data) = match trigger {
                Some((arn, st, at)) => (
                    format!("{arn} transitioned to {} at {}", st.as_str(), long_date(at)),
                    Some(triggering_data(&arn, st, at)),
                ),
                None => ("The alarm rule is constant".to_owned(), None),
            };
            let Some(c) = cw.composites.get_mut(&name) else {
                continue;
            };
            c.last_inputs = Some(inputs);
            changed |= c.core.state_value != new;
            if let Some((mut notice, actions)) =
                c.core
                    .transition("CompositeAlarm", &mut cw.history, new, reason, data, now)
            {
                notice.alarm_type = "CompositeAlarm";
                fired.push((name.clone(), (notice, actions)));
            }
        }
        if !changed {
            break;
        }
    }
    // Suppression (and its timers) on every evaluation, not only on changes.
    let names: Vec<String> = cw.composites.keys().cloned().collect();
    for name in names {
        let suppressor = cw
            .composites
            .get(&name)
            .and_then(|c| c.actions_suppressor.as_deref())
            .map(|s| s.rsplit_once(":alarm:").map_or(s, |(_, n)| n).to_owned())
            .and_then(|s| {
                cw.alarms
                    .get(&s)
                    .map(|a| a.core.state_value)
                    .or_else(|| cw.composites.get(&s).map(|c| c.core.state_value))
            });
        let mine: Vec<super::suppression::Fired> = fired
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, f)| f.clone())
            .collect();
        let Some(c) = cw.composites.get_mut(&name) else {
            continue;
        };
        if mine.is_empty() {
            out.extend(super::suppression::gate(c, suppressor, None, now));
        }
        for f in mine {
            out.extend(super::suppression::gate(c, suppressor, Some(f), now));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_evaluate() {
        let r = parse_rule("ALARM(a) OR (ALARM(\"b\") AND NOT OK(arn:aws:cloudwatch:us-east-1:123456789012:alarm:c))").unwrap();
        let mut kids = Vec::new();
        r.children(&mut kids);
        assert_eq!(kids, ["a", "b", "c"]);
        let states = |a, b, c| {
            move |n: &str| {
                Some(match n {
                    "a" => a,
                    "b" => b,
                    _ => c,
                })
            }
        };
        use StateValue::*;
        assert!(r.eval(&states(Alarm, Ok, Ok)));
        assert!(r.eval(&states(Ok, Alarm, InsufficientData)));
        assert!(!r.eval(&states(Ok, Alarm, Ok)));
        assert!(parse_rule("TRUE").unwrap().eval(&|_| None));
        assert_eq!(
            parse_rule(")").unwrap_err(),
            "Error in AlarmRule [Unsupported token ')' at char 1]"
        );
        assert!(parse_rule("ALARM(a) XOR ALARM(b)").is_err());
        assert!(parse_rule("ALARM()").is_err());
    }
}
