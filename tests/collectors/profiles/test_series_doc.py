"""docs/series.md lists exactly what the shipped profiles write."""

from __future__ import annotations

import re
from pathlib import Path

from collectors.snmp.profiles import available_profiles, load_profile

DOC = Path(__file__).parents[3] / "docs" / "series.md"


def test_every_profile_measurement_and_field_is_documented() -> None:
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", DOC.read_text(), re.MULTILINE)}
    for name in available_profiles():
        for measurement, (tags, fields) in load_profile(name).series_schema().items():
            assert measurement in rows, f"{measurement} (profile {name}) missing from docs/series.md"
            for item in (*tags, *fields):
                assert f"`{item}`" in rows[measurement], f"{measurement}.{item} missing from docs/series.md"
