"""Soft Landing: a Telegram assistant for newcomers (FI, SE, EE, LV)."""

import importlib
import sys

__version__ = "0.1.0"


def _import_sqlite_utils_without_numpy() -> None:
    """sqlite-utils imports numpy when it is installed (matplotlib brings it), only to accept
    numpy values in inserts, which this bot never makes; that import is ~50 ms of a 0.9 s
    start. Hide numpy while sqlite-utils loads; the statistics chart imports it later as usual.
    """
    if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # makes `import numpy` fail
    try:
        importlib.import_module("sqlite_utils")
    finally:
        del sys.modules["numpy"]


_import_sqlite_utils_without_numpy()
