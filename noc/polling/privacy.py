"""Polling's personal data: the newest health verdict of a subscriber's CPE."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.core.privacy import DataKind, PersonalData
from noc.inventory.models import Cpe
from noc.polling.models import CpeHealth


class PollingData(PersonalData):
    """CPE health verdicts (only the newest is kept: nothing expires)."""

    kinds = (
        DataKind("cpe_health", "The newest health grade of the subscriber's CPE and the readings outside the good "
                 "range", "Monitoring the service the contract promises", "Contract (art. 6(1)(b))", "cpe_health",
                 "Only the newest verdict is kept; it goes with the CPE"),
    )

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """The newest verdict of each of the subscriber's CPEs."""
        rows = session.execute(select(Cpe.serial, CpeHealth).join(CpeHealth, CpeHealth.cpe_id == Cpe.id)
                               .where(Cpe.subscriber_id == subscriber_id).order_by(Cpe.id))
        return {"cpe_health": [{"cpe": serial, "at": h.at.isoformat(), "grade": h.grade,
                                "findings": json.loads(h.findings)} for serial, h in rows]}


PERSONAL_DATA = PollingData()
