//! Who wakes whom, on a real server driven by the aws CLI: each controller runs again for the
//! writes that touch what it watches, so a burst of SNS publishing leaves the Auto Scaling
//! loops asleep while the delivery loop still delivers every message. Prints the counts
//! (`--nocapture`): touches, and each loop's wake-ups and passes.

use std::collections::BTreeMap;
use std::time::Duration;

use updraft::state::AppState;
use updraft::state::wake::WakeStats;

use crate::autoscaling::{Asg, count_in_service};

fn snapshot(state: &AppState) -> BTreeMap<&'static str, WakeStats> {
    state
        .wake
        .stats()
        .into_iter()
        .map(|s| (s.name, s))
        .collect()
}

/// The counts between two snapshots.
fn print(
    label: &str,
    touches: u64,
    from: &BTreeMap<&'static str, WakeStats>,
    to: &BTreeMap<&'static str, WakeStats>,
) {
    let woken: u64 = to
        .values()
        .map(|s| s.wakeups - from.get(s.name).map_or(0, |f| f.wakeups))
        .sum();
    eprintln!(
        "{label}: {touches} touches woke loops {woken} times; one shared Notify for all {} loops: {}",
        to.len(),
        touches * to.len() as u64
    );
    for s in to.values() {
        let (w, p) = from.get(s.name).map_or((0, 0), |f| (f.wakeups, f.passes));
        eprintln!(
            "  {:<20} wake-ups {:>5}  passes {:>5}",
            s.name,
            s.wakeups - w,
            s.passes - p
        );
    }
}

fn inbox_len(t: &Asg) -> usize {
    let r = t.server.http("GET", "/_updraft/sns/inbox", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().as_array().map_or(0, Vec::len)
}

#[test]
fn an_sns_burst_leaves_the_auto_scaling_loops_asleep() {
    let t = Asg::start();
    let state = &t.server.state;
    let topic = t.cli(&["sns", "create-topic", "--name", "scaling-news"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    t.cli(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic,
        "--protocol",
        "email",
        "--notification-endpoint",
        "ops@example.com",
    ]);
    t.group("wake-web", 1, 3, 1);
    t.run_until(120, |s| count_in_service(s, "wake-web") == 1);
    t.run_for(60);
    let settled = snapshot(state);
    let touches_settled = state.wake.touches();
    print(
        "until the group is in service (API writes and clock steps)",
        touches_settled,
        &BTreeMap::new(),
        &settled,
    );
    let inbox_before = inbox_len(&t);

    for n in 0..10 {
        t.cli(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--message",
            &format!("note {n}"),
        ]);
    }
    let mut delivered = inbox_before;
    for _ in 0..100 {
        delivered = inbox_len(&t);
        if delivered == inbox_before + 10 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(delivered, inbox_before + 10, "every message delivered");
    let burst = snapshot(state);
    let touches_burst = state.wake.touches() - touches_settled;
    print("10 SNS publishes", touches_burst, &settled, &burst);
    assert!(touches_burst >= 10, "each publish touched SNS");
    for name in [
        "asg_reconciler",
        "asg-scheduler",
        "asg-metrics",
        "ec2-metrics",
    ] {
        assert_eq!(
            burst[name].wakeups, settled[name].wakeups,
            "{name} was woken by SNS writes"
        );
    }
    assert!(burst["sns_delivery"].wakeups >= settled["sns_delivery"].wakeups + 10);
}
