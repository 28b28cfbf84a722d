//! The state directory (`--state-dir`): load at start, write while serving, write at stop.
//!
//! One file, [`FILE_NAME`], holds the latest snapshot. A writer task looks every
//! [`LOOK_EVERY`] whether anything may have changed (the stores' and the key registry's
//! change counters, or a frozen clock moved) and, if so and the last write started at least
//! [`WRITE_GAP`] ago, captures (one scope copied at a time under the lock), encodes and writes
//! on a blocking thread: an acknowledged change is on disk within a second. Writes are atomic: a temporary file in the same directory is
//! written and fsynced, renamed over the old file, and the directory fsynced, so a crash at
//! any moment leaves either the old snapshot or the new one. A graceful stop always writes.
//!
//! A file that cannot be read (corrupt, or from a newer Updraft) stops the start with a
//! message naming it and the problem, and is left as it is: the writer never runs then.
//! `--reset-state` moves the old file aside (`…​.reset-<unix seconds>`) instead of deleting it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::format::{self, FormatError};
use super::{Body, Mode, capture, restore, wall_now};
use crate::config::ResumeClock;
use crate::state::AppState;

/// The snapshot's file name inside the state directory.
pub const FILE_NAME: &str = "updraft-state.bin";
/// How often the writer looks for changes.
pub const LOOK_EVERY: Duration = Duration::from_millis(100);
/// The least time between the starts of two writes: a change waits at most this plus one
/// look plus one write before it is on disk (well inside the second promised).
pub const WRITE_GAP: Duration = Duration::from_millis(500);

/// The snapshot file of a state directory.
pub fn file_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Why the state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file is there and cannot be read.
    #[error(
        "state file {path}: {problem}; it is left untouched (move it away or start with --reset-state)"
    )]
    Unreadable {
        /// The file.
        path: String,
        /// What is wrong.
        problem: FormatError,
    },
    /// The directory or file cannot be reached.
    #[error("state directory {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io_error(path: &Path, source: std::io::Error) -> OpenError {
    OpenError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Prepare the state directory at start: create it, move the old file aside on
/// `--reset-state`, and load the snapshot into `state` (following `--resume-clock`).
/// Without `--state-dir` nothing happens.
pub fn open(state: &AppState) -> Result<(), OpenError> {
    let Some(dir) = state.config.state_dir.clone() else {
        return Ok(());
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    remove_stale_temporaries(&dir);
    let path = file_in(&dir);
    if state.config.reset_state && path.exists() {
        let aside = path.with_extension(format!("bin.reset-{}", wall_now() as u64));
        std::fs::rename(&path, &aside).map_err(|e| io_error(&path, e))?;
        tracing::info!(moved_to = %aside.display(), "--reset-state: the old state file was moved aside; starting empty");
    }
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(state_dir = %dir.display(), "no saved state yet; starting empty");
            return Ok(());
        }
        Err(e) => return Err(io_error(&path, e)),
    };
    let started = Instant::now();
    let body = format::decode(&bytes).map_err(|problem| OpenError::Unreadable {
        path: path.display().to_string(),
        problem,
    })?;
    resume(state, body, bytes.len(), started);
    Ok(())
}

/// Remove the temporary files of writes a crash interrupted (never the snapshot itself).
fn remove_stale_temporaries(dir: &Path) {
    let prefix = format!(".{FILE_NAME}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix)
            && let Err(err) = std::fs::remove_file(entry.path())
        {
            tracing::warn!(file = %entry.path().display(), error = %err, "could not remove a stale temporary file");
        }
    }
}

/// Load `body` at start, setting the clock as `--resume-clock` says.
fn resume(state: &AppState, body: Body, size: usize, started: Instant) {
    let saved = body.clock;
    let down = (wall_now() - saved.wall).max(0.0);
    let scale = if state.config.time_scale_given {
        state.config.time_scale
    } else {
        saved.scale
    };
    let now = match state.config.resume_clock {
        ResumeClock::Frozen => saved.now,
        ResumeClock::Continue => saved.now + down * saved.scale,
    };
    let scopes = body.scopes.len();
    restore(state, body, Mode::Replace);
    state.clock.restart_at(now, scale);
    tracing::info!(
        scopes,
        bytes = size,
        load_ms = started.elapsed().as_secs_f64() * 1000.0,
        real_seconds_down = down,
        resume_clock = ?state.config.resume_clock,
        virtual_now = %state.clock.now_rfc3339(),
        scale,
        "state restored; real time moved {down:.1} s while the server was down"
    );
}

