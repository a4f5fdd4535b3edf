"""The stream of a live session: the CPE is polled by its profile and probed for reachability at once, the reading
is graded, kept and sent as a server-sent ``reading`` event, every ``NOC_LIVE_READING_INTERVAL_S``; the first one
as soon as the CPE answers. A CPE that does not answer within ``NOC_LIVE_TIMEOUT_S`` gives a ``no_answer`` reading
and is tried again at the next interval. The stream ends (an ``end`` event) when the session is closed or expires.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from collectors.probe.reach import Reach, reach
from collectors.snmp.client import SnmpClient
from collectors.snmp.device_poll import PollOutcome, PollTarget, poll
from noc.core.capability import Runtime
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.live import service
from noc.live.readings import LiveState, build, load_hints
from noc.polling.health import load_health
from noc.polling.targets import cpes

READS = ThreadPoolExecutor(8, thread_name_prefix="noc-live-read")
"""Database reads of every stream (targets, context, session checks); apart from writes, so that a reading never
waits in line behind another stream's write waiting for the database's write lock."""
WRITES = ThreadPoolExecutor(2, thread_name_prefix="noc-live-write")
"""Keeping readings (SQLite takes one writer at a time anyway)."""
CONTEXT_EVERY_S = 10.0
"""How often a stream looks up its segment's context again (utilization changes with each segment poll)."""
REACH_SHARE = 0.5
"""Share of the reading timeout the reachability probe may use per method (ICMP, then TCP)."""


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, default=str, separators=(',', ':'))}\n\n"


def _target(rt: Runtime, cpe_id: int) -> PollTarget | None:
    timeout = rt.settings.live_timeout_s
    with rt.db.read_session() as s:
        found = cpes(s, rt.secret_box(CREDENTIALS_PURPOSE), timeout=timeout, retries=0, ids=[cpe_id])
    return found[0] if found else None


def _context(rt: Runtime, segment_id: int | None) -> dict[str, Any]:
    with rt.db.read_session() as s:
        return service.context(s, segment_id)


async def take(client: SnmpClient, target: PollTarget, state: LiveState, port: int, timeout: float) -> \
        tuple[PollOutcome, Reach]:
    """Poll and probe the CPE at once (both bounded by ``timeout``)."""
    probe = reach(target.target.host, port, timeout=timeout * REACH_SHARE)
    polled = poll(client, target, state.rates)
    outcome, reached = await asyncio.gather(polled, probe)
    return outcome, reached


async def readings(rt: Runtime, opened: service.StreamTarget) -> AsyncIterator[str]:
    """Server-sent events of one session until it is closed or expires. The stream's start is audited while the
    first reading is taken; the reading is sent only once the audit entry is committed."""
    settings = rt.settings
    policy, hints = load_health(), load_hints()
    loop = asyncio.get_running_loop()
    audited = loop.run_in_executor(WRITES, service.audit_stream, rt.db, opened)
    target = await loop.run_in_executor(READS, _target, rt, opened.cpe_id)
    state = LiveState()
    client = SnmpClient(max_concurrency=8)
    storing: set[asyncio.Future[None]] = set()
    try:
        yield f"retry: {int(settings.live_reading_interval_s * 1000)}\n\n"
        context: dict[str, Any] = {}
        context_at = -CONTEXT_EVERY_S
        while True:
            started = time.monotonic()
            if state.seq and not await loop.run_in_executor(READS, service.still_open, rt.db, opened.session_id):
                yield sse("end", {"session": opened.session_id, "reason": "closed or expired"})
                return
            if started - context_at >= CONTEXT_EVERY_S:
                context, context_at = await loop.run_in_executor(READS, _context, rt, opened.segment_id), started
            if target is None:
                state.seq += 1
                reading = {"seq": state.seq, "at": datetime.now(UTC).isoformat(), "state": "no_answer",
                           "grade": None, "error": "no_address", "hints": [], "context": context}
            else:
                outcome, reached = await take(client, target, state, settings.live_tcp_port, settings.live_timeout_s)
                reading = build(outcome, reached, policy, hints, state, context)
                kept = loop.run_in_executor(WRITES, service.store_reading, rt.db, opened.session_id, reading)
                storing.add(kept)  # kept while the reading is sent, not before
                kept.add_done_callback(storing.discard)
            await audited  # no reading leaves before the look is in the audit log
            yield sse("reading", reading)
            wait = settings.live_reading_interval_s - (time.monotonic() - started)
            if wait > 0:
                await asyncio.sleep(wait)
    finally:
        await client.close()
        # shielded: a client that leaves cancels this task again at every await (anyio), and a cancelled gather
        # would cancel a store still queued for a writer thread, losing the last reading sent
        await asyncio.shield(asyncio.gather(*storing))
