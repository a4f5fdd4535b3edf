"""Running a campaign: per CPE read → fingerprint the primary SSID → one SET (batch + commit) → read back and
verify → primary fingerprint unchanged → ``done``; any failure restores the previous secondary rows
(``rolled_back``), a CPE that stops answering ends ``failed`` with what is known.

Every CPE's state is stored before anything is sent to it (group commits: CPEs waiting to SET wait for the
next flush, a few milliseconds), so a runner killed at any point is resumed by the next one without redoing
finished CPEs: a CPE found ``in_progress`` is read again and compared with what it should be. One runner holds a
campaign at a time (a lease renewed at every flush). Work goes with a concurrency limit and a start rate per
access segment; the campaign pauses itself when its failure rate passes the threshold.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collectors.snmp.client import SnmpClient
from collectors.snmp.errors import SnmpError, SnmpResponseError, SnmpTimeout
from collectors.snmp.profiles import SecondarySsid
from collectors.snmp.values import Gauge32, Value
from noc.audit.service import Entry, record, record_many
from noc.core.crypto import SecretBox
from noc.core.db import Database, utcnow
from noc.core.security import Actor
from noc.core.settings import Settings
from noc.wifi import mib
from noc.wifi.mib import Row, Wanted
from noc.wifi.models import Campaign, CampaignCpe, SsidProfile
from noc.wifi.service import campaign_by_id, mapping_of, state_counts, targets_of, wanted

log = logging.getLogger(__name__)
FLUSH_S = 0.05
Progress = Callable[[dict[str, int]], None]


@dataclass
class Work:
    """One CPE to handle and what the campaign's earlier runner left of it."""

    row_id: int
    serial: str
    segment_id: int | None
    target: Any
    mapping: SecondarySsid
    want: dict[int, Row]
    step: str
    previous: str | None
    fingerprint: str | None
    sets: int


@dataclass
class Outcome:
    """A CPE's end in this run."""

    state: str
    reason: str
    changes: list[dict[str, Any]] | None = None
    audit: str | None = None


@dataclass
class _Pending:
    values: dict[str, Any]
    audit: tuple[str, str, str, str, dict[str, Any]] | None = None
    """(action, object type, object id, reason, details) of the audit entry."""
    done: asyncio.Future[None] | None = None


@dataclass
class _Limiter:
    """Starts per access segment at most ``rate`` per second (slots handed out in order)."""

    rate: float
    next_at: dict[int | None, float] = field(default_factory=dict)

    async def wait(self, segment_id: int | None) -> None:
        now = time.monotonic()
        slot = max(now, self.next_at.get(segment_id, now))
        self.next_at[segment_id] = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)


