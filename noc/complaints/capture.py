"""Evidence capture: while a complaint is open and its measurement period runs, the subscriber's CPE is polled
(every ``NOC_COMPLAINT_CAPTURE_INTERVAL_S``) and every graded reading is kept with the case.

Bounded: a capture ends when its period ends (``capture_until``, at most 31 days after opening) or when the case
is decided, so a case holds at most one reading per CPE and interval of its period. CPEs are polled with the
collectors' device poll by their profile and graded with polling's health policy.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select

from collectors.snmp.client import SnmpClient
from collectors.snmp.device_poll import PollOutcome, PollTarget, poll
from noc.complaints.models import CaptureReading, ComplaintCase
from noc.core.crypto import SecretBox
from noc.core.db import Database, utcnow
from noc.core.settings import Settings
from noc.inventory.models import Cpe
from noc.polling.health import Grade, HealthPolicy, worst
from noc.polling.targets import cpes

log = logging.getLogger("noc.complaints")
CONCURRENCY = 32


@dataclass
class CaptureReport:
    """What one capture cycle did."""

    cases: int = 0
    readings: int = 0
    failed: int = 0
    ended: int = 0


async def _poll_all(targets: list[PollTarget]) -> list[PollOutcome]:
    client = SnmpClient(max_concurrency=CONCURRENCY)
    try:
        return list(await asyncio.gather(*(poll(client, t, None) for t in targets)))
    finally:
        await client.close()


def _reading(case_id: int, outcome: PollOutcome, policy: HealthPolicy) -> dict[str, object]:
    at = datetime.fromtimestamp(outcome.at, UTC)
    if not outcome.ok:
        return {"case_id": case_id, "cpe_id": outcome.target.id, "at": at, "ok": False, "grade": "unreachable",
                "readings": "[]", "error": outcome.error_kind or "error"}
    verdicts = policy.verdicts(outcome.samples)
    readings = [{"rule": v.rule, "measurement": v.measurement, "tags": dict(v.tags), "field": v.field,
                 "value": v.value, "grade": v.grade.value} for v in verdicts]
    return {"case_id": case_id, "cpe_id": outcome.target.id, "at": at, "ok": True,
            "grade": (worst(verdicts) or Grade.GOOD).value, "readings": json.dumps(readings, default=str), "error": ""}


def capture_cycle(db: Database, settings: Settings, box: SecretBox, policy: HealthPolicy) -> CaptureReport:
    """End the captures that are over, then poll the CPEs of every running one once and keep the readings."""
    report = CaptureReport()
    now = utcnow()
    with db.session() as s:
        for case in s.scalars(select(ComplaintCase).where(ComplaintCase.capture_ended_at.is_(None),
                                                          ComplaintCase.capture_until <= now)):
            case.capture_ended_at, case.capture_end_reason = now, "period ended"
            report.ended += 1
        running = list(s.execute(select(ComplaintCase.id, ComplaintCase.subscriber_id).where(
            ComplaintCase.capture_ended_at.is_(None), ComplaintCase.state == "open")))
        owners: dict[int, list[int]] = {}
        for case_id, subscriber_id in running:
            for cpe_id in s.scalars(select(Cpe.id).where(Cpe.subscriber_id == subscriber_id)):
                owners.setdefault(cpe_id, []).append(case_id)
        targets = cpes(s, box, timeout=settings.snmp_timeout_s, retries=settings.snmp_retries, ids=list(owners)) \
            if owners else []
    report.cases = len(running)
    if not targets:
        return report
    outcomes = asyncio.run(_poll_all(targets))
    rows = [_reading(case_id, o, policy) for o in outcomes for case_id in owners[o.target.id]]
    with db.session() as s:
        s.execute(insert(CaptureReading), rows)
    report.readings = len(rows)
    report.failed = sum(not o.ok for o in outcomes)
    if report.failed:
        log.warning("evidence capture: %d of %d CPE polls failed (kept as unreachable)", report.failed, len(outcomes))
    return report
