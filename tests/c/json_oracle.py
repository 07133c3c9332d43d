#!/usr/bin/env python3
"""The JSON differential of issue 11, for the C ABI and the Go package: the JSON a
binding returns for a marker must carry the values the original Python module reads
from the same bytes (big integers as their exact digits, -0, exponents, long
fractions, escapes, nesting, duplicate keys, key order).

The oracle is the original module itself (`../shared/reference/upstream`, relative to
the repository, or --reference): each case's bytes are put in a marker file and read
with its `read_drain_request(home=...)`. Values are compared as Python sees them,
through a tagged form that keeps what `==` would blur: an int is not a float (`1` vs
`1.0`), a bool is not an int, `-0.0` is not `0.0`, floats are compared bit for bit
(`float.hex`), and an object's keys keep their order.

The cases are arbitrary JSON objects, generated from a seed (the fixed corpus below
comes first): integers up to hundreds of digits and both signs, `-0`, `-0.0`,
fractions of up to 60 digits, exponents of either case and sign, underflow to 0 and to
subnormals, every escape (surrogate pairs too), raw UTF-8, control characters, nesting
to the contract's 128 levels, duplicate keys and odd whitespace. They stay inside what
the contract reads as Python does: strict JSON (no NaN, no lone surrogates, numbers
within the double range) and integers of at most 4300 digits (Python 3.11 refuses
longer ones, see FIXED_CASES).

Subcommands:
  corpus [--seed N] [--count N] [--extra FILE]
      prints one JSON object a line: {"name", "marker_b64", "expect"} where "expect"
      is the tagged reading of the original module. FILE holds more cases, one
      {"name", "marker_b64"} a line (the Go test's own).
  check-c PROGRAM [--seed N] [--count N]
      runs tests/c/read_corpus.c's PROGRAM over the corpus and compares what both of
      its readings (drain_read, drain_classify_read) carry with the expectations.

Exits 77 with a message when the original module is not there (a skip).
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Optional

SKIP = 77
REPO = Path(__file__).resolve().parents[2]
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference" / "upstream"


# --- the tagged form ------------------------------------------------------------------


def tag(value: Any) -> Any:
    """The value as Python sees it, in a form whose == is exact."""
    if value is None:
        return ["null"]
    if value is True or value is False:
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", value.hex()]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, list):
        return ["list", [tag(item) for item in value]]
    if isinstance(value, dict):
        return ["obj", [[key, tag(item)] for key, item in value.items()]]
    raise TypeError(f"not a JSON value: {value!r}")


def first_difference(got: Any, want: Any, where: str = "$") -> Optional[str]:
    """Where two tagged values first differ, or None."""
    if got == want:
        return None
    if not (isinstance(got, list) and isinstance(want, list)) or got[:1] != want[:1]:
        return f"{where}: {short(got)} != {short(want)}"
    kind = got[0]
    if kind == "list" and len(got[1]) == len(want[1]):
        for i, (a, b) in enumerate(zip(got[1], want[1])):
            found = first_difference(a, b, f"{where}[{i}]")
            if found:
                return found
    if kind == "obj" and len(got[1]) == len(want[1]):
        for (ka, a), (kb, b) in zip(got[1], want[1]):
            if ka != kb:
                return f"{where}: key {ka!r} where {kb!r} was expected (order or name)"
            found = first_difference(a, b, f"{where}[{ka!r}]")
            if found:
                return found
    return f"{where}: {short(got)} != {short(want)}"


def short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) < 200 else text[:200] + "..."


# --- the generator --------------------------------------------------------------------

SIMPLE_ESCAPES = ['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]
RAW_CHARS = ["é", "✓", "😀", "中", "\u2028", "\ufeff", "\uffff", "\x7f", "ß", "𝄞"]
WHITESPACE = ["", "", "", " ", "\n", "\t", "\r\n  ", "  "]


def u_escape(rng: random.Random, code: int) -> str:
    digits = f"{code:04x}"
    return "\\u" + (digits.upper() if rng.random() < 0.5 else digits)


def gen_string(rng: random.Random) -> str:
    parts = ['"']
    for _ in range(rng.choice([0, 1, 2, 3, 5, 8, 20])):
        r = rng.random()
        if r < 0.45:
            parts.append(rng.choice("abcxyz ABC019_-.:{}[],'<>&#%"))
        elif r < 0.6:
            parts.append(rng.choice(SIMPLE_ESCAPES))
        elif r < 0.7:
            parts.append(u_escape(rng, rng.randrange(0x20)))  # control characters
        elif r < 0.8:
            code = rng.randrange(0x20, 0x10000)
            while 0xD800 <= code < 0xE000:  # no lone surrogates
                code = rng.randrange(0x20, 0x10000)
            parts.append(u_escape(rng, code))
        elif r < 0.88:
            code = rng.randrange(0x10000, 0x110000) - 0x10000  # a surrogate pair
            parts.append(u_escape(rng, 0xD800 + (code >> 10)))
            parts.append(u_escape(rng, 0xDC00 + (code & 0x3FF)))
        else:
            parts.append(rng.choice(RAW_CHARS))
    parts.append('"')
    return "".join(parts)


def digits(rng: random.Random, count: int) -> str:
    return str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(count - 1))


def gen_number(rng: random.Random) -> str:
    while True:
        sign = "-" if rng.random() < 0.4 else ""
        r = rng.random()
        if r < 0.1:
            return sign + "0"
        length = rng.choice([1, 2, 3, 9, 15, 16, 17, 19, 20, 21, 30, 60, 100, 400])
        if r < 0.5:
            return sign + digits(rng, length)
        whole = "0" if rng.random() < 0.3 else digits(rng, rng.choice([1, 2, 5, 17, 25]))
        text = sign + whole
        if rng.random() < 0.75:
            fraction = "".join(str(rng.randrange(10)) for _ in range(rng.choice([1, 2, 6, 17, 30, 60])))
            text += "." + fraction
        if text == sign + whole or rng.random() < 0.5:
            exponent = rng.choice([0, 1, 2, 10, 100, 290, 300, 307, 308, 320, 323, 324, 330, 400])
            text += rng.choice("eE") + rng.choice(["", "+", "-", "-"]) + str(exponent).zfill(rng.choice([1, 1, 3]))
        if not math.isinf(float(text)):  # beyond the double range is contentless by contract
            return text


def gen_value(rng: random.Random, depth: int) -> str:
    r = rng.random()
    if depth >= 6 or r < 0.5:
        s = rng.random()
        if s < 0.35:
            return gen_number(rng)
        if s < 0.75:
            return gen_string(rng)
        return rng.choice(["true", "false", "null"])
    if r < 0.75:
        return gen_array(rng, depth + 1)
    return gen_object(rng, depth + 1)


def ws(rng: random.Random) -> str:
    return rng.choice(WHITESPACE)


def gen_array(rng: random.Random, depth: int) -> str:
    items = [ws(rng) + gen_value(rng, depth) + ws(rng) for _ in range(rng.choice([0, 1, 2, 3, 6]))]
    return "[" + ",".join(items) + "]" if items else "[" + ws(rng) + "]"


def gen_object(rng: random.Random, depth: int) -> str:
    keys: list[str] = []
    members = []
    for _ in range(rng.choice([0, 1, 2, 3, 5, 8])):
        key = rng.choice(keys) if keys and rng.random() < 0.1 else gen_string(rng)  # duplicates
        keys.append(key)
        members.append(ws(rng) + key + ws(rng) + ":" + ws(rng) + gen_value(rng, depth) + ws(rng))
    return "{" + ",".join(members) + "}" if members else "{" + ws(rng) + "}"


def deep(levels: int) -> str:
    """An object nesting `levels` levels in all (the contract reads up to 128)."""
    return '{"deep": ' + "[" * (levels - 1) + "1" + "]" * (levels - 1) + "}"


FIXED_CASES = [
    ("issue-11-big-ints", '{"big": 123456789012345678901234567890, "neg": -98765432109876543210987654321}'),
    ("minus-zero", '{"int": -0, "float": -0.0, "exp": -0E-0, "zero": 0, "fzero": 0.0, "e": 0e5}'),
    ("exponents", '{"a": 1.5e300, "b": 1e-400, "c": 1E+2, "d": 1e0, "e": -2.5E-3, "f": 12e-1}'),
    ("double-edges", '{"max": 1.7976931348623157e308, "min_normal": 2.2250738585072014e-308, '
                     '"min_sub": 5e-324, "rounds_up": 2.4703282292062328e-324, '
                     '"rounds_down": 2.4703282292062327e-324, "below": 1e-400}'),
    ("long-fractions", '{"a": 0.1000000000000000055511151231257827021181583404541015625, '
                       '"b": 3.14159265358979323846264338327950288419716939937510, '
                       '"c": 0.30000000000000004, "d": 9007199254740993.0, "e": 1.00000000000000011102230246251565}'),
    ("int-edges", '{"i53": 9007199254740993, "u64": 18446744073709551615, "u64+1": 18446744073709551616, '
                  '"i64-1": -9223372036854775809, "i64": -9223372036854775808}'),
    ("int-4300-digits", '{"n": 1' + "0" * 4299 + ', "m": -' + "9" * 4300 + "}"),
    ("escapes", '{"s": "\\u00e9\\ud83d\\ude00\\n\\u001f\\/\\b\\f\\r\\t\\"\\\\", "raw": "é😀\u2028", '
                '"nul": "a\\u0000b", "\\u006bey": 1}'),
    ("duplicates", '{"k": 1, "j": [], "k": {"k": 2, "k": 3}}'),
    ("nesting-128", deep(128)),
    ("nested-mixed", '{"a": [{"b": [[], {}, [null, true, false]]}, {"c": {"d": {"e": [1, -1.5e-5]}}}]}'),
    ("whitespace", ' \r\n\t{ "a" :\n1 ,\t"b":[ ] } \n'),
    ("empty-object", "{}"),
    ("contentless-array", "[1, 2]"),
    ("contentless-torn", '{"a": 1'),
    ("contentless-empty", ""),
    ("contentless-scalar", "12345678901234567890"),
]


def corpus(seed: int, count: int) -> list[tuple[str, bytes]]:
    cases = [(name, text.encode()) for name, text in FIXED_CASES]
    rng = random.Random(seed)
    for i in range(count):
        cases.append((f"generated-{seed}-{i}", gen_object(rng, 1).encode()))
    return cases


# --- the oracle -----------------------------------------------------------------------


def original_module(reference: Path) -> Any:
    if not (reference / "gateway" / "drain_control.py").is_file():
        print(f"json_oracle: SKIPPED: the original module is not at {reference}", file=sys.stderr)
        sys.exit(SKIP)
    sys.path.insert(0, str(reference))
    import gateway.drain_control as original  # noqa: E402

    return original


def expectations(original: Any, cases: Iterable[tuple[str, bytes]]) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory(prefix="json-oracle-") as home:
        marker = Path(home) / ".drain_request.json"
        for name, data in cases:
            marker.write_bytes(data)
            read = original.read_drain_request(home=Path(home))
            out.append({"name": name, "marker_b64": base64.b64encode(data).decode(), "expect": tag(read)})
    return out


def load_extra(path: Optional[str]) -> list[tuple[str, bytes]]:
    if not path:
        return []
    extra = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                case = json.loads(line)
                extra.append((case["name"], base64.b64decode(case["marker_b64"], validate=True)))
    return extra


def command_corpus(args: argparse.Namespace) -> int:
    original = original_module(Path(args.reference))
    cases = corpus(args.seed, args.count) + load_extra(args.extra)
    for case in expectations(original, cases):
        sys.stdout.write(json.dumps(case, ensure_ascii=True) + "\n")
    return 0


def command_check_c(args: argparse.Namespace) -> int:
    original = original_module(Path(args.reference))
    expected = expectations(original, corpus(args.seed, args.count))
    lines = "".join(
        f"{case['name']} x{base64.b64decode(case['marker_b64']).hex()}\n" for case in expected
    )
    with tempfile.TemporaryDirectory(prefix="json-oracle-c-") as home:
        run = subprocess.run([args.program, home], input=lines.encode(), capture_output=True)
    sys.stderr.write(run.stderr.decode(errors="replace"))
    failures = 0 if run.returncode == 0 else 1
    if run.returncode != 0:
        print(f"json_oracle: {args.program} exited {run.returncode}")
    got = {}
    for line in run.stdout.decode().splitlines():
        fields = line.split(" ")
        if len(fields) != 3 or not all(field.startswith("x") for field in fields[1:]):
            print(f"json_oracle: unexpected output line: {line[:200]}")
            failures += 1
            continue
        got[fields[0]] = [bytes.fromhex(field[1:]).decode("utf-8") for field in fields[1:]]
    for case in expected:
        texts = got.get(case["name"])
        if texts is None:
            print(f"FAIL {case['name']}: no output")
            failures += 1
            continue
        for function, text in zip(["drain_read", "drain_classify_read"], texts):
            try:
                carried = tag(json.loads(text))
            except ValueError as error:
                print(f"FAIL {case['name']}: {function} gave text Python cannot read ({error}): {text[:200]}")
                failures += 1
                continue
            difference = first_difference(carried, case["expect"])
            if difference:
                marker = base64.b64decode(case["marker_b64"])
                print(f"FAIL {case['name']}: {function}: {difference}\n     marker: {marker[:300]!r}"
                      f"\n     text:   {text[:300]}")
                failures += 1
    print(f"json_oracle: {len(expected)} cases (seed {args.seed}) through drain_read and "
          f"drain_classify_read: {failures} failed")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", default=os.environ.get("DRAIN_REFERENCE", str(DEFAULT_REFERENCE)),
                        help="the folder holding gateway/drain_control.py (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("corpus", "check-c"):
        command = sub.add_parser(name)
        command.add_argument("--seed", type=int, default=int(os.environ.get("DRAIN_DIFF_SEED", "11")))
        command.add_argument("--count", type=int, default=1000)
        if name == "corpus":
            command.add_argument("--extra", help="a file of more cases, one JSON object a line")
        else:
            command.add_argument("program", help="the built tests/c/read_corpus.c")
    args = parser.parse_args()
    if args.command == "corpus":
        return command_corpus(args)
    return command_check_c(args)


if __name__ == "__main__":
    sys.exit(main())
