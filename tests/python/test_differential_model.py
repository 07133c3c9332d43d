"""Differential tests, against a model: thousands of generated markers through the
wheel and through an executable model of the contract written here, independently
of the core: they must agree on ``read``, ``active`` and ``suppressed``. The model
follows the contract page: strict JSON (Python's reading, less the non-strict
inputs the contract lets every binding read as contentless), Python truthiness,
the epoch rule, and expiry to the microsecond over the documented timestamp subset.

Against the original module: ``test_differential_original.py``; the epochs and the
hypothesis profile: ``differential_helpers.py``.
"""

from __future__ import annotations

import json
import math
import re
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

import drain_control

from differential_helpers import DIFFERENTIAL, EPOCHS

MAX_BYTES = 1 << 20
MAX_DEPTH = 128
MAX_AGE = timedelta(seconds=3600)
NOW = datetime(2026, 11, 27, 12, 0, 0, 250000, tzinfo=timezone.utc)


# --- the model ------------------------------------------------------------------------


class Contentless(Exception):
    """The bytes are not a strict-JSON object."""


def _reject_constant(name: str) -> Any:
    raise Contentless(name)  # NaN, Infinity, -Infinity


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise Contentless("beyond the double range")
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def model_read(raw: bytes) -> dict[str, Any]:
    """The read result of a present regular file: its object, or ``{}``."""
    if len(raw) > MAX_BYTES:
        return {}
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except (ValueError, RecursionError, Contentless):
        return {}
    if not isinstance(value, dict) or _depth(value) > MAX_DEPTH:
        return {}
    if _has_lone_surrogate(value):
        return {}
    return value


_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<h>[0-9]{2})(?::(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2})"
    r"(?:[.,](?P<f>[0-9]{1,9}))?)?)?"
    r"(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?",
    re.ASCII,
)


def model_timestamp(text: str) -> Optional[datetime]:
    """The documented subset of ``datetime.fromisoformat``, with Python's meaning."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(part) for part in match["date"].split("-"))
    fraction = (match["f"] or "")[:6].ljust(6, "0")
    offset = timedelta(0)
    if match["tz"] and match["tz"] != "Z":
        digits = match["tz"][1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if match["tz"][0] == "-" else 1)
    try:
        moment = datetime(
            year,
            month,
            day,
            int(match["h"] or 0),
            int(match["m"] or 0),
            int(match["s"] or 0),
            int(fraction),
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None
    if sys.version_info >= (3, 11):
        # The subset must mean what Python 3.11+ says; never accept what it rejects.
        python = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if python.tzinfo is None:
            python = python.replace(tzinfo=timezone.utc)
        assert python == moment, text
    return moment


def model_verdict(raw: bytes, current_epoch: str, now: datetime) -> tuple[Any, bool, bool]:
    body = model_read(raw)
    epoch = body.get("epoch")
    stale = bool(current_epoch) and bool(epoch) and epoch != current_epoch
    requested_at = body.get("requested_at")
    moment = model_timestamp(requested_at) if isinstance(requested_at, str) else None
    expired = moment is not None and now - moment > MAX_AGE
    active = not stale and not expired
    suppressed = active and bool(body.get("suppress_notification"))
    return body, active, suppressed


# --- comparing ------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """JSON equality that tells bools from numbers and checks key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def check(raw: bytes, current_epoch: str, now: datetime = NOW) -> None:
    got = drain_control.classify_marker(raw, current_epoch=current_epoch, now=now)
    aware = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    read, active, suppressed = model_verdict(raw, current_epoch, aware)
    assert same(got.read, read), (raw, got.read, read)
    assert (got.active, got.suppressed) == (active, suppressed), (raw, got, read)


