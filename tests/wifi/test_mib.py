"""The secondary SSID as values (no network): what a SET writes, what a dry run shows, what the fingerprint
covers, and the per-segment start rate."""

from __future__ import annotations

import asyncio
import time

from collectors.snmp.profiles import load_profile
from collectors.snmp.values import Gauge32
from noc.wifi import mib
from noc.wifi.runner import _Limiter

MAPPING = load_profile("docsis-gw").secondary_ssid
assert MAPPING is not None
WANTED = mib.Wanted("Hotspot", 5, "passphrase-123", (), 300, 16, 20)
W = mib.ROOT


def test_a_new_ssid_is_created_in_one_set_ending_with_the_commit() -> None:
    want = mib.targets(MAPPING, WANTED)
    request = mib.set_request(MAPPING, {}, want)
    assert request[-1] == (mib.COMMIT, mib.TRUE)
    assert (f"{W}.4.1.11.3", mib.CREATE_AND_GO) in request and (f"{W}.7.1.11.4", mib.CREATE_AND_GO) in request
    assert (f"{W}.6.1.15.3", mib.TRUE) in request and (f"{W}.6.1.16.4", Gauge32(16)) in request
    assert not any(oid.endswith((".1", ".2")) and oid != mib.COMMIT for oid, _ in request)  # primary rows
    assert mib.writes_secret(request)
    assert mib.set_request(MAPPING, want, want) == []  # already as wanted: nothing to send


def test_only_differing_objects_are_written_and_removal_destroys_the_rows() -> None:
    want = mib.targets(MAPPING, WANTED)
    have = {i: dict(row) for i, row in want.items()}
    have[3]["isolation"] = mib.FALSE
    assert mib.set_request(MAPPING, have, want) == [(f"{W}.6.1.15.3", mib.TRUE), (mib.COMMIT, mib.TRUE)]
    assert not mib.writes_secret(mib.set_request(MAPPING, have, want))
    removal = mib.set_request(MAPPING, want, mib.targets(MAPPING, None))
    assert sorted(v for _, v in removal[:-1]) == [mib.DESTROY] * 6


def test_changes_show_secrets_only_as_set() -> None:
    shown = [c.shown() for c in mib.changes(MAPPING, {}, mib.targets(MAPPING, WANTED))]
    passphrase = next(c for c in shown if c["object"] == "passphrase")
    assert passphrase == {"row": 3, "object": "passphrase", "oid": f"{W}.7.1.5.3", "before": None, "after": "<set>"}
    assert "passphrase-123" not in str(shown)
    assert {"row": 4, "object": "row", "oid": f"{W}.4.1.11.4", "before": "absent", "after": "present"} in shown


def test_fingerprint_covers_the_primary_but_only_the_presence_of_keys() -> None:
    values = {obj.oid(i): (b"secret-a" if obj.secret else b"Home" if obj.name == "ssid" else 1)
              for i in MAPPING.primary for obj in mib.PRIMARY}
    base = mib.fingerprint(MAPPING, values)
    other_key = {**values, f"{W}.7.1.5.1": b"secret-b"}
    assert mib.fingerprint(MAPPING, other_key) == base
    assert mib.fingerprint(MAPPING, {**values, f"{W}.7.1.5.1": b""}) != base
    assert mib.fingerprint(MAPPING, {**values, f"{W}.4.1.10.2": b"Home2"}) != base
    assert mib.fingerprint(MAPPING, {**values, f"{W}.4.1.10.3": b"secondary"}) == base


def test_starts_per_segment_are_paced_and_segments_are_independent() -> None:
    async def starts() -> tuple[float, float]:
        limiter = _Limiter(rate=20.0)
        began = time.monotonic()
        await asyncio.gather(*(limiter.wait(1) for _ in range(5)))
        one_segment = time.monotonic() - began
        began = time.monotonic()
        await asyncio.gather(*(limiter.wait(segment) for segment in range(10, 15)))
        return one_segment, time.monotonic() - began

    one_segment, five_segments = asyncio.run(starts())
    assert one_segment >= 0.19  # 5 starts at 20/s: the last one 0.2 s after the first
    assert five_segments < one_segment
