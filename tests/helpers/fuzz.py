"""Hypothesis profiles for the fuzzers and property tests: a short run in `make test`, a long one in `make fuzz`.

`HYPOTHESIS_PROFILE=fuzz` (what `make fuzz` sets) runs each fuzzer for `SAMVAD_FUZZ_EXAMPLES` inputs (default
200,000); the default profile keeps all of them together at about a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from hypothesis import HealthCheck, settings

# In CI (CI=true) the examples are derived from each test's name, so a run tries the same inputs every time and
# a submission lands or not on its own code; `make fuzz` and local runs keep exploring new inputs.
settings.register_profile(
    "default",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
    derandomize=os.environ.get("CI", "").lower() in ("1", "true"),
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("SAMVAD_FUZZ_EXAMPLES", "200000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def examples(share: float = 1.0) -> int:
    """How many inputs a fuzzer tries: the profile's number, scaled for fuzzers that are slower per input."""
    return max(20, int(settings.default.max_examples * share))


def finishes(code: str, timeout_s: float = 60.0) -> None:
    """Run `code` in a fresh interpreter and fail if it does not finish in `timeout_s`.

    In another process because a regex that backtracks holds the interpreter: a thread could not be stopped.
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout_s, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
