"""The asynchronous SNMP client: v2c and v3 (USM) get, GETBULK walk and set.

One :class:`SnmpClient` serves any number of agents from one event loop. All requests share one UDP
socket per address family (see :mod:`collectors.snmp.transport`); messages are encoded and decoded by
:mod:`collectors.snmp.ber` and, for SNMPv3, :mod:`collectors.snmp.usm`. A global bound caps the
requests in flight and a per-device bound caps them per agent; callers waiting for a busy or dead
device wait on that device only and hold no global slot, so one slow agent never delays the others.

Example::

    client = SnmpClient()
    values = await client.get(Target("192.0.2.1", credentials=V2c("public")), ["1.3.6.1.2.1.1.3.0"])
    table = await client.walk(target, "1.3.6.1.2.1.31.1.1.1")
    await client.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from collectors.snmp import usm
from collectors.snmp.auth import V3, Target, V2c
from collectors.snmp.ber import (
    ERROR_STATUS,
    GET,
    GETBULK,
    REPORT,
    RESPONSE,
    SET,
    BerError,
    OidCache,
    Pdu,
    decode_community_message,
    encode_length,
    encode_pdu,
    encode_varbinds,
    normalize_oid,
    tlv,
)
from collectors.snmp.errors import (
    SnmpAuthError,
    SnmpDeadlineError,
    SnmpError,
    SnmpLimitError,
    SnmpMalformedResponse,
    SnmpResponseError,
    SnmpTimeout,
)
from collectors.snmp.transport import Endpoint, EndpointClosed, RequestTimeout
from collectors.snmp.values import Special, Value

__all__ = [
    "SnmpAuthError",
    "SnmpClient",
    "SnmpDeadlineError",
    "SnmpError",
    "SnmpLimitError",
    "SnmpMalformedResponse",
    "SnmpResponseError",
    "SnmpTimeout",
]

T = TypeVar("T")

STAT_KEYS = (
    "requests",  # PDUs exchanged (each GETBULK of a walk counts), v3 discoveries excluded
    "responses",  # requests that got an answer (including error answers)
    "timeouts",  # requests that got no answer after all retries
    "retries",  # retransmissions
    "toobig_backoffs",  # GETBULK max-repetitions halved after a tooBig answer
    "timeout_backoffs",  # GETBULK max-repetitions halved on a retransmission after a timeout
    "response_errors",  # answers with a non-zero error-status
    "auth_errors",  # SNMPv3 USM errors reported by agents
    "v3_discoveries",  # SNMPv3 engine discoveries
    "v3_resyncs",  # SNMPv3 re-synchronisations (notInTimeWindow, unknownEngineID: agent restarts)
    "malformed",  # datagrams that could not be decoded or authenticated, or failed a request's checks
    "unmatched",  # datagrams that matched no pending request (late, duplicate, foreign)
    "wrong_source",  # datagrams with a pending request's id from another address than the request went to
    "socket_errors",  # ICMP errors reported on the socket
    "limits",  # walks stopped at their max_rows
)
_TOO_BIG = 1
_RESOLVE_TTL = 300.0
_BULK_CAP_TTL = 3600.0
_CACHE_MAX = 10_000
_V3_ROUNDS = 4


class _Gate:
    """A counting limit whose uncontended acquire does not suspend (cheaper than asyncio.Semaphore)."""

    __slots__ = ("active", "limit", "waiters")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self) -> None:
        """Wait until a releasing holder hands its slot over."""
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot was handed to us just before the cancellation
            raise

    def release(self) -> None:
        """Hand the slot to the next live waiter, or free it."""
        waiters = self.waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self.active -= 1


class SnmpClient:
    """Asynchronous SNMP manager for v2c and v3 (USM) agents; see the module docstring."""

    def __init__(self, *, max_concurrency: int = 512, per_device: int = 2) -> None:
        if max_concurrency < 1 or per_device < 1:
            raise ValueError("limits must be at least 1")
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self._global = _Gate(max_concurrency)
        self._per_device = per_device
        self._devices: dict[str, _Gate] = {}
        self._endpoints: dict[int, Endpoint] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resolved: dict[str, tuple[float, int, str]] = {}
        self._engines: dict[tuple[str, V3], usm.Engine] = {}
        self._bulk_caps: dict[str, tuple[int, float]] = {}
        self._get_vbl: dict[tuple[str, ...], bytes] = {}
        self._prefixes: dict[str, tuple[bytes, bytes]] = {}
        self._closed = False

    # --- public API ---------------------------------------------------------------------------------

    async def get(self, target: Target, oids: Sequence[str], *, deadline: float | None = None) -> dict[str, Value]:
        """GET ``oids``; returns {oid without leading dot: value}, leaving out noSuchObject/Instance.

        ``deadline`` (a ``time.monotonic()`` value, e.g. the end of the device's poll) ends the request with
        :class:`SnmpDeadlineError` when reached first."""
        key = tuple(oids)
        vbl = self._get_vbl.get(key)
        if vbl is None:
            vbl = encode_varbinds([(normalize_oid(o), None) for o in key])
            if len(self._get_vbl) >= _CACHE_MAX:
                self._get_vbl.clear()
            self._get_vbl[key] = vbl
        request = self._call(target, lambda rid, attempt: encode_pdu(GET, rid, vbl))
        pdu = await (request if deadline is None else _until(deadline, target, "reading scalars", request))
        if pdu.error_status:
            self._raise_status(target, pdu)
        return {oid: v for oid, v in pdu.varbinds if not isinstance(v, Special)}

    async def walk(
        self,
        target: Target,
        root: str,
        *,
        max_repetitions: int = 25,
        max_rows: int | None = None,
        deadline: float | None = None,
        table: str | None = None,
    ) -> dict[str, Value]:
        """GETBULK walk of the subtree under ``root``, in OID order.

        max-repetitions is halved (down to 1) when the agent answers tooBig, and on each retransmission
        after a timeout; a reduced value is remembered for the device for an hour. A subtree with more than
        ``max_rows`` objects ends the walk with :class:`SnmpLimitError`; ``deadline`` (a ``time.monotonic()``
        value) with :class:`SnmpDeadlineError`. Both messages name ``table`` (for messages only) and ``root``.
        """
        root = normalize_oid(root)
        what = f"table {table} ({root})" if table else root
        walking = self._walk(target, root, max_repetitions, max_rows, what)
        return await (walking if deadline is None else _until(deadline, target, f"walking {what}", walking))

    async def _walk(
        self, target: Target, root: str, max_repetitions: int, max_rows: int | None, what: str
    ) -> dict[str, Value]:
        prefix = root + "."
        address = target.address
        reps = max(1, max_repetitions)
        cap = self._bulk_caps.get(address)
        if cap is not None and cap[1] > time.monotonic():
            reps = min(reps, cap[0])
        result: dict[str, Value] = {}
        rows_left = max_rows if max_rows is not None else -1
        current = root
        last_key = _oid_key(root)
        while True:
            vbl = encode_varbinds([(current, None)])
            sent = [reps]

            def build(rid: int, attempt: int, vbl: bytes = vbl, sent: list[int] = sent) -> bytes:
                if attempt and sent[0] > 1:
                    sent[0] = max(1, sent[0] // 2)
                    self.stats["timeout_backoffs"] += 1
                return encode_pdu(GETBULK, rid, vbl, 0, sent[0])

            pdu = await self._call(target, build)
            if sent[0] < reps:
                reps = sent[0]
                self._remember_cap(address, reps)
            if pdu.error_status == _TOO_BIG and reps > 1:
                reps //= 2
                self.stats["toobig_backoffs"] += 1
                self._remember_cap(address, reps)
                continue
            if pdu.error_status:
                self._raise_status(target, pdu)
            if not pdu.varbinds:
                return result
            for oid, value in pdu.varbinds:
                if isinstance(value, Special) or not oid.startswith(prefix):
                    return result
                key = _oid_key(oid)
                if key <= last_key:
                    raise SnmpError(address, f"agent returned {oid} after {current}: OIDs not increasing")
                if not rows_left:
                    self.stats["limits"] += 1
                    raise SnmpLimitError(address, f"walk of {what} stopped: more than max_rows={max_rows} rows")
                rows_left -= 1
                result[oid] = value
                last_key = key
                current = oid

    async def walk_columns(
        self,
        target: Target,
        roots: Sequence[str],
        *,
        max_repetitions: int = 25,
        max_rows: Sequence[int | None] | None = None,
        deadline: float | None = None,
        tables: Sequence[str] | None = None,
        scalars: Sequence[str] = (),
    ) -> list[dict[str, Value]]:
        """GETBULK walk of several columns at once: one request carries one varbind per column still going.

        Each column stops at its own end (an OID outside its root, or an exception value); the others go on in
        the next request. Columns may belong to different tables of any index: an agent answers row-major, so
        varbind *i* of an answer belongs to column *i* mod (columns in the request). With ``max_repetitions``
        at least the longest column's rows plus one, the whole set takes one request. Returns one {oid: value}
        per root, in ``roots`` order. tooBig halves max-repetitions, then the columns per request; a
        retransmission after a timeout halves max-repetitions (remembered per device for an hour, as
        :meth:`walk`). ``max_rows`` (parallel to ``roots``; None: no cap) ends the walk with
        :class:`SnmpLimitError` for a column with more rows, ``deadline`` with :class:`SnmpDeadlineError`;
        messages name the column's entry of ``tables``.

        ``scalars`` (instances: a scalar's ``<object>.0``, or a row's ``<column>.<index>``) are read with the first
        request, as its non-repeaters (GETNEXT of the OID just before, :func:`preceding`: the answer is the instance
        when the agent has it and the index is one arc), and returned as one more {oid: value} after the columns',
        leaving out absent ones (and other answers) as :meth:`get` does; after a tooBig answer they are read by a GET.
        """
        if any(not s.rpartition(".")[2].isdigit() for s in scalars):
            raise ValueError("scalars must be instances (OIDs ending in an arc)")
        norm = [_NORMALIZED[r] for r in roots]
        caps: list[int | None] = list(max_rows) if max_rows is not None else [None] * len(norm)
        names = list(tables) if tables is not None else [""] * len(norm)
        if not (len(caps) == len(names) == len(norm)):
            raise ValueError("max_rows and tables must be parallel to roots")
        walking = self._walk_columns(target, norm, max_repetitions, caps, names, [_NORMALIZED[o] for o in scalars])
        if deadline is None:
            return await walking
        return await _until(deadline, target, lambda: "walking table(s) {} ({} columns)".format(
            ", ".join(dict.fromkeys(n for n in names if n)) or "columns", len(norm)), walking)

    async def _walk_columns(
        self, target: Target, roots: list[str], max_repetitions: int, caps: list[int | None], names: list[str],
        scalars: list[str],
    ) -> list[dict[str, Value]]:
        address = target.address
        reps = max(1, max_repetitions)
        cap = self._bulk_caps.get(address)
        if cap is not None and cap[1] > time.monotonic():
            reps = min(reps, cap[0])
        results: list[dict[str, Value]] = [{} for _ in roots]
        prefixes = [r + "." for r in roots]
        cursors = list(roots)
        last: list[tuple[int, ...]] = [() for _ in roots]  # the suffix (arcs after the root) of each column's last OID
        left = [-1 if c is None else c for c in caps]
        active = list(range(len(roots)))
        width = len(active)
        found: dict[str, Value] = {}
        unread, apart = scalars, []  # scalars for the next request; those to GET instead (after a tooBig answer)
        while active:
            batch = active[:width]
            n = len(batch)
            ask = len(unread)
            vbl = encode_varbinds([*((preceding(s), None) for s in unread), *((cursors[i], None) for i in batch)])
            sent = [reps]

            def build(rid: int, attempt: int, vbl: bytes = vbl, sent: list[int] = sent, ask: int = ask) -> bytes:
                if attempt and sent[0] > 1:
                    sent[0] = max(1, sent[0] // 2)
                    self.stats["timeout_backoffs"] += 1
                return encode_pdu(GETBULK, rid, vbl, ask, sent[0])

            pdu = await self._call(target, build)
            if sent[0] < reps:
                reps = sent[0]
                self._remember_cap(address, reps)
            if pdu.error_status == _TOO_BIG and (reps > 1 or n > 1 or ask):
                if ask:
                    unread, apart = [], scalars
                elif reps > 1:
                    reps //= 2
                    self._remember_cap(address, reps)
                else:
                    width = max(1, n // 2)
                self.stats["toobig_backoffs"] += 1
                continue
            if pdu.error_status:
                self._raise_status(target, pdu)
            varbinds = pdu.varbinds
            if ask:
                if len(varbinds) < ask:
                    raise SnmpMalformedResponse(address, f"{len(varbinds)} variables for {ask} non-repeaters")
                found.update((oid, v) for (oid, v), s in zip(varbinds, unread, strict=False)
                             if oid == s and not isinstance(v, Special))
                varbinds, unread = varbinds[ask:], []
            if not varbinds:
                del active[:n]  # an empty answer: nothing more under these roots
                continue
            ended: set[int] = set()
            arcs = _ARCS.__getitem__
            for j, i in enumerate(batch):  # varbind j, j + n, j + 2n... of an answer belong to column batch[j]
                prefix, column, prev, budget, cursor = prefixes[i], results[i], last[i], left[i], cursors[i]
                skip = len(prefix)
                for oid, value in varbinds[j::n]:
                    if isinstance(value, Special) or not oid.startswith(prefix):
                        if not isinstance(value, Special) and arcs(oid) <= arcs(cursor):
                            # e.g. an agent that repeats the non-repeaters: never cut a column short silently
                            raise SnmpError(address, f"agent returned {oid} after {cursor}: OIDs not increasing")
                        ended.add(i)
                        break
                    key = arcs(oid[skip:])
                    if key <= prev:
                        raise SnmpError(address, f"agent returned {oid} after {cursor}: OIDs not increasing")
                    if not budget:
                        self.stats["limits"] += 1
                        what = f"table {names[i]} ({roots[i]})" if names[i] else roots[i]
                        raise SnmpLimitError(address, f"walk of {what} stopped: more than max_rows={caps[i]} rows")
                    budget -= 1
                    column[oid] = value
                    prev, cursor = key, oid
                last[i], left[i], cursors[i] = prev, budget, cursor
            if ended:
                active = [i for i in active if i not in ended]
        if scalars:
            if apart or unread:
                found.update(await self.get(target, apart or unread))
            results.append(found)
        return results

    async def set(self, target: Target, values: Sequence[tuple[str, Value]], *, secret: bool = False) -> None:
        """SET ``values``: int → Integer32, Counter32/Gauge32/TimeTicks/Counter64, bytes/str → OCTET
        STRING, IpAddress, ObjectId (see :func:`collectors.snmp.ber.encode_value`).

        ``secret`` values (a Wi-Fi passphrase, a key: a profile's ``secret`` objects) are written only over
        SNMPv3 authPriv; with other credentials nothing is sent and SnmpAuthError is raised."""
        creds = target.credentials
        if secret and (type(creds) is not V3 or creds.level != "authPriv"):
            level = creds.level if type(creds) is V3 else "SNMPv2c"
            raise SnmpAuthError(target.address, f"secrets are written only over SNMPv3 authPriv, not {level}")
        vbl = encode_varbinds(values)  # OIDs checked and encoded through the OID cache (a leading dot is fine)
        pdu = await self._call(target, lambda rid, attempt: encode_pdu(SET, rid, vbl))
        if pdu.error_status:
            self._raise_status(target, pdu)

    async def close(self) -> None:
        """Close the sockets; requests still in flight fail with SnmpError."""
        self._closed = True
        for endpoint in self._endpoints.values():
            endpoint.close()
        self._endpoints.clear()
        self._engines.clear()

    @property
    def in_flight(self) -> int:
        """Requests currently holding a global slot."""
        return self._global.active

    # --- request machinery --------------------------------------------------------------------------

    async def _call(self, target: Target, build: Callable[[int, int], bytes]) -> Pdu:
        """Run one request/response exchange under the device and global limits."""
        if self._closed:
            raise SnmpError(target.address, "client is closed")
        if self._loop is not asyncio.get_running_loop():
            self._bind_loop()
        key = target.address
        device = self._devices.get(key)
        if device is None:
            device = self._devices[key] = _Gate(self._per_device)
        if device.active < device.limit and not device.waiters:
            device.active += 1
        else:
            await device.wait()
        try:
            gate = self._global
            if gate.active < gate.limit and not gate.waiters:
                gate.active += 1
            else:
                await gate.wait()
            try:
                stats = self.stats
                stats["requests"] += 1
                family, addr = await self._resolve(target)
                endpoint = self._endpoints.get(family)
                if endpoint is None:
                    endpoint = self._endpoints[family] = Endpoint.open(family, self.stats)
                creds = target.credentials
                try:
                    if isinstance(creds, V2c):
                        pdu = await self._v2c(target, creds, endpoint, addr, build)
                    else:
                        pdu = await self._v3(target, creds, endpoint, addr, build)
                except RequestTimeout as exc:
                    stats["timeouts"] += 1
                    waited = f"after {target.retries + 1} attempt(s) of {target.timeout:g} s"
                    if exc.rejected:
                        raise SnmpMalformedResponse(
                            key, f"no valid response {waited}; the last answer was dropped: {exc.rejected}"
                        ) from None
                    raise SnmpTimeout(key, f"no response {waited}") from None
                except EndpointClosed:
                    raise SnmpError(key, "client was closed") from None
                stats["responses"] += 1
                return pdu
            finally:
                gate.release()
        finally:
            device.release()
            if device.active == 0 and self._devices.get(key) is device:
                del self._devices[key]

    async def _v2c(
        self, target: Target, creds: V2c, endpoint: Endpoint, addr: tuple[str, int], build: Callable[[int, int], bytes]
    ) -> Pdu:
        prefixes = self._prefixes.get(creds.community)
        if prefixes is None:
            community = creds.community.encode()
            prefixes = self._prefixes[creds.community] = (community, b"\x02\x01\x01" + tlv(0x04, community))
        community, head = prefixes
        rid = endpoint.new_id()
        first = head + build(rid, 0)
        first = b"\x30" + encode_length(len(first)) + first

        def packet(attempt: int) -> bytes:
            if attempt == 0:
                return first
            body = head + build(rid, attempt)
            return b"\x30" + encode_length(len(body)) + body

        def decoder(data: bytes) -> Pdu | None:
            version, received, pdu = decode_community_message(data)
            if version != 1 or received != community or pdu.tag != RESPONSE:
                return None
            return pdu

        return await endpoint.request(addr, rid, packet, decoder, target.timeout, target.retries)  # type: ignore[no-any-return]

    async def _v3(
        self, target: Target, creds: V3, endpoint: Endpoint, addr: tuple[str, int], build: Callable[[int, int], bytes]
    ) -> Pdu:
        try:
            usm.check_credentials(creds)
        except ValueError as exc:
            raise SnmpAuthError(target.address, str(exc)) from None
        key = (target.address, creds)
        stats = self.stats
        for _ in range(_V3_ROUNDS):
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = await self._discover(target, creds, endpoint, addr)
            rid = endpoint.new_id()

            def packet(attempt: int, engine: usm.Engine = engine, rid: int = rid) -> bytes:
                return usm.encode_request(creds, engine, rid, build(rid, attempt))

            def decoder(data: bytes, engine: usm.Engine = engine) -> usm.Message | None:
                msg = usm.decode(data, creds, engine)
                if msg.pdu.tag == REPORT:
                    return msg  # it answers this request, from its target: it may re-synchronise the engine
                if msg.pdu.tag != RESPONSE:
                    return None
                if (engine.auth_key is not None and not msg.authenticated) or (engine.priv_key and not msg.encrypted):
                    raise BerError(f"answer below the request's security level {creds.level}")
                return msg

            try:
                msg: usm.Message = await endpoint.request(addr, rid, packet, decoder, target.timeout, target.retries)
            except RequestTimeout:
                self._engines.pop(key, None)  # rediscover next time: the agent may have a new engine ID
                raise
            if msg.pdu.tag == RESPONSE:
                engine.observe(msg.boots, msg.time)
                return msg.pdu
            report = msg.pdu.varbinds[0][0] if msg.pdu.varbinds else ""
            if report == usm.NOT_IN_TIME_WINDOW and msg.authenticated:
                engine.resync(msg.boots, msg.time)
                stats["v3_resyncs"] += 1
                continue
            if report in (usm.NOT_IN_TIME_WINDOW, usm.UNKNOWN_ENGINE_ID):
                self._engines.pop(key, None)
                if msg.engine_id:
                    self._engines[key] = usm.Engine.discovered(creds, msg.engine_id, msg.boots, msg.time)
                stats["v3_resyncs"] += 1
                continue
            stats["auth_errors"] += 1
            name = usm.REPORT_NAMES.get(report, f"report {report}")
            raise SnmpAuthError(target.address, f"agent rejected the SNMPv3 request: {name}")
        raise SnmpAuthError(target.address, "could not synchronise with the agent's SNMPv3 engine")

    async def _discover(self, target: Target, creds: V3, endpoint: Endpoint, addr: tuple[str, int]) -> usm.Engine:
        """RFC 3414 4: learn the agent's engine ID, boots and time from its report."""
        rid = endpoint.new_id()
        packet = usm.encode_discovery(rid)

        def decoder(data: bytes) -> usm.Message | None:
            msg = usm.decode(data, creds, None)
            return msg if msg.pdu.tag == REPORT and msg.engine_id else None

        msg: usm.Message = await endpoint.request(
            addr, rid, lambda attempt: packet, decoder, target.timeout, target.retries
        )
        self.stats["v3_discoveries"] += 1
        return usm.Engine.discovered(creds, msg.engine_id, msg.boots, msg.time)

    async def _resolve(self, target: Target) -> tuple[int, tuple[str, int]]:
        """(address family, (ip, port)) of the target; names are resolved and cached for 5 minutes."""
        host = target.host
        hit = self._resolved.get(host)
        if hit is None or hit[0] < time.monotonic():
            try:
                ip = ipaddress.ip_address(host)
                hit = (float("inf"), socket.AF_INET6 if ip.version == 6 else socket.AF_INET, str(ip))
            except ValueError:
                try:
                    infos = await asyncio.get_running_loop().getaddrinfo(host, target.port, type=socket.SOCK_DGRAM)
                except OSError:
                    raise SnmpError(target.address, "cannot resolve host name") from None
                infos.sort(key=lambda info: info[0] != socket.AF_INET)
                hit = (time.monotonic() + _RESOLVE_TTL, infos[0][0], str(infos[0][4][0]))
            if len(self._resolved) >= _CACHE_MAX * 10:
                self._resolved.clear()
            self._resolved[host] = hit
        return hit[1], (hit[2], target.port)

    def _bind_loop(self) -> None:
        """Bind to the running loop: on first use, or when reused from a new loop (e.g. successive
        ``asyncio.run`` calls), when sockets, limits and SNMPv3 state of the old loop are dropped."""
        for stale in self._endpoints.values():
            stale.close()
        self._endpoints.clear()
        self._engines.clear()
        self._devices.clear()
        self._global = _Gate(self._global.limit)
        self._loop = asyncio.get_running_loop()

    def _remember_cap(self, address: str, reps: int) -> None:
        if len(self._bulk_caps) >= _CACHE_MAX * 10:
            self._bulk_caps.clear()
        self._bulk_caps[address] = (reps, time.monotonic() + _BULK_CAP_TTL)

    def _raise_status(self, target: Target, pdu: Pdu) -> None:
        self.stats["response_errors"] += 1
        status = pdu.error_status
        name = ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else f"error-status {status}"
        index = pdu.error_index
        oid = pdu.varbinds[index - 1][0] if 0 < index <= len(pdu.varbinds) else None
        raise SnmpResponseError(target.address, name, index, oid)


async def _until(deadline: float, target: Target, doing: str | Callable[[], str], work: Coroutine[Any, Any, T]) -> T:
    """Await ``work``; when ``deadline`` (``time.monotonic()``) comes first, cancel it and raise SnmpDeadlineError
    saying what it was ``doing`` (or what ``doing()`` says: a message built only when needed)."""
    left = deadline - time.monotonic()
    if left > 0:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(left):
                return await work
    else:
        work.close()  # never started: nothing is sent after the deadline
    what = doing if isinstance(doing, str) else doing()
    raise SnmpDeadlineError(target.address, f"poll deadline reached while {what}")


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(map(int, oid.split(".")))


def preceding(oid: str) -> str:
    """The OID a GETNEXT asks for to be answered ``oid`` itself: ``x.0`` → ``x``, ``x.k`` → ``x.(k-1)`` (no OID
    lies between those and ``oid`` in a scalar or a table with a one-arc index)."""
    head, _, last = oid.rpartition(".")
    return head if last == "0" else f"{head}.{int(last) - 1}"


_NORMALIZED = OidCache(normalize_oid)
"""OIDs as callers give them → dotted form (a profile's roots are normalized once, not at every walk)."""
_ARCS = OidCache(_oid_key)
"""Row indexes of walked columns ("3", "1.5") and the OIDs that end columns → arcs, to check that answers go
forward (devices of a model share them)."""
