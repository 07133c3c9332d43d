//! The timestamp parser against CPython 3.11's `datetime.fromisoformat`.
//!
//! The contract: accept a subset of what Python accepts, with the same meaning; never
//! accept a string Python rejects. The tables (`tables.rs`) were produced by CPython 3.11.7
//! running `tests/generators/timestamp_table.py` and `isoformat_table.py` and are
//! embedded, so they need no Python; one further test asks a live python3 about a few
//! hundred generated strings.
//!
//! One module a topic: the tables, the tests against them, the check that the
//! generators still print them, and the differential against a live python3.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use drain_control::Timestamp;
use serde_json::{Value, json};

mod tables;
use tables::{ISOFORMAT, TABLE};

mod differential;
mod generators;
mod parsing;
