#!/usr/bin/env python3
"""The one matcher of the shared contract vectors (contract-vectors.json beside it).

Every binding's harness (tests/vectors.rs, tests/c/drain_test.c, go/vectors_test.go,
tests/python/test_vectors.py) only runs each vector's marker bytes, current epoch and
"now" through its own pure classifier and writes one JSON line per vector:

    {"name": ..., "read": <the read result>, "present": bool, "active": bool,
     "suppressed": bool, "epoch_stale": bool, "expired": bool}

and, where the binding can tell a contentless marker from one holding an empty
object, "contentless": bool. This script decides whether those results are what the
vectors expect; adding a vector, or a rule about an expected field, is a change here
and in the vector file only.

The rules:
- the vector file is whole (at least 90 vectors, unique names, max_age_seconds 3600.0);
- every vector has exactly one result, and every result names a vector: a harness
  that skips a vector fails;
- bytes always make a present marker: present is true and read is not null;
- the verdict is consistent: active is present and neither epoch_stale nor expired,
  only an active marker is suppressed, only a present one is stale or expired;
- the result matches `expect`, or `also_allowed` where given (which may leave read
  out, then only the verdict counts); where `expect` has `read_python_json` (Python's
  own reading, which strict JSON cannot express) only `also_allowed` can match, and
  the read must be {}, as in every binding;
- a vector with `reference_raises` (the original raised) reads as {}, and as
  contentless where the harness says.

Read results compare as JSON values, strictly: an integer (no '.', 'e' or 'E') is never
equal to a float, true never to 1, integers compare exactly at any size, floats by
value; object keys compare in order (the read keeps the marker's key order), except
with --unordered-keys, for a binding whose objects have no order (Go's maps).

Usage: match.py [--vectors FILE] [--unordered-keys] HARNESS RESULTS
  HARNESS   the name used in messages ("rust", "c static", ...)
  RESULTS   the file of JSON lines, or - for standard input
Prints each mismatch as "HARNESS: VECTOR: FIELD: ..." and exits 1 when there is any,
2 when the input or the vector file is malformed, 0 when every vector matches.
"""

import argparse
import json
import sys
from pathlib import Path

VECTORS = Path(__file__).resolve().parent / "contract-vectors.json"
FLAGS = ("present", "active", "suppressed", "epoch_stale", "expired")
MIN_VECTORS = 90
MAX_AGE_SECONDS = 3600.0


class Malformed(Exception):
    """Input this script cannot judge: exit 2."""


# ---- JSON values, compared strictly ---------------------------------------------


class _Object:
    """A JSON object with its keys in order (duplicates kept as they came)."""

    def __init__(self, pairs):
        self.pairs = pairs


def parse_json(text):
    """A JSON text into Python values, objects as _Object (keys in order)."""
    return json.loads(text, object_pairs_hook=_Object)


def _tagged(value, ordered):
    """A value in a form Python's == compares the way JSON values compare here."""
    if value is None or isinstance(value, (bool, str)):
        return (type(value).__name__, value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, list):
        return ("array", [_tagged(item, ordered) for item in value])
    if isinstance(value, _Object):
        pairs = [(key, _tagged(item, ordered)) for key, item in value.pairs]
        if not ordered:
            pairs.sort(key=lambda pair: pair[0])
        return ("object", pairs)
    raise Malformed(f"not a JSON value: {value!r}")


def json_equal(a, b, ordered=True):
    return _tagged(a, ordered) == _tagged(b, ordered)


def show(value):
    """A value as compact JSON, for messages."""

    def plain(v):
        if isinstance(v, _Object):
            return {key: plain(item) for key, item in v.pairs}
        if isinstance(v, list):
            return [plain(item) for item in v]
        return v

    return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"))