# --- the generators -------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "false", "0", EPOCHS[1], "other:1", "2026-11-27T10:00:00"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """``requested_at`` texts around the one-hour boundary, in many spellings."""
    delta = draw(
        st.one_of(
            st.integers(min_value=-2_000_000, max_value=2_000_000),  # +-2 s of the edge
            st.integers(min_value=-(10**11), max_value=10**11),
        )
    )
    moment = NOW - MAX_AGE + timedelta(microseconds=delta)
    offset_minutes = draw(st.sampled_from([0, 0, 60, -480, 330, 23 * 60 + 59, -(23 * 60)]))
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    separator = draw(st.sampled_from(["T", " "]))
    precision = draw(st.sampled_from(["hours", "minutes", "seconds", "fraction"]))
    text = local.strftime("%Y-%m-%d") + separator + local.strftime("%H")
    if precision != "hours":
        text += local.strftime(":%M")
    if precision in ("seconds", "fraction"):
        text += local.strftime(":%S")
    if precision == "fraction":
        digits = draw(st.integers(min_value=1, max_value=10))
        extra = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
        text += draw(st.sampled_from([".", ","])) + (f"{local.microsecond:06d}" + extra)[:digits]
    sign = "-" if offset_minutes < 0 else "+"
    hh, mm = divmod(abs(offset_minutes), 60)
    if offset_minutes == 0:
        zone = draw(st.sampled_from(["", "Z", "+00:00", "+0000", "+00", "-00:00"]))
    else:
        zone = draw(
            st.sampled_from(
                [f"{sign}{hh:02d}:{mm:02d}", f"{sign}{hh:02d}{mm:02d}"]
                + ([f"{sign}{hh:02d}"] if mm == 0 else [])
            )
        )
    return text + zone


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    """Mutations of real payloads: fields replaced, dropped, added, reordered."""
    body: dict[str, Any] = {
        "action": "drain",
        "requested_at": draw(timestamps()),
        "principal": draw(st.sampled_from(["dashboard", "drain-control", "zoë"])),
        "epoch": draw(st.sampled_from(EPOCHS)),
        "suppress_notification": draw(st.booleans()),
    }
    for key in list(body):
        action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "replace"]))
        if action == "drop":
            del body[key]
        elif action == "replace":
            body[key] = draw(json_values)
    extra = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    body.update(extra)
    return body


def encode(body: Any, style: int) -> bytes:
    if style == 0:
        return json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8")
    if style == 1:
        return json.dumps(body, separators=(",", ":")).encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@st.composite
def byte_mutations(draw: st.DrawFn, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
        elif kind == "delete" and data:
            del data[at]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


# --- the properties -------------------------------------------------------------------


@DIFFERENTIAL
@given(body=payloads(), style=st.integers(0, 2), epoch=st.sampled_from(EPOCHS))
def test_mutated_payloads_agree_with_the_model(body: dict[str, Any], style: int, epoch: str) -> None:
    check(encode(body, style), epoch)


@DIFFERENTIAL
@given(data=st.data(), body=payloads(), epoch=st.sampled_from(EPOCHS))
def test_byte_mutations_of_payloads_agree_with_the_model(
    data: st.DataObject, body: dict[str, Any], epoch: str
) -> None:
    check(data.draw(byte_mutations(encode(body, 0))), epoch)


@DIFFERENTIAL
@given(
    requested_at=timestamps(),
    epoch=st.sampled_from(EPOCHS),
    suppress=json_values,
    now_shift=st.integers(min_value=-5_000_000, max_value=5_000_000),
)
def test_timestamps_around_the_hour_agree_with_the_model(
    requested_at: str, epoch: str, suppress: Any, now_shift: int
) -> None:
    raw = json.dumps(
        {"requested_at": requested_at, "epoch": EPOCHS[1], "suppress_notification": suppress}
    ).encode()
    now = NOW + timedelta(microseconds=now_shift)
    check(raw, epoch, now)
    check(raw, epoch, now.replace(tzinfo=None))


@DIFFERENTIAL
@given(value=json_values, epoch=st.sampled_from(EPOCHS))
def test_random_json_values_agree_with_the_model(value: Any, epoch: str) -> None:
    check(json.dumps(value).encode(), epoch)
    check(json.dumps({"epoch": value, "suppress_notification": value}).encode(), epoch)
    check(json.dumps({"requested_at": value, "suppress_notification": True}).encode(), epoch)


@DIFFERENTIAL
@given(raw=st.binary(max_size=64), epoch=st.sampled_from(EPOCHS))
def test_random_bytes_agree_with_the_model(raw: bytes, epoch: str) -> None:
    check(raw, epoch)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"epoch": NaN}',
        b'{"epoch": 1e400}',
        b'{"principal": "\\udc00"}',
        b'{"a": ' + b"[" * 127 + b"]" * 127 + b"}",
        b'{"a": ' + b"[" * 128 + b"]" * 128 + b"}",
        b"\xef\xbb\xbf{}",
        b'{"a": 1, "a": 2, "b": 3}',
        b' \t\r\n{"epoch": "other:1"}\n ',
    ],
)
def test_model_edge_cases_agree(raw: bytes) -> None:
    for epoch in EPOCHS:
        check(raw, epoch)
