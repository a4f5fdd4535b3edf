"""The demo's inventory (``demo_data``) and the simulated network that answers for it on loopback."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import select

from collectors.sim import SimulatedNetwork
from collectors.sim.demo import COMMUNITY, demo_config
from noc.core.capability import DemoContext, DemoPart
from noc.core.security import Actor
from noc.inventory.demo_data import demo_document
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Device
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter

SUBSCRIBERS = 200
DEMO_ACTOR = Actor(name="demo", role="admin")


def seed(ctx: DemoContext) -> None:
    """Import the demo inventory once; again when the simulated devices moved to other ports (only ports change)."""
    rt = ctx.runtime
    with rt.db.session() as s:
        ports = set(s.scalars(select(Device.port)))
        if ctx.device_port_base in ports:
            return
        writer = InventoryWriter(s, DEMO_ACTOR, rt.secret_box(CREDENTIALS_PURPOSE), rt.events,
                                 reason="demo inventory", via="demo")
        document = demo_document(SUBSCRIBERS, device_port_base=ctx.device_port_base,
                                 cpe_port_base=ctx.cpe_port_base)
        report = import_rows(document_rows("demo", document), writer)
    created = ", ".join(f"{c['created']} {kind}" for kind, c in report.counts.items() if c.get("created"))
    ctx.notes.append(f"demo inventory {'created: ' + created if created else 'moved to new simulator ports'}")


def network(ctx: DemoContext) -> AbstractContextManager[object]:
    """The inventory's devices and CPEs as SNMP agents on loopback (time runs 60x: a day in 24 minutes)."""
    ctx.notes.append(f"simulated network on 127.0.0.1 UDP {ctx.device_port_base}+ (devices) and "
                     f"{ctx.cpe_port_base}+ (CPEs), SNMPv2c community {COMMUNITY!r}")
    config = demo_config(SUBSCRIBERS, cpe_base_port=ctx.cpe_port_base, device_base_port=ctx.device_port_base)
    ctx.before_bind()
    return SimulatedNetwork(config)


DEMO = DemoPart(seed=seed, run=network)
