//! Helpers for the Auto Scaling tests (`autoscaling_core.rs`, `autoscaling_chapter.rs`): a
//! frozen-clock server driven by the pinned aws CLI, with clock stepping that gives the
//! controllers real time, and read access to the store for waiting. The Rust SDK's tests
//! include this file by path, so it needs nothing but `common`; the boto3 helpers are in
//! `autoscaling_boto3.rs`.

use std::time::Duration;

use serde_json::{Value, json};
use updraft::Config;
use updraft::services::autoscaling::store::LifecycleState;
use updraft::state::{RegionStores, Scope};

use crate::common::TestServer;

/// A frozen-clock server with helpers for driving Auto Scaling.
pub struct Asg {
    pub server: TestServer,
}

/// In-service members of a group.
pub fn count_in_service(s: &RegionStores, group: &str) -> usize {
    s.autoscaling.groups.get(group).map_or(0, |g| {
        g.instances
            .values()
            .filter(|i| i.lifecycle_state == LifecycleState::InService)
            .count()
    })
}

/// A group's desired capacity, read through the CLI.
pub fn desired(t: &Asg, group: &str) -> i64 {
    let g = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        group,
    ]);
    g["AutoScalingGroups"][0]["DesiredCapacity"]
        .as_i64()
        .unwrap()
}

impl Asg {
    pub fn start() -> Self {
        Self {
            server: TestServer::with_config(Config {
                time_scale: 0.0,
                sns_auto_confirm: true,
                ..Default::default()
            }),
        }
    }

    pub fn scope() -> Scope {
        Scope::new("000000000000", "us-east-1")
    }

    /// Run the CLI; its JSON output (panics on failure).
    pub fn cli(&self, args: &[&str]) -> Value {
        self.server.aws(args).json()
    }

    /// Run the CLI expecting an error: (code, message).
    pub fn cli_err(&self, args: &[&str]) -> (String, String) {
        let r = self.server.aws(args);
        let code = r.error_code();
        let msg = r.stderr.split("): ").nth(1).unwrap_or("").trim().to_owned();
        (code, msg)
    }

    /// An Amazon Linux image id.
    pub fn ami(&self) -> String {
        let imgs = self.cli(&[
            "ec2",
            "describe-images",
            "--owners",
            "amazon",
            "--filters",
            "Name=name,Values=al2023-ami-*",
        ]);
        imgs["Images"][0]["ImageId"].as_str().unwrap().to_owned()
    }

    /// The default subnets, one per zone, in zone order.
    pub fn default_subnets(&self) -> Vec<String> {
        let s = self.cli(&[
            "ec2",
            "describe-subnets",
            "--filters",
            "Name=default-for-az,Values=true",
        ]);
        let mut v: Vec<(String, String)> = s["Subnets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["AvailabilityZone"].as_str().unwrap().to_owned(),
                    x["SubnetId"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v.into_iter().take(2).map(|(_, id)| id).collect()
    }

    /// Virtual now.
    pub fn now(&self) -> f64 {
        self.server.state.clock.now()
    }

    /// Advance the clock in 5-second steps, giving the controllers real time after each.
    fn step(&self) {
        let r = self.server.http(
            "POST",
            "/_updraft/clock",
            &[("Content-Type", "application/json")],
            json!({"advance_seconds": 5}).to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(12));
    }

    /// Run the clock for `secs` virtual seconds.
    pub fn run_for(&self, secs: u32) {
        for _ in 0..secs / 5 {
            self.step();
        }
    }

    /// Run the clock until `pred` holds on the store (at most `max` virtual seconds);
    /// returns the virtual time it first held.
    pub fn run_until(&self, max: u32, pred: impl Fn(&RegionStores) -> bool) -> f64 {
        for _ in 0..=max / 5 {
            for _ in 0..5 {
                if self.server.state.stores.with(&Self::scope(), |s| pred(s)) {
                    return self.now();
                }
                std::thread::sleep(Duration::from_millis(4));
            }
            self.step();
        }
        let dump = self
            .server
            .state
            .stores
            .with(&Self::scope(), |s| format!("{:#?}", s.autoscaling.groups));
        panic!("condition not reached within {max} virtual seconds: {dump}");
    }

    /// Look at the store.
    pub fn state_check(&self, f: impl FnOnce(&RegionStores)) {
        self.server.state.stores.with(&Self::scope(), |s| f(s));
    }

    /// Stress an instance's CPU through the admin API.
    pub fn stress(&self, id: &str, pct: f64) {
        let r = self.server.http(
            "POST",
            &format!("/_updraft/instances/{id}/stress"),
            &[("Content-Type", "application/json")],
            json!({"cpu_percent": pct}).to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// A group's activities through the CLI, newest first.
    pub fn activities(&self, group: &str) -> Vec<Value> {
        let a = self.cli(&[
            "autoscaling",
            "describe-scaling-activities",
            "--auto-scaling-group-name",
            group,
        ]);
        a["Activities"].as_array().unwrap().clone()
    }

    /// A launch configuration and a group of `desired` in two zones.
    pub fn group(&self, name: &str, min: i64, max: i64, desired: i64) {
        let ami = self.ami();
        let lc = format!("{name}-lc");
        self.cli(&[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            &lc,
            "--image-id",
            &ami,
            "--instance-type",
            "t3.micro",
        ]);
        self.cli(&[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            name,
            "--launch-configuration-name",
            &lc,
            "--min-size",
            &min.to_string(),
            "--max-size",
            &max.to_string(),
            "--desired-capacity",
            &desired.to_string(),
            "--availability-zones",
            "us-east-1a",
            "us-east-1b",
        ]);
    }
}
