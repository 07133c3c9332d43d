"""Prints the isoformat table of tests/timestamp/tables.rs: Python's isoformat() of
aware UTC datetimes, as the original stamps requested_at. Run with CPython 3.11:
python3 tests/generators/isoformat_table.py
"""
from datetime import datetime, timedelta, timezone

UNIX = datetime(1970, 1, 1, tzinfo=timezone.utc)
FIRST = datetime(1, 1, 1, tzinfo=timezone.utc)
LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)


def micros(value):
    return (value - UNIX) // timedelta(microseconds=1)


INSTANTS = [
    0,
    1,
    -1,
    999_999,
    1_000_000,
    100_000,
    10,
    250_000,
    1_795_780_800_000_000,
    1_795_780_800_250_000,
    1_795_780_799_999_999,
    951_782_400_000_000,  # 2000-02-29
    951_868_799_999_999,  # 2000-02-29T23:59:59.999999
    -2_208_988_800_000_000,  # 1900-01-01
    -30_610_224_000_000_001,  # just before 1000-01-01
    micros(datetime(999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
    micros(datetime(99, 7, 4, 12, 30, 0, 5, tzinfo=timezone.utc)),
    micros(datetime(9, 1, 1, tzinfo=timezone.utc)),
    micros(FIRST),
    micros(FIRST) + 1,
    micros(LAST),
    micros(datetime(2024, 2, 29, 12, 0, 0, 10, tzinfo=timezone.utc)),
    micros(datetime(2038, 1, 19, 3, 14, 8, tzinfo=timezone.utc)),
]

for value in INSTANTS:
    text = (UNIX + timedelta(microseconds=value)).isoformat()
    print(f'    ({value}, "{text}"),')
