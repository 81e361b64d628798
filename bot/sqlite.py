"""sqlite-utils, loaded without numpy.

sqlite-utils imports numpy when it is installed (matplotlib brings it, for the /stats chart),
only to accept numpy values in inserts, which this bot never makes; that import costs ~50 ms
and ~10 MiB of every start. numpy is hidden while sqlite-utils loads; the chart imports it
later as usual. Import sqlite-utils from here (`from bot.sqlite import sqlite_utils`).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def _without_numpy() -> ModuleType:
    if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
        return importlib.import_module("sqlite_utils")
    sys.modules["numpy"] = None  # type: ignore[assignment]  # makes `import numpy` fail
    try:
        return importlib.import_module("sqlite_utils")
    finally:
        del sys.modules["numpy"]


sqlite_utils = _without_numpy()
