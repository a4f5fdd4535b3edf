"""Capacity rules as data: the built-in defaults, per-kind and per-segment merging, strict validation."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from noc.capacity.rules import RULES_FILE, RulesError, RuleSet, load_rules, rules_for
from noc.inventory.enums import SEGMENT_KINDS

KINDS_EMPTY = {kind: {} for kind in SEGMENT_KINDS}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def rules_error(tmp_path: Path, data: Any) -> str:
    path = write(tmp_path, data)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_builtin_defaults_are_the_contract_for_every_kind() -> None:
    rules = load_rules()
    assert set(rules) == set(SEGMENT_KINDS)
    for ruleset in rules.values():
        assert ruleset.sustained.threshold == ruleset.busy_hour_p95.threshold == ruleset.forecast.threshold == 0.70
        assert ruleset.sustained.count == 3
        assert (ruleset.busy_hour_p95.start, ruleset.busy_hour_p95.end) == (time(19), time(23))
        assert (ruleset.busy_hour_p95.days, ruleset.busy_hour_p95.min_days) == (7, 3)
        assert (ruleset.forecast.history_days, ruleset.forecast.min_points, ruleset.forecast.lead_days) == (28, 14, 90)
        assert ruleset.clear_threshold == 0.65 and ruleset.timezone == "Europe/Ljubljana"
        assert ruleset == RuleSet()  # the models' defaults say the same as the file


def test_kind_keys_merge_over_common_key_by_key(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "common": {"sustained": {"threshold": 0.75, "count": 4}},
        "kinds": {**KINDS_EMPTY, "core": {"sustained": {"count": 6}, "busy_hour_p95": {"start": "18:00"}}},
    })
    rules = load_rules(path)
    assert rules["core"].sustained.model_dump() == {"threshold": 0.75, "count": 6}
    assert (rules["core"].busy_hour_p95.start, rules["core"].busy_hour_p95.end) == (time(18), time(23))
    assert rules["access"].sustained.model_dump() == {"threshold": 0.75, "count": 4}
    assert rules["access"].busy_hour_p95.start == time(19)


def test_segment_overrides_merge_over_the_kind() -> None:
    ruleset = rules_for("access", {"sustained": {"count": 6}, "clear_threshold": 0.6, "timezone": "Europe/Vienna"})
    assert ruleset.sustained.count == 6 and ruleset.sustained.threshold == 0.70
    assert ruleset.clear_threshold == 0.6 and ruleset.timezone == "Europe/Vienna"
    assert ruleset.busy_hour_p95 == load_rules()["access"].busy_hour_p95
    assert rules_for("access") == load_rules()["access"]  # no overrides: the kind's defaults
    assert rules_for("access", {}) == load_rules()["access"]


def test_overrides_use_the_given_defaults(tmp_path: Path) -> None:
    defaults = load_rules(write(tmp_path, {"kinds": {**KINDS_EMPTY, "core": {"forecast": {"lead_days": 180}}}}))
    assert rules_for("core", {"forecast": {"min_points": 20}}, defaults).forecast.model_dump() == {
        "threshold": 0.70, "history_days": 28, "min_points": 20, "lead_days": 180}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"sustained": {"cout": 6}}, "sustained.cout: Extra inputs are not permitted"),
    ({"sustained": {"count": 0}}, "sustained.count: Input should be greater than or equal to 1"),
    ({"busy_hour_p95": {"threshold": 1.5}}, "busy_hour_p95.threshold: Input should be less than or equal to 1"),
    ({"busy_hour_p95": {"min_days": 8}}, "busy_hour_p95: min_days (8) must not exceed days (7)"),
    ({"busy_hour_p95": {"end": "18:00"}}, "busy_hour_p95: end (18:00) must be after start (19:00)"),
    ({"busy_hour_p95": {"start": "25:00"}}, "busy_hour_p95.start: '25:00' is not a time of day"),
    ({"forecast": {"min_points": 30}}, "forecast: min_points (30) must not exceed history_days (28)"),
    ({"clear_threshold": 0.70}, "clear_threshold (0.7) must be below sustained.threshold (0.7)"),
    ({"sustained": {"threshold": 0.6}}, "clear_threshold (0.65) must be below sustained.threshold (0.6)"),
    ({"timezone": "Europe/Atlantis"}, "timezone: unknown time zone 'Europe/Atlantis'"),
    ({"sustained": 3}, "sustained: Input should be a valid dictionary"),
    ({"threshold": 0.8}, "threshold: Extra inputs are not permitted"),
    ({"sustained": {"threshold": "0.8"}}, "sustained.threshold: Input should be a valid number"),
    ({"sustained": {"count": True}}, "sustained.count: Input should be a valid integer"),
    ({"forecast": {"lead_days": 30.5}}, "forecast.lead_days: Input should be a valid integer"),
])
def test_invalid_overrides_name_the_field(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(RulesError) as info:
        rules_for("core", overrides)
    assert str(info.value).startswith("override (core segment): ") and expected in str(info.value)


def test_unknown_kind_and_non_mapping_override() -> None:
    with pytest.raises(RulesError, match="segment kind 'backbone'"):
        rules_for("backbone")
    with pytest.raises(RulesError, match=r"override \(core segment\): a mapping is required, not list"):
        rules_for("core", [("sustained", {})])  # type: ignore[arg-type]


@pytest.mark.parametrize(("data", "expected"), [
    ({"common": {"sustained": {"treshold": 0.7}}, "kinds": KINDS_EMPTY},
     "common.sustained.treshold: Extra inputs are not permitted"),
    ({"kinds": {**KINDS_EMPTY, "core": {"sustained": {"threshold": 0}}}},
     "kinds.core.sustained.threshold: Input should be greater than 0"),
    ({"kinds": {**KINDS_EMPTY, "core": {"forecast": {"lead_days": "soon"}}}},
     "kinds.core.forecast.lead_days: Input should be a valid integer"),
    ({"kinds": {**KINDS_EMPTY, "backbone": {}}}, "kinds.backbone: unknown segment kind"),
    ({"kinds": {"access": {}}}, "kinds: missing aggregation, core, international"),
    ({"kinds": {**KINDS_EMPTY, "core": ["sustained"]}}, "kinds.core: a mapping is required, not list"),
    ({"defaults": {}, "kinds": KINDS_EMPTY}, "defaults: unknown key"),
    ({"common": {}}, "kinds: a mapping is required, not NoneType"),
    ("- just\n- a list\n", "expected a mapping at the top level"),
    ("kinds: [unclosed\n", "invalid YAML"),
    # unquoted, YAML 1.1 reads 19:00 as the sexagesimal number 1140
    ("common:\n  busy_hour_p95:\n    start: 19:00\nkinds: {access: {}, aggregation: {}, core: {}, international: {}}\n",
     "common.busy_hour_p95.start: a local time of day written 'HH:MM' in quotes"),
])
def test_invalid_files_name_the_file_and_field(tmp_path: Path, data: Any, expected: str) -> None:
    assert expected in rules_error(tmp_path, data)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    message = rules_error(tmp_path, {"kinds": {**KINDS_EMPTY, "core": {"sustained": {"count": -1, "x": 1}}}})
    assert "kinds.core.sustained.count" in message and "kinds.core.sustained.x" in message


def test_missing_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "absent.yaml")


def test_builtin_file_is_next_to_the_module() -> None:
    assert RULES_FILE.name == "rules.yaml" and RULES_FILE.is_file()
