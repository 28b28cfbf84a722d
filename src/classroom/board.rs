//! The teacher board's data: `GET /_updraft/classroom/board` (one row per student: counts of
//! their resources across every region, and how long since their last API write) and
//! `GET /_updraft/classroom/peek?account=…` (one student's resources, read-only).
//!
//! Read straight from the stores in one pass under their lock, so a refresh of the whole room
//! costs one request, not four API calls per student.

use std::collections::HashMap;

use serde::Serialize;

use super::{Member, Roster};
use crate::services::ec2::store::InstanceState;
use crate::state::{AppState, RegionStores, Scope};

/// One student's row.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Row {
    /// `student01`…
    pub name: String,
    /// The 12-digit account id.
    pub account: String,
    /// Instances in `running`.
    pub instances_running: usize,
    /// Auto Scaling groups.
    pub groups: usize,
    /// Metric alarms in `ALARM`.
    pub alarms_in_alarm: usize,
    /// Classic and v2 load balancers.
    pub load_balancers: usize,
    /// Real seconds since the student's last API write (or since the server started).
    pub idle_seconds: u64,
    /// Whether the student ever wrote through the API.
    pub active: bool,
    /// Idle past `--stuck-minutes`.
    pub stuck: bool,
}

/// The whole board.
#[derive(Debug, Serialize)]
pub struct Board {
    /// `--stuck-minutes`.
    pub stuck_minutes: u32,
    /// Virtual time, epoch seconds.
    pub now: f64,
    /// One row per student, in roster order.
    pub students: Vec<Row>,
}

/// Add one region's resources to a row.
fn count(row: &mut Row, stores: &RegionStores) {
    row.instances_running += stores
        .ec2
        .instances
        .values()
        .filter(|i| i.state == InstanceState::Running)
        .count();
    row.groups += stores.autoscaling.groups.len();
    row.alarms_in_alarm += stores
        .cloudwatch
        .alarms
        .values()
        .filter(|a| a.core.state_value.as_str() == "ALARM")
        .count();
    row.load_balancers += stores.elb.load_balancers.len() + stores.elbv2.load_balancers.len();
}

/// A student's row before counting: stuck once idle for `stuck_after` seconds (0: never).
fn empty_row(m: &Member, (idle_seconds, active): (u64, bool), stuck_after: u64) -> Row {
    Row {
        name: m.name.clone(),
        account: m.account.clone(),
        idle_seconds,
        active,
        stuck: stuck_after > 0 && idle_seconds >= stuck_after,
        ..Row::default()
    }
}

/// The board for `roster`.
pub fn board(state: &AppState, roster: &Roster) -> Board {
    let stuck_after = u64::from(state.config.classroom.stuck_minutes) * 60;
    let mut rows: HashMap<&str, Row> = roster
        .students()
        .map(|m: &Member| {
            let idle = state.activity.idle_seconds(&m.account);
            (m.account.as_str(), empty_row(m, idle, stuck_after))
        })
        .collect();
    state.stores.for_each(|scope, stores| {
        if let Some(row) = rows.get_mut(scope.account.as_str()) {
            count(row, stores);
        }
    });
    let students = roster
        .students()
        .filter_map(|m| rows.remove(m.account.as_str()))
        .collect();
    Board {
        stuck_minutes: state.config.classroom.stuck_minutes,
        now: state.clock.now(),
        students,
    }
}

/// An instance, as the peek lists it.
#[derive(Debug, Serialize)]
pub struct PeekInstance {
    /// Region.
    pub region: String,
    /// `i-…`.
    pub id: String,
    /// `running`…
    pub state: &'static str,
    /// The `Name` tag.
    pub name: String,
}

/// A group, as the peek lists it.
#[derive(Debug, Serialize)]
pub struct PeekGroup {
    /// Region.
    pub region: String,
    /// Group name.
    pub name: String,
    /// Min size.
    pub min: i64,
    /// Max size.
    pub max: i64,
    /// Desired capacity.
    pub desired: i64,
    /// Instances in the group.
    pub instances: usize,
}

/// An alarm or a load balancer: region, name and state (alarm state, or the balancer's kind).
#[derive(Debug, Serialize)]
pub struct PeekNamed {
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// `ALARM`/`OK`/`INSUFFICIENT_DATA`, or `classic`/`application`/`network`.
    pub state: String,
}

/// One student's resources.
#[derive(Debug, Serialize)]
pub struct Peek {
    /// The account.
    pub account: String,
    /// Instances (terminated ones included while EC2 lists them).
    pub instances: Vec<PeekInstance>,
    /// Auto Scaling groups.
    pub groups: Vec<PeekGroup>,
    /// Metric alarms.
    pub alarms: Vec<PeekNamed>,
    /// Load balancers.
    pub load_balancers: Vec<PeekNamed>,
}

fn peek_region(peek: &mut Peek, scope: &Scope, s: &RegionStores) {
    let region = || scope.region.clone();
    peek.instances.extend(s.ec2.instances.values().map(|i| {
        PeekInstance {
            region: region(),
            id: i.id.clone(),
            state: i.state.name(),
            name: s
                .ec2
                .tags_of(&i.id)
                .get("Name")
                .cloned()
                .unwrap_or_default(),
        }
    }));
    peek.groups
        .extend(s.autoscaling.groups.values().map(|g| PeekGroup {
            region: region(),
            name: g.name.clone(),
            min: g.min_size,
            max: g.max_size,
            desired: g.desired_capacity,
            instances: g.instances.len(),
        }));
    peek.alarms
        .extend(s.cloudwatch.alarms.values().map(|a| PeekNamed {
            region: region(),
            name: a.core.alarm_name.clone(),
            state: a.core.state_value.as_str().to_owned(),
        }));
    let classic = s.elb.load_balancers.keys().map(|name| PeekNamed {
        region: region(),
        name: name.clone(),
        state: "classic".into(),
    });
    let v2 = s.elbv2.load_balancers.values().map(|lb| PeekNamed {
        region: region(),
        name: lb.name.clone(),
        state: lb.kind.clone(),
    });
    peek.load_balancers.extend(classic.chain(v2));
}

/// What `account` has, in every region.
pub fn peek(state: &AppState, account: &str) -> Peek {
    let mut peek = Peek {
        account: account.to_owned(),
        instances: Vec::new(),
        groups: Vec::new(),
        alarms: Vec::new(),
        load_balancers: Vec::new(),
    };
    state.stores.for_each(|scope, stores| {
        if scope.account == account {
            peek_region(&mut peek, scope, stores);
        }
    });
    peek
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_student_is_stuck_once_idle_past_the_limit() {
        let roster = Roster::generate(1);
        let m = roster.students().next().unwrap();
        assert!(!empty_row(m, (599, true), 600).stuck);
        assert!(empty_row(m, (600, true), 600).stuck);
        assert!(
            empty_row(m, (900, false), 600).stuck,
            "never started counts too"
        );
        assert!(!empty_row(m, (9_000, true), 0).stuck, "0 turns it off");
    }
}