def self_test():
    """The comparison must be able to fail, or no vector could."""
    cases = [
        ("1", "1", True, True),
        ("1", "1.0", False, False),
        ("1.0", "1e0", True, True),
        ("0.5", "0.50", True, True),
        ("true", "1", False, False),
        ("false", "0", False, False),
        ("18446744073709551615", "18446744073709551614", False, False),
        ("18446744073709551616", "18446744073709551616", True, True),
        ('{"a":[true,null]}', '{"a":[true,null]}', True, True),
        ('{"a":[true,null]}', '{"a":[true]}', False, False),
        ('{"a":[1,2]}', '{"a":[2,1]}', False, False),
        ("{}", '{"a":null}', False, False),
        ('"false"', "false", False, False),
        ("null", "{}", False, False),
        ('{"a":1,"b":2}', '{"b":2,"a":1}', False, True),
        ('{"a":{"x":1,"y":2}}', '{"a":{"y":2,"x":1}}', False, True),
        ('"\\u00e9"', '"\u00e9"', True, True),
    ]
    for a, b, ordered, unordered in cases:
        for mode, want in ((True, ordered), (False, unordered)):
            got = json_equal(parse_json(a), parse_json(b), mode)
            if got != want:
                raise AssertionError(
                    f"match.py self-test: json_equal({a}, {b}, ordered={mode}) is {got}, want {want}"
                )


# ---- the vectors and the results ------------------------------------------------


def load_vectors(path):
    with open(path, encoding="utf-8") as handle:
        document = parse_json(handle.read())
    if not isinstance(document, _Object):
        raise Malformed(f"{path}: not a JSON object")
    top = dict(document.pairs)
    if not json_equal(top.get("max_age_seconds"), MAX_AGE_SECONDS):
        raise Malformed(f"{path}: max_age_seconds is {show(top.get('max_age_seconds'))}, want 3600.0")
    vectors = top.get("vectors")
    if not isinstance(vectors, list) or len(vectors) < MIN_VECTORS:
        raise Malformed(f"{path}: fewer than {MIN_VECTORS} vectors: the file looks truncated")
    by_name = {}
    for vector in vectors:
        fields = dict(vector.pairs) if isinstance(vector, _Object) else {}
        name = fields.get("name")
        if not isinstance(name, str) or not name:
            raise Malformed(f"{path}: a vector without a name: {show(vector)}")
        if name in by_name:
            raise Malformed(f"{path}: two vectors named {name!r}")
        by_name[name] = fields
    return by_name


def load_results(lines, harness):
    results = {}
    problems = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = parse_json(line)
        except ValueError as error:
            raise Malformed(f"{harness}: line {number} is not JSON ({error}): {line.rstrip()}")
        fields = dict(value.pairs) if isinstance(value, _Object) else None
        if fields is None or not isinstance(fields.get("name"), str):
            raise Malformed(f"{harness}: line {number} is not an object with a name: {line.rstrip()}")
        name = fields["name"]
        for flag in FLAGS:
            if not isinstance(fields.get(flag), bool):
                raise Malformed(f"{harness}: {name}: {flag} is missing or not a boolean")
        if "read" not in fields:
            raise Malformed(f"{harness}: {name}: read is missing")
        if "contentless" in fields and not isinstance(fields["contentless"], bool):
            raise Malformed(f"{harness}: {name}: contentless is not a boolean")
        if name in results:
            problems.append((name, "result", "given twice"))
        results[name] = fields
    return results, problems


def outcome(fields):
    """An acceptable outcome, `expect` or `also_allowed`, as a plain dict."""
    if not isinstance(fields, _Object):
        raise Malformed(f"an outcome is not an object: {show(fields)}")
    plain = dict(fields.pairs)
    for flag in ("active", "suppressed"):
        if not isinstance(plain.get(flag), bool):
            raise Malformed(f"an outcome without a boolean {flag}: {show(fields)}")
    return plain


