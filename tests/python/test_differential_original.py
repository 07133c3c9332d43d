"""Differential tests, against the ORIGINAL module as the host runs it
(``../shared/reference/upstream``; these skip, saying so, where it is absent):
arbitrary strict-JSON objects (integers of any size, ``-0``, exponents, long
decimal fractions, escapes, nesting, repeated keys) must read as the original's
``json.loads`` reads them, value for value and type for type, and judge as it
judges them.

Against a model of the contract: ``test_differential_model.py``; the epochs and the
hypothesis profile: ``differential_helpers.py``.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import drain_control

from differential_helpers import DIFFERENTIAL, EPOCHS


# --- against the original -------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream(load_original_once: Callable[[], ModuleType]) -> ModuleType:
    """The original module (one copy for the module's examples)."""
    return load_original_once()


@pytest.fixture(scope="module")
def marker_home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="drain-differential-") as folder:
        yield Path(folder)


def identical(a: Any, b: Any) -> bool:
    """Equal value for value and type for type (``1`` is not ``1.0``, ``-0.0`` is not
    ``0.0``), and in the same key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    return bool(a == b)


WHITESPACE = st.sampled_from(["", "", " ", "\n", "\t", "\r\n  "])
SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


@st.composite
def json_integers(draw: st.DrawFn) -> str:
    value = draw(
        st.one_of(
            st.integers(),
            st.integers(min_value=-(10**80), max_value=10**80),
            st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 2**64 - 1]),
        )
    )
    return draw(st.sampled_from([str(value), "-0" if value == 0 else str(value)]))


DIGITS = "0123456789"


@st.composite
def json_floats(draw: st.DrawFn) -> str:
    """Fractions and exponents, long decimal fractions, ``-0.0``: within the double
    range (beyond it the original reads ``inf``, which strict JSON has no room for)."""
    sign = draw(st.sampled_from(["", "-"]))
    whole = str(draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=10**24))))
    fraction = draw(st.one_of(st.just(""), st.text(DIGITS, min_size=1, max_size=40).map(".".__add__)))
    exponent = ""
    if draw(st.booleans()):
        exponent = draw(st.sampled_from(["e", "E"])) + draw(st.sampled_from(["", "+", "-"]))
        exponent += str(draw(st.integers(min_value=0, max_value=400)))
    if not fraction and not exponent:
        fraction = ".0"
    text = sign + whole + fraction + exponent
    if not math.isfinite(float(text)):
        text = sign + whole + (fraction or ".5")
    return text


@st.composite
def json_strings(draw: st.DrawFn) -> str:
    """A JSON string of any text (never a lone surrogate), each character raw, as a
    short escape or as ``\\u`` escapes (a surrogate pair beyond the BMP), in either case."""
    text = draw(st.text(max_size=10))
    styles = draw(st.lists(st.integers(0, 3), min_size=len(text), max_size=len(text)))
    out = ['"']
    for char, style in zip(text, styles):
        code = ord(char)
        if style == 0 and (char in '"\\' or code < 0x20):
            style = 1
        if style == 1 and char in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[char])
        elif style == 0:
            out.append(char)
        else:
            form = "\\u{:04x}" if style == 2 else "\\u{:04X}"
            if code > 0xFFFF:
                code -= 0x10000
                out.append(form.format(0xD800 + (code >> 10)) + form.format(0xDC00 + (code & 0x3FF)))
            else:
                out.append(form.format(code))
    out.append('"')
    return "".join(out)


KEYS = st.one_of(
    st.sampled_from(["epoch", "requested_at", "suppress_notification", "principal", "a", ""]),
    st.text(max_size=4).map(json.dumps),
).map(lambda key: key if key.startswith('"') else json.dumps(key))


@st.composite
def json_objects_text(draw: st.DrawFn, values: st.SearchStrategy[str]) -> str:
    members = draw(st.lists(st.tuples(KEYS, values), max_size=5))
    ws = [draw(WHITESPACE) for _ in range(4)]
    inner = ",".join(f"{ws[0]}{k}{ws[1]}:{ws[2]}{v}{ws[3]}" for k, v in members)
    return "{" + (inner or draw(WHITESPACE)) + "}"


JSON_SCALAR_TEXTS = st.one_of(
    json_integers(),
    json_floats(),
    json_strings(),
    st.sampled_from(["true", "false", "null"]),
)
JSON_VALUE_TEXTS = st.recursive(
    JSON_SCALAR_TEXTS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        json_objects_text(inner),
    ),
    max_leaves=16,
)


@st.composite
def real_timestamps(draw: st.DrawFn) -> str:
    """``requested_at`` texts in the contract's subset, aged around the hour relative
    to the real clock (never within five seconds of the edge: the original reads its
    clock a moment after this one)."""
    age = draw(
        st.one_of(
            st.integers(min_value=-7200, max_value=10800),
            st.integers(min_value=-(10**8), max_value=10**8),
        ).filter(lambda seconds: abs(seconds - 3600) > 5)
    )
    moment = datetime.now(timezone.utc) - timedelta(seconds=age, microseconds=draw(st.integers(0, 999_999)))
    offset = timezone(timedelta(minutes=draw(st.sampled_from([0, 60, -480, 330]))))
    text = moment.astimezone(offset).isoformat(sep=draw(st.sampled_from(["T", " "])))
    return text.replace("+00:00", draw(st.sampled_from(["+00:00", "Z", "+0000", ""])))


@st.composite
def marker_texts(draw: st.DrawFn) -> str:
    """An arbitrary strict-JSON object, often with the fields the rules consult."""
    members = draw(st.lists(st.tuples(KEYS, JSON_VALUE_TEXTS), max_size=6))
    epoch = draw(st.sampled_from(EPOCHS + ["", None]))
    if epoch is not None and draw(st.booleans()):
        members.append(('"epoch"', json.dumps(epoch)))
    if draw(st.booleans()):
        members.append(('"requested_at"', json.dumps(draw(real_timestamps()))))
    if draw(st.booleans()):
        members.append(('"suppress_notification"', draw(st.sampled_from(["true", "false", "1", "0", "-0", "0.0", '""', '"x"', "[]", "{}", "null"]))))
    members = draw(st.permutations(members))
    ws = draw(WHITESPACE)
    return draw(WHITESPACE) + "{" + ws + ("," + ws).join(f"{k}: {v}" for k, v in members) + "}" + ws


def write_marker(home: Path, text: str) -> None:
    (home / ".drain_request.json").write_bytes(text.encode("utf-8"))


# Fewer examples than the model's properties: each generates a whole document.
AGAINST_THE_ORIGINAL = settings(DIFFERENTIAL, max_examples=600)


@AGAINST_THE_ORIGINAL
@given(text=marker_texts())
def test_arbitrary_objects_read_as_the_original_reads_them(
    upstream: ModuleType, marker_home: Path, text: str
) -> None:
    write_marker(marker_home, text)
    ours = drain_control.read_drain_request(home=marker_home)
    theirs = upstream.read_drain_request(home=marker_home)
    assert identical(ours, theirs), (text, ours, theirs)
    assert identical(ours, json.loads(text))


@AGAINST_THE_ORIGINAL
@given(text=marker_texts(), epoch=st.sampled_from(EPOCHS), through_python=st.booleans())
def test_arbitrary_objects_judge_as_the_original_judges_them(
    upstream: ModuleType, marker_home: Path, text: str, epoch: str, through_python: bool
) -> None:
    """Judged natively, or (``through_python``) by the Python functions that make the
    original's calls, as when a host patched a name: here the maximum age, replaced by
    an equal value."""
    write_marker(marker_home, text)
    ours_epoch, theirs_epoch = (
        drain_control.current_instantiation_epoch,
        upstream.current_instantiation_epoch,
    )
    drain_control.current_instantiation_epoch = upstream.current_instantiation_epoch = lambda: epoch  # type: ignore[method-assign]
    own_max_age = drain_control.DRAIN_REQUEST_MAX_AGE_SECONDS
    if through_python:
        drain_control.DRAIN_REQUEST_MAX_AGE_SECONDS = float("3600")
        assert drain_control.DRAIN_REQUEST_MAX_AGE_SECONDS is not own_max_age
    try:
        for name in ("drain_requested", "drain_notification_suppressed"):
            ours = getattr(drain_control, name)(home=marker_home)
            theirs = getattr(upstream, name)(home=marker_home)
            assert ours is theirs, (name, text, ours, theirs)
        ours_body = drain_control._active_drain_body(marker_home)
        theirs_body = upstream._active_drain_body(marker_home)
        assert identical(ours_body, theirs_body), (text, ours_body, theirs_body)
    finally:
        drain_control.current_instantiation_epoch = ours_epoch  # type: ignore[method-assign]
        upstream.current_instantiation_epoch = theirs_epoch  # type: ignore[method-assign]
        drain_control.DRAIN_REQUEST_MAX_AGE_SECONDS = own_max_age


@pytest.mark.parametrize(
    "text",
    [
        '{"big": 123456789012345678901234567890}',
        '{"neg": -98765432109876543210987654321, "z": -0, "zf": -0.0}',
        '{"e": 1E5, "f": 1e-7, "g": 0.1000000000000000055511151231257827, "h": 5e-324}',
        '{"u64": 18446744073709551615, "over": 18446744073709551616}',
        '{"s": "\\ud83d\\ude00 \\u00e9\\/\\"", "n": [[[{"x": []}]]]}',
        '{"a": 1, "a": 2.0, "b": 3}',
        '{"digits": ' + "9" * 4300 + "}",
        '{"too many digits": ' + "9" * 4301 + ', "epoch": "other:1"}',
    ],
)
def test_numbers_and_texts_read_exactly_as_the_original(
    upstream: ModuleType, marker_home: Path, text: str
) -> None:
    write_marker(marker_home, text)
    ours = drain_control.read_drain_request(home=marker_home)
    theirs = upstream.read_drain_request(home=marker_home)
    assert identical(ours, theirs), (ours, theirs)
