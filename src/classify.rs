//! The rules: what a marker means, given the current epoch and a clock reading.
//!
//! Every answer to "is this gateway draining?" in every binding, and every derived
//! answer (which state, when it expires), is decided here, by [`classify`] or
//! [`judge`]; callers read the result and re-derive nothing. Pure: no I/O, no clock.

use crate::contract::{MAX_AGE_MICROS, field};
use crate::fields::FieldRef;
use crate::marker::Reading;
use crate::timestamp::Timestamp;

/// The facts a verdict depends on besides the marker: whose epoch, what time, how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context<'a> {
    /// The current instantiation epoch; `""` disables the epoch check.
    pub current_epoch: &'a str,
    /// The clock reading to judge expiry against.
    pub now: Timestamp,
    /// How long after `requested_at` a marker is honoured, in microseconds.
    pub max_age_micros: i64,
}

impl<'a> Context<'a> {
    /// A context with the contract's one-hour maximum age.
    pub fn new(current_epoch: &'a str, now: Timestamp) -> Self {
        Context {
            current_epoch,
            now,
            max_age_micros: MAX_AGE_MICROS,
        }
    }

    /// This context with another maximum age: for tests and watchers that cannot wait
    /// an hour, and for a Python host that patched the original's constant.
    pub fn with_max_age_micros(self, max_age_micros: i64) -> Self {
        Context {
            max_age_micros,
            ..self
        }
    }
}

/// The decision about one marker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// A marker is there (a contentless one counts).
    pub present: bool,
    /// Present, and neither epoch-stale nor expired: the gateway must drain.
    pub active: bool,
    /// Active, and `suppress_notification` is truthy: skip the broadcast notice.
    pub suppressed: bool,
    /// The marker was written by another instantiation of this machine.
    pub epoch_stale: bool,
    /// The marker's `requested_at` is more than the maximum age ago.
    pub expired: bool,
}

impl Verdict {
    /// The verdict in one word.
    pub fn state(&self) -> State {
        State::of(self)
    }
}

/// The drain state in one word: what a gateway does about the marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// No marker (or an unreadable one, which reads as absent): serve.
    Absent,
    /// An active marker: drain.
    Active,
    /// An active marker that asks to skip the "shutting down" notice: drain quietly.
    Suppressed,
    /// A marker written by another instantiation of this machine: ignored, serve.
    EpochStale,
    /// A marker older than the maximum age: ignored, serve.
    Expired,
}

impl State {
    /// The state a verdict amounts to. A marker both epoch-stale and expired is
    /// reported as epoch-stale, the more fundamental reason.
    pub fn of(verdict: &Verdict) -> State {
        if !verdict.present {
            State::Absent
        } else if verdict.suppressed {
            State::Suppressed
        } else if verdict.active {
            State::Active
        } else if verdict.epoch_stale {
            State::EpochStale
        } else {
            State::Expired
        }
    }

    /// The state's stable name: `absent`, `active`, `suppressed`, `epoch-stale` or
    /// `expired` (the same in every binding and in `drainctl --json`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Absent => "absent",
            State::Active => "active",
            State::Suppressed => "suppressed",
            State::EpochStale => "epoch-stale",
            State::Expired => "expired",
        }
    }

    /// Whether the gateway must drain: [`State::Active`] or [`State::Suppressed`].
    pub fn is_draining(self) -> bool {
        matches!(self, State::Active | State::Suppressed)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rules decide about a marker, apart from its contents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// For an expired marker, how long ago it was requested, in microseconds.
    pub expired_age_micros: Option<i64>,
    /// The first instant at which the marker counts as expired: `requested_at` plus the
    /// maximum age plus 1 µs (expiry is "older than", strictly). `None` unless the
    /// marker is present, not yet expired and has a parseable `requested_at`; without
    /// one a marker never expires.
    pub expires_at: Option<Timestamp>,
}

