"""Inventory's personal data: subscribers' identity and contact data, contracts, CPEs and notice opt-outs."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from noc.core.privacy import DataKind, Expiry, PersonalData, affected
from noc.inventory.models import Contract, Cpe, NotificationOptOut, Package, Segment, Subscriber

ERASED_NAME = "(erased)"
PERSONAL_FIELDS = ("username", "name", "phone", "email", "tax_number")
"""Subscriber fields that identify a person; erasure blanks them (the subscriber number stays as the contract's
reference while contract data must be kept)."""


def _anonymised(subscriber_id: int) -> dict[str, Any]:
    return {"username": f"erased-{subscriber_id}", "name": ERASED_NAME, "phone": "", "email": "", "tax_number": "",
            "ssid_consent": False}


def claims_barred(last_end: date, today: date) -> bool:
    """Whether claims from a contract that ended on ``last_end`` are time-barred: one year after the end of the year
    of the last invoice (the contract's end)."""
    return today > date(last_end.year + 1, 12, 31)


class InventoryData(PersonalData):
    """Subscribers, contracts, CPEs and opt-outs."""

    kinds = (
        DataKind("subscribers", "Subscriber number, user name, name, phone, e-mail, tax number, language, consents",
                 "Serving the contract; identifying callers and complaint requests; notices",
                 "Contract (GDPR art. 6(1)(b)); legal obligation for complaint handling (art. 6(1)(c))",
                 "subscribers", "Anonymised when claims are time-barred: 1 year after the end of the year of the "
                 "last contract's end (last invoice)", fields=PERSONAL_FIELDS),
        DataKind("contracts", "Package and contract dates per subscriber", "Invoicing; judging speed complaints",
                 "Contract (art. 6(1)(b)); tax law (art. 6(1)(c))", "contracts",
                 "10 years after the contract ended (tax law)", 3653),
        DataKind("cpes", "The subscriber's CPE: serial, MAC, model, management address, segment",
                 "Delivering and monitoring the service", "Contract (art. 6(1)(b))", "cpes",
                 "While the CPE serves the subscriber (the CPE stays the operator's device)"),
        DataKind("notice_opt_outs", "Notice categories the subscriber turned off, and when",
                 "Honouring the subscriber's choice", "Consent withdrawn (art. 7(3))", "notification_opt_outs",
                 "Until erasure or the subscriber's anonymisation"),
    )

    def audit_objects(self, session: Session, subscriber_ids: Collection[int]) -> set[tuple[str, str]]:
        """The subscribers' contracts and CPEs (audited as created and changed, by their kind's name)."""
        from noc.inventory.kinds import CONTRACT, CPE  # kinds reads this module's PERSONAL_FIELDS

        ids = list(subscriber_ids)
        return ({(CONTRACT.name, str(i)) for i in session.scalars(select(Contract.id).where(
                    Contract.subscriber_id.in_(ids)))}
                | {(CPE.name, str(i)) for i in session.scalars(select(Cpe.id).where(Cpe.subscriber_id.in_(ids)))})

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """The subscriber row, their contracts with package, their CPEs with segment, their opt-outs."""
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return {}
        contracts = session.execute(select(Contract, Package.code).join(Package, Package.id == Contract.package_id)
                                    .where(Contract.subscriber_id == subscriber_id).order_by(Contract.start_date))
        cpes = session.execute(select(Cpe, Segment.name).outerjoin(Segment, Segment.id == Cpe.segment_id)
                               .where(Cpe.subscriber_id == subscriber_id).order_by(Cpe.id))
        return {
            "subscribers": [{"id": subscriber.id, "number": subscriber.number, "username": subscriber.username,
                             "name": subscriber.name, "phone": subscriber.phone, "email": subscriber.email,
                             "language": subscriber.language, "tax_number": subscriber.tax_number,
                             "ssid_consent": subscriber.ssid_consent, "created_at": subscriber.created_at.isoformat(),
                             "updated_at": subscriber.updated_at.isoformat()}],
            "contracts": [{"id": c.id, "package": code, "start_date": c.start_date.isoformat(),
                           "end_date": c.end_date.isoformat() if c.end_date else None} for c, code in contracts],
            "cpes": [{"id": c.id, "serial": c.serial, "mac": c.mac, "model": c.model, "profile": c.profile,
                      "address": c.address, "segment": segment} for c, segment in cpes],
            "notice_opt_outs": [{"category": o.category, "at": o.at.isoformat()} for o in subscriber.opt_outs],
        }

    def erase(self, session: Session, subscriber_id: int) -> dict[str, int]:
        """Blank the personal fields and drop the opt-outs (no notice can reach an erased subscriber)."""
        changed = affected(session, update(Subscriber).where(Subscriber.id == subscriber_id)
                           .values(**_anonymised(subscriber_id)))
        opt_outs = affected(session, delete(NotificationOptOut)
                            .where(NotificationOptOut.subscriber_id == subscriber_id))
        return {"subscribers": changed, "notice_opt_outs": opt_outs}

    def expire(self, session: Session, expiry: Expiry) -> dict[str, int]:
        """Anonymise subscribers whose claims are time-barred, then delete contracts past their retention."""
        ended = (select(Contract.subscriber_id, func.max(Contract.end_date).label("last_end"),
                        func.count().label("n"), func.count(Contract.end_date).label("ended"))
                 .group_by(Contract.subscriber_id).subquery())
        candidates = session.execute(
            select(Subscriber.id, ended.c.last_end).join(ended, ended.c.subscriber_id == Subscriber.id)
            .where(ended.c.n == ended.c.ended, Subscriber.name != ERASED_NAME)).all()
        today = expiry.now.date()
        anonymised = 0
        for subscriber_id, last_end in candidates:
            if subscriber_id not in expiry.held and claims_barred(last_end, today):
                anonymised += self.erase(session, subscriber_id)["subscribers"]
        cutoff = expiry.cutoff("contracts").date()
        old = select(Contract.id).where(Contract.end_date < cutoff)
        if expiry.held:
            old = old.where(Contract.subscriber_id.not_in(expiry.held))
        contracts = affected(session, delete(Contract).where(Contract.id.in_(old)))
        return {"subscribers": anonymised, "contracts": contracts}


PERSONAL_DATA = InventoryData()
