"""The demo's live check: a subscriber whose simulated modem is unhealthy (low SNR, high transmit power) and one
whose CPE is offline, printed with the caller number that identifies each (as an agent would hear it: ``041 ...``;
the contract keeps ``+386 ...``)."""

from __future__ import annotations

import phonenumbers
from sqlalchemy import select

from collectors.sim.demo import demo_config
from noc.core.capability import DemoContext, DemoPart
from noc.inventory.demo import SUBSCRIBERS
from noc.inventory.models import Cpe, Subscriber


def _national(number: str) -> str:
    """``+386 41 123 456`` as a Slovenian caller's number is usually said: ``041 123 456``."""
    return phonenumbers.format_number(phonenumbers.parse(number, "SI"), phonenumbers.PhoneNumberFormat.NATIONAL)


def seed(ctx: DemoContext) -> None:
    """Name the demo's callers: the owners of the first CPE with low SNR and high transmit power, and of an offline
    one (the simulated network's faults are deterministic)."""
    agents = demo_config(SUBSCRIBERS).agents
    wanted = {"unhealthy CPE (low SNR, high transmit power)": ["low_snr", "high_tx_power"], "offline CPE": ["offline"]}
    with ctx.runtime.db.read_session() as s:
        for label, faults in wanted.items():
            agent = next((a for a in agents if a.name.startswith("cpe-")
                          and sorted(getattr(a, "faults", [])) == sorted(faults)), None)
            if agent is None:
                continue
            serial = f"DEMO{int(agent.name.removeprefix('cpe-')):06d}"
            row = s.execute(select(Subscriber.number, Subscriber.phone).join(
                Cpe, Cpe.subscriber_id == Subscriber.id).where(Cpe.serial == serial)).first()
            if row is not None:
                number, phone = row
                ctx.notes.append(f"live check: subscriber {number} calls from {_national(phone)} about their {label} "
                                 f"{serial}; agent console at /console/live (sign in with the agent token)")


DEMO = DemoPart(seed=seed)
