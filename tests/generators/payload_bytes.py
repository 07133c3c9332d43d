"""Prints the expected marker bytes for tests/payload.rs as Rust byte-string literals.

Run with CPython 3.11: python3 tests/generators/payload_bytes.py
Each case is (principal, suppress_notification, epoch, requested_at); the bytes are
what the original writes: json.dump(payload, indent=2, ensure_ascii=False), UTF-8.
"""
import json

CASES = [
    ("dashboard", False, "e29a6d62-5c88-4c3f-81b3-793f64f15787:24", "2026-11-27T12:00:00.250000+00:00"),
    ("drain-control", True, "", "2026-11-27T12:00:00+00:00"),
    ("Zoë 🚀 ünïcode 日本", False, "1727384428", "0999-01-01T00:00:00.000001+00:00"),
    ('say "hi" \\ back\\slash /', True, "b:1", "2026-11-27T12:00:00+00:00"),
    ("".join(chr(c) for c in range(0x20)), False, "c:2", "2026-11-27T12:00:00+00:00"),
    ("del\x7f nel\x85 ls\u2028 ps\u2029 bom\ufeff nbsp\xa0", False, "\u2028:\x7f", "2026-11-27T12:00:00+00:00"),
    ("", False, "", "1970-01-01T00:00:00+00:00"),
]


def rust_bytes(data: bytes) -> str:
    out = []
    for b in data:
        if b == 0x22:
            out.append('\\"')
        elif b == 0x5C:
            out.append("\\\\")
        elif b == 0x0A:
            out.append("\\n")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return 'b"' + "".join(out) + '"'


for principal, suppress, epoch, requested_at in CASES:
    payload = {
        "action": "drain",
        "requested_at": requested_at,
        "principal": principal,
        "epoch": epoch,
        "suppress_notification": suppress,
    }
    data = json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    print(f"    // principal {principal!r}")
    print(f"    {rust_bytes(data)},")
