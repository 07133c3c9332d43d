"""Prints the timestamp table of tests/timestamp/tables.rs: what CPython 3.11's
datetime.fromisoformat makes of each string, as a Rust array.

Run with CPython 3.11: python3 tests/generators/timestamp_table.py

Columns: the string; Python's instant in microseconds since the Unix epoch (a naive
result taken as UTC, exact integer arithmetic) or None when Python rejects it; and
whether the string is inside the subset this library parses (the contract's grammar:
YYYY-MM-DD, then T or space and HH[:MM[:SS[(.|,)f{1,9}]]], then Z, +-HH, +-HHMM or
+-HH:MM with minutes below 60). A string Python rejects is never inside the subset: the subset's grammar says
nothing about calendar dates or ranges, Python's verdict does.
"""
import re
import sys
from datetime import datetime, timedelta, timezone

assert sys.version_info[:2] == (3, 11), "the contract is CPython 3.11's fromisoformat"

UNIX = datetime(1970, 1, 1, tzinfo=timezone.utc)
SUBSET = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
    r"(?:Z|[+-]\d{2}(?::?(?P<om>\d{2}))?)?)?",
    re.ASCII,
)


def python_micros(text):
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - UNIX) // timedelta(microseconds=1)


def in_subset(text):
    match = SUBSET.fullmatch(text)
    if match is None:
        return False
    return match.group("om") is None or int(match.group("om")) < 60


