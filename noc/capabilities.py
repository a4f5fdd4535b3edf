"""The composition root's list of enabled capabilities, and what is built from it.

The API (``noc.api``), the scheduler (``noc serve`` / ``noc worker``), the CLI (``noc.cli``), the demo and
the migrations all take their parts from :data:`ENABLED`; nothing else names a capability. A new capability
is a package with ``CAPABILITY = Capability(...)`` in its ``__init__.py`` and one line here. Order matters
only where one capability builds on another's extension points (auth provides the authenticator others
rely on, capacity subscribes to polling's events): a capability comes after those it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from noc.core.capability import Capability, Runtime

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from noc.core.db import Database
    from noc.core.settings import Settings

ENABLED: tuple[str, ...] = (
    "noc.audit",
    "noc.auth",
    "noc.inventory",
    "noc.outbox",
    "noc.maintenance",
    "noc.polling",
    "noc.scaleout",
    "noc.capacity",
    "noc.complaints",
    "noc.wifi",
    "noc.web",
    "noc.live",
    "noc.privacy",
)
"""Packages of the enabled capabilities, each exposing ``CAPABILITY``."""


def enabled() -> list[Capability]:
    """Every enabled capability's descriptor, in :data:`ENABLED` order (imports only the packages)."""
    return [importlib.import_module(name).CAPABILITY for name in ENABLED]


def parts(name: str) -> Iterator[tuple[Capability, Any]]:
    """(capability, part) for every enabled capability that has part ``name`` (``router``, ``jobs``, ...)."""
    for capability in enabled():
        part = capability.part(name)
        if part is not None:
            yield capability, part


def metadata() -> MetaData:
    """The metadata of every enabled capability's tables (what Alembic and test schemas see)."""
    from noc.core.db import Base

    for capability in enabled():
        capability.part("models")  # importing a models module registers its tables on Base.metadata
    return Base.metadata


def wire(rt: Runtime) -> None:
    """Wire every enabled capability into ``rt``: their personal-data parts, then their ``wire`` functions."""
    rt.personal_data = {capability.name: part for capability, part in parts("privacy")}
    for _, part in parts("wire"):
        part(rt)


def runtime(settings: Settings, db: Database) -> Runtime:
    """A runtime for one process, with every capability wired in (events subscribed, authenticator set)."""
    rt = Runtime(settings, db)
    wire(rt)
    return rt
