"""Health grading of readings (good / marginal / bad) against a policy kept as data.

Grading is polling's policy, not a device profile: the default is ``health.yaml`` beside this module (cable
modem RF ranges); an operator passes their own file to :func:`load_health`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from collectors.samples import FieldValue, Sample
from collectors.snmp.profiles import Identifier
from collectors.strict_yaml import StrictModel, read_yaml, validate_model

DEFAULT_HEALTH = Path(__file__).with_name("health.yaml")


class Grade(StrEnum):
    """How healthy a reading is; compare with :attr:`rank` (higher is worse)."""

    GOOD = "good"
    MARGINAL = "marginal"
    BAD = "bad"

    @property
    def rank(self) -> int:
        """0 for good, 1 for marginal, 2 for bad."""
        return _RANK[self]


_RANK = {grade: n for n, grade in enumerate(Grade)}


class Bounds(StrictModel):
    """An inclusive range; a missing bound is open."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Bounds:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def __contains__(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def within(self, other: Bounds) -> bool:
        """Whether this range lies inside ``other``."""
        low_ok = other.min is None or (self.min is not None and self.min >= other.min)
        high_ok = other.max is None or (self.max is not None and self.max <= other.max)
        return low_ok and high_ok


class HealthRule(StrictModel):
    """Grades the listed fields of the listed measurements, for samples matching ``when``."""

    name: Identifier
    description: str = ""
    measurements: tuple[Identifier, ...] = Field(min_length=1)
    fields: tuple[Identifier, ...] = Field(min_length=1)
    when: dict[Identifier, int | float | str | bool] = Field(default_factory=dict)
    unit: str = ""
    good: Bounds | None = None
    acceptable: Bounds | None = None
    good_values: tuple[int | str | bool, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> HealthRule:
        if self.good_values is not None:
            if self.good is not None or self.acceptable is not None:
                raise ValueError("good_values excludes good / acceptable ranges")
        elif self.good is None or self.acceptable is None:
            raise ValueError("give good and acceptable ranges, or good_values")
        elif not self.good.within(self.acceptable):
            raise ValueError("good: must lie within acceptable")
        return self

    def applies(self, sample: Sample) -> bool:
        """Whether this rule looks at ``sample`` (its measurement, and every ``when`` field equal)."""
        return sample.measurement in self.measurements and all(sample.fields.get(k) == v for k, v in self.when.items())

    def grade(self, value: FieldValue) -> Grade:
        """The grade of one value under this rule (a non-number under a range rule is bad)."""
        if self.good_values is not None:
            return Grade.GOOD if value in self.good_values else Grade.BAD
        assert self.good is not None and self.acceptable is not None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Grade.BAD
        if value in self.good:
            return Grade.GOOD
        return Grade.MARGINAL if value in self.acceptable else Grade.BAD


@dataclass(frozen=True, slots=True)
class Verdict:
    """The grade of one field of one sample under one rule."""

    rule: str
    measurement: str
    tags: tuple[tuple[str, str], ...]
    field: str
    value: FieldValue
    grade: Grade


class HealthPolicy(StrictModel):
    """A list of rules; a field matched by several rules gets a verdict from each."""

    rules: tuple[HealthRule, ...]
    _by_measurement: dict[str, tuple[HealthRule, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> HealthPolicy:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rules: names must be unique")
        return self

    def model_post_init(self, context: Any, /) -> None:
        measurements = {m for rule in self.rules for m in rule.measurements}
        self._by_measurement = {m: tuple(r for r in self.rules if m in r.measurements) for m in measurements}

    def verdicts(self, samples: Iterable[Sample]) -> list[Verdict]:
        """Grade every field that some rule covers, in sample order."""
        return self._graded(samples, keep_good=True)

    def findings(self, samples: Iterable[Sample]) -> list[Verdict]:
        """The verdicts of :meth:`verdicts` that are not good (none: every graded field is good), built only for
        those: a fleet cycle grades millions of fields and keeps only its findings."""
        return self._graded(samples, keep_good=False)

    def _graded(self, samples: Iterable[Sample], keep_good: bool) -> list[Verdict]:
        out = []
        good = Grade.GOOD
        by_measurement = self._by_measurement
        for sample in samples:
            for rule in by_measurement.get(sample.measurement, ()):
                if rule.when and not rule.applies(sample):
                    continue
                fields = sample.fields
                for name in rule.fields:
                    if name in fields:
                        value = fields[name]
                        grade = rule.grade(value)
                        if keep_good or grade is not good:
                            out.append(Verdict(rule.name, sample.measurement, sample.tags, name, value, grade))
        return out

    def rule(self, name: str) -> HealthRule:
        """The rule called ``name``."""
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"no health rule {name!r}")


def worst(grades: Iterable[Grade | Verdict]) -> Grade | None:
    """The worst grade among ``grades`` (or verdicts); None when there are none."""
    ranked = [g.grade if isinstance(g, Verdict) else g for g in grades]
    return max(ranked, key=lambda g: g.rank, default=None)


def load_health(path: str | Path | None = None) -> HealthPolicy:
    """Load a health policy file (default: the built-in ``health.yaml``); errors name the file and field."""
    file = Path(path) if path is not None else DEFAULT_HEALTH
    return validate_model(HealthPolicy, read_yaml(file), file)


def summarize(verdicts: Iterable[Verdict]) -> Mapping[str, Grade]:
    """The worst grade per rule, e.g. for a live-check headline."""
    out: dict[str, Grade] = {}
    for v in verdicts:
        if v.rule not in out or v.grade.rank > out[v.rule].rank:
            out[v.rule] = v.grade
    return out
