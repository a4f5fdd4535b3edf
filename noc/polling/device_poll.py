"""Polling one device or CPE by its profile: GETs, walks, decoding into samples."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from collectors.samples import Sample
from collectors.snmp.client import SnmpAuthError, SnmpClient, SnmpError, SnmpTimeout
from collectors.snmp.counters import RateTracker
from collectors.snmp.profiles import Profile, ProfileError, decode, load_profile
from collectors.snmp.values import Value
from noc.polling.targets import PollTarget


@dataclass
class PollOutcome:
    """One poll's result: samples, or the error (never containing a secret), and how long it took."""

    target: PollTarget
    at: float
    duration_s: float
    samples: list[Sample] = field(default_factory=list)
    error: str = ""
    error_kind: str = ""

    @property
    def ok(self) -> bool:
        """True when the device answered."""
        return not self.error


@lru_cache(maxsize=64)
def profile(name: str) -> Profile:
    """A device profile, loaded once."""
    return load_profile(name)


async def read_raw(client: SnmpClient, target: PollTarget, prof: Profile) -> dict[str, Value]:
    """Everything ``prof`` asks of the device: scalars by GET, tables by walk, fallbacks only when needed."""
    results: dict[str, Value] = {}
    if prof.get_oids:
        results.update(await client.get(target.target, prof.get_oids))
    for root in prof.primary_walk_roots:
        results.update(await client.walk(target.target, root))
    for root in prof.needed_fallback_roots(results):
        results.update(await client.walk(target.target, root))
    return results


async def poll(client: SnmpClient, target: PollTarget, tracker: RateTracker | None,
               capacity_bps: Mapping[str, float] | None = None) -> PollOutcome:
    """Poll ``target`` once; SNMP failures become the outcome's error, not exceptions.

    ``capacity_bps`` (ifIndex as text → bit/s) replaces interfaces' own speed when rates are checked.
    """
    started, at = time.perf_counter(), time.time()
    try:
        prof = profile(target.profile)
        raw = await read_raw(client, target, prof)
        samples = decode(prof, target.name, raw, at, rates=tracker, capacity_bps=capacity_bps)
    except SnmpTimeout as exc:
        return PollOutcome(target, at, time.perf_counter() - started, error=str(exc), error_kind="timeout")
    except SnmpAuthError as exc:
        return PollOutcome(target, at, time.perf_counter() - started, error=str(exc), error_kind="auth")
    except SnmpError as exc:
        return PollOutcome(target, at, time.perf_counter() - started, error=str(exc), error_kind="snmp")
    except ProfileError as exc:
        return PollOutcome(target, at, time.perf_counter() - started, error=str(exc), error_kind="profile")
    duration = time.perf_counter() - started
    samples.append(Sample("poll", (("device", target.name),), {"duration_s": round(duration, 4), "ok": True}, int(at)))
    return PollOutcome(target, at, duration, samples)
