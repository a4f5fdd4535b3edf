"""``python -m collectors.sim``."""

from __future__ import annotations

from collectors.sim.cli import main

raise SystemExit(main())
