"""Must FAIL mypy --strict (scripts/test-wheel): the shim's names are typed, not Any."""

import gateway.drain_control as dc

dc.drain_requestd()  # a misspelt name
wrong: str = dc.drain_requested()  # a bool is no str
