"""The discrepancy record of a subscriber over a period: the method applied to their measurements, the network
context of each, and the likely cause — as one JSON-ready document (the API's answer and the evidence pack's
data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.complaints.context import NONE_FOUND, Context, attribute, gather
from noc.complaints.method import SET_ASIDE, Judgement, Sample, Speeds, describe_method, judge
from noc.complaints.models import Measurement
from noc.complaints.profiles import Profile
from noc.core.errors import InvalidInput, NotFound
from noc.core.gcpause import gc_paused
from noc.inventory.models import Contract, Package, Subscriber

MAX_PERIOD_DAYS = 366
MEASUREMENT_COLUMNS = (Measurement.id, Measurement.open_test_uuid, Measurement.time_utc, Measurement.download_kbit,
                       Measurement.upload_kbit, Measurement.ping_ms, Measurement.jitter_ms, Measurement.packet_loss,
                       Measurement.server_name, Measurement.platform, Measurement.medium, Measurement.source_sha256)


@dataclass
class Record:
    """Everything a record says; :meth:`document` is its JSON form."""

    subscriber: Subscriber
    package: Package
    profile: Profile
    start: date
    end: date
    rows: list[Any]
    samples: list[Sample]
    judgement: Judgement
    contexts: dict[int, Context]
    causes: list[Any]

    @property
    def verdict(self) -> str:
        """``discrepancy``, ``no_discrepancy`` or ``insufficient_evidence``."""
        return self.judgement.verdict

    @property
    def cause(self) -> str:
        """The most likely cause, or ``none found``."""
        return self.causes[0].cause if self.causes else NONE_FOUND

    def speeds(self) -> Speeds:
        """The package's speeds."""
        return package_speeds(self.package)

    @gc_paused()
    def document(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        campaign = self.judgement.campaign
        speeds = self.speeds()
        set_aside_counts: dict[str, int] = {}
        for reason in campaign.set_aside.values():
            set_aside_counts[reason] = set_aside_counts.get(reason, 0) + 1
        healths: dict[int, dict[str, Any] | None] = {}
        return {
            "subscriber": {"id": self.subscriber.id, "number": self.subscriber.number, "name": self.subscriber.name},
            "package": {"code": self.package.code, "name": self.package.name, "download": speeds.download,
                        "upload": speeds.upload},
            "profile": describe_method(self.profile),
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat(), "timezone": self.profile.timezone},
            "campaign": {"valid": campaign.valid, "measurements": len(self.samples), "counted": len(campaign.counted),
                         "set_aside": set_aside_counts, "set_aside_reasons": SET_ASIDE,
                         "checks": [asdict(c) for c in campaign.checks],
                         "missing": campaign.missing, "conditions": campaign.conditions},
            "criteria": [asdict(r) for r in self.judgement.criteria],
            "verdict": self.verdict,
            "directions": self.judgement.directions,
            "cause": self.cause,
            "causes": [{"cause": c.cause, "evidence": c.evidence, "measurements": c.measurements} for c in self.causes],
            "measurements": [self._measurement(row, sample, healths)
                             for row, sample in zip(self.rows, self.samples, strict=True)],
        }

    def _measurement(self, row: Any, sample: Sample, healths: dict[int, dict[str, Any] | None]) -> dict[str, Any]:
        """One measurement's entry; ``healths`` keeps the entry of each health once made (many measurements share
        one capture reading)."""
        reason = self.judgement.campaign.set_aside.get(sample.id)
        context = self.contexts[sample.id]
        health = context.health
        key = id(health)
        if key not in healths:
            healths[key] = None if health is None else {"grade": health.grade, "at": health.at.isoformat(),
                                                        "source": health.source, "findings": health.findings}
        return {
            "id": row.id, "open_test_uuid": row.open_test_uuid, "time_utc": row.time_utc.isoformat(),
            "local_time": sample.local.isoformat(timespec="seconds"), "download_mbps": sample.download,
            "upload_mbps": sample.upload, "ping_ms": row.ping_ms, "jitter_ms": row.jitter_ms,
            "packet_loss": row.packet_loss, "server_name": row.server_name, "platform": row.platform,
            "medium": row.medium, "source_sha256": row.source_sha256, "counted": reason is None,
            "set_aside": reason,
            "context": {"segment": context.segment, "utilization": context.utilization, "cpe_health": healths[key]},
        }


def package_speeds(package: Package) -> Speeds:
    """A package's maximum (advertised), normally available and minimum speeds per direction."""
    return Speeds(
        download={"maximum": package.download_mbps, "normal": package.normal_download_mbps,
                  "minimum": package.min_download_mbps},
        upload={"maximum": package.upload_mbps, "normal": package.normal_upload_mbps,
                "minimum": package.min_upload_mbps})


def package_in_force(session: Session, subscriber_id: int, start: date, end: date) -> Package:
    """The package of the contract in force over the whole period; refuses a period with none or a change."""
    contracts = list(session.scalars(select(Contract).where(Contract.subscriber_id == subscriber_id)
                                     .order_by(Contract.start_date)))
    current = [c for c in contracts if c.start_date <= start and (c.end_date is None or c.end_date >= start)]
    changes = [c for c in contracts if start < c.start_date <= end]
    if not current and not changes:
        raise InvalidInput("from", f"the subscriber has no contract in force between {start} and {end}")
    if changes or not current:
        changed = changes[0].start_date if changes else current[-1].start_date
        raise InvalidInput("from", f"the package changed on {changed}: judge the periods before and after apart")
    ended = current[-1].end_date
    if ended is not None and ended < end:
        raise InvalidInput("to", f"the contract ended on {ended}: end the period there")
    package = session.get(Package, current[-1].package_id)
    assert package is not None
    return package


@gc_paused()
def build_record(session: Session, subscriber_id: int, start: date, end: date, profile: Profile) -> Record:
    """The discrepancy record of ``subscriber_id`` from ``start`` to ``end`` (local dates, inclusive)."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound("id", f"no subscriber with id {subscriber_id}")
    if end < start:
        raise InvalidInput("to", f"{end} is before from ({start})")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput("to", f"a period of at most {MAX_PERIOD_DAYS} days")
    package = package_in_force(session, subscriber_id, start, end)
    zone = profile.zone
    first = datetime.combine(start, time(0), zone)
    after = datetime.combine(end + timedelta(days=1), time(0), zone)
    rows = list(session.connection().execute(select(*MEASUREMENT_COLUMNS).where(
        Measurement.subscriber_id == subscriber_id, Measurement.time_utc >= first, Measurement.time_utc < after)
        .order_by(Measurement.time_utc, Measurement.id)))
    samples = [Sample(id_, test_id, at, at.astimezone(zone), down / 1000, up / 1000, ping, medium)
               for id_, test_id, at, down, up, ping, _, _, _, _, medium, _ in rows]
    speeds = package_speeds(package)
    judgement = judge(samples, profile, speeds)
    contexts = gather(session, subscriber_id, samples, profile.attribution.health_window_minutes)
    causes = attribute(samples, judgement.campaign.counted, contexts, speeds, profile.attribution)
    return Record(subscriber, package, profile, start, end, rows, samples, judgement, contexts, causes)