def differences(want, got, ordered):
    """The fields in which a result differs from one acceptable outcome."""
    found = []
    if "read" in want and not json_equal(want["read"], got["read"], ordered):
        found.append(("read", show(got["read"]), show(want["read"])))
    for flag in ("active", "suppressed"):
        if want[flag] != got[flag]:
            found.append((flag, show(got[flag]), show(want[flag])))
    return found


def judge(vector, got, ordered):
    """Every mismatch of one vector's result, as (field, message)."""
    found = []
    empty = _Object([])
    if not got["present"]:
        found.append(("present", "got false: bytes always make a present marker"))
    if got["read"] is None:
        found.append(("read", "got null: bytes always make a present marker"))
    flags = {flag: got[flag] for flag in FLAGS}
    if flags["active"] != (flags["present"] and not flags["epoch_stale"] and not flags["expired"]):
        found.append(("active", f"inconsistent verdict {show(flags)}: active must be present and neither epoch_stale nor expired"))
    if flags["suppressed"] and not flags["active"]:
        found.append(("suppressed", f"inconsistent verdict {show(flags)}: only an active marker is suppressed"))
    if not flags["present"] and (flags["epoch_stale"] or flags["expired"]):
        found.append(("present", f"inconsistent verdict {show(flags)}: an absent marker is neither stale nor expired"))

    expect = outcome(vector["expect"])
    python_only = "read_python_json" in expect
    candidates = [] if python_only else [("expect", expect)]
    if "also_allowed" in vector:
        candidates.append(("also_allowed", outcome(vector["also_allowed"])))
    if not candidates:
        raise Malformed("an expectation with read_python_json and no also_allowed")
    misses = [(label, differences(want, got, ordered)) for label, want in candidates]
    if all(diffs for _, diffs in misses):
        for label, diffs in misses:
            for field, have, want in diffs:
                found.append((field, f"got {have}, want {want} ({label})"))
    if python_only and not json_equal(got["read"], empty):
        found.append(("read", f"got {show(got['read'])}, want {{}}: Python-only JSON reads as contentless in every binding"))
    if "reference_raises" in vector:
        if not json_equal(got["read"], empty):
            found.append(("read", f"got {show(got['read'])}, want {{}}: the original raised, the contract reads contentless"))
        if got.get("contentless") is False:
            found.append(("contentless", "got false, want true: the original raised, the contract reads contentless"))
    if got.get("contentless") is True and not json_equal(got["read"], empty):
        found.append(("contentless", f"got true with read {show(got['read'])}: a contentless marker reads as {{}}"))
    return found


def match(vectors, loaded, ordered):
    """Every mismatch of a harness's results, as (vector, field, message)."""
    results, found = loaded
    found = list(found)
    for name in results:
        if name not in vectors:
            found.append((name, "name", "a result for a vector the file does not have"))
    for name, vector in vectors.items():
        got = results.get(name)
        if got is None:
            found.append((name, "missing", "the harness gave no result for this vector"))
            continue
        found.extend((name, field, message) for field, message in judge(vector, got, ordered))
    return found


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", default=str(VECTORS), help="the vector file (default: %(default)s)")
    parser.add_argument("--unordered-keys", action="store_true", help="object keys need not be in order")
    parser.add_argument("harness", help="the harness's name, for messages")
    parser.add_argument("results", help="a file of JSON lines, or - for standard input")
    args = parser.parse_args(argv)
    self_test()
    try:
        vectors = load_vectors(args.vectors)
        if args.results == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(args.results, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        mismatches = match(vectors, load_results(lines, args.harness), not args.unordered_keys)
    except (Malformed, OSError) as error:
        print(f"match.py: {error}", file=sys.stderr)
        return 2
    for name, field, message in mismatches:
        print(f"{args.harness}: {name}: {field}: {message}")
    bad = len({name for name, _, _ in mismatches})
    if mismatches:
        print(f"match.py: {args.harness}: {bad} of {len(vectors)} vectors do not match ({args.vectors})")
        return 1
    print(f"match.py: {args.harness}: all {len(vectors)} vectors match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
