"""The one small interface through which a capability plugs into noc, and what it receives at run time.

Each capability package declares ``CAPABILITY = Capability.of(__name__, summary, *parts)`` in its
``__init__.py``. Its parts are ``"module:attribute"`` strings, placed by :data:`CONVENTIONS` and imported only
when used, so that ``noc --help`` does not import
FastAPI, SQLAlchemy models or the SNMP stack. The composition root (``noc.capabilities``) lists the enabled
capabilities; the kernel imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noc.core.events import EventBus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from noc.core.crypto import SecretBox, Signer
    from noc.core.db import Database
    from noc.core.privacy import PersonalData
    from noc.core.security import Principal
    from noc.core.settings import Settings


CONVENTIONS = {"models": "{}.models", "wire": "{}.service:wire", "router": "{}.api:router",
               "pages": "{}.pages:router", "jobs": "{}.jobs:add_jobs", "cli": "{}.cli:register",
               "demo": "{}.demo:DEMO", "privacy": "{}.privacy:PERSONAL_DATA"}
"""Where each part of a capability lives (the one inner shape)."""


@dataclass(frozen=True)
class Capability:
    """What a capability adds to noc; every part is optional.

    - ``models``: the module defining its tables (Alembic and the test schema see every enabled one);
    - ``wire``: ``f(runtime)`` run once per process before anything else: subscribe to events, set up state;
    - ``router``: an ``APIRouter`` mounted under ``/api/v1``;
    - ``pages``: an ``APIRouter`` mounted at the root: public pages outside the API (no token, e.g. opt-out);
    - ``jobs``: ``f(scheduler, runtime)`` adding scheduled jobs;
    - ``cli``: ``f(app)`` adding commands to the ``noc`` typer app (keep that module's imports light);
    - ``demo``: a :class:`DemoPart` for ``noc demo``;
    - ``privacy``: a :class:`noc.core.privacy.PersonalData`: the personal data it holds about subscribers.
    """

    name: str
    summary: str
    models: str | None = None
    wire: str | None = None
    router: str | None = None
    pages: str | None = None
    jobs: str | None = None
    cli: str | None = None
    demo: str | None = None
    privacy: str | None = None

    @classmethod
    def of(cls, package: str, summary: str, *parts: str) -> Capability:
        """The capability of ``package`` with ``parts`` where the one inner shape puts them: ``models`` in
        ``models.py``, ``wire`` in ``service.py``, ``router`` in ``api.py``, ``pages`` (``router``) in
        ``pages.py``, ``jobs`` (``add_jobs``) in ``jobs.py``, ``cli`` (``register``) in ``cli.py``, ``demo``
        (``DEMO``) in ``demo.py``, ``privacy`` (``PERSONAL_DATA``) in ``privacy.py``."""
        unknown = set(parts) - set(CONVENTIONS)
        if unknown:
            raise ValueError(f"{package}: unknown parts {sorted(unknown)} (known: {', '.join(CONVENTIONS)})")
        refs = {part: CONVENTIONS[part].format(package) for part in parts}
        return cls(name=package.rpartition(".")[2], summary=summary, **refs)

    def part(self, name: str) -> Any:
        """The object behind part ``name`` (imported now), or None when the capability has none."""
        ref = getattr(self, name)
        return None if ref is None else resolve(ref)


def resolve(ref: str) -> Any:
    """Import ``"package.module:attribute"`` (or just ``"package.module"``) and return it."""
    module_name, _, attribute = ref.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


Authenticator = Callable[["Session", str], "Principal | None"]


@dataclass
class Runtime:
    """What a running noc process shares with its capabilities: settings, database, events, clean-up.

    One per process (API server, worker, CLI command); capabilities' ``wire`` functions fill in the
    extension points (``authenticator``, event subscriptions).
    """

    settings: Settings
    db: Database
    events: EventBus = field(default_factory=EventBus)
    authenticator: Authenticator | None = None
    """Resolves an API token to its caller (the auth capability provides it); None admits nobody."""
    personal_data: dict[str, PersonalData] = field(default_factory=dict)
    """Every enabled capability's :class:`PersonalData` part, by capability name (the composition root fills it)."""
    closers: list[Callable[[], None]] = field(default_factory=list)
    _boxes: dict[str, SecretBox] = field(default_factory=dict, init=False, repr=False)
    _signers: dict[str, Signer] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.db.attach_secret(self.settings.resolved_secret_key)

    def secret_box(self, purpose: str) -> SecretBox:
        """A sealer for secrets of ``purpose`` under the process's secret key (cached per purpose)."""
        from noc.core.crypto import SecretBox

        if purpose not in self._boxes:
            self._boxes[purpose] = SecretBox(self.settings.resolved_secret_key(), purpose)
        return self._boxes[purpose]

    def signer(self, purpose: str) -> Signer:
        """A signer of ``purpose`` under the process's secret key (cached per purpose)."""
        from noc.core.crypto import Signer

        if purpose not in self._signers:
            self._signers[purpose] = Signer(self.settings.resolved_secret_key(), purpose)
        return self._signers[purpose]

    def close(self) -> None:
        """Run every registered clean-up, newest first."""
        while self.closers:
            self.closers.pop()()


@dataclass
class DemoContext:
    """What a demo part gets: the demo's runtime, data directory and where simulated devices answer."""

    runtime: Runtime
    data_dir: Path
    device_port_base: int
    cpe_port_base: int
    before_bind: Callable[[], None] = lambda: None
    """Frees the simulator's ports the demo holds reserved; the part that binds them calls it just before."""
    notes: list[str] = field(default_factory=list)
    """Lines the demo prints once it is ready (tokens file, addresses to try)."""


@dataclass(frozen=True)
class DemoPart:
    """A capability's share of ``noc demo``.

    ``seed`` runs before the API serves (create the demo's data once; later starts reuse it); ``run`` is
    entered after the API answers and left at shutdown (simulated devices, background work).
    """

    seed: Callable[[DemoContext], None] | None = None
    run: Callable[[DemoContext], AbstractContextManager[object]] | None = None
