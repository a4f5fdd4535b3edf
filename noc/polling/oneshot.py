"""`noc poll`: poll one device once (or twice, for rates) and print readable tables."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.samples import Sample
from collectors.snmp.auth import Credentials, Target
from collectors.snmp.client import SnmpClient
from collectors.snmp.counters import RateTracker
from noc.crypto import SecretBox
from noc.inventory.models import Cpe, Credential, Device
from noc.polling.device_poll import PollOutcome, poll
from noc.polling.targets import PollTarget, credentials_of


class TargetError(Exception):
    """The device to poll cannot be determined (message says why)."""


def parse_host(spec: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port)."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, int(rest.removeprefix(":") or 161)
    if spec.count(":") == 1:
        host, port = spec.split(":")
        if not port.isdigit():
            raise TargetError(f"{spec!r}: port must be a number")
        return host, int(port)
    return spec, 161


def inventory_target(session: Session, box: SecretBox, name: str, timeout: float, retries: int) -> PollTarget | None:
    """The inventory device or CPE called ``name`` (device name, CPE serial or MAC), if any."""
    device = session.scalar(select(Device).where(Device.name == name))
    cpe = None if device else session.scalar(select(Cpe).where((Cpe.serial == name) | (Cpe.mac == name.lower())))
    row = device or cpe
    if row is None:
        return None
    if row.credential_id is None:
        raise TargetError(f"{name}: has no credentials in the inventory; give them as options")
    if row.address is None:
        raise TargetError(f"{name}: has no management address in the inventory")
    credential = session.get(Credential, row.credential_id)
    assert credential is not None
    label = device.name if device else cpe.serial  # type: ignore[union-attr]
    return PollTarget("device" if device else "cpe", row.id, label, row.profile,
                      Target(row.address, row.port, credentials_of(credential, box), timeout, retries))


def adhoc_target(spec: str, credentials: Credentials, profile: str, timeout: float, retries: int) -> PollTarget:
    """A device not in the inventory, by address and given credentials."""
    host, port = parse_host(spec)
    return PollTarget("device", 0, spec, profile, Target(host, port, credentials, timeout, retries))


async def poll_with_rates(target: PollTarget, rate_interval: float) -> PollOutcome:
    """Poll once, or twice ``rate_interval`` seconds apart so that counters give rates."""
    client = SnmpClient(max_concurrency=8)
    try:
        tracker = RateTracker()
        outcome = await poll(client, target, tracker)
        if outcome.ok and rate_interval > 0:
            await asyncio.sleep(max(0.0, rate_interval - (time.time() - outcome.at)))
            outcome = await poll(client, target, tracker)
        return outcome
    finally:
        await client.close()


def render(console: Console, outcome: PollOutcome) -> None:
    """Print one table per measurement: a row per tag set, a column per field."""
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in outcome.samples:
        groups[sample.measurement].append(sample)
    for measurement, samples in groups.items():
        tag_names = [k for k, _ in samples[0].tags if k != "device"]
        fields = list(dict.fromkeys(f for s in samples for f in s.fields))
        table = Table(title=f"{outcome.target.name} · {measurement}", title_justify="left")
        for column in [*tag_names, *fields]:
            table.add_column(column, overflow="fold")
        for sample in samples:
            table.add_row(*(sample.tag(t) or "" for t in tag_names), *(_fmt(f, sample.fields.get(f)) for f in fields))
        console.print(table)


def _fmt(field: str, value: object) -> str:
    if value is None:
        return ""
    if field.endswith("_bps") and isinstance(value, int | float) and not isinstance(value, bool):
        return si_bits(float(value))
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def si_bits(bps: float) -> str:
    """A bit rate in the largest fitting SI unit: ``1.25 Gbit/s``."""
    for unit, size in (("Tbit/s", 1e12), ("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if abs(bps) >= size:
            return f"{bps / size:.2f} {unit}"
    return f"{bps:.0f} bit/s"
