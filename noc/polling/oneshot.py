"""Polling one device now (``noc poll``): poll it once or twice (rates), print what it said as a table fitted to
the terminal, JSON or CSV. Needs no database (inventory look-ups are in :mod:`noc.polling.targets`)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections import defaultdict
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from collectors.samples import Sample
from collectors.snmp.auth import Credentials, Target
from collectors.snmp.client import SnmpClient
from collectors.snmp.counters import RateTracker
from collectors.snmp.device_poll import PollOutcome, PollTarget, poll
from noc.core.errors import InvalidInput


class TargetError(InvalidInput):
    """The device to poll cannot be determined (message says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


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


FORMATS = ("table", "json", "csv")


def render(console: Console, outcome: PollOutcome, fmt: str = "table") -> None:
    """Print what the poll read: ``table`` (one per measurement, fitted to the terminal), ``json`` (a list of
    samples) or ``csv`` (one row per field: measurement, tags, field, value)."""
    if fmt == "json":
        console.print_json(json.dumps([_as_dict(s) for s in outcome.samples], default=str))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["measurement", "tags", "field", "value"])
        for sample in outcome.samples:
            tags = ";".join(f"{k}={v}" for k, v in sample.tags)
            writer.writerows([sample.measurement, tags, f, v] for f, v in sample.fields.items())
        console.out(buffer.getvalue(), end="", highlight=False)
    else:
        _tables(console, outcome)


def _as_dict(sample: Sample) -> dict[str, object]:
    return {"measurement": sample.measurement, "tags": dict(sample.tags), "fields": dict(sample.fields),
            "time": sample.time}


def _tables(console: Console, outcome: PollOutcome) -> None:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in outcome.samples:
        groups[sample.measurement].append(sample)
    for measurement, samples in groups.items():
        tag_names = [k for k, _ in samples[0].tags if k != "device"]
        fields = list(dict.fromkeys(f for s in samples for f in s.fields))
        title = f"{outcome.target.name} · {measurement}"
        rows = [[*(s.tag(t) or "" for t in tag_names), *(_fmt(f, s.fields.get(f)) for f in fields)] for s in samples]
        columns = [*tag_names, *fields]
        if _width(columns, rows) <= console.width:
            table = Table(*columns, title=title, title_justify="left")
            for row in rows:
                table.add_row(*row)
            console.print(table)
        else:  # too wide for the terminal: one object per block, a line per field
            for row in rows:
                block = Table("field", "value", title=title, title_justify="left")
                for column, value in zip(columns, row, strict=True):
                    block.add_row(column, value)
                console.print(block)


def _width(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """The width a table of ``columns`` and ``rows`` needs, borders and padding included."""
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    return sum(widths) + 3 * len(widths) + 1


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
