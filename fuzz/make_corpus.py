#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/<target>/) from the shared
vectors (tests/vectors/contract-vectors.json) and the timestamp table of
tests/timestamp/tables.rs. Run from anywhere; the files are named by their SHA-1, so
running it again adds nothing new. The input layouts are those the targets decode."""

import base64
import hashlib
import json
import re
import struct
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = json.loads((ROOT / "tests/vectors/contract-vectors.json").read_text())["vectors"]
EPOCH = "0c3a9c5e-0d47-4d3b-9a11-0b5f5e1d6a3e:1234"  # the classify target's fixed epoch


def save(target: str, data: bytes) -> None:
    folder = ROOT / "fuzz" / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def micros(text: str) -> int:
    when = datetime.fromisoformat(text)
    return round(when.timestamp() * 1_000_000)


def classify_seeds() -> None:
    for vector in VECTORS:
        marker = base64.b64decode(vector["marker_b64"])
        if len(marker) > 4096:  # the deep-nesting vectors: the fuzzer makes its own
            continue
        epoch = vector["current_epoch"].encode()
        now = micros(vector["now"])
        # mode 2|8: the vector's own epoch and clock, as the vectors judge it.
        if len(epoch) < 64:
            save("classify", bytes([2 | 8, len(epoch)]) + epoch + struct.pack("<q", now) + marker)
        # mode 1: the fixed epoch, the clock near the marker's requested_at.
        save("classify", bytes([1]) + struct.pack("<q", 0) + marker)


    # Expired markers whose principal is hostile (a string, a list holding a C1
    # control and a line separator): the warning must escape them.
    for principal in ("evil\nWARNING forged\x1b[31m", ["x\u0085y\u2028z", {"k": "\u2029"}]):
        body = {"requested_at": "2000-01-01T00:00:00+00:00", "principal": principal}
        save("classify", bytes([1]) + struct.pack("<q", 1_000_000) + json.dumps(body, ensure_ascii=False).encode())


def timestamp_seeds() -> None:
    source = (ROOT / "tests/timestamp/tables.rs").read_text()
    strings = set(re.findall(r'^\s*\("([^"\\]*)", ', source, re.M))
    for vector in VECTORS:
        try:
            body = json.loads(base64.b64decode(vector["marker_b64"]))
        except (ValueError, RecursionError):
            continue
        if isinstance(body, dict) and isinstance(body.get("requested_at"), str):
            strings.add(body["requested_at"])
    for text in sorted(strings):
        save("timestamp", text.encode())
    for instant in (0, -1, 1_795_773_600_250_000, -62_135_596_800_000_000, 253_402_300_799_999_999):
        save("timestamp", struct.pack("<q", instant))


def c_abi_seeds() -> None:
    def op(code: int, *parts: bytes) -> bytes:
        return bytes([code]) + b"".join(parts)

    def sized(data: bytes) -> bytes:
        return bytes([len(data)]) + data

    buffers = [bytes([0, 0]), bytes([0, 200]), bytes([4, 8]), bytes([1, 0]), bytes([2 | 8, 10]), bytes([16, 3])]
    for vector in VECTORS[:40]:
        marker = base64.b64decode(vector["marker_b64"])
        if len(marker) > 255:
            continue
        epoch = vector["current_epoch"].encode()[:48]
        now = struct.pack("<q", micros(vector["now"]))
        save("c_abi", op(0, b"\0", sized(marker), sized(epoch), now) + op(1, sized(marker), buffers[1]))
        save("c_abi", op(9, b"\1", sized(marker)) + op(8, b"\1") + op(6, b"\1", buffers[1]))
    for home in range(8):
        save("c_abi", op(4, bytes([home]), b"\4", sized(b"dash\nboard\x1b[31m")) + op(6, bytes([home]), buffers[2])
             + op(8, bytes([home])) + op(5, bytes([home]), b"\0"))
    save("c_abi", op(4, b"\0", b"\0", sized(b"\xff\xfe not utf-8")) + op(4, b"\1", b"\1", sized(b"x")))
    save("c_abi", op(2, sized(b"/srv/home/")) + buffers[0] + op(2, sized(b"\xff/x")) + buffers[1])
    save("c_abi", op(3, struct.pack("<I", 6)) + op(3, struct.pack("<I", 0xFFFFFFFF)) + op(7) + buffers[4] + op(10))


if __name__ == "__main__":
    classify_seeds()
    timestamp_seeds()
    c_abi_seeds()
    for target in ("classify", "timestamp", "c_abi"):
        count = len(list((ROOT / "fuzz" / "corpus" / target).iterdir()))
        print(f"fuzz/corpus/{target}: {count} files")
