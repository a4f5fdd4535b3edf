"""dashboards/build.py as a module (it is a script outside the packages), and the files it generates."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"


@cache
def build_module() -> ModuleType:
    """dashboards/build.py, imported once."""
    spec = importlib.util.spec_from_file_location("dashboards_build", DASHBOARDS / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_dashboards() -> dict[str, dict[str, Any]]:
    """file name -> dashboard, as committed."""
    files = sorted((DASHBOARDS / "json").glob("*.json"))
    assert len(files) >= 6
    return {p.name: json.loads(p.read_text()) for p in files}


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside rows too."""
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))
