//! [`HeldLease`]: a lease kept alive in the background and released at the end of its
//! scope.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::{Holder, Lease, LeaseError};

/// A lease kept alive by a background thread, released when dropped (also while
/// unwinding). The Rust form of Python's `with drain(...)` and Go's `Hold`.
#[derive(Debug)]
pub struct HeldLease {
    lease: Lease,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// `Some` once a keep-alive found the lease lost (with who holds the drain now).
    lost: Mutex<Option<Option<Holder>>>,
}

/// After a failed keep-alive that may pass (a busy lock, an I/O error), the next try
/// comes this soon rather than a whole period later.
const RETRY: Duration = Duration::from_secs(1);

impl HeldLease {
    pub(super) fn new(lease: Lease, every: Option<Duration>) -> HeldLease {
        let quarter = u64::try_from(lease.options.max_age_micros / 4).unwrap_or(0);
        let every = every
            .unwrap_or(Duration::from_micros(quarter))
            .max(Duration::from_millis(1));
        let shared = Arc::new(Shared::default());
        let thread = {
            let (lease, shared) = (lease.clone(), Arc::clone(&shared));
            thread::Builder::new()
                .name("drain-lease".into())
                .spawn(move || keep_alive_until_stopped(&lease, &shared, every))
                .ok()
        };
        HeldLease {
            lease,
            shared,
            thread,
        }
    }

    /// The lease held.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// `Some` once the lease was found lost: `Some(None)` when the marker was removed,
    /// `Some(Some(holder))` when another drain replaced it. The guard then stops
    /// keeping it alive, and its release removes nothing.
    pub fn lost(&self) -> Option<Option<Holder>> {
        self.shared
            .lost
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops keeping the drain alive and releases it; says whether the marker was
    /// removed (false: the lease was lost to another writer).
    pub fn release(mut self) -> Result<bool, LeaseError> {
        self.stop();
        self.lease.release()
    }

    fn stop(&mut self) {
        *self
            .shared
            .stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        if self.thread.is_none() {
            return; // released already
        }
        self.stop();
        if let Err(error) = self.lease.release() {
            log::warn!("drain lease {} not released: {error}", self.lease.token);
        }
    }
}

fn keep_alive_until_stopped(lease: &Lease, shared: &Shared, every: Duration) {
    let mut wait = every;
    loop {
        {
            let stopped = shared.stopped.lock().unwrap_or_else(|e| e.into_inner());
            let (stopped, _) = shared
                .wake
                .wait_timeout_while(stopped, wait, |stopped| !*stopped)
                .unwrap_or_else(|e| e.into_inner());
            if *stopped {
                return;
            }
        }
        wait = match lease.keep_alive() {
            Ok(_) => every,
            Err(LeaseError::Lost(holder)) => {
                log::warn!("drain lease {} lost; no longer kept alive", lease.token);
                *shared.lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(holder);
                return;
            }
            Err(error) => {
                log::warn!(
                    "drain lease {}: keep-alive failed, retrying: {error}",
                    lease.token
                );
                every.min(RETRY)
            }
        };
    }
}