class Runner:
    """Runs one campaign in the current event loop (see the module docstring)."""

    def __init__(self, db: Database, settings: Settings, campaign_id: int, *, credentials: SecretBox,
                 secrets: SecretBox, progress: Progress | None = None) -> None:
        self.db, self.settings, self.campaign_id = db, settings, campaign_id
        self.credentials, self.secrets = credentials, secrets
        self.progress = progress
        self.pending: dict[int, _Pending] = {}
        self.flushed: list[dict[int, _Pending]] = []
        self.running = True
        self.state = "running"
        self.actor = Actor(name=f"wifi-campaign:{campaign_id}", role="system")
        self.token = str(uuid.uuid4())
        self.processed = self.failures = 0
        self.threshold = (1.0, 1)
        self.pause_reason = ""
        self.dry_run = False

    # --- claiming, flushing ----------------------------------------------------------------------------------

    def claim(self) -> bool:
        """Take the campaign when it runs and no other runner's lease is alive."""
        now = utcnow()
        with self.db.session() as s:
            claimed = s.scalar(update(Campaign).where(
                Campaign.id == self.campaign_id, Campaign.state == "running",
                (Campaign.lease_until.is_(None)) | (Campaign.lease_until < now))
                .values(lease_until=now + timedelta(seconds=self.settings.wifi_lease_s), holder=self.token)
                .returning(Campaign.id))
        return claimed is not None

    def flush(self) -> None:
        """Store what is pending (one transaction), renew the lease, learn whether the campaign still runs."""
        batch, self.pending = self.pending, {}
        now = utcnow()
        with self.db.session() as s:
            by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row_id, item in batch.items():
                values = {"id": row_id, **item.values, "updated_at": now}
                by_keys.setdefault(tuple(sorted(values)), []).append(values)
            for rows in by_keys.values():
                s.execute(update(CampaignCpe), rows)
            record_many(s, self.actor, [Entry(*item.audit) for item in batch.values() if item.audit is not None])
            campaign = campaign_by_id(s, self.campaign_id)
            if campaign.holder == self.token and campaign.state == "running" and self.pause_reason:
                campaign.state, campaign.reason = "paused", self.pause_reason
                record(s, self.actor, "wifi.campaign.pause", "wifi_campaign", str(campaign.id),
                       reason=campaign.reason)
            if campaign.holder == self.token:
                self.state = campaign.state
                campaign.lease_until = utcnow() + timedelta(seconds=self.settings.wifi_lease_s)
            else:  # our lease lapsed and another runner took over: stop starting CPEs
                log.warning("wifi campaign %s: another runner holds it now; stopping", self.campaign_id)
                self.state = "lost"
            counts = state_counts(s, self.campaign_id) if self.progress else {}
        self.flushed.append(batch)
        if self.progress:
            self.progress(counts)

    def _judge(self) -> None:
        """Stop starting CPEs once the failures pass the threshold: more than threshold × window among the first
        ``window`` CPEs, or a share above the threshold after them."""
        limit, window = self.threshold
        over = self.failures > limit * window if self.processed < window else self.failures / self.processed > limit
        if over and not self.pause_reason:
            self.pause_reason = (f"paused itself: {self.failures} of {self.processed} CPEs failed or were rolled "
                                 f"back (threshold {limit:.0%} of the first {window})")
            self.state = "paused"

    async def _flusher(self) -> None:
        """Flush in a thread while the SNMP work goes on; wake the CPEs whose state is now stored."""
        renew = self.settings.wifi_lease_s / 3
        last = time.monotonic()
        while self.running:
            await asyncio.sleep(FLUSH_S)
            if self.pending or time.monotonic() - last > renew:
                await asyncio.to_thread(self.flush)
                last = time.monotonic()
                self._wake()

    def _wake(self) -> None:
        while self.flushed:
            for item in self.flushed.pop().values():
                if item.done is not None and not item.done.done():
                    item.done.set_result(None)

    async def durable(self, row_id: int, **values: Any) -> None:
        """Store ``values`` of a CPE's row and wait until they are committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending[row_id] = _Pending({**self._merged(row_id), **values}, done=future)
        await future

    def _merged(self, row_id: int) -> dict[str, Any]:
        item = self.pending.get(row_id)
        return item.values if item is not None else {}

    def finish(self, row_id: int, serial: str, outcome: Outcome) -> None:
        """Record a CPE's final state (committed with the next flush)."""
        values = {**self._merged(row_id), "state": outcome.state, "reason": outcome.reason}
        if outcome.changes is not None:
            values["changes"] = outcome.changes
        audit = None
        if outcome.audit is not None:
            objects = sorted({c["object"] for c in outcome.changes or []})
            audit = (outcome.audit, "cpe", serial, "",
                     {"campaign": self.campaign_id, "reason": outcome.reason, "objects": objects})
        self.pending[row_id] = _Pending(values, audit)
        if outcome.state in ("done", "rolled_back", "failed") and not self.dry_run:
            self.processed += 1
            self.failures += outcome.state != "done"
            self._judge()

    # --- the run -----------------------------------------------------------------------------------------------

    def load(self, s: Session) -> tuple[Campaign, list[Work]]:
        campaign = campaign_by_id(s, self.campaign_id)
        profile = s.get(SsidProfile, campaign.profile_id)
        assert profile is not None
        rows = s.execute(select(CampaignCpe).where(CampaignCpe.campaign_id == campaign.id,
                                                   CampaignCpe.state.in_(("pending", "in_progress")))
                         .order_by(CampaignCpe.id)).scalars().all()
        finished = s.execute(select(CampaignCpe.state).where(CampaignCpe.campaign_id == campaign.id,
                                                             CampaignCpe.state.in_(("done", "rolled_back", "failed"))))
        for (state,) in finished:
            self.processed += 1
            self.failures += state != "done"
        self.processed -= campaign.forgiven
        self.failures -= campaign.forgiven
        self.threshold = (campaign.failure_threshold, campaign.failure_window)
        self.dry_run = campaign.dry_run
        targets = targets_of(s, self.credentials, self.settings, [row.cpe_id for row in rows])
        cache: dict[str, SecondarySsid | str] = {}
        wants: dict[str, dict[int, Row]] = {}
        work = []
        for row in rows:
            target = targets.get(row.cpe_id)
            if target is None:
                self.finish(row.id, row.serial,
                            Outcome("skipped", "CPE disabled or without a management address since the campaign began"))
                continue
            mapping = mapping_of(target.profile, cache)
            if isinstance(mapping, str):
                self.finish(row.id, row.serial, Outcome("skipped", mapping))
                continue
            if target.profile not in wants:
                wanted_now: Wanted | None = wanted(profile, self.secrets, mapping) if campaign.action == "enable" \
                    else None
                wants[target.profile] = mib.targets(mapping, wanted_now)
            work.append(Work(row.id, row.serial, row.segment_id, target.target, mapping, wants[target.profile],
                             row.step, row.previous, row.fingerprint, row.sets))
        return campaign, work

    async def run(self) -> dict[str, int]:
        """Run the campaign until no CPE is left, or it is paused or cancelled; the per-state counts."""
        with self.db.session() as s:
            campaign, work = self.load(s)
            dry_run, concurrency, rate = campaign.dry_run, campaign.concurrency, campaign.segment_rate
        limiter = _Limiter(rate)
        client = SnmpClient(max_concurrency=max(concurrency * 2, 8), per_device=1)
        queue: asyncio.Queue[Work] = asyncio.Queue()
        for item in work:
            queue.put_nowait(item)
        flusher = asyncio.create_task(self._flusher())

        async def worker() -> None:
            while self.state == "running":
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await limiter.wait(item.segment_id)
                if self.state != "running":
                    return
                try:
                    outcome = await self.one(client, item, dry_run)
                except Exception as exc:  # a bug must end this CPE, never the campaign
                    log.exception("wifi campaign %s: CPE %s", self.campaign_id, item.serial)
                    outcome = Outcome("failed", f"internal error: {type(exc).__name__}")
                self.finish(item.row_id, item.serial, outcome)

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(work) or 1)))))
        finally:
            self.running = False
            await flusher
            await client.close()
            self.flush()
            self._wake()
        return self.close()

    def close(self) -> dict[str, int]:
        """Complete the campaign when nothing is left; release the lease either way."""
        with self.db.session() as s:
            campaign = campaign_by_id(s, self.campaign_id)
            counts = state_counts(s, self.campaign_id)
            if campaign.holder != self.token:
                return counts
            if campaign.state == "running" and counts["pending"] == counts["in_progress"] == 0:
                campaign.state = "completed"
                campaign.finished_at = utcnow()
                record(s, self.actor, "wifi.campaign.complete", "wifi_campaign", str(campaign.id),
                       details={k: v for k, v in counts.items() if v})
            campaign.lease_until = campaign.holder = None
        return counts

    # --- one CPE ---------------------------------------------------------------------------------------------

    async def one(self, client: SnmpClient, work: Work, dry_run: bool) -> Outcome:
        oids = mib.read_oids(work.mapping)
        try:
            values = await client.get(work.target, oids)
        except SnmpError as exc:
            return Outcome("failed", f"no answer while reading the Wi-Fi settings: {exc.message}")
        current = mib.secondary_rows(work.mapping, values)
        resumed = work.previous is not None
        previous = self._unseal(work.previous) if resumed else current
        before = work.fingerprint if resumed and work.fingerprint else mib.fingerprint(work.mapping, values)
        diff = mib.changes(work.mapping, current, work.want)
        shown = [c.shown() for c in diff]
        if dry_run:
            return Outcome("done", f"would change {len(diff)} object(s)" if diff else "already as wanted", shown)
        if not diff:
            if mib.fingerprint(work.mapping, values) != before:
                return await self.rollback(client, work, previous, before, "the primary SSID changed")
            if resumed and work.step == "set":
                return Outcome("done", "applied before the previous runner stopped", None, "wifi.cpe.change")
            return Outcome("done", "already as wanted", [])
        request = mib.set_request(work.mapping, current, work.want)
        await self.durable(work.row_id, state="in_progress", step="set", sets=work.sets + 1,
                           previous=self.secrets.seal({"rows": json.dumps(_jsonable(previous))}), fingerprint=before)
        work.sets += 1
        try:
            await client.set(work.target, request, secret=mib.writes_secret(request))
        except SnmpResponseError as exc:
            return await self.rollback(client, work, previous, before, f"the agent refused the SET: {exc.message}")
        except SnmpTimeout as exc:
            return Outcome("failed", f"no answer to the SET ({exc.message}); the previous secondary settings are "
                                     "stored, the change may or may not be applied", shown)
        except SnmpError as exc:
            return Outcome("failed", f"SET not done: {exc.message}", shown)
        try:
            after = await client.get(work.target, oids)
        except SnmpError as exc:
            return Outcome("failed", f"no answer when reading back after the SET ({exc.message}); the previous "
                                     "secondary settings are stored", shown)
        problems = []
        left = mib.changes(work.mapping, mib.secondary_rows(work.mapping, after), work.want)
        if left:
            problems.append("read back differs: " + ", ".join(sorted({f"{c.name} (row {c.row})" for c in left})))
        if mib.fingerprint(work.mapping, after) != before:
            problems.append("the primary SSID's objects changed")
        if problems:
            return await self.rollback(client, work, previous, before, "; ".join(problems), after)
        return Outcome("done", "provisioned" if work.want else "removed", shown, "wifi.cpe.change")

    async def rollback(self, client: SnmpClient, work: Work, previous: dict[int, Row], before: str, why: str,
                       values: dict[str, Value] | None = None) -> Outcome:
        """Restore the secondary rows as they were; ``rolled_back`` when they read back so."""
        oids = mib.read_oids(work.mapping)
        try:
            values = values if values is not None else await client.get(work.target, oids)
            current = mib.secondary_rows(work.mapping, values)
            request = mib.set_request(work.mapping, current, previous)
            if request:
                await self.durable(work.row_id, step="rollback", sets=work.sets + 1)
                work.sets += 1
                await client.set(work.target, request, secret=mib.writes_secret(request))
                values = await client.get(work.target, oids)
        except SnmpError as exc:
            return Outcome("failed", f"{why}; restoring the previous settings failed: {exc.message}")
        if mib.changes(work.mapping, mib.secondary_rows(work.mapping, values), previous):
            return Outcome("failed", f"{why}; the previous settings do not read back after the restore")
        return Outcome("rolled_back", why, None, "wifi.cpe.rolled_back")

    def _unseal(self, sealed: str | None) -> dict[int, Row]:
        return _from_json(json.loads(self.secrets.open(sealed)["rows"])) if sealed else {}


