"""The cycle bookkeeping on Redis when a batch is delivered twice (its worker died, or it outlived the visibility
timeout and was handed out again while still running): stored once where claims allow, counted once always, so
a group's cycle never looks finished while one of its batches is still missing; the batches not stored yet, with
what it takes to send them again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from noc.scaleout.state import SharedState
from tests.scaleout.cluster import REDIS_URL

CYCLE = "cpes:1"


@pytest.fixture
def state() -> Iterator[SharedState]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS_URL)
    yield SharedState(client, prefix)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_a_batch_stored_twice_counts_once_toward_its_groups_cycle(state: SharedState) -> None:
    state.record_group("cpes", "north", CYCLE, batches=2, targets=4)
    assert state.claim(CYCLE, "north", 0, "a", lease_s=0.05) == "claimed"
    state.finish("cpes", "north", CYCLE, 0, "a", ["cpe:1", "cpe:2"])
    # a second delivery of batch 0 whose storing began before the first was done (claim lapsed) ends too
    state.finish("cpes", "north", CYCLE, 0, "b", ["cpe:1", "cpe:2"])
    last = state.last_cycle("cpes", "north")
    assert (last["done"], last["finished_at"]) == ("1", ""), "batch 1 is still missing: the cycle is not finished"
    assert state.repeats(CYCLE) == 2 and state.ledger(CYCLE) == {"cpe:1": "a", "cpe:2": "a"}
    state.finish("cpes", "north", CYCLE, 1, "b", ["cpe:3", "cpe:4"])
    last = state.last_cycle("cpes", "north")
    assert last["done"] == "2" and float(last["finished_at"]) > 0


def test_a_stored_batch_is_never_claimed_again(state: SharedState) -> None:
    state.record_group("cpes", "north", CYCLE, batches=1, targets=1)
    assert state.claim(CYCLE, "north", 0, "a", lease_s=30) == "claimed"
    assert state.claim(CYCLE, "north", 0, "b", lease_s=30) == "held"
    state.finish("cpes", "north", CYCLE, 0, "a", ["cpe:1"])
    # the copy polled while "a" stored: it asks once "a" is done, and must not store the batch a second time
    assert state.claim(CYCLE, "north", 0, "b", lease_s=30) == "done"
    assert state.is_done(CYCLE, "north", 0) and not state.is_done(CYCLE, "south", 0)


def test_progress_is_brought_up_to_date_by_whoever_finds_the_batch_stored(state: SharedState) -> None:
    state.record_group("cpes", "north", CYCLE, batches=1, targets=1)
    # the worker that stored the batch died before it counted it: the redelivered copy finds it stored and counts
    state.redis.sadd(state.keys.done(CYCLE, "north"), "0")
    assert state.last_cycle("cpes", "north")["finished_at"] == ""
    state.progress("cpes", "north", CYCLE)
    assert float(state.last_cycle("cpes", "north")["finished_at"]) > 0
    state.record_group("cpes", "north", "cpes:2", batches=1, targets=1)
    state.progress("cpes", "north", CYCLE)  # a late word on an older cycle leaves the newest one alone
    assert state.last_cycle("cpes", "north")["cycle"] == "cpes:2"
    assert state.last_cycle("cpes", "north")["done"] == "0"


def test_the_batches_not_stored_yet_are_known_with_their_arguments(state: SharedState) -> None:
    sent = {4: [CYCLE, "north", 4, [7, 8], 100], 5: [CYCLE, "north", 5, [9], 100]}
    state.record_batches(CYCLE, "north", sent)
    state.record_group("cpes", "north", CYCLE, batches=2, targets=3)
    assert state.unstored(CYCLE, "north") == {4, 5} and state.unstored(CYCLE, "south") == set()
    state.finish("cpes", "north", CYCLE, 4, "a", ["cpe:7", "cpe:8"])
    assert state.unstored(CYCLE, "north") == {5}
    assert state.batch_args(CYCLE, "north", [5]) == [sent[5]]  # what the leader sends again