/// A read result together with what the rules decide about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    /// What the marker holds.
    pub reading: Reading,
    /// What it means.
    pub verdict: Verdict,
    /// For an expired marker, how long ago it was requested, in microseconds.
    pub expired_age_micros: Option<i64>,
    /// When the marker will expire, if it will (see [`Decision::expires_at`]).
    pub expires_at: Option<Timestamp>,
}

impl Classified {
    /// The verdict in one word.
    pub fn state(&self) -> State {
        self.verdict.state()
    }

    /// The `owner_token` of a leased drain's marker; `None` for a plain write's (or a
    /// value that is not a string, which no lease wrote).
    pub fn owner_token(&self) -> Option<&str> {
        self.reading.body()?.get(field::OWNER_TOKEN)?.as_str()
    }

    /// Whether this is the drain of the lease holding `token`: the marker carries the
    /// token and was written in this instantiation (a restart ended every drain, leased
    /// ones too).
    pub fn is_held_by(&self, token: &str) -> bool {
        self.owner_token() == Some(token) && !self.verdict.epoch_stale
    }

    /// The body when the marker is active, `None` otherwise (contentless gives `{}`).
    pub fn active_body(&self) -> Option<crate::marker::Body> {
        if !self.verdict.active {
            return None;
        }
        Some(self.reading.body().cloned().unwrap_or_default())
    }
}

/// Classifies marker bytes: what the contract says they mean in `context`.
pub fn classify(raw: &[u8], context: &Context<'_>) -> Classified {
    judge(Reading::from_bytes(raw), context)
}

/// Classifies a read result (use [`classify`] for bytes).
pub fn judge(reading: Reading, context: &Context<'_>) -> Classified {
    let body = reading.body();
    let decision = decide(
        reading.is_present(),
        |name| body.and_then(|body| body.get(name)).map(FieldRef::from),
        context,
    );
    Classified {
        reading,
        verdict: decision.verdict,
        expired_age_micros: decision.expired_age_micros,
        expires_at: decision.expires_at,
    }
}

/// The contract's rules, over a present-or-not marker whose consulted fields `field`
/// looks up: the only place they are written down. The fast path of a poll calls it
/// with the fields it parsed ([`crate::fields::Fields`]), [`judge`] with a body.
pub(crate) fn decide<'v>(
    present: bool,
    field: impl Fn(&str) -> Option<FieldRef<'v>>,
    context: &Context<'_>,
) -> Decision {
    if !present {
        return Decision::default();
    }
    let epoch_stale = epoch_is_stale(field(field::EPOCH), context.current_epoch);
    let requested = field(field::REQUESTED_AT)
        .and_then(FieldRef::as_str)
        .and_then(Timestamp::parse);
    let age = requested.and_then(|at| context.now.unix_micros().checked_sub(at.unix_micros()));
    let expired_age_micros = age.filter(|&age| age > context.max_age_micros);
    let expired = expired_age_micros.is_some();
    let active = !epoch_stale && !expired;
    let suppressed = active && field(field::SUPPRESS_NOTIFICATION).is_some_and(FieldRef::is_truthy);
    let expires_at = requested
        .filter(|_| !expired)
        .and_then(|at| {
            at.unix_micros()
                .checked_add(context.max_age_micros)?
                .checked_add(1)
        })
        .map(Timestamp::from_unix_micros);
    Decision {
        verdict: Verdict {
            present: true,
            active,
            suppressed,
            epoch_stale,
            expired,
        },
        expired_age_micros,
        expires_at,
    }
}

/// A definite mismatch only: lenient toward markers without an epoch and toward
/// machines where no epoch can be computed, so that neither fails closed.
fn epoch_is_stale(marker_epoch: Option<FieldRef<'_>>, current_epoch: &str) -> bool {
    match marker_epoch {
        _ if current_epoch.is_empty() => false,
        Some(value) if value.is_truthy() => value.as_str() != Some(current_epoch),
        _ => false,
    }
}
