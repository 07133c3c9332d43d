#!/usr/bin/env python3
"""Turns tests/vectors/contract-vectors.json into a line format a C program reads
with no JSON parser. This only transcribes the vectors; every judgement is left to
the C test.

One vector per line, nine fields separated by single spaces; byte strings are hex
with an "x" in front (so an empty one is "x"):

  name  x<marker>  x<current_epoch>  <now, unix microseconds>
  E<has_read><active><suppressed><python_only>  x<expected read>
  A<given><has_read><active><suppressed>        x<also_allowed read>
  <reference_raises 0|1>

An expected read is compact JSON as serde_json prints it (keys in file order,
separators "," and ":", non-ASCII as UTF-8), so the C test compares bytes.
"""

import base64
import datetime
import json
import sys


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def hexed(data):
    return "x" + data.hex()


def unix_micros(text):
    instant = datetime.datetime.fromisoformat(text)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=datetime.timezone.utc)
    delta = instant - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def outcome(tag, given, fields):
    has_read = given and "read" in fields
    read = compact(fields["read"]).encode() if has_read else b""
    flags = [given, has_read, given and fields["active"], given and fields["suppressed"]]
    return tag + "".join("1" if flag else "0" for flag in flags), hexed(read)


def main(source, target):
    with open(source, encoding="utf-8") as handle:
        document = json.load(handle)
    lines = []
    for vector in document["vectors"]:
        name = vector["name"]
        if not name or any(c.isspace() for c in name):
            raise SystemExit(f"vector name {name!r} cannot be written on one line")
        expect = vector["expect"]
        exp_flags, exp_read = outcome("E", True, expect)
        # E: has_read active suppressed python_only (the leading "given" is dropped).
        exp_flags = "E" + exp_flags[2:] + ("1" if "read_python_json" in expect else "0")
        alt = vector.get("also_allowed")
        alt_flags, alt_read = outcome("A", alt is not None, alt or {})
        lines.append(" ".join([
            name,
            hexed(base64.b64decode(vector["marker_b64"], validate=True)),
            hexed(vector["current_epoch"].encode()),
            str(unix_micros(vector["now"])),
            exp_flags,
            exp_read,
            alt_flags,
            alt_read,
            "1" if vector.get("reference_raises") else "0",
        ]))
    with open(target, "w", encoding="ascii") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"vectors_to_txt: {len(lines)} vectors -> {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: vectors_to_txt.py CONTRACT_VECTORS_JSON OUTPUT_TXT")
    main(sys.argv[1], sys.argv[2])
