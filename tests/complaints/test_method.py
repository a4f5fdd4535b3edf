"""The regulator's method on hand-built measurement sets, for both built-in profiles: valid and invalid campaigns
(each validity rule failing alone), each criterion failing alone, download and upload judged apart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import pytest

from noc.complaints.method import Sample, Speeds, judge
from noc.complaints.profiles import Profile, load_profiles

PROFILES = load_profiles()
AKOS, BNETZA = PROFILES["si-akos"], PROFILES["de-bnetza-2021"]
DAY1 = date(2027, 3, 8)  # a Monday
SPEEDS = Speeds(download={"maximum": 100.0, "normal": 80.0, "minimum": 50.0},
                upload={"maximum": 40.0, "normal": 32.0, "minimum": 20.0})


def samples(profile: Profile, spec: Sequence[tuple[date, str, float, float] | tuple[date, str, float, float, str]]
            ) -> list[Sample]:
    """Samples from (local day, "HH:MM", download, upload[, medium]) in the profile's zone."""
    out = []
    for n, item in enumerate(spec, start=1):
        day, clock, down, up, *rest = item
        local = datetime.combine(day, time.fromisoformat(clock), profile.zone)
        out.append(Sample(n, f"O{n:08d}-0000-4000-8000-000000000000", local.astimezone(profile.zone), local, down,
                          up, 10.0, rest[0] if rest else "lan"))
    return out


def akos(downs: Sequence[float] = (101,) * 5, ups: Sequence[float] = (41,) * 5,
         days: Sequence[int] = (0, 1, 2, 3, 4), clocks: Sequence[str] = ("10:00",) * 5,
         media: Sequence[str] = ("lan",) * 5) -> list[Sample]:
    return samples(AKOS, [(DAY1 + timedelta(days=d), c, dn, u, m)
                          for d, c, dn, u, m in zip(days, clocks, downs, ups, media, strict=True)])


def failing(profile: Profile, items: list[Sample]) -> list[str]:
    return [c.rule for c in judge(items, profile, SPEEDS).campaign.checks if not c.ok]


# --- si-akos: campaign ---------------------------------------------------------------------------------------


def test_akos_valid_campaign() -> None:
    result = judge(akos(), AKOS, SPEEDS)
    assert result.campaign.valid and result.campaign.missing == [] and result.campaign.set_aside == {}
    assert result.verdict == "no_discrepancy"


def test_akos_too_few_measurements_says_how_many_more() -> None:
    items = akos(downs=(101,) * 3, ups=(41,) * 3, days=(0, 1, 2), clocks=("10:00",) * 3, media=("lan",) * 3)
    result = judge(items, AKOS, SPEEDS)
    assert failing(AKOS, items) == ["measurements"]
    assert result.campaign.missing == ["2 more measurements"]
    assert result.verdict == "insufficient_evidence"
    assert "over LAN" in result.campaign.conditions and "outside 19:00–21:00" in result.campaign.conditions
    assert result.campaign.conditions.endswith(f"by {DAY1 + timedelta(days=4)}")


def test_akos_span_longer_than_five_days_fails_alone() -> None:
    items = akos(days=(0, 1, 2, 3, 5))
    assert failing(AKOS, items) == ["within_days"]
    assert "span 6 days" in judge(items, AKOS, SPEEDS).campaign.missing[0]


def test_akos_measurements_within_an_hour_do_not_both_count() -> None:
    items = akos(days=(0, 0, 1, 2, 3), clocks=("10:00", "10:59", "10:00", "10:00", "10:00"))
    result = judge(items, AKOS, SPEEDS)
    assert result.campaign.set_aside == {2: "too_close"}
    assert failing(AKOS, items) == ["measurements"] and result.campaign.missing == ["1 more measurement"]
    assert judge(akos(days=(0, 0, 1, 2, 3), clocks=("10:00", "11:00", "10:00", "10:00", "10:00")),
                 AKOS, SPEEDS).campaign.valid  # exactly an hour is enough


