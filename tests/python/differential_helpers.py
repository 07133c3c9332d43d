"""What the differential tests share: ``test_differential_model.py`` (the wheel against
an executable model of the contract) and ``test_differential_original.py`` (the wheel
against the original module). The epochs they judge markers with, and the hypothesis
profile of their runs (thousands of examples: scripts/test-python runs both files,
scripts/test-wheel neither).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

EPOCHS = ["", "0f6d3c1e-7d1a-4c55-9a43-0f2b1e4b5c6d:1234", "other:1", "1727384428"]

settings.register_profile(
    "differential",
    max_examples=1500,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
DIFFERENTIAL = settings.get_profile("differential")
