//! Who wakes whom: writes name the topic they changed, and only the loops that watch that
//! topic run again.
//!
//! Every API write (and every controller pass that changes something another loop acts on)
//! calls [`crate::state::AppState::touched`] with the [`Topic`]s it changed. Each controller
//! subscribes once with the topics its pass reads ([`Wake::subscribe`]); a touch stores one
//! wake-up permit in each matching subscription (a `Notify::notify_one`), so a write made while
//! the loop is busy still makes it run once more afterwards, and many writes during one pass
//! make one extra pass, not many. kube-runtime's controller works the same way: a controller
//! watches the kinds it owns and the ones it reads, and a change to anything else never
//! reaches it.
//!
//! Counters (touches, wake-ups, passes) are kept so tests and measurements can say who ran and
//! why; they cost one relaxed atomic add each.

use std::ops::BitOr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use tokio::sync::Notify;

/// A part of the state a write can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// EC2: instances (their states, tags, monitoring), images, networks, templates.
    Ec2,
    /// Auto Scaling: groups, their instances, policies, scheduled actions, hooks, activities.
    AutoScaling,
    /// Classic load balancers and their registered instances.
    Elb,
    /// ELBv2: load balancers, listeners, rules, target groups and targets.
    Elbv2,
    /// CloudWatch: alarms and dashboards.
    CloudWatch,
    /// SNS: topics, subscriptions, queued deliveries.
    Sns,
    /// The clock was advanced or its speed changed (admin API): wakes every time-driven loop.
    Clock,
}

impl Topic {
    /// Every topic, in declaration order.
    pub const ALL: [Topic; 7] = [
        Topic::Ec2,
        Topic::AutoScaling,
        Topic::Elb,
        Topic::Elbv2,
        Topic::CloudWatch,
        Topic::Sns,
        Topic::Clock,
    ];

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of topics (`Topic::Ec2 | Topic::Clock`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Topics(u8);

impl Topics {
    /// No topic: a loop that only runs on its own schedule.
    pub const NONE: Topics = Topics(0);
    /// Every topic (reset, the console's change stream).
    pub const ALL: Topics = Topics(0b0111_1111);

    /// Whether `topic` is in the set.
    pub const fn contains(self, topic: Topic) -> bool {
        self.0 & topic.bit() != 0
    }

    /// Whether the two sets share a topic.
    pub const fn meets(self, other: Topics) -> bool {
        self.0 & other.0 != 0
    }
}

impl From<Topic> for Topics {
    fn from(topic: Topic) -> Self {
        Topics(topic.bit())
    }
}

impl<T: Into<Topics>> BitOr<T> for Topic {
    type Output = Topics;
    fn bitor(self, rhs: T) -> Topics {
        Topics(self.bit() | rhs.into().0)
    }
}

impl<T: Into<Topics>> BitOr<T> for Topics {
    type Output = Topics;
    fn bitor(self, rhs: T) -> Topics {
        Topics(self.0 | rhs.into().0)
    }
}

/// One loop's wake-up channel.
#[derive(Debug)]
pub struct Subscription {
    name: &'static str,
    topics: Topics,
    notify: Notify,
    wakeups: AtomicU64,
    passes: AtomicU64,
}

impl Subscription {
    /// Wait until a touch of one of the subscription's topics (returns at once when one came
    /// since the last wait).
    pub async fn woken(&self) {
        self.notify.notified().await;
    }

    /// Count one pass of the loop (the runner calls it).
    pub fn count_pass(&self) {
        self.passes.fetch_add(1, Ordering::Relaxed);
    }

    /// The loop's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// What one subscriber saw: its name, topics, the touches that reached it and its passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeStats {
    /// The loop's name.
    pub name: &'static str,
    /// The topics it watches.
    pub topics: Topics,
    /// Touches of its topics.
    pub wakeups: u64,
    /// Passes it ran (any cause: touches, its clock, retries).
    pub passes: u64,
}

/// The registry of subscriptions.
#[derive(Debug, Default)]
pub struct Wake {
    subscribers: RwLock<Vec<Weak<Subscription>>>,
    touches: AtomicU64,
}

impl Wake {
    /// Subscribe a loop to `topics`. Dropping the subscription unsubscribes.
    pub fn subscribe(&self, name: &'static str, topics: impl Into<Topics>) -> Arc<Subscription> {
        let sub = Arc::new(Subscription {
            name,
            topics: topics.into(),
            notify: Notify::new(),
            wakeups: AtomicU64::new(0),
            passes: AtomicU64::new(0),
        });
        let mut subscribers = self
            .subscribers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        subscribers.retain(|s| s.strong_count() > 0);
        subscribers.push(Arc::downgrade(&sub));
        sub
    }

    /// Wake every loop that watches one of `topics`.
    pub fn touched(&self, topics: impl Into<Topics>) {
        let topics = topics.into();
        self.touches.fetch_add(1, Ordering::Relaxed);
        let subscribers = self
            .subscribers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for sub in subscribers.iter().filter_map(Weak::upgrade) {
            if sub.topics.meets(topics) {
                sub.wakeups.fetch_add(1, Ordering::Relaxed);
                sub.notify.notify_one();
            }
        }
    }

    /// How many touches there were (before topics, each one woke every loop).
    pub fn touches(&self) -> u64 {
        self.touches.load(Ordering::Relaxed)
    }

    /// Each live subscriber's counters.
    pub fn stats(&self) -> Vec<WakeStats> {
        let subscribers = self
            .subscribers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        subscribers
            .iter()
            .filter_map(Weak::upgrade)
            .map(|s| WakeStats {
                name: s.name,
                topics: s.topics,
                wakeups: s.wakeups.load(Ordering::Relaxed),
                passes: s.passes.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// One subscriber's counters, by name.
    pub fn stats_of(&self, name: &str) -> Option<WakeStats> {
        self.stats().into_iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_sets() {
        let t = Topic::Ec2 | Topic::Clock;
        assert!(t.contains(Topic::Ec2) && t.contains(Topic::Clock));
        assert!(!t.contains(Topic::Sns));
        assert!(t.meets(Topic::Clock.into()));
        assert!(!t.meets(Topic::Sns | Topic::Elb));
        let all = Topic::ALL.into_iter().fold(Topics::NONE, |a, t| a | t);
        assert_eq!(all, Topics::ALL);
    }

    #[tokio::test]
    async fn a_touch_reaches_only_the_loops_that_watch_its_topic() {
        let wake = Wake::default();
        let asg = wake.subscribe("asg", Topic::AutoScaling | Topic::Ec2);
        let sns = wake.subscribe("sns", Topic::Sns);
        wake.touched(Topic::Sns);
        wake.touched(Topic::Sns);
        // Two touches while nobody waits leave one permit.
        tokio::time::timeout(std::time::Duration::from_millis(50), sns.woken())
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), asg.woken())
                .await
                .is_err()
        );
        wake.touched(Topic::Ec2 | Topic::Elb);
        asg.woken().await;
        assert_eq!(wake.touches(), 3);
        assert_eq!(wake.stats_of("asg").unwrap().wakeups, 1);
        assert_eq!(wake.stats_of("sns").unwrap().wakeups, 2);
        drop(sns);
        assert!(wake.stats_of("sns").is_none());
    }
}
