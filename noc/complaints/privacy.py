"""Speed complaints' personal data: measurements, complaint cases, evidence captures and evidence packs."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from noc.complaints.models import OBJECT, CaptureReading, ComplaintCase, EvidencePack, Measurement, PackRelease
from noc.core.privacy import DataKind, Expiry, PersonalData, affected, records

LEGAL_BASIS = "Legal obligation: complaint handling under the electronic communications act (art. 6(1)(c))"


def _manifest(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/manifest.json"))
        manifest: dict[str, Any] = json.loads(archive.read(name))
        return manifest


class ComplaintData(PersonalData):
    """Measurements, cases, capture readings and evidence packs of a subscriber."""

    kinds = (
        DataKind("measurements", "Speed tests the subscriber made with the regulator's tool (time, speeds, ping, "
                 "server, platform, medium)", "Judging speed complaints per the regulator's method", LEGAL_BASIS,
                 "measurements", "2 years after the test, unless a complaint case is open", 730),
        DataKind("complaint_cases", "Complaint cases: dates, description, deadlines, decision and remedy",
                 "Handling complaints and keeping their deadlines", LEGAL_BASIS, "complaint_cases",
                 "3 years after the decision (claims and the regulator's proceedings)", 1096,
                 fields=("subscriber_name", "description")),
        DataKind("capture_readings", "The CPE's line readings polled during a case's evidence capture",
                 "Evidence for the complaint's cause", LEGAL_BASIS, "complaint_readings",
                 "400 days after the reading, unless its case is open", 400),
        DataKind("evidence_packs", "Evidence packs (PDF, JSON, CSV, manifest) and their releases",
                 "Evidence handed to the subscriber and the regulator", LEGAL_BASIS,
                 "evidence_packs, evidence_releases", "With their case"),
    )

    def audit_objects(self, session: Session, subscriber_ids: Collection[int]) -> set[tuple[str, str]]:
        """The subscribers' complaint cases (audited as opened, decided, their evidence generated and released)."""
        return {(OBJECT, str(i)) for i in session.scalars(
            select(ComplaintCase.id).where(ComplaintCase.subscriber_id.in_(list(subscriber_ids))))}

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Measurements, cases, capture readings and pack manifests (the zips are :meth:`files`)."""
        cases = select(ComplaintCase.id).where(ComplaintCase.subscriber_id == subscriber_id)
        packs = session.execute(select(EvidencePack).where(EvidencePack.case_id.in_(cases))
                                .order_by(EvidencePack.case_id, EvidencePack.version)).scalars().all()
        return {
            "measurements": records(session, select(*[c for c in Measurement.__table__.c])
                                    .where(Measurement.subscriber_id == subscriber_id).order_by(Measurement.time_utc)),
            "complaint_cases": records(session, select(*[c for c in ComplaintCase.__table__.c])
                                       .where(ComplaintCase.subscriber_id == subscriber_id).order_by(ComplaintCase.id)),
            "capture_readings": records(session, select(*[c for c in CaptureReading.__table__.c])
                                        .where(CaptureReading.case_id.in_(cases)).order_by(CaptureReading.at)),
            "evidence_packs": [{"case": p.case_id, "version": p.version, "generated_at": p.generated_at.isoformat(),
                                "generated_by": p.generated_by, "verdict": p.verdict, "sha256": p.sha256,
                                "size": p.size, "file": _pack_name(p), "manifest": _manifest(p.content),
                                "releases": records(session, select(PackRelease.at, PackRelease.by)
                                                    .where(PackRelease.pack_id == p.id))} for p in packs],
        }

    def files(self, session: Session, subscriber_id: int) -> list[tuple[str, bytes]]:
        """Every evidence pack of the subscriber's cases."""
        cases = select(ComplaintCase.id).where(ComplaintCase.subscriber_id == subscriber_id)
        packs = session.execute(select(EvidencePack).where(EvidencePack.case_id.in_(cases))
                                .order_by(EvidencePack.case_id, EvidencePack.version)).scalars()
        return [(_pack_name(p), p.content) for p in packs]

    def holds(self, session: Session) -> dict[int, list[str]]:
        """Subscribers with an open complaint case."""
        held: dict[int, list[str]] = {}
        for case_id, subscriber_id in session.execute(select(ComplaintCase.id, ComplaintCase.subscriber_id)
                                                      .where(ComplaintCase.state == "open")):
            held.setdefault(subscriber_id, []).append(f"complaint case {case_id} is open")
        return held

    def erase(self, session: Session, subscriber_id: int) -> dict[str, int]:
        """Delete measurements, capture readings and packs; keep decided cases' dates and outcome, without text."""
        cases = select(ComplaintCase.id).where(ComplaintCase.subscriber_id == subscriber_id)
        return {
            "measurements": affected(session, delete(Measurement).where(Measurement.subscriber_id == subscriber_id)),
            "capture_readings": affected(session, delete(CaptureReading).where(CaptureReading.case_id.in_(cases))),
            "evidence_packs": affected(session, delete(EvidencePack).where(EvidencePack.case_id.in_(cases))),
            "complaint_cases": affected(session, update(ComplaintCase).where(ComplaintCase.id.in_(cases))
                                        .values(description="", decision_note="", late_override_reason=None)),
        }

    def expire(self, session: Session, expiry: Expiry) -> dict[str, int]:
        """Old measurements and readings, and cases decided long ago (with their readings and packs)."""
        held = list(expiry.held)
        open_cases = select(ComplaintCase.id).where(ComplaintCase.state == "open")
        old_cases = select(ComplaintCase.id).where(ComplaintCase.state == "decided",
                                                   ComplaintCase.decided_on < expiry.cutoff("complaint_cases").date(),
                                                   ComplaintCase.subscriber_id.not_in(held))
        counts = {
            "measurements": affected(session, delete(Measurement).where(
                Measurement.time_utc < expiry.cutoff("measurements"), Measurement.subscriber_id.not_in(held))),
            "capture_readings": affected(session, delete(CaptureReading).where(
                CaptureReading.at < expiry.cutoff("capture_readings"), CaptureReading.case_id.not_in(open_cases))),
            "evidence_packs": affected(session, delete(EvidencePack).where(EvidencePack.case_id.in_(old_cases))),
        }
        counts["capture_readings"] += affected(session, delete(CaptureReading).where(
            CaptureReading.case_id.in_(old_cases)))
        counts["complaint_cases"] = affected(session, delete(ComplaintCase).where(ComplaintCase.id.in_(old_cases)))
        return counts


def _pack_name(pack: EvidencePack) -> str:
    return f"evidence/complaint-{pack.case_id}-v{pack.version}.zip"


PERSONAL_DATA = ComplaintData()
