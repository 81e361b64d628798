"""Optional packages that the HTTP stack looks for on every request are installed."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.mark.parametrize(
    ("module", "why"),
    [
        ("sniffio", "httpcore imports it for every request; a failed import searches sys.path"),
        ("Stemmer", "snowballstemmer's C backend: the same stems, fifteen times faster"),
    ],
)
def test_optional_speed_ups_are_installed(module: str, why: str) -> None:
    assert importlib.util.find_spec(module) is not None, why


def test_sqlite_utils_loads_without_numpy_and_numpy_still_imports_later() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.storage, sqlite_utils.db as d; assert 'numpy' not in sys.modules; "
        "assert d.np is None; import numpy; print(numpy.int64(7) + 1)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "8"
