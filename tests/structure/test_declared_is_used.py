"""Nothing is declared that the code does not use: every setting is read (or marked reserved, with the reason)
and every runtime dependency is imported (or named here with what uses it)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from noc.core.settings import RESERVED, Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "noc").rglob("*.py"), *(ROOT / "collectors").rglob("*.py")]
INDIRECT = {
    "psycopg": "SQLAlchemy's PostgreSQL driver (postgresql+psycopg:// URLs)",
    "email-validator": "pydantic's EmailStr (subscribers' e-mail addresses)",
    "python-multipart": "FastAPI's multipart parsing (measurement file uploads)",
    "kombu": "Celery's Redis transport, pinned for its restore sweep interval (noc.scaleout.app.RESTORE_EVERY_S)",
}
IMPORT_NAMES = {"pyyaml": "yaml", "prometheus-client": "prometheus_client", "influxdb-client": "influxdb_client",
                "pydantic-settings": "pydantic_settings", "fpdf2": "fpdf"}


def attribute_names() -> set[str]:
    """Every ``x.name`` read anywhere (a setting's field definition is no attribute access)."""
    names: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


def imported_packages() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_every_setting_is_read_or_reserved() -> None:
    used = attribute_names()
    unused = [name for name, info in Settings.model_fields.items()
              if name not in used and not (info.description or "").startswith(RESERVED)]
    assert unused == []


def test_every_dependency_is_imported() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.split(r"[<>=\[ ;]", spec, maxsplit=1)[0].lower() for spec in declared]
    imported = imported_packages()
    unused = [n for n in names if n not in INDIRECT and IMPORT_NAMES.get(n, n.replace("-", "_")) not in imported]
    assert unused == []