def test_akos_peak_hours_do_not_count() -> None:
    items = akos(clocks=("10:00", "19:00", "20:59", "21:00", "18:59"))
    result = judge(items, AKOS, SPEEDS)
    assert result.campaign.set_aside == {2: "excluded_hours", 3: "excluded_hours"}
    assert failing(AKOS, items) == ["measurements"] and result.campaign.missing == ["2 more measurements"]


def test_akos_wifi_measurements_do_not_count() -> None:
    items = akos(media=("lan", "wlan", "lan", "lan", "lan"))
    result = judge(items, AKOS, SPEEDS)
    assert result.campaign.set_aside == {2: "not_lan"}
    assert failing(AKOS, items) == ["measurements"]


# --- si-akos: criteria ---------------------------------------------------------------------------------------


def verdicts(profile: Profile, items: list[Sample]) -> dict[tuple[str, str], str]:
    return {(r.name, r.direction): r.verdict for r in judge(items, profile, SPEEDS).criteria}


def test_akos_maximum_never_reached_fails_alone() -> None:
    found = verdicts(AKOS, akos(downs=(95,) * 5))
    assert found[("maximum_reached", "download")] == "not_met"
    assert [k for k, v in found.items() if v != "met"] == [("maximum_reached", "download")]


def test_akos_average_below_normally_available_fails_alone() -> None:
    items = akos(downs=(100, 60, 60, 70, 70))
    result = judge(items, AKOS, SPEEDS)
    found = {(r.name, r.direction): r for r in result.criteria}
    average = found[("normally_available_average", "download")]
    assert (average.verdict, average.value, average.threshold_mbps) == ("not_met", 72.0, 80.0)
    assert average.measurements == [1, 2, 3, 4, 5]
    assert [k for k, r in found.items() if r.verdict != "met"] == [("normally_available_average", "download")]
    assert result.verdict == "discrepancy" and result.directions == {"download": "discrepancy",
                                                                    "upload": "no_discrepancy"}


def test_akos_one_measurement_below_minimum_fails_alone() -> None:
    result = judge(akos(downs=(100, 100, 100, 100, 45)), AKOS, SPEEDS)
    bad = [r for r in result.criteria if r.verdict != "met"]
    assert [(r.name, r.direction, r.measurements) for r in bad] == [("minimum_never_undercut", "download", [5])]


def test_akos_upload_is_judged_apart_from_download() -> None:
    result = judge(akos(ups=(40, 25, 25, 30, 30)), AKOS, SPEEDS)
    bad = [(r.name, r.direction) for r in result.criteria if r.verdict != "met"]
    assert bad == [("normally_available_average", "upload")]
    assert result.directions == {"download": "no_discrepancy", "upload": "discrepancy"}


def test_akos_exactly_the_threshold_counts_as_reached() -> None:
    assert judge(akos(downs=(100, 80, 80, 60, 80)), AKOS, SPEEDS).verdict == "no_discrepancy"  # average 80.0


# --- de-bnetza-2021: campaign --------------------------------------------------------------------------------


def bnetza(days: Sequence[int] = (0, 2, 4), per_day: Sequence[int] = (10, 10, 10),
           down: dict[tuple[int, int], float] | None = None, up: dict[tuple[int, int], float] | None = None,
           minutes: int = 10, media: dict[tuple[int, int], str] | None = None) -> list[Sample]:
    """Measurements every ``minutes`` from 09:00 on each day; (day index, measurement index) → speed overrides."""
    spec = []
    for k, (d, count) in enumerate(zip(days, per_day, strict=True)):
        for i in range(count):
            at = datetime.combine(DAY1, time(9)) + timedelta(days=d, minutes=i * minutes)
            spec.append((at.date(), at.strftime("%H:%M"), (down or {}).get((k, i), 95.0),
                         (up or {}).get((k, i), 38.0), (media or {}).get((k, i), "lan")))
    return samples(BNETZA, spec)


def test_bnetza_valid_campaign() -> None:
    result = judge(bnetza(), BNETZA, SPEEDS)
    assert result.campaign.valid and result.verdict == "no_discrepancy"


