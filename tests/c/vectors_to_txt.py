#!/usr/bin/env python3
"""Turns tests/vectors/contract-vectors.json into a line format a C program reads
with no JSON parser. This only transcribes each vector's inputs: drain_test runs them
through the classifier and writes its results as JSON lines, which
tests/vectors/match.py, the one matcher of every binding, compares with the vectors'
expectations.

One vector per line, four fields separated by single spaces:

  <name as a JSON string>  x<marker>  x<current_epoch>  <now, unix microseconds>

The name is a JSON string literal with every space escaped (\\u0020), so that the C
test copies it into its JSON output as it is; byte strings are hex with an "x" in
front (so an empty one is "x").
"""

import base64
import datetime
import json
import sys


def hexed(data):
    return "x" + data.hex()


def json_name(name):
    # ensure_ascii escapes every other white space and control character.
    return json.dumps(name, ensure_ascii=True).replace(" ", "\\u0020")


def unix_micros(text):
    instant = datetime.datetime.fromisoformat(text)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=datetime.timezone.utc)
    delta = instant - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def main(source, target):
    with open(source, encoding="utf-8") as handle:
        document = json.load(handle)
    lines = []
    for vector in document["vectors"]:
        lines.append(" ".join([
            json_name(vector["name"]),
            hexed(base64.b64decode(vector["marker_b64"], validate=True)),
            hexed(vector["current_epoch"].encode()),
            str(unix_micros(vector["now"])),
        ]))
    with open(target, "w", encoding="ascii") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"vectors_to_txt: {len(lines)} vectors -> {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: vectors_to_txt.py CONTRACT_VECTORS_JSON OUTPUT_TXT")
    main(sys.argv[1], sys.argv[2])