ROWS = [
    # The layouts the contract requires.
    "2026-11-27",
    "2026-11-27T10",
    "2026-11-27T10:00",
    "2026-11-27T10:00:00",
    "2026-11-27 10:00:00",
    "2026-11-27T10:00:00.250000+00:00",
    "2026-11-27T10:00:00Z",
    "2026-11-27T10Z",
    "2026-11-27T10:30Z",
    "2026-11-27T10:00:00+05:30",
    "2026-11-27T10:00:00-08:00",
    "2026-11-27T10:00:00+0530",
    "2026-11-27T10:00:00-0800",
    "2026-11-27T10:00:00+05",
    "2026-11-27T10:00:00-00",
    "2026-11-27T10:00-00:00",
    "2026-11-27T10+05",
    # Fractions: 1 to 9 digits, . or ,; Python keeps the first 6, truncating.
    "2026-11-27T10:00:00.1",
    "2026-11-27T10:00:00.12",
    "2026-11-27T10:00:00.123",
    "2026-11-27T10:00:00.1234",
    "2026-11-27T10:00:00.12345",
    "2026-11-27T10:00:00.123456",
    "2026-11-27T10:00:00.1234567",
    "2026-11-27T10:00:00.12345678",
    "2026-11-27T10:00:00.123456789",
    "2026-11-27T10:00:00.999999999",
    "2026-11-27T10:00:00.000000001",
    "2026-11-27T10:00:00,5",
    "2026-11-27T10:00:00,123456789Z",
    "2026-11-27T10:00:00.5+01:00",
    "2026-11-27T10:00:00.1234567890",
    "2026-11-27T10:00:00.123456789012",
    "2026-11-27T10:00:00.",
    "2026-11-27T10:00:00,",
    "2026-11-27T10:00:00.1a",
    "2026-11-27T10:00:00.+01:00",
    "2026-11-27T10:00:00,Z",
    "2026-11-27T10.5",
    "2026-11-27T10:00.5",
    # Calendar rules.
    "2024-02-29",
    "2024-02-29T23:59:59.999999",
    "2000-02-29",
    "2026-02-29",
    "1900-02-29",
    "2100-02-29",
    "2026-02-28",
    "2026-04-30",
    "2026-04-31",
    "2026-06-31",
    "2026-12-31",
    "2026-12-32",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "0000-01-01",
    "0001-01-01",
    "0001-01-01T00:00:00+01:00",
    "0999-12-31T23:59:59",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59.999999-23:59",
    "1969-12-31T23:59:59.999999",
    "1970-01-01T00:00:00Z",
    # Hours, minutes, seconds.
    "2026-11-27T23:59:59",
    "2026-11-27T24:00",
    "2026-11-27T24:00:00",
    "2026-11-27T23:60",
    "2026-11-27T23:59:60",
    "2026-11-27T00:00:00",
    "2026-11-27T1:00",
    "2026-11-27T10:0",
    "2026-11-27T10:00:0",
    "2026-11-27T10:00:",
    # Offsets: strictly within 24 h.
    "2026-11-27T10:00+23:59",
    "2026-11-27T10:00-23:59",
    "2026-11-27T10:00+24:00",
    "2026-11-27T10:00-24:00",
    "2026-11-27T10:00+2400",
    "2026-11-27T10:00+24",
    "2026-11-27T10:00+23",
    "2026-11-27T10:00+00:60",
    "2026-11-27T10:00+00:75",
    "2026-11-27T10:00+23:60",
    "2026-11-27T10:00+05:30:15",
    "2026-11-27T10:00+05:30:15.5",
    "2026-11-27T10:00+5",
    "2026-11-27T10:00+05:3",
    "2026-11-27T10:00+123",
    "2026-11-27T10:00+12345",
    "2026-11-27T10:00+",
    "2026-11-27T10:00-",
    "2026-11-27T10:00Z+01:00",
    "2026-11-27T10:00+01:00Z",
    "2026-11-27T10:00ZZ",
    "2026-11-27T10:00 +01:00",
    "2026-11-27+01:00",
    "2026-11-27Z",
    # Letter case and surrounding space.
    "2026-11-27T10:00z",
    "2026-11-27t10:00",
    "2026-11-27t10:00:00Z",
    " 2026-11-27T10:00",
    "2026-11-27T10:00 ",
    "2026-11-27T10:00Z ",
    "2026-11-27T10:00\n",
    "\t2026-11-27",
    # Separators Python takes (any single character) and we do not.
    "2026-11-27x10:00",
    "2026-11-27_10:00",
    "2026-11-27-10:00",
    "2026-11-27:10:00",
    "2026-11-27\u00e910:00",
    "2026-11-27\u300010:00",
    "2026-11-27  10:00",
    "2026-11-27T",
    "2026-11-27 ",
    # Other ISO 8601 forms Python takes and the subset leaves out.
    "20261127",
    "20261127T100000",
    "2026-11-27T1000",
    "2026-11-27T100000",
    "2026-11-27T100000.5",
    "2026-W48",
    "2026-W48-5",
    "2026W485",
    "2026-331",
    "2026-11",
    # Plain garbage and near misses.
    "",
    "T",
    "now",
    "yesterday",
    "2026",
    "2026-1-27",
    "2026-11-7",
    "26-11-27",
    "+2026-11-27",
    "-2026-11-27",
    "12026-11-27",
    "2026/11/27",
    "2026-11-27T10:00:00.123456+00:00:00",
    "Fri, 27 Nov 2026 10:00:00 GMT",
    "1795773600",
    "\uff12\uff10\uff12\uff16-11-27",
    "2026-11-27T\uff11\uff10:00",
    "2026-11-27T10:00:00\u00b2",
    "2026-\u0661\u0661-27",
]

assert len(ROWS) == len(set(ROWS)), "duplicate rows"


def rust_str(text):
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    return '"' + "".join(out) + '"'


for text in ROWS:
    micros = python_micros(text)
    python = "None" if micros is None else f"Some({micros})"
    # Inside the subset: the grammar matches and Python accepts (Python is the judge
    # of calendar dates, hour 24, second 60 and offsets of 24 h or more).
    subset = in_subset(text) and micros is not None
    print(f"    ({rust_str(text)}, {python}, {'IN' if subset else 'OUT'}),")
print(f"// {len(ROWS)} rows, {sum(python_micros(t) is not None for t in ROWS)} accepted by Python,"
      f" {sum(in_subset(t) and python_micros(t) is not None for t in ROWS)} in the subset", file=sys.stderr)
