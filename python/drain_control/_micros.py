"""Times as the core takes them, whole microseconds (since the Unix epoch, or of an age),
from Python's datetimes, timedeltas and seconds, and back.

Private: the drop-in module imports it when it first hands a time to the core, not at
its own import. Each function imports ``datetime`` only when it needs it.
"""

# Neither ``from __future__ import annotations`` nor ``typing`` at run time (each is an
# import of its own): the annotations are strings, as in ``__init__.py``.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1


def unix_datetime(micros: int) -> "datetime":
    """The aware UTC datetime ``micros`` microseconds after the Unix epoch."""
    from datetime import datetime, timedelta, timezone

    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)


def unix_micros(now: "datetime") -> int:
    """``now`` in microseconds since the Unix epoch; a naive ``now`` is UTC."""
    from datetime import datetime, timedelta, timezone

    if now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=timezone.utc)
    return (now - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def age_micros(age: "Any", seconds: float) -> int:
    """An age (``now - requested_at``) in whole microseconds."""
    from datetime import timedelta

    if isinstance(age, timedelta):
        micros = age // timedelta(microseconds=1)
    else:
        micros = round(seconds * 1e6)
    return max(_I64_MIN, min(_I64_MAX, micros))


def max_age_micros(seconds: object) -> int:
    """A maximum age in seconds in microseconds, so that the core's rule "age > max"
    decides as the original's ``age <= DRAIN_REQUEST_MAX_AGE_SECONDS`` does: NaN
    expires every marker, infinity none; a value ``<=`` cannot compare with a float
    raises ``TypeError``."""
    value = None
    if not isinstance(seconds, (str, bytes, bytearray)):
        try:
            value = float(seconds)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    if value is None:
        raise TypeError(
            "'<=' not supported between instances of 'float' and "
            f"{type(seconds).__name__!r}"
        )
    if value != value:  # NaN: ``age <= nan`` is false, so every marker is expired
        return _I64_MIN
    from datetime import timedelta

    try:
        micros = timedelta(seconds=value) // timedelta(microseconds=1)
    except OverflowError:
        micros = _I64_MAX if value > 0 else _I64_MIN
    return max(_I64_MIN, min(_I64_MAX, micros))
