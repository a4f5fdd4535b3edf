"""Running a simulated network: one UDP socket per agent on loopback, in asyncio (``serve``) or in a background
thread for synchronous callers (``SimulatedNetwork``)."""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from collectors.sim.agent import Agent
from collectors.sim.build import build_agent
from collectors.sim.clock import Clock, RealClock, Timeline, parse_start
from collectors.sim.config import NetworkConfig
from collectors.sim.message import Codec
from collectors.sim.responder import CODECS, answer

log = logging.getLogger(__name__)
T = TypeVar("T")
ConfigLike = NetworkConfig | dict[str, Any] | str | Path


class AgentProtocol(asyncio.DatagramProtocol):
    """Answers the datagrams of one agent's socket."""

    def __init__(self, agent: Agent, codec: Codec) -> None:
        self.agent = agent
        self.codec = codec
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = answer(self.agent, data, self.codec)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("agent %s: %s", self.agent.name, exc)


def load_config(config: ConfigLike) -> NetworkConfig:
    """A ``NetworkConfig`` from itself, a dict, or a YAML/JSON file path."""
    if isinstance(config, NetworkConfig):
        return config
    if isinstance(config, dict):
        return NetworkConfig.model_validate(config)
    return NetworkConfig.load(config)


def build_agents(config: NetworkConfig, clock: Clock) -> list[Agent]:
    """Every agent of ``config`` with its MIB, ports assigned from ``base_port`` where none is given."""
    timeline = Timeline(config.speed, parse_start(config.start))
    agents = [build_agent(cfg, clock, timeline, config.seed, config.host) for cfg in config.all_agents()]
    if config.base_port:
        used = {(a.host, a.port) for a in agents if a.port}
        port = config.base_port
        for agent in agents:
            if agent.port:
                continue
            while (agent.host, port) in used:
                port += 1
            agent.port = port
            used.add((agent.host, port))
            port += 1
    return agents


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed + 256:
        target = hard if hard == resource.RLIM_INFINITY else min(hard, needed + 256)
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))


class RunningNetwork:
    """A served network: agents by name (each knows its ``host``, ``port`` and ``community``)."""

    def __init__(self, config: NetworkConfig, agents: list[Agent], clock: Clock) -> None:
        self.config = config
        self.agents = {a.name: a for a in agents}
        self.clock = clock
        self._transports: list[asyncio.DatagramTransport] = []

    def __iter__(self) -> Iterator[Agent]:
        return iter(self.agents.values())

    def agent(self, name: str) -> Agent:
        return self.agents[name]

    def endpoint(self, name: str) -> tuple[str, int, str]:
        """(host, port, community) of an agent."""
        agent = self.agents[name]
        return agent.host, agent.port, agent.community.decode()

    def inventory(self) -> dict[str, Any]:
        """Everything a poller needs to find the agents, as JSON-ready data."""
        return {"speed": self.config.speed, "agents": [a.describe() for a in self.agents.values()]}

    async def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        codec = CODECS[self.config.codec]
        _raise_fd_limit(len(self.agents))
        try:
            for agent in self.agents.values():
                transport, _ = await loop.create_datagram_endpoint(
                    partial(AgentProtocol, agent, codec), local_addr=(agent.host, agent.port))
                self._transports.append(transport)
                agent.port = transport.get_extra_info("sockname")[1]
        except OSError as exc:
            await self.stop()
            raise OSError(exc.errno, f"cannot bind agent {agent.name} to {agent.host}:{agent.port}: "
                                     f"{exc.strerror}") from exc

    async def stop(self) -> None:
        """Close every socket."""
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        await asyncio.sleep(0)

    async def __aenter__(self) -> RunningNetwork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve(config: ConfigLike, *, clock: Clock | None = None) -> RunningNetwork:
    """Build and bind the network in the running event loop; ``await net.stop()`` (or ``async with``) ends it."""
    config = load_config(config)
    clock = clock or RealClock()
    network = RunningNetwork(config, build_agents(config, clock), clock)
    await network._bind()
    # The agents' MIBs are millions of long-lived objects: keep them out of the cyclic collector, whose full
    # collections would otherwise stall every agent for seconds in a large network.
    gc.collect()
    gc.freeze()
    return network


class SimulatedNetwork:
    """The network in a background thread with its own event loop, for synchronous code::

        with SimulatedNetwork(config) as net:
            host, port, community = net.endpoint("cpe-0001")
    """

    def __init__(self, config: ConfigLike, *, clock: Clock | None = None, start_timeout: float = 60.0) -> None:
        self.config = load_config(config)
        self._clock = clock
        self._timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.network: RunningNetwork | None = None

    def start(self) -> SimulatedNetwork:
        if self._loop is not None:
            raise RuntimeError("already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="collectors-sim", daemon=True)
        self._thread.start()
        try:
            self.network = asyncio.run_coroutine_threadsafe(serve(self.config, clock=self._clock), loop).result(
                self._timeout)
        except BaseException:
            self._shutdown_loop()
            raise
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self.network is not None:
            asyncio.run_coroutine_threadsafe(self.network.stop(), self._loop).result(self._timeout)
            self.network = None
        self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(self._timeout)
        loop.close()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the network's thread (safe for changing agents while they serve)."""
        if self._loop is None:
            raise RuntimeError("not running")

        async def run() -> T:
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(self._timeout)

    @property
    def running(self) -> RunningNetwork:
        if self.network is None:
            raise RuntimeError("not running")
        return self.network

    @property
    def agents(self) -> dict[str, Agent]:
        return self.running.agents

    def agent(self, name: str) -> Agent:
        return self.running.agent(name)

    def endpoint(self, name: str) -> tuple[str, int, str]:
        return self.running.endpoint(name)

    def inventory(self) -> dict[str, Any]:
        return self.running.inventory()

    def __enter__(self) -> SimulatedNetwork:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
