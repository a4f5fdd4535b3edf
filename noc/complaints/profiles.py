"""Rule profiles as data: how a regulator's method judges a measurement campaign (``profiles/*.yaml``).

A profile says when a campaign is valid (how many measurements, over which days, how far apart, outside which
hours, over LAN only) and which criteria compare the measured speeds with the package's maximum, normally
available and minimum speeds. The built-in files are ``si-akos`` (the default) and ``de-bnetza-2021``; files in
``NOC_COMPLAINT_PROFILES_DIR`` replace a built-in profile of the same name or add new ones. A profile that
cannot be used is refused when it is loaded, the message naming the file and the key.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from collectors.strict_yaml import ConfigError, StrictModel, read_yaml, validate_model

BUILT_IN = Path(__file__).with_name("profiles")
DEFAULT_PROFILE = "si-akos"
Speed = Literal["maximum", "normal", "minimum"]
SPEED_NAMES = {"maximum": "maximum", "normal": "normally available", "minimum": "minimum"}


class ProfileError(ConfigError):
    """A rule profile that cannot be used; the message names the file and the key of each problem."""


def clock(value: Any) -> Any:
    """A local time of day written ``"HH:MM"`` (quoted: unquoted YAML reads 19:00 as the number 1140)."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and (m := re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)):
        hour, minute = int(m[1]), int(m[2])
        if hour <= 24 and minute <= 59 and (hour, minute) <= (24, 0):
            return time(0, 0) if hour == 24 else time(hour, minute)
        raise ValueError(f"{value!r} is not a time of day (00:00 .. 24:00)")
    raise ValueError("a local time of day written 'HH:MM' in quotes, e.g. '19:00'")


class Hours(StrictModel):
    """Local hours ``[start, end)``; an ``end`` of ``"24:00"`` (or ``"00:00"``) is midnight."""

    start: time
    end: time

    _clock = field_validator("start", "end", mode="before")(clock)

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.end != time(0) and self.end <= self.start:
            raise ValueError(f"end ({self.end:%H:%M}) must be after start ({self.start:%H:%M})")
        return self

    def contains(self, at: time) -> bool:
        """Whether the local time ``at`` lies inside."""
        return self.start <= at and (self.end == time(0) or at < self.end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{'24:00' if self.end == time(0) else f'{self.end:%H:%M}'}"


class Campaign(StrictModel):
    """When a set of measurements is a valid campaign."""

    measurements: int = Field(ge=1, le=1000, description="counted measurements needed")
    within_days: int = Field(ge=1, le=366, description="all counted ones within this many local calendar days")
    min_spacing_minutes: int = Field(0, ge=0, le=1440, description="from the previous counted measurement")
    days: int = Field(1, ge=1, le=366, description="local days with at least per_day counted measurements")
    per_day: int = Field(1, ge=1, le=1000)
    day_gap: int = Field(0, ge=0, le=30, description="whole calendar days between two measurement days")
    excluded_hours: tuple[Hours, ...] = ()
    lan_only: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        if self.days * self.per_day > self.measurements:
            raise ValueError(f"measurements ({self.measurements}) must be at least days × per_day "
                             f"({self.days} × {self.per_day})")
        if self.days + (self.days - 1) * self.day_gap > self.within_days:
            raise ValueError(f"days ({self.days}) with day_gap ({self.day_gap}) do not fit within_days "
                             f"({self.within_days})")
        return self


class _Criterion(StrictModel):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    description: str = ""
    speed: Speed
    share: float = Field(1.0, gt=0, le=1.5, description="share of the package's speed that counts as reached")


class Average(_Criterion):
    """The mean of the counted measurements reaches ``share`` × speed."""

    test: Literal["average"]


class ShareReaching(_Criterion):
    """At least ``min_share`` of the counted measurements reach ``share`` × speed."""

    test: Literal["share_reaching"]
    min_share: float = Field(gt=0, le=1)


class DaysReaching(_Criterion):
    """On at least ``min_days`` measurement days, some measurement reaches ``share`` × speed."""

    test: Literal["days_reaching"]
    min_days: int = Field(ge=1, le=366)


class DaysUndercut(_Criterion):
    """Measurements below ``share`` × speed fall on at most ``max_days`` measurement days."""

    test: Literal["days_undercut"]
    max_days: int = Field(ge=0, le=366)


Criterion = Annotated[Average | ShareReaching | DaysReaching | DaysUndercut, Field(discriminator="test")]


class Attribution(StrictModel):
    """How noc names the most likely cause (noc's own judgement, not the regulator's)."""

    congestion_utilization: float = Field(0.70, gt=0, le=1)
    congestion_share: float = Field(0.5, gt=0, le=1)
    health_window_minutes: int = Field(10, ge=1, le=240)
    wifi_ratio: float = Field(0.5, gt=0, lt=1)


class Profile(StrictModel):
    """One regulator's method."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    title: str = Field(min_length=1, max_length=200)
    timezone: str = "Europe/Ljubljana"
    campaign: Campaign
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    attribution: Attribution = Attribution()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name like Europe/Ljubljana)") from None
        return value

    @model_validator(mode="after")
    def _unique(self) -> Profile:
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError("criteria: names must be unique")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The time zone whose local days and hours the method speaks of."""
        return ZoneInfo(self.timezone)


def load_profile(path: Path) -> Profile:
    """Read one profile file; its ``name`` must match the file name. Raises :class:`ProfileError`."""
    profile = validate_model(Profile, read_yaml(path, ProfileError), path, ProfileError)
    if profile.name != path.stem:
        raise ProfileError(f"{path}: name: {profile.name!r} must match the file name ({path.stem!r})")
    return profile


def load_profiles(directory: Path | None = None) -> dict[str, Profile]:
    """The built-in profiles, replaced or added to by every ``*.yaml`` in ``directory``."""
    files = {p.stem: p for p in sorted(BUILT_IN.glob("*.yaml"))}
    if directory is not None:
        if not directory.is_dir():
            raise ProfileError(f"{directory}: not a directory of rule profiles")
        files.update({p.stem: p for p in sorted(directory.glob("*.yaml"))})
    return {name: load_profile(path) for name, path in files.items()}


@cache
def _cached(directory: Path | None, stamp: tuple[float, ...]) -> dict[str, Profile]:
    return load_profiles(directory)


def profiles_in_force(directory: Path | None) -> dict[str, Profile]:
    """:func:`load_profiles`, read again when a file in ``directory`` changes."""
    stamp: tuple[float, ...] = ()
    if directory is not None and directory.is_dir():
        stamp = tuple(p.stat().st_mtime for p in sorted(directory.glob("*.yaml")))
    return _cached(directory, stamp)
