"""What the scheduler and the workers share on Redis: cycle markers, batch claims and done markers, each
cycle's ledger of polled targets, and the groups' last cycles. Keys carry the deployment's prefix."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import redis

CYCLE_TTL_S = 86_400
"""How long a cycle's markers and ledger are kept (the API shows the last cycle per group)."""


SEGMENTS = ".segments"
Claim = Literal["claimed", "held", "done"]
"""What :meth:`SharedState.claim` found: the batch is this worker's to store, another's, or stored already."""


def queue_of(prefix: str, group: str, segments: bool = False) -> str:
    """The Celery queue of poller group ``group``'s CPE batches, or of its segment devices (its own queue, so
    that a segment cycle never waits behind the CPE batches)."""
    return f"{prefix}.poll.{group}{SEGMENTS if segments else ''}"


@dataclass(frozen=True)
class Keys:
    """Redis key names of one deployment (``prefix``)."""

    prefix: str

    def leader(self) -> str:
        return f"{self.prefix}:leader"

    def cycle(self, cycle: str) -> str:
        return f"{self.prefix}:cycle:{cycle}"

    def claim(self, cycle: str, batch: int) -> str:
        return f"{self.prefix}:claim:{cycle}:{batch}"

    def done(self, cycle: str, group: str) -> str:
        return f"{self.prefix}:done:{cycle}:{group}"

    def ledger(self, cycle: str) -> str:
        return f"{self.prefix}:polled:{cycle}"

    def sent(self, cycle: str, group: str) -> str:
        return f"{self.prefix}:sent:{cycle}:{group}"

    def repeats(self, cycle: str) -> str:
        return f"{self.prefix}:repeats:{cycle}"

    def last_cycle(self, job: str, group: str) -> str:
        return f"{self.prefix}:last:{job}:{group}"

    def counters(self, device: str) -> str:
        return f"{self.prefix}:counters:{device}"


class SharedState:
    """The cycle bookkeeping on Redis (every call is a few commands in one to three round trips)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis, self.keys = client, Keys(prefix)

    def start_cycle(self, cycle: str, meta: dict[str, Any]) -> bool:
        """Mark ``cycle`` started (False when some node started it already: a cycle starts once)."""
        return bool(self.redis.set(self.keys.cycle(cycle), json.dumps(meta), nx=True, ex=CYCLE_TTL_S))

    def record_group(self, job: str, group: str, cycle: str, batches: int, targets: int) -> None:
        """The group's newest cycle: when it started and how many batches it has."""
        self.redis.hset(self.keys.last_cycle(job, group), mapping={
            "cycle": cycle, "started_at": time.time(), "batches": batches, "targets": targets, "done": 0,
            "finished_at": ""})
        self.redis.expire(self.keys.last_cycle(job, group), CYCLE_TTL_S)

    def record_batches(self, cycle: str, group: str, batches: dict[int, list[Any]]) -> None:
        """The task arguments of each batch sent to ``group`` in ``cycle``, by batch number (to send one again)."""
        key = self.keys.sent(cycle, group)
        pipe = self.redis.pipeline()
        pipe.hset(key, mapping={str(batch): json.dumps(args) for batch, args in batches.items()})
        pipe.expire(key, CYCLE_TTL_S)
        pipe.execute()

    def unstored(self, cycle: str, group: str) -> set[int]:
        """The batches sent to ``group`` in ``cycle`` and not stored yet."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hkeys(self.keys.sent(cycle, group))
        pipe.smembers(self.keys.done(cycle, group))
        sent, done = pipe.execute()
        return {int(batch) for batch in set(sent) - set(done)}

    def batch_args(self, cycle: str, group: str, batches: list[int]) -> list[list[Any]]:
        """The task arguments :meth:`record_batches` kept for ``batches``."""
        stored = self.redis.hmget(self.keys.sent(cycle, group), [str(b) for b in batches])
        return [json.loads(args) for args in stored if args is not None]

    def is_done(self, cycle: str, group: str, batch: int) -> bool:
        """Whether batch ``batch`` of ``group`` in ``cycle`` was stored already."""
        return bool(self.redis.sismember(self.keys.done(cycle, group), str(batch)))

    def claim(self, cycle: str, group: str, batch: int, worker: str, lease_s: float) -> Claim:
        """Take the right to store ``batch`` for ``lease_s`` seconds, in one transaction with the check that it
        is not stored yet: ``claimed``; ``done`` when it was stored (also by a worker that finished it a moment
        ago and so no longer needs its claim); ``held`` while another worker holds the claim."""
        pipe = self.redis.pipeline()
        pipe.sismember(self.keys.done(cycle, group), str(batch))
        pipe.set(self.keys.claim(cycle, batch), worker, nx=True, px=int(lease_s * 1000))
        done, claimed = pipe.execute()
        return "done" if done else "claimed" if claimed else "held"

    def finish(self, job: str, group: str, cycle: str, batch: int, worker: str, targets: list[str]) -> None:
        """Mark ``batch`` stored, note who polled each target (a target noted twice counts as a repeat), and
        bring the group's progress up to date. The claim is left to expire: the done mark outranks it."""
        ledger, done = self.keys.ledger(cycle), self.keys.done(cycle, group)
        pipe = self.redis.pipeline()
        for target in targets:
            pipe.hsetnx(ledger, target, worker)
        pipe.sadd(done, str(batch))
        pipe.expire(ledger, CYCLE_TTL_S)
        pipe.expire(done, CYCLE_TTL_S)
        results = pipe.execute()
        if repeats := sum(1 for new in results[:len(targets)] if not new):
            self.redis.incrby(self.keys.repeats(cycle), repeats)
            self.redis.expire(self.keys.repeats(cycle), CYCLE_TTL_S)
        self.progress(job, group, cycle)

    def progress(self, job: str, group: str, cycle: str) -> None:
        """Set the group's batches done in ``cycle`` (its newest) to the number of distinct batches stored, and
        its end once all are: a batch stored twice, or skipped as stored after its worker died right after
        storing it, counts once, so a cycle never looks finished while a batch is still missing."""
        last = self.keys.last_cycle(job, group)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(last, "cycle", "batches", "finished_at")
        pipe.scard(self.keys.done(cycle, group))
        (newest, batches, finished), done = pipe.execute()
        if newest != cycle.encode():
            return
        self.redis.hset(last, mapping={"done": done, **(
            {"finished_at": time.time()} if done >= int(batches or 0) and not finished else {})})

    def ledger(self, cycle: str) -> dict[str, str]:
        """Target → the worker that stored its poll in ``cycle``."""
        return _text(self.redis.hgetall(self.keys.ledger(cycle)))

    def repeats(self, cycle: str) -> int:
        """Targets of ``cycle`` whose poll was stored more than once (0 when every batch was stored once)."""
        return int(self.redis.get(self.keys.repeats(cycle)) or 0)

    def last_cycle(self, job: str, group: str) -> dict[str, str]:
        """The group's newest cycle of ``job`` (empty when it has none)."""
        return _text(self.redis.hgetall(self.keys.last_cycle(job, group)))


def _text(stored: Any) -> dict[str, str]:
    """A Redis hash as text."""
    return {k.decode(): v.decode() for k, v in stored.items()}
