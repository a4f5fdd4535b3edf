"""The demo's users: one per role, each with a fresh token written to ``tokens.json`` in the data directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from noc.auth.service import add_user, issue_token, revoke_tokens, user_by_name
from noc.core.capability import DemoContext, DemoPart
from noc.core.security import Actor, Role

DEMO_ACTOR = Actor(name="demo", role="admin")
TOKENS_FILE = "tokens.json"


def seed(ctx: DemoContext) -> None:
    """A ``demo-<role>`` user per role with a new token (older demo tokens revoked)."""
    tokens = {}
    with ctx.runtime.db.session() as s:
        for role in Role:
            name = f"demo-{role.value.replace('_', '-')}"
            user = user_by_name(s, name) or add_user(s, name, role, DEMO_ACTOR)
            revoke_tokens(s, user, DEMO_ACTOR)
            tokens[role.value] = issue_token(s, user, DEMO_ACTOR, label="demo")
    path = ctx.data_dir / TOKENS_FILE
    write_tokens(path, tokens)
    ctx.notes.append(f"API tokens, one per role (admin, noc_engineer, agent, complaint_handler, viewer): {path}")


def write_tokens(path: Path, tokens: dict[str, str]) -> None:
    """Write the role → token map for scripts, readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(tokens, handle, indent=2)
        handle.write("\n")


DEMO = DemoPart(seed=seed)