def test_bnetza_short_third_day_says_what_is_missing() -> None:
    items = bnetza(per_day=(10, 10, 8))
    result = judge(items, BNETZA, SPEEDS)
    assert result.campaign.missing == [f"2 more measurements on the third day ({DAY1 + timedelta(days=4)})"]
    assert failing(BNETZA, items) == ["measurements", "days"]
    two_days = judge(bnetza(days=(0, 2), per_day=(10, 10)), BNETZA, SPEEDS)
    assert two_days.campaign.missing == ["10 measurements on a third day"]


def test_bnetza_more_than_fourteen_days_fails_alone() -> None:
    assert failing(BNETZA, bnetza(days=(0, 2, 14))) == ["within_days"]
    assert failing(BNETZA, bnetza(days=(0, 2, 13))) == []


def test_bnetza_measurement_days_need_a_day_between() -> None:
    items = bnetza(days=(0, 1, 3))
    assert failing(BNETZA, items) == ["day_gap"]
    assert judge(items, BNETZA, SPEEDS).campaign.missing == [
        f"1 day between {DAY1} and {DAY1 + timedelta(days=1)}: measure on other days"]


def test_bnetza_measurements_closer_than_five_minutes_do_not_both_count() -> None:
    items = bnetza(minutes=4)
    result = judge(items, BNETZA, SPEEDS)
    assert set(result.campaign.set_aside.values()) == {"too_close"}
    assert not result.campaign.valid
    assert judge(bnetza(minutes=5), BNETZA, SPEEDS).campaign.valid


def test_bnetza_only_lan_counts() -> None:
    result = judge(bnetza(media={(1, 3): "wlan"}), BNETZA, SPEEDS)
    assert list(result.campaign.set_aside.values()) == ["not_lan"]
    assert result.campaign.missing == [f"1 more measurement on the second day ({DAY1 + timedelta(days=2)})"]


# --- de-bnetza-2021: criteria --------------------------------------------------------------------------------


def test_bnetza_ninety_percent_of_maximum_on_one_day_only_fails_alone() -> None:
    down = {(k, i): 85.0 for k in range(3) for i in range(10)}
    down[(0, 0)] = 95.0
    found = verdicts(BNETZA, bnetza(down=down))
    assert [k for k, v in found.items() if v != "met"] == [("maximum_90_on_two_days", "download")]
    down[(1, 5)] = 90.0  # exactly 90 % of the maximum on a second day
    assert all(v == "met" for v in verdicts(BNETZA, bnetza(down=down)).values())


def test_bnetza_normally_available_in_fewer_than_ninety_percent_fails_alone() -> None:
    down = {(k, i): 70.0 for k in range(3) for i in range(4)}
    found = verdicts(BNETZA, bnetza(down=down))
    assert [k for k, v in found.items() if v != "met"] == [("normally_available_in_90_percent", "download")]
    assert all(v == "met" for v in verdicts(BNETZA, bnetza(down={(0, 0): 70.0, (1, 0): 70.0, (2, 0): 70.0}))
               .values())  # 27 of 30 = 90 %


def test_bnetza_minimum_undercut_on_two_days_fails_alone() -> None:
    found = verdicts(BNETZA, bnetza(down={(0, 3): 45.0, (2, 7): 45.0}))
    assert [k for k, v in found.items() if v != "met"] == [("minimum_undercut_on_one_day_at_most", "download")]
    assert all(v == "met" for v in verdicts(BNETZA, bnetza(down={(0, 3): 45.0, (0, 7): 45.0})).values())


@pytest.mark.parametrize("name", ["maximum_90_on_two_days", "normally_available_in_90_percent",
                                  "minimum_undercut_on_one_day_at_most"])
def test_bnetza_upload_is_judged_apart(name: str) -> None:
    up = {"maximum_90_on_two_days": {(k, i): 34.0 for k in range(3) for i in range(10)},
          "normally_available_in_90_percent": {(k, i): 25.0 for k in range(3) for i in range(5)},
          "minimum_undercut_on_one_day_at_most": {(0, 1): 10.0, (1, 1): 10.0}}[name]
    result = judge(bnetza(up=up), BNETZA, SPEEDS)
    assert [(r.name, r.direction) for r in result.criteria if r.verdict != "met"] == [(name, "upload")]
    assert result.directions == {"download": "no_discrepancy", "upload": "discrepancy"}
