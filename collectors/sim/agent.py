"""A simulated SNMP agent: community, MIB, writable subtrees, and its life (online, restarts, uptime)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from collectors.sim.clock import Clock, Moment, RealClock, Timeline
from collectors.sim.mib import Mib
from collectors.sim.smi import Oid, Value, VarBind
from collectors.snmp.ber import ErrorStatus

if TYPE_CHECKING:
    from collectors.sim.usm_agent import AgentUsm

UDP_MAX_PAYLOAD = 65507


class SetFailure(Exception):
    """A SET is refused: ``status`` (RFC 3416 error-status) at request position ``index`` (1-based)."""

    def __init__(self, status: ErrorStatus, index: int) -> None:
        super().__init__(f"{status.name} at varbind {index}")
        self.status = status
        self.index = index


class GoSilent(Exception):
    """Raised by a writer for a SET the agent never answers: the agent goes offline without applying it."""


SetItem = tuple[int, Oid, Value]
"""A SET variable binding with its 1-based position in the request."""


class Writer(Protocol):
    """A subtree that accepts SETs. ``plan`` validates every item (raising ``SetFailure``) and returns the change
    to apply once every writer in the request has agreed (SETs are all-or-nothing)."""

    prefix: Oid

    def plan(self, items: Sequence[SetItem], moment: Moment) -> Callable[[], None]: ...


@dataclass
class AgentStats:
    requests: int = 0
    answered: int = 0
    dropped: int = 0
    errors: int = 0


@dataclass(eq=False)
class Agent:
    """One agent. ``Moment`` computation folds scheduled and manual restarts into boot time and uptime."""

    name: str
    community: bytes
    kind: str = "generic"
    mib: Mib = field(default_factory=Mib)
    clock: Clock = field(default_factory=RealClock)
    timeline: Timeline = field(default_factory=Timeline)
    writers: list[Writer] = field(default_factory=list)
    online: bool = True
    initial_uptime: float = 0.0
    restart_every: float | None = None
    restart_downtime: float = 0.0
    max_response_size: int = UDP_MAX_PAYLOAD
    bulk_too_big: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    state: Any = None
    """What the builder returns for run-time control: ``CableModem``, ``DeviceState`` or ``Recording``."""
    stats: AgentStats = field(default_factory=AgentStats)
    host: str = "127.0.0.1"
    port: int = 0
    usm: AgentUsm | None = None
    """SNMPv3 USM of the agent (its engine ID and users); None = SNMPv3 requests are ignored."""
    _manual_boots: list[float] = field(default_factory=list)

    def moment(self) -> Moment:
        """Now, as this agent sees it."""
        elapsed = self.clock.elapsed()
        epoch, boot = 0, 0.0
        if self.restart_every:
            epoch = int(elapsed // self.restart_every)
            boot = epoch * self.restart_every
        if self._manual_boots:
            done = bisect_right(self._manual_boots, elapsed)
            if done:
                epoch += done
                boot = max(boot, self._manual_boots[done - 1])
        uptime = elapsed - boot + (self.initial_uptime if epoch == 0 else 0.0)
        return Moment(elapsed, boot, epoch, uptime)

    def restart(self) -> None:
        """Reboot now: sysUpTime and counters start again from zero."""
        self._manual_boots.append(self.clock.elapsed())

    def set_faults(self, faults: Iterable[str]) -> None:
        """Change a modem's faults at run time ("offline" silences any agent); counters stay monotonic."""
        wanted = frozenset(faults)
        apply = getattr(self.state, "apply_faults", None)
        if apply is not None:
            apply(wanted, self.moment())
        elif wanted - {"offline"}:
            raise ValueError(f"{self.name} ({self.kind}) has no line faults, only 'offline'")
        self.online = "offline" not in wanted
        self.info["faults"] = sorted(wanted)

    def answering(self, moment: Moment) -> bool:
        """Offline agents and agents still booting after a restart stay silent."""
        return self.online and not (moment.epoch and moment.elapsed - moment.boot < self.restart_downtime)

    def add_writer(self, writer: Writer) -> None:
        self.writers.append(writer)
        self.writers.sort(key=lambda w: len(w.prefix), reverse=True)

    def _writer_for(self, oid: Oid) -> Writer | None:
        for writer in self.writers:  # longest prefix first
            if oid[:len(writer.prefix)] == writer.prefix:
                return writer
        return None

    def set(self, varbinds: Sequence[VarBind], moment: Moment) -> tuple[ErrorStatus, int]:
        """Apply a SET request all-or-nothing; returns (error-status, error-index)."""
        groups: dict[int, tuple[Writer, list[SetItem]]] = {}
        for position, (oid, value) in enumerate(varbinds, 1):
            writer = self._writer_for(oid)
            if writer is None:
                status = ErrorStatus.NOT_WRITABLE if oid in self.mib else ErrorStatus.NO_CREATION
                return status, position
            groups.setdefault(id(writer), (writer, []))[1].append((position, oid, value))
        try:
            changes = [writer.plan(items, moment) for writer, items in groups.values()]
        except SetFailure as failure:
            return failure.status, failure.index
        for change in changes:
            change()
        return ErrorStatus.NO_ERROR, 0

    def describe(self) -> dict[str, Any]:
        """Where and how to reach this agent, plus what builders recorded about it (for inventories)."""
        out = {"name": self.name, "kind": self.kind, "host": self.host, "port": self.port,
               "community": self.community.decode(errors="replace"), "online": self.online, **self.info}
        if self.usm is not None:  # user names and levels, never keys
            out["engine_id"] = self.usm.engine_id.hex()
            out["v3_users"] = [{"user": c.user, "level": c.level} for c, _ in self.usm.users.values()]
        return out
