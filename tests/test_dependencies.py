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
