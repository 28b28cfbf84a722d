//! The one clock: every timestamp and every period in Updraft comes from here.
//!
//! Virtual time runs at `scale` virtual seconds per real second from a base point. Scale 0
//! freezes it (manual time, advanced through the admin API); any change wakes the sleepers so
//! that controllers notice at once. Real elapsed time is read from `tokio::time::Instant`, so
//! tests on paused tokio time control the clock completely.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
struct Base {
    virtual_epoch: f64,
    real: Instant,
    scale: f64,
}

/// Virtual time with a scale factor and manual advance.
#[derive(Debug)]
pub struct Clock {
    base: Mutex<Base>,
    changed: watch::Sender<u64>,
}

impl Clock {
    /// A clock starting at the wall-clock time now.
    pub fn new(scale: f64) -> Self {
        // The only place that reads the wall clock: the starting point of virtual time.
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        Self::starting_at(start, scale)
    }

    /// A clock starting at `epoch_seconds` (tests use fixed starting points).
    pub fn starting_at(epoch_seconds: f64, scale: f64) -> Self {
        let (changed, _) = watch::channel(0);
        Self {
            base: Mutex::new(Base {
                virtual_epoch: epoch_seconds,
                real: Instant::now(),
                scale,
            }),
            changed,
        }
    }

    fn base(&self) -> std::sync::MutexGuard<'_, Base> {
        // A poisoned lock only means a panic elsewhere while holding plain data; keep going.
        self.base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(base: &Base) -> f64 {
        base.virtual_epoch + base.real.elapsed().as_secs_f64() * base.scale
    }

    /// Virtual now, in epoch seconds.
    pub fn now(&self) -> f64 {
        Self::read(&self.base())
    }

    /// Virtual now as an RFC 3339 string with milliseconds.
    pub fn now_rfc3339(&self) -> String {
        crate::protocol::timestamp::format_iso8601(self.now())
    }

    /// Virtual seconds per real second.
    pub fn scale(&self) -> f64 {
        self.base().scale
    }

    /// Set virtual now and the scale outright, backwards too: only for a restart that resumes
    /// a saved clock (`--resume-clock frozen` goes back to the saved time).
    pub fn restart_at(&self, epoch_seconds: f64, scale: f64) {
        if epoch_seconds.is_finite() && scale.is_finite() && scale >= 0.0 {
            *self.base() = Base {
                virtual_epoch: epoch_seconds,
                real: Instant::now(),
                scale,
            };
            self.notify();
        }
    }

    /// Move virtual time forward by `seconds` (negative values are ignored: time never runs back).
    pub fn advance(&self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            self.base().virtual_epoch += seconds;
            self.notify();
        }
    }

    /// Change the scale from now on.
    pub fn set_scale(&self, scale: f64) {
        if scale.is_finite() && scale >= 0.0 {
            let mut base = self.base();
            let now = Self::read(&base);
            *base = Base {
                virtual_epoch: now,
                real: Instant::now(),
                scale,
            };
            drop(base);
            self.notify();
        }
    }

    fn notify(&self) {
        self.changed
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Sleep until virtual time reaches `target` (epoch seconds), following scale changes and
    /// manual advances as they happen.
    pub async fn sleep_until(&self, target: f64) {
        let mut changes = self.changed.subscribe();
        loop {
            let (now, scale) = {
                let base = self.base();
                (Self::read(&base), base.scale)
            };
            if now >= target {
                return;
            }
            if scale > 0.0 {
                let real = Duration::from_secs_f64(((target - now) / scale).min(86_400.0));
                tokio::select! {
                    () = tokio::time::sleep(real) => {}
                    r = changes.changed() => if r.is_err() { return },
                }
            } else if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Sleep for `seconds` of virtual time.
    pub async fn sleep(&self, seconds: f64) {
        let target = self.now() + seconds;
        self.sleep_until(target).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn scaled_time_runs_faster_than_real_time() {
        let clock = Clock::starting_at(1_000.0, 60.0);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!((clock.now() - 1_300.0).abs() < 1e-6);
    }

    #[tokio::test(start_paused = true)]
    async fn frozen_clock_moves_only_when_advanced_and_wakes_sleepers() {
        let clock = std::sync::Arc::new(Clock::starting_at(0.0, 0.0));
        tokio::time::advance(Duration::from_secs(100)).await;
        assert_eq!(clock.now(), 0.0);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(60.0).await }
        });
        tokio::task::yield_now().await;
        clock.advance(30.0);
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(30.0);
        sleeper.await.unwrap();
        assert_eq!(clock.now(), 60.0);
        clock.advance(-10.0);
        assert_eq!(clock.now(), 60.0);
    }

    #[tokio::test(start_paused = true)]
    async fn rescaling_keeps_now_continuous() {
        let clock = Clock::starting_at(0.0, 1.0);
        tokio::time::advance(Duration::from_secs(10)).await;
        clock.set_scale(10.0);
        assert!((clock.now() - 10.0).abs() < 1e-6);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!((clock.now() - 20.0).abs() < 1e-6);
    }
}
