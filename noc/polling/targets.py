"""What to poll: inventory devices and CPEs turned into SNMP targets with decrypted credentials."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.snmp.auth import V3, Credentials, Target, V2c
from collectors.snmp.device_poll import PollTarget
from collectors.snmp.profiles import PollLimits
from noc.core.crypto import SecretBox
from noc.core.errors import InvalidInput
from noc.inventory.models import Cpe, Credential, Device, Segment, SegmentMember


def credentials_of(credential: Credential, box: SecretBox) -> Credentials:
    """The SNMP credentials a stored credential row describes."""
    secrets = box.open(credential.sealed)
    if credential.version == "v2c":
        return V2c(secrets["community"])
    return V3(user=credential.v3_user or "", auth_proto=credential.auth_proto,  # type: ignore[arg-type]
              auth_key=secrets.get("auth_key"), priv_proto=credential.priv_proto,  # type: ignore[arg-type]
              priv_key=secrets.get("priv_key"))


def limits_of(device: Device) -> PollLimits | None:
    """A device's overrides of its profile's row cap and poll deadline (None when it has none)."""
    if device.max_rows is None and device.poll_deadline_s is None:
        return None
    return PollLimits(max_rows=device.max_rows, poll_deadline_s=device.poll_deadline_s)


def _load_credentials(session: Session, box: SecretBox) -> dict[int, Credentials]:
    return {c.id: credentials_of(c, box) for c in session.scalars(select(Credential))}


def _credentials(loaded: dict[int, Credentials], credential_id: int | None) -> Credentials:
    """A target's credentials; one without any is tried with v2c ``public``, as agents ship."""
    found = loaded.get(credential_id) if credential_id is not None else None
    return found or V2c("public")


def segment_devices(session: Session, box: SecretBox, *, timeout: float, retries: int,
                    shard: tuple[int, int] = (0, 1)) -> list[PollTarget]:
    """Enabled devices that carry at least one segment member, in this worker's shard."""
    creds = _load_credentials(session, box)
    query = select(Device).where(Device.enabled.is_(True), Device.id.in_(select(SegmentMember.device_id)))
    return [
        PollTarget("device", d.id, d.name, d.profile,
                   Target(d.address, d.port, _credentials(creds, d.credential_id), timeout, retries), limits_of(d))
        for d in session.scalars(query.order_by(Device.id)) if d.id % shard[1] == shard[0]
    ]


def cpes(session: Session, box: SecretBox, *, timeout: float, retries: int,
         shard: tuple[int, int] = (0, 1), ids: Collection[int] | None = None) -> list[PollTarget]:
    """Enabled CPEs with a management address, in this worker's shard (only those of ``ids`` when given).

    Reads only the columns a poll needs (no ORM objects) and leaves other shards' rows in the database.
    """
    creds = _load_credentials(session, box)
    query = select(Cpe.id, Cpe.serial, Cpe.profile, Cpe.address, Cpe.port, Cpe.credential_id).where(
        Cpe.enabled.is_(True), Cpe.address.is_not(None))
    if ids is not None:
        query = query.where(Cpe.id.in_(ids))
    if shard[1] > 1:
        query = query.where(Cpe.id % shard[1] == shard[0])
    return [
        PollTarget("cpe", cpe_id, serial, profile,
                   Target(address or "", port, _credentials(creds, credential_id), timeout, retries))
        for cpe_id, serial, profile, address, port, credential_id in session.execute(query.order_by(Cpe.id))
    ]


@dataclass(frozen=True)
class MemberRef:
    """A segment member: which device interface, which counter, which direction of which segment."""

    segment_id: int
    direction: str
    device_id: int
    counter: str
    if_index: int | None
    if_name: str | None


@dataclass(frozen=True)
class SegmentDef:
    """A segment with its members and optional capacity overrides (bit/s)."""

    id: int
    name: str
    members: tuple[MemberRef, ...]
    capacity_bps: dict[str, float | None]


def segment_definitions(session: Session) -> list[SegmentDef]:
    """Every segment with members, for the utilization computation."""
    out = []
    for seg in session.scalars(select(Segment).order_by(Segment.id)):
        if not seg.members:
            continue
        members = tuple(MemberRef(seg.id, m.direction, m.device_id, m.counter, m.if_index, m.if_name)
                        for m in seg.members)
        caps = {"down": seg.capacity_down_mbps, "up": seg.capacity_up_mbps}
        out.append(SegmentDef(seg.id, seg.name, members,
                              {d: (v * 1e6 if v is not None else None) for d, v in caps.items()}))
    return out


def capacity_overrides(segments: list[SegmentDef]) -> dict[int, dict[str, float]]:
    """Per device id, ifIndex (text) → the capacity override of the segment(s) the interface serves.

    A segment's override is the ceiling its member interfaces' rates are checked against, instead of the
    interfaces' reported speed (which CMTS channels and virtual interfaces often misreport).
    """
    out: dict[int, dict[str, float]] = {}
    for segment in segments:
        for member in segment.members:
            cap = segment.capacity_bps.get(member.direction)
            if cap is not None and member.if_index is not None:
                per_device = out.setdefault(member.device_id, {})
                key = str(member.if_index)
                per_device[key] = max(per_device.get(key, 0.0), cap)
    return out


def inventory_target(session: Session, box: SecretBox | None, name: str, timeout: float, retries: int,
                     credentials: Credentials | None = None) -> PollTarget | None:
    """The inventory device or CPE called ``name`` (device name, CPE serial or MAC), if any.

    ``credentials`` replace the inventory's (then ``box`` may be None: nothing is unsealed).
    """
    device = session.scalar(select(Device).where(Device.name == name))
    cpe = None if device else session.scalar(select(Cpe).where((Cpe.serial == name) | (Cpe.mac == name.lower())))
    row = device or cpe
    if row is None:
        return None
    if row.address is None:
        raise InvalidInput(None, f"{name}: has no management address in the inventory")
    if credentials is None:
        credential = session.get(Credential, row.credential_id) if row.credential_id is not None else None
        if credential is None or box is None:
            raise InvalidInput(None, f"{name}: has no credentials in the inventory; give them as options")
        credentials = credentials_of(credential, box)
    label = device.name if device else cpe.serial  # type: ignore[union-attr]
    return PollTarget("device" if device else "cpe", row.id, label, row.profile,
                      Target(row.address, row.port, credentials, timeout, retries),
                      limits_of(device) if device else None)
