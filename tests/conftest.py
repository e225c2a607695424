"""Shared test settings: hypothesis profiles for the property tests against PyTorch.

CI runs a modest number of examples per property (60), derandomized: the same examples on every run, so a
red CI is reproducible and never a roll of the dice (a failure found by a deep run is added as an @example);
`CNNCALC_DEEP=1 python -m pytest
tests/test_properties.py` runs the deep profile: 4,000 examples per property, 28,000 in all,
about 5 minutes on one core.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, print_blob=True, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=4000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("deep" if os.environ.get("CNNCALC_DEEP") == "1" else os.environ.get("HYPOTHESIS_PROFILE", "ci"))