/// Write `bytes` as the directory's snapshot, atomically.
pub fn write_atomic(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{FILE_NAME}.tmp-{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, file_in(dir))?;
    // The rename is durable once the directory entry is.
    std::fs::File::open(dir)?.sync_all()
}

/// What the writer last saw.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    stores: u64,
    keys: u64,
    frozen_now: Option<f64>,
}

fn seen(state: &AppState) -> Seen {
    Seen {
        stores: state.stores.generation(),
        keys: state.keys.generation(),
        frozen_now: (state.clock.scale() == 0.0).then(|| state.clock.now()),
    }
}

/// Capture, encode and write one snapshot now (blocking; for the stop and for tests).
pub fn write_now(state: &AppState) -> std::io::Result<usize> {
    let Some(dir) = &state.config.state_dir else {
        return Ok(0);
    };
    let bytes = format::encode(&capture(state, None));
    write_atomic(dir, &bytes)?;
    Ok(bytes.len())
}

/// The running writer (see [`spawn_writer`]).
#[derive(Debug)]
pub struct Writer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Writer {
    /// Stop looking for changes (the final write is [`write_at_stop`]'s).
    pub fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if self.thread.join().is_err() {
            tracing::error!("the state writer panicked");
        }
    }
}

/// Start the writer: a snapshot whenever something changed, at most every [`WRITE_GAP`].
/// It runs on its own thread, not on the request workers: requests that keep the workers
/// busy (a burst of 2048-bit key generations) must not hold back the promised second.
pub fn spawn_writer(state: &Arc<AppState>) -> Option<Writer> {
    let dir = state.config.state_dir.clone()?;
    let state = state.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::Builder::new()
        .name("updraft-state-writer".into())
        .spawn(move || {
            let mut last = seen(&state);
            // What was written last: controllers touch the stores without always changing
            // them, and an unchanged snapshot is not written again.
            let mut last_digest: Option<[u8; 32]> = None;
            let mut last_write = Instant::now();
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(LOOK_EVERY);
                let now = seen(&state);
                if now == last || last_write.elapsed() < WRITE_GAP {
                    continue;
                }
                last = now;
                last_write = Instant::now();
                match write_if_changed(&state, &dir, last_digest) {
                    Ok(digest) => last_digest = Some(digest),
                    Err(err) => tracing::error!(error = %err, "could not write the state file"),
                }
            }
        })
        .ok()?;
    Some(Writer { stop, thread })
}

/// Capture and encode; write unless the bytes are those written last. Returns their digest.
fn write_if_changed(
    state: &AppState,
    dir: &Path,
    last: Option<[u8; 32]>,
) -> std::io::Result<[u8; 32]> {
    use sha2::Digest;
    let started = Instant::now();
    let mut body = capture(state, None);
    // The clock moves on its own; only a jump or a new scale counts as a change: what stays
    // put while it runs is virtual now minus the wall clock times the scale.
    let clock = body.clock;
    let offset = clock.now - clock.wall * clock.scale;
    body.clock = super::ClockState {
        now: (offset * 100.0).round() / 100.0,
        scale: clock.scale,
        wall: 0.0,
    };
    let digest: [u8; 32] = sha2::Sha256::digest(format::encode(&body)).into();
    if last != Some(digest) {
        body.clock = clock;
        let bytes = format::encode(&body);
        write_atomic(dir, &bytes)?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!(bytes = bytes.len(), ms, "state written");
    }
    Ok(digest)
}

/// The write at a graceful stop (after the controllers stopped).
pub fn write_at_stop(state: &AppState) {
    if state.config.state_dir.is_none() {
        return;
    }
    match write_now(state) {
        Ok(bytes) => tracing::info!(bytes, "state saved at stop"),
        Err(err) => tracing::error!(error = %err, "could not save the state at stop"),
    }
}