def _typed(value: Value) -> list[Any]:
    if isinstance(value, bytes):
        return ["x", value.hex()]
    if isinstance(value, int):
        return ["u" if isinstance(value, Gauge32) else "i", int(value)]
    raise TypeError(f"unexpected Wi-Fi value type {type(value).__name__}")


def _jsonable(rows: dict[int, Row]) -> Any:
    """Rows as JSON-ready data (types kept: octets as hex, Gauge32 apart from INTEGER)."""
    return {str(i): {name: _typed(v) for name, v in row.items()} for i, row in rows.items()}


def _from_json(data: Any) -> dict[int, Row]:
    out: dict[int, Row] = {}
    for i, row in data.items():
        out[int(i)] = {name: bytes.fromhex(v) if kind == "x" else Gauge32(v) if kind == "u" else int(v)
                       for name, (kind, v) in row.items()}
    return out


def run_campaign(db: Database, settings: Settings, campaign_id: int, *, credentials: SecretBox,
                 secrets: SecretBox, progress: Progress | None = None) -> dict[str, int] | None:
    """Run a campaign to its end (or pause) in a new event loop; None when another runner holds it."""
    runner = Runner(db, settings, campaign_id, credentials=credentials, secrets=secrets, progress=progress)
    if not runner.claim():
        return None
    return asyncio.run(runner.run())
