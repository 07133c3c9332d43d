//! What a lease operation reports when it did not do what was asked: who holds the drain,
//! and why.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::classify::{Classified, State};
use crate::contract::{OWNER_TOKEN_BITS, field};
use crate::error::Error;
use crate::fsio::LockError;

/// Who holds a drain, as a refused begin or a lost lease reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Holder {
    /// The marker's `principal`, verbatim (`None`: it has none, or is contentless).
    pub principal: Option<Value>,
    /// The marker's `requested_at`, if it is a string.
    pub requested_at: Option<String>,
    /// Whether the drain is leased (its marker carries an `owner_token`).
    pub owned: bool,
    /// The drain state of the marker.
    pub state: State,
}

impl Holder {
    /// Who holds the drain `classified` judged.
    pub fn of(classified: &Classified) -> Holder {
        let body = classified.reading.body();
        let get = |name| body.and_then(|body| body.get(name));
        Holder {
            principal: get(field::PRINCIPAL).cloned(),
            requested_at: get(field::REQUESTED_AT)
                .and_then(Value::as_str)
                .map(str::to_owned),
            owned: classified.owner_token().is_some(),
            state: classified.state(),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.principal {
            Some(Value::String(principal)) => write!(f, "{:?}", principal)?,
            Some(other) => write!(f, "{other}")?,
            None if self.state != State::Absent && self.requested_at.is_none() => {
                write!(f, "an unknown writer")?
            }
            None => write!(f, "no principal")?,
        }
        if let Some(at) = &self.requested_at {
            write!(f, " since {at}")?;
        }
        let kind = if self.owned { "leased" } else { "not leased" };
        match self.state {
            State::Active | State::Suppressed => write!(f, " ({kind})"),
            other => write!(f, " ({kind}, {other})"),
        }
    }
}

/// Why a lease operation did not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum LeaseError {
    /// A begin found another drain active.
    Held(Holder),
    /// The marker no longer carries the lease's token: another writer replaced it
    /// (`Some`: who holds it now) or removed it (`None`), or a restart ended it.
    Lost(Option<Holder>),
    /// Another writer held the lock for the whole wait.
    Busy {
        /// The lock file.
        lock: PathBuf,
        /// How long this operation waited.
        waited: Duration,
    },
    /// Taking the lock, writing or removing the marker failed: [`Error::step`] says
    /// which (the old marker is intact unless the step says otherwise).
    Io(Error),
    /// A token that is not 32 lower-case hex digits, so no lease's.
    InvalidToken(String),
}

impl fmt::Display for LeaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseError::Held(holder) => write!(f, "a drain is already active: {holder}"),
            LeaseError::Lost(Some(holder)) => write!(f, "lease lost: the drain is now {holder}"),
            LeaseError::Lost(None) => write!(f, "lease lost: the marker was removed"),
            LeaseError::Busy { lock, waited } => write!(
                f,
                "busy: other writers kept {lock:?} locked for the whole {:.1} s wait",
                waited.as_secs_f64()
            ),
            LeaseError::Io(error) => error.fmt(f),
            LeaseError::InvalidToken(token) => write!(
                f,
                "{token:?} is not a lease token ({} lower-case hex digits)",
                OWNER_TOKEN_BITS / 4
            ),
        }
    }
}

impl std::error::Error for LeaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LeaseError::Io(error) => error.source(),
            _ => None,
        }
    }
}

impl From<Error> for LeaseError {
    fn from(error: Error) -> Self {
        LeaseError::Io(error)
    }
}

impl From<LockError> for LeaseError {
    fn from(error: LockError) -> Self {
        match error {
            LockError::Busy { path, waited } => LeaseError::Busy { lock: path, waited },
            LockError::Failed(error) => LeaseError::Io(error),
        }
    }
}
