"""Health policy: grading boundaries, rule selection, policy validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.samples import Sample
from collectors.strict_yaml import ConfigError
from noc.polling.health import Grade, load_health, summarize, worst

G, M, B = Grade.GOOD, Grade.MARGINAL, Grade.BAD
POLICY = load_health()
MAC = (("device", "cm1"), ("ifindex", "2"))


@pytest.mark.parametrize(
    ("rule", "value", "grade"),
    [
        ("ds_power", 0.0, G),
        ("ds_power", 7.0, G),
        ("ds_power", -7.0, G),
        ("ds_power", 7.1, M),
        ("ds_power", -15.0, M),
        ("ds_power", 15.0, M),
        ("ds_power", 15.1, B),
        ("ds_power", -15.1, B),
        ("ds_snr_qam256", 35.0, G),
        ("ds_snr_qam256", 34.9, M),
        ("ds_snr_qam256", 33.0, M),
        ("ds_snr_qam256", 32.9, B),
        ("ds_snr_qam64", 33.0, G),
        ("ds_snr_qam64", 30.0, M),
        ("ds_snr_qam64", 29.9, B),
        ("us_tx_power", 35.0, G),
        ("us_tx_power", 34.9, B),
        ("us_tx_power", 49.0, G),
        ("us_tx_power", 50.0, M),
        ("us_tx_power", 51.0, M),
        ("us_tx_power", 51.1, B),
        ("registration", "operational", G),
        ("registration", "rangingInProgress", B),
        ("ds_power", "n/a", B),
    ],
)
def test_grade_boundaries(rule: str, value: float | str, grade: Grade) -> None:
    assert POLICY.rule(rule).grade(value) is grade


def ds(channel: str, modulation: str, power: float, snr: float) -> Sample:
    fields = {"modulation": modulation, "power_dbmv": power, "snr_db": snr}
    return Sample("cm_downstream", (("device", "cm1"), ("channel", channel)), fields, 0)


def test_verdicts_pick_rules_by_measurement_and_when() -> None:
    samples = [
        ds("3", "qam256", -3.2, 34.0),
        ds("4", "qam64", 9.0, 31.0),
        ds("5", "unknown", 0.0, 10.0),  # no SNR rule for an unknown modulation
        Sample("cm_status", MAC, {"status_name": "operational", "tx_power_dbmv": 52.0}, 0),
        Sample("interface", MAC, {"power_dbmv": 99.0}, 0),  # not graded
    ]
    got = {(v.rule, v.tags[1][1], v.field): v.grade for v in POLICY.verdicts(samples)}
    assert got == {
        ("ds_power", "3", "power_dbmv"): G,
        ("ds_snr_qam256", "3", "snr_db"): M,
        ("ds_power", "4", "power_dbmv"): M,
        ("ds_snr_qam64", "4", "snr_db"): M,
        ("ds_power", "5", "power_dbmv"): G,
        ("us_tx_power", "2", "tx_power_dbmv"): B,
        ("registration", "2", "status_name"): G,
    }
    verdicts = POLICY.verdicts(samples)
    assert worst(verdicts) is B
    assert worst([G, M]) is M and worst([]) is None
    assert summarize(verdicts)["ds_power"] is M


def test_bad_policy_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "health.yaml"
    path.write_text(
        "rules:\n"
        "  - name: ds_power\n"
        "    measurements: [cm_downstream]\n"
        "    fields: [power_dbmv]\n"
        "    good: {min: -20, max: 7}\n"
        "    acceptable: {min: -15, max: 15}\n"
        "  - name: us\n"
        "    measurements: [cm_upstream]\n"
        "    fields: [tx_power_dbmv]\n"
        "    good: {min: 40, max: 35}\n"
        "    acceptable: {min: 35, max: 51}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_health(path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{path}: rules[ds_power]: good: must lie within acceptable"
    assert lines[1] == f"{path}: rules[us].good: min 40.0 is above max 35.0"
