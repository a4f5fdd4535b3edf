"""Rule profiles as data: the built-in ones, an operator's correction without code, invalid ones refused by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from noc.complaints.profiles import BUILT_IN, ProfileError, load_profiles, profiles_in_force


def test_built_in_profiles_carry_the_methods_numbers() -> None:
    profiles = load_profiles()
    assert set(profiles) == {"si-akos", "de-bnetza-2021"}
    akos, bnetza = profiles["si-akos"].campaign, profiles["de-bnetza-2021"].campaign
    assert (akos.measurements, akos.within_days, akos.min_spacing_minutes) == (5, 5, 60)
    assert [str(h) for h in akos.excluded_hours] == ["19:00–21:00"]
    assert (bnetza.measurements, bnetza.days, bnetza.per_day, bnetza.within_days, bnetza.day_gap,
            bnetza.min_spacing_minutes, bnetza.lan_only) == (30, 3, 10, 14, 1, 5, True)
    assert [(c.test, c.speed, c.share) for c in profiles["de-bnetza-2021"].criteria] == [
        ("days_reaching", "maximum", 0.9), ("share_reaching", "normal", 1.0), ("days_undercut", "minimum", 1.0)]


def corrected(tmp_path: Path, old: str, new: str, name: str = "si-akos") -> Path:
    directory = tmp_path / "profiles"
    directory.mkdir(exist_ok=True)
    text = (BUILT_IN / f"{name}.yaml").read_text()
    assert old in text
    (directory / f"{name}.yaml").write_text(text.replace(old, new, 1))
    return directory


def test_an_operator_corrects_a_number_in_a_file(tmp_path: Path) -> None:
    directory = corrected(tmp_path, "measurements: 5 ", "measurements: 6 ")
    profiles = load_profiles(directory)
    assert profiles["si-akos"].campaign.measurements == 6
    assert profiles["de-bnetza-2021"].campaign.measurements == 30  # the other built-in stays
    assert profiles_in_force(directory)["si-akos"].campaign.measurements == 6


@pytest.mark.parametrize(("old", "new", "named"), [
    ("measurements: 5 ", "measurments: 5 ", "campaign.measurments: Extra inputs are not permitted"),
    ("within_days: 5 ", "within_days: -1 ", "campaign.within_days"),
    ('{start: "19:00", end: "21:00"}', '{start: "21:00", end: "19:00"}', "campaign.excluded_hours"),
    ('{start: "19:00", end: "21:00"}', "{start: 19:00, end: 21:00}", "campaign.excluded_hours"),
    ("test: average", "test: median", "criteria"),
    ("min_days: 1 ", "min_days: 0 ", "criteria[maximum_reached].days_reaching.min_days"),
    ("timezone: Europe/Ljubljana", "timezone: Europe/Lubljana", "timezone"),
    ("name: si-akos", "name: si-akos-2", "name"),
])
def test_an_invalid_profile_is_refused_naming_the_key(tmp_path: Path, old: str, new: str, named: str) -> None:
    directory = corrected(tmp_path, old, new)
    with pytest.raises(ProfileError) as caught:
        load_profiles(directory)
    assert str(directory / "si-akos.yaml") in str(caught.value)
    assert named in str(caught.value)


def test_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    directory = corrected(tmp_path, "  lan_only: true", "  lan_only: true\n  lan_only: false")
    with pytest.raises(ProfileError, match="duplicate key 'lan_only'"):
        load_profiles(directory)
