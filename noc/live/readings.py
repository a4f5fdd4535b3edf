"""One live reading of a CPE: what its profile read (signal levels, errors, traffic, Wi-Fi clients), how far it is
(reachability), graded by polling's health policy with a hint per finding an agent can read out, and the access
segment's context. Pure: polling and probing happen in :mod:`noc.live.stream`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import RootModel

from collectors.probe.reach import Reach
from collectors.samples import Sample
from collectors.snmp.counters import RateTracker
from collectors.snmp.device_poll import PollOutcome
from collectors.strict_yaml import StrictModel, read_yaml, validate_model
from noc.polling.health import Grade, HealthPolicy, Verdict, worst

HINTS_FILE = Path(__file__).with_name("hints.yaml")
IF_DOWNSTREAM, IF_UPSTREAM = 128, 129


class Hint(StrictModel):
    """One sentence in each language."""

    sl: str
    en: str


class Hints(RootModel[dict[str, dict[str, Hint]]]):
    """Rule name → side (``low``, ``high``, ``bad``) → hint."""

    def find(self, rule: str, side: str) -> Hint | None:
        """The hint of ``rule`` for ``side``, if the file has one."""
        return self.root.get(rule, {}).get(side)


@lru_cache(maxsize=4)
def load_hints(path: Path = HINTS_FILE) -> Hints:
    """The hints file (default: ``hints.yaml`` beside this module); errors name the file and key."""
    return validate_model(Hints, read_yaml(path), path)


@dataclass
class LiveState:
    """What one stream remembers between readings: counters for rates, codewords for per-reading deltas."""

    rates: RateTracker = field(default_factory=RateTracker)
    codewords: dict[str, tuple[int, int]] = field(default_factory=dict)
    seq: int = 0


def side(verdict: Verdict, policy: HealthPolicy) -> str:
    """Which way a value left its good range: ``low``, ``high``, or ``bad`` (rules by listed values)."""
    rule = policy.rule(verdict.rule)
    value = verdict.value
    if rule.good is None or not isinstance(value, int | float) or isinstance(value, bool):
        return "bad"
    return "low" if rule.good.min is not None and value < rule.good.min else "high"


def _finding(verdict: Verdict, policy: HealthPolicy, hints: Hints) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": verdict.rule, "field": verdict.field, "value": verdict.value,
                           "grade": verdict.grade.value, "unit": policy.rule(verdict.rule).unit}
    if verdict.grade is not Grade.GOOD:
        hint = hints.find(verdict.rule, side(verdict, policy))
        if hint is not None:
            out["hint"] = hint.model_dump()
    return out


def _graded(fields: dict[str, Any], verdicts: Iterable[Verdict], policy: HealthPolicy, hints: Hints) -> dict[str, Any]:
    found = [_finding(v, policy, hints) for v in verdicts]
    grade = worst(v.grade for v in verdicts)
    return {**fields, "grade": grade.value if grade else None, "findings": found}


def _codeword_delta(state: LiveState, key: str, corrected: Any, uncorrectable: Any) -> dict[str, int | None]:
    """Codewords since the previous reading (None on the first reading, or when a counter went backwards)."""
    if not isinstance(corrected, int) or not isinstance(uncorrectable, int):
        return {"corrected": None, "uncorrectable": None}
    before = state.codewords.get(key)
    state.codewords[key] = (corrected, uncorrectable)
    if before is None or corrected < before[0] or uncorrectable < before[1]:
        return {"corrected": None, "uncorrectable": None}
    return {"corrected": corrected - before[0], "uncorrectable": uncorrectable - before[1]}


def _channel(sample: Sample) -> str:
    return sample.tag("channel") or sample.tag("ifindex") or ""


def build(outcome: PollOutcome, reach: Reach, policy: HealthPolicy, hints: Hints, state: LiveState,
          context: dict[str, Any]) -> dict[str, Any]:
    """The reading of one poll and probe: ``state`` ``ok`` or ``no_answer``, per-object values with verdicts and
    hints, overall ``grade`` and the distinct ``hints`` (worst first), reachability and ``context``."""
    state.seq += 1
    reading: dict[str, Any] = {"seq": state.seq, "at": datetime.fromtimestamp(outcome.at, UTC).isoformat(),
                               "reachability": reach.as_dict(), "context": context}
    if not outcome.ok:
        hint = hints.find("no_answer", "bad")
        return {**reading, "state": "no_answer", "grade": None, "error": outcome.error_kind or "error",
                "hints": [hint.model_dump()] if hint else []}
    verdicts_of: dict[int, list[Verdict]] = {}
    for sample in outcome.samples:
        verdicts_of[id(sample)] = policy.verdicts([sample])
    downstream, upstream, interfaces = [], [], []
    status: dict[str, Any] | None = None
    uptime, clients = None, None
    for sample in outcome.samples:
        f, verdicts = sample.fields, verdicts_of[id(sample)]
        if sample.measurement == "system":
            uptime = f.get("uptime_s")
        elif sample.measurement == "cm_downstream":
            fields = {"channel": _channel(sample), **{k: f.get(k) for k in ("frequency_hz", "modulation",
                                                                              "power_dbmv", "snr_db", "rxmer_db")},
                      **_codeword_delta(state, f"ds{_channel(sample)}", f.get("corrected_codewords"),
                                        f.get("uncorrectable_codewords"))}
            downstream.append(_graded(fields, verdicts, policy, hints))
        elif sample.measurement in ("cm_upstream", "cm_ofdma"):
            upstream.append(_graded({"channel": _channel(sample), "tx_power_dbmv": f.get("tx_power_dbmv")},
                                    verdicts, policy, hints))
        elif sample.measurement == "cm_status":
            registered = worst(v for v in verdicts if v.rule == "registration")
            status = _graded({"registration": f.get("status_name"), "tx_power_dbmv": f.get("tx_power_dbmv"),
                              "registration_grade": registered.value if registered else None},
                             verdicts, policy, hints)
        elif sample.measurement == "interface" and f.get("type") not in (IF_DOWNSTREAM, IF_UPSTREAM):
            interfaces.append({"ifindex": sample.tag("ifindex"), "name": f.get("name"),
                               "oper_status": f.get("oper_status"), "in_bps": f.get("in_bps"),
                               "out_bps": f.get("out_bps")})
        elif sample.measurement == "wifi_ap" and isinstance(f.get("associated"), int):
            clients = (clients or 0) + int(f["associated"])
    every = [v for vs in verdicts_of.values() for v in vs]
    grade = worst(every)
    said: list[dict[str, str]] = []
    for verdict in sorted((v for v in every if v.grade is not Grade.GOOD), key=lambda v: -v.grade.rank):
        hint = hints.find(verdict.rule, side(verdict, policy))
        if hint is not None and hint.model_dump() not in said:
            said.append(hint.model_dump())
    return {**reading, "state": "ok", "grade": grade.value if grade else "good", "uptime_s": uptime,
            "registration": status["registration"] if status else None, "status": status,
            "downstream": downstream, "upstream": upstream, "interfaces": interfaces, "wifi_clients": clients,
            "hints": said}
