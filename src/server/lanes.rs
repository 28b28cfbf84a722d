//! Connection threads ("lanes"): each runs an event loop of its own (a current-thread tokio
//! runtime), and every accepted connection is served whole on one of them, with the back-end
//! connections its requests open. This is how nginx runs one worker per core.
//!
//! The main runtime's work-stealing scheduler costs a proxied request more than the request's
//! own work does: a wakeup lands on whichever worker polls the I/O driver, other workers are
//! woken to steal (a futex call every other request), and each worker reads the clock around
//! every batch of tasks for its tuning. On a lane, the readiness of a connection's sockets wakes
//! the thread that runs it, and nothing else.
//!
//! The accept loop stays on the main runtime (admission, the connection limit, graceful
//! shutdown) and hands each connection to the next lane in turn. Controllers stay on the main
//! runtime too. A task a request spawns (an engine call the admin API does not wait for) runs on
//! the request's lane, which lives as long as the server.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The threads' name (in `top -H`, `/proc/<pid>/task/*/comm`).
pub const THREAD_NAME: &str = "updraft-conn";

thread_local! {
    /// This thread's lane number, from 1; 0 on every other thread.
    static LANE: Cell<u32> = const { Cell::new(0) };
}

/// The lane the calling thread runs (from 1), or 0 off the lanes. What a lane keeps for its
/// connections alone (the back-end pool's idle connections, registered with the lane's own
/// event loop) is keyed by it.
pub fn current() -> u32 {
    LANE.with(Cell::get)
}

/// The default number of lanes: one per CPU but one, at least 1 and at most 8. An emulator
/// shares its machine with what it emulates and with what drives it (the instances, the
/// clients, the tests), and its own controllers: a lane that the kernel takes off its CPU holds
/// every connection on it until it runs again (on 2 CPUs with a client and a back end as busy,
/// two lanes added 1–4 ms to the p99 at 64 connections, one lane under 1 ms).
pub fn default_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() - 1).clamp(1, 8))
}

/// Running lanes; stopped on drop (a lane's runtime then drops the tasks still on it).
#[derive(Debug)]
pub struct Lanes {
    handles: Vec<Handle>,
    stops: Vec<oneshot::Sender<()>>,
    next: AtomicUsize,
}

impl Lanes {
    /// Start `count` lanes (none when 0: connections then stay on the accepting runtime).
    pub fn start(count: usize) -> std::io::Result<Self> {
        let mut lanes = Self {
            handles: Vec::with_capacity(count),
            stops: Vec::with_capacity(count),
            next: AtomicUsize::new(0),
        };
        for n in 1..=count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            lanes.handles.push(runtime.handle().clone());
            lanes.stops.push(stop);
            let number = u32::try_from(n).unwrap_or(u32::MAX);
            std::thread::Builder::new()
                .name(THREAD_NAME.into())
                .spawn(move || {
                    LANE.with(|l| l.set(number));
                    // Runs the lane's tasks until told to stop (or the sender is gone).
                    let _ = runtime.block_on(stopped);
                })?;
        }
        Ok(lanes)
    }

    /// Where the next connection runs: the next lane in turn, or the calling runtime when
    /// there are no lanes. Must be called within a runtime.
    pub fn next(&self) -> Handle {
        if self.handles.is_empty() {
            return Handle::current();
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.handles[n % self.handles.len()].clone()
    }
}

impl Drop for Lanes {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_go_to_the_lanes_in_turn_and_know_their_lane() {
        let lanes = Lanes::start(2).unwrap();
        let seen: Vec<u32> = (0..4)
            .map(|_| {
                let handle = lanes.next();
                let (tx, rx) = std::sync::mpsc::channel();
                handle.spawn(async move { tx.send(current()).unwrap() });
                rx.recv().unwrap()
            })
            .collect();
        assert_eq!(seen, [1, 2, 1, 2]);
        assert_eq!(current(), 0, "the test thread is no lane");
    }

    #[test]
    fn without_lanes_connections_stay_on_the_calling_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let lanes = Lanes::start(0).unwrap();
        let handle = runtime.block_on(async { lanes.next() });
        assert_eq!(handle.id(), runtime.handle().id());
    }

    #[test]
    fn a_dropped_lane_set_stops_its_tasks() {
        let lanes = Lanes::start(1).unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        lanes.next().spawn(async move {
            let _held = tx;
            std::future::pending::<()>().await;
        });
        drop(lanes);
        // The task (and the sender it holds) is dropped with the lane's runtime.
        assert!(rx.recv_timeout(std::time::Duration::from_secs(5)).is_err());
        assert_eq!(
            rx.try_recv(),
            Err(std::sync::mpsc::TryRecvError::Disconnected)
        );
    }
}
