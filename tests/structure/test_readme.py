"""The README's configuration table is the settings as the code declares them."""

from __future__ import annotations

import re
from pathlib import Path

from noc.core.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_with_its_description() -> None:
    rows = dict(re.findall(r"^\| `NOC_([A-Z0-9_]+)` \| [^|]+ \| (.+) \|$", README.read_text(), re.MULTILINE))
    assert set(rows) == {name.upper() for name in Settings.model_fields}
    for name, info in Settings.model_fields.items():
        described = (info.description or "").replace(" (mode 0600)", "")
        assert rows[name.upper()].replace(" (mode 0600)", "").startswith(described.split(";")[0]), name
