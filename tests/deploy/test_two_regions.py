"""The two-region set-up of docs/deployment.md (poller groups): the central site's override and the remote site's
compose file fit docker-compose.yml, and the remote workers reach every central service they name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from noc.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def snippets() -> tuple[dict[str, Any], dict[str, Any]]:
    """The section's two YAML blocks: the central override and the remote site's file."""
    text = (ROOT / "docs/deployment.md").read_text()
    section = text[text.index("### Two regions"):text.index("## Scaling workers without a broker")]
    central, remote = (yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S))
    return central, remote


def test_the_central_override_names_services_of_the_stack_and_publishes_on_the_vpn_only() -> None:
    stack = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    central, _ = snippets()
    assert set(central["services"]) <= set(stack)
    for name, service in central["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("10.0.0.10:"), (name, port)  # never on every address
    redis = central["services"]["redis"]
    assert "--requirepass" in redis["command"] and redis["command"][:3] == stack["redis"]["command"]
    assert "REDISCLI_AUTH" in redis["environment"]  # the stack's health check runs redis-cli ping


def test_the_remote_workers_reach_what_they_name_and_set_only_real_settings() -> None:
    central, remote = snippets()
    (poller,) = remote["services"].values()
    assert poller["command"] == ["worker", "--poller-group", "maribor"]
    env = poller["environment"]
    fields = {f"NOC_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, set(env) - fields
    published = {port.rsplit(":", 1)[1] for s in central["services"].values() for port in s.get("ports", [])}
    for key in ("NOC_DATABASE_URL", "NOC_BROKER_URL", "NOC_INFLUX_URL"):
        host, port = re.search(r"@?(10\.0\.0\.10):(\d+)", env[key]).groups()  # type: ignore[union-attr]
        assert port in published, f"{key} reaches {host}:{port}, which the central site does not publish"
    assert ":${REDIS_PASSWORD" in env["NOC_BROKER_URL"]  # the password the central Redis requires
