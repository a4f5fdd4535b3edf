"""The deployment files: docker-compose.yml, Dockerfile, Grafana provisioning and dashboards (no network, no Docker
engine; `docker compose config` runs only where a compose v2 client is installed)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from noc.core.settings import Settings
from tests.support.dashboards import all_panels, build_module, load_dashboards

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DASHBOARDS = ROOT / "dashboards"
DATASOURCE = {"type": "influxdb", "uid": "noc-influxdb"}
SECRETS = ("NOC_SECRET_KEY", "POSTGRES_PASSWORD", "INFLUX_TOKEN", "INFLUX_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD",
           "GRAFANA_DB_PASSWORD")
SERVICES = {"postgres", "influxdb", "grafana", "victoriametrics", "migrate", "noc-api", "noc-worker", "mailpit",
            "redis", "noc-poller"}
NOC_SERVICES = ("migrate", "noc-api", "noc-worker", "noc-poller")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


# --- docker-compose.yml -------------------------------------------------------------------------------------

def test_services_and_their_commands(compose: dict[str, Any]) -> None:
    svc = services(compose)
    assert set(svc) == SERVICES
    assert svc["migrate"]["command"] == ["db", "upgrade"]
    assert svc["migrate"]["restart"] == "no"
    assert svc["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    api = svc["noc-api"]["command"]
    assert api[0] == "serve" and "--no-scheduler" in api and api[api.index("--host") + 1] == "0.0.0.0"
    assert svc["noc-worker"]["command"] == ["worker", "--metrics-port", "9102", "--metrics-host", "0.0.0.0"]
    for name in ("noc-api", "noc-worker"):
        assert svc[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert any(p.endswith(":8000") for p in svc["noc-api"]["ports"])
    poller = svc["noc-poller"]
    assert poller["command"][:2] == ["worker", "--poller-group"] and poller["deploy"]["replicas"]
    assert poller["environment"]["NOC_BROKER_URL"].endswith("redis://redis:6379/0}")
    assert poller["depends_on"]["redis"]["condition"] == "service_healthy"


def test_healthchecks(compose: dict[str, Any]) -> None:
    svc = services(compose)
    for name in ("postgres", "influxdb", "grafana", "noc-api"):
        assert svc[name]["healthcheck"]["test"], name
    assert "pg_isready" in " ".join(svc["postgres"]["healthcheck"]["test"])
    assert "/api/v1/health" in " ".join(svc["noc-api"]["healthcheck"]["test"])


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    svc = services(compose)
    assert re.fullmatch(r"influxdb:2\.\d+(\.\d+)?", svc["influxdb"]["image"]), "InfluxDB must stay on 2.x (Flux)"
    assert re.fullmatch(r"grafana/grafana(-oss)?:11\.\d+\.\d+", svc["grafana"]["image"])
    assert re.fullmatch(r"postgres:16(\.\d+)?(-\w+)?", svc["postgres"]["image"])
    assert svc["mailpit"]["image"].startswith("axllent/mailpit:v")
    for name, service in svc.items():
        assert ":" in service["image"] and not service["image"].endswith(":latest"), name


def test_noc_environment(compose: dict[str, Any]) -> None:
    known = {f"NOC_{name.upper()}" for name in Settings.model_fields}
    for name in NOC_SERVICES:
        env = services(compose)[name]["environment"]
        assert set(k for k in env if k.startswith("NOC_")) <= known, name
        assert env["NOC_DATABASE_URL"].startswith("postgresql+psycopg://noc:${POSTGRES_PASSWORD:?")
        assert env["NOC_DATABASE_URL"].endswith("@postgres:5432/noc")
        assert env["NOC_DATA_DIR"] == "/var/lib/noc"
        assert env["NOC_INFLUX_URL"] == "http://influxdb:8086"
        assert env["NOC_INFLUX_ORG"] == env["NOC_INFLUX_BUCKET"] == "noc"
        assert env["NOC_INFLUX_TOKEN"].startswith("${INFLUX_TOKEN:?")
        assert "mailpit" in env["NOC_SMTP_HOST"] and "1025" in env["NOC_SMTP_PORT"]
    influx = services(compose)["influxdb"]["environment"]
    assert influx["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    assert influx["DOCKER_INFLUXDB_INIT_ORG"] == influx["DOCKER_INFLUXDB_INIT_BUCKET"] == "noc"
    assert influx["DOCKER_INFLUXDB_INIT_RETENTION"]
    assert influx["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"].startswith("${INFLUX_TOKEN:?")


def test_each_worker_owns_its_data_volume(compose: dict[str, Any]) -> None:
    """The InfluxDB outage spool in the data directory is locked by one process."""
    svc = services(compose)
    mounts = {name: [v for v in svc[name].get("volumes", []) if v.endswith(":/var/lib/noc")]
              for name in ("noc-api", "noc-worker")}
    assert all(len(m) == 1 for m in mounts.values()), mounts
    assert mounts["noc-api"] != mounts["noc-worker"]
    assert "NOC_POLL_SHARD" in svc["noc-worker"]["environment"]


def test_required_secrets_fail_loudly() -> None:
    text = COMPOSE_FILE.read_text()
    for var in SECRETS:
        uses = re.findall(r"\$\{" + var + r"([^}]*)\}", text)
        assert uses, f"{var} is not used"
        assert all(u.startswith(":?") and len(u) > 2 for u in uses), f"{var}: use ${{{var}:?message}} everywhere"


SECRET_KEY = re.compile(r"(PASSWORD|TOKEN|SECRET|_KEY)$", re.I)


def test_no_secret_literals(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_KEY.search(key):
                assert str(value).startswith("${") and ":?" in str(value), f"{name}.{key} holds a literal"
    texts = {p: p.read_text() for p in (COMPOSE_FILE, ROOT / "deploy.env.example",
                                        *(DASHBOARDS / "provisioning").rglob("*.yaml"))}
    for path, text in texts.items():
        for line in text.splitlines():
            line = re.sub(r"(^|\s)#.*", "", line)
            # credentials in a URL must come from a variable
            for cred in re.findall(r"://[^/\s:@]+:([^@\s]+)@", line):
                assert cred.startswith("${"), f"{path.name}: {line.strip()}"
            match = re.match(r"\s*-?\s*\w*(password|token|secret|key)\s*[:=]\s*(\S+)", line, re.I)
            if match:
                assert match.group(2).startswith("$"), f"{path.name}: {line.strip()}"
            for var in SECRETS:
                assert not re.match(rf"\s*{var}\s*=\s*\S", line), f"{path.name}: {var} has a value"
        assert not re.search(r"(?i)\b(changeme|admin123|password123|secret123)\b", text), path.name


def test_grafana_mounts_point_at_the_repository(compose: dict[str, Any]) -> None:
    volumes = services(compose)["grafana"]["volumes"]
    binds = [v.split(":") for v in volumes if v.startswith("./")]
    assert binds
    for source, *_ in binds:
        assert (ROOT / source).is_dir(), source
    targets = {target for _, target, *_ in binds}
    assert {"/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards",
            "/etc/grafana/provisioning/alerting"} <= targets
    provider = yaml.safe_load((DASHBOARDS / "provisioning/dashboards/noc.yaml").read_text())["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] in targets
    env = services(compose)["grafana"]["environment"]
    assert env["INFLUX_TOKEN"].startswith("${INFLUX_TOKEN:?")
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert env["GRAFANA_DB_PASSWORD"].startswith("${GRAFANA_DB_PASSWORD:?")
    assert services(compose)["migrate"]["environment"]["NOC_GRAFANA_DB_PASSWORD"].startswith("${GRAFANA_DB_PASSWORD:?")
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(provider["options"]["path"] + "/")
    assert json.loads((DASHBOARDS / "json" / home.rsplit("/", 1)[1]).read_text())["uid"] == "noc-overview"


def test_alerts_reach_the_oncall_by_mail(compose: dict[str, Any]) -> None:
    """Every alert rule's alerts reach a provisioned e-mail contact point, whose address and mail relay Grafana gets
    from the stack's environment; the files keep every key through Grafana 11.6's typed alerting models."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.alerting import ContactPoint, NotificationPolicy

    build = build_module()
    doc = yaml.safe_load(build.NOTIFICATIONS.read_text())
    assert build.NOTIFICATIONS.parent == build.ALERTS.parent  # the mounted provisioning/alerting directory
    (point,) = doc["contactPoints"]
    (receiver,) = point["receivers"]
    assert receiver["type"] == "email" and receiver["settings"]["addresses"] == "$NOC_ONCALL_EMAIL"
    (root,) = doc["policies"]
    policy = {k: v for k, v in root.items() if k != "orgId"}
    for mine, model in ((receiver, ContactPoint), (policy, NotificationPolicy)):
        typed = json.loads(json.dumps(model.from_json(mine), cls=JSONEncoder))
        assert typed == mine, typed

    def route(labels: dict[str, str], policy: dict[str, Any]) -> dict[str, Any]:
        """The policy an alert with ``labels`` ends at (first matching child, as Grafana's Alertmanager routes)."""
        for child in policy.get("routes", []):
            if all(op == "=" and labels.get(name) == value for name, op, value in child["object_matchers"]):
                return {**policy, **route(labels, child)}
        return policy

    names = {point["name"]}
    rules = yaml.safe_load(build.ALERTS.read_text())["groups"][0]["rules"]
    for rule in rules:
        chosen = route(rule["labels"], root)
        assert chosen["receiver"] in names
        assert chosen["repeat_interval"] == ("1h" if rule["labels"]["severity"] == "critical" else "4h"), rule["uid"]
    assert {r["labels"]["severity"] for r in rules} == {"critical", "warning"}
    assert "$" not in build.ALERTS.read_text()  # Grafana would expand it from its environment

    env = services(compose)["grafana"]["environment"]
    assert env["NOC_ONCALL_EMAIL"].startswith("${NOC_ONCALL_EMAIL:-")
    assert env["GF_SMTP_ENABLED"] == "true"
    assert env["GF_SMTP_HOST"] == "${NOC_SMTP_HOST:-mailpit}:${NOC_SMTP_PORT:-1025}"
    noc_env = services(compose)["noc-api"]["environment"]
    assert [noc_env[k] for k in ("NOC_SMTP_HOST", "NOC_SMTP_PORT")] == ["${NOC_SMTP_HOST:-mailpit}",
                                                                   "${NOC_SMTP_PORT:-1025}"]
    assert "#NOC_ONCALL_EMAIL=" in (ROOT / "deploy.env.example").read_text()


def test_metrics_are_scraped(compose: dict[str, Any]) -> None:
    """VictoriaMetrics scrapes the worker's and the API's /metrics; Grafana's Prometheus data source reads it."""
    vm = services(compose)["victoriametrics"]
    config_mount = [v for v in vm["volumes"] if v.startswith("./deploy/scrape.yml:")]
    assert config_mount
    assert f"-promscrape.config={config_mount[0].split(':')[1]}" in vm["command"]
    scrape = yaml.safe_load((ROOT / "deploy/scrape.yml").read_text())
    targets = {t for job in scrape["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    worker = services(compose)["noc-worker"]["command"]
    assert f"noc-worker:{worker[worker.index('--metrics-port') + 1]}" in targets
    assert "noc-api:8000" in targets
    (ds,) = yaml.safe_load((DASHBOARDS / "provisioning/datasources/prometheus.yaml").read_text())["datasources"]
    assert ds["url"] == "http://victoriametrics:8428" and ds["type"] == "prometheus"


# --- Dockerfile ---------------------------------------------------------------------------------------------

def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert stages and all(s == "python:3.11-slim" for s in stages)
    final = text.rsplit("\nFROM ", 1)[-1]
    users = re.findall(r"^USER\s+(\S+)", final, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["noc"\]$', final, re.M)
    assert re.search(r"pip install .*\.", text)
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*" and not any(".env" in line and line.startswith("!") for line in ignore)


# --- Grafana ------------------------------------------------------------------------------------------------

def provisioned_datasources() -> dict[str, str]:
    """uid -> type of every provisioned data source."""
    found = {}
    for path in (DASHBOARDS / "provisioning/datasources").glob("*.yaml"):
        for ds in yaml.safe_load(path.read_text())["datasources"]:
            found[ds["uid"]] = ds["type"]
    return found


def test_postgres_datasource_provisioning() -> None:
    (ds,) = yaml.safe_load((DASHBOARDS / "provisioning/datasources/postgres.yaml").read_text())["datasources"]
    assert ds["user"] == "noc_grafana" and ds["url"] == "postgres:5432" and ds["jsonData"]["database"] == "noc"
    assert ds["secureJsonData"]["password"] in ("$GRAFANA_DB_PASSWORD", "${GRAFANA_DB_PASSWORD}")


def test_datasource_provisioning() -> None:
    doc = yaml.safe_load((DASHBOARDS / "provisioning/datasources/influxdb.yaml").read_text())
    (ds,) = doc["datasources"]
    assert ds["uid"] == DATASOURCE["uid"] and ds["type"] == DATASOURCE["type"]
    assert ds["url"] == "http://influxdb:8086"
    assert ds["jsonData"]["version"] == "Flux"
    assert ds["jsonData"]["organization"] == ds["jsonData"]["defaultBucket"] == "noc"
    assert ds["secureJsonData"]["token"] in ("$INFLUX_TOKEN", "${INFLUX_TOKEN}")


def flux_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query" and var["datasource"] == DATASOURCE:
            yield f"variable {var['name']}", var["query"]
    for panel in all_panels(dashboard["panels"]):
        for t in panel.get("targets", []):
            if t["datasource"] == DATASOURCE:
                yield f"{panel['title']} ({t['refId']})", t["query"]


def test_dashboards_are_generated_by_build_py() -> None:
    build = build_module()
    for name, make in build.DASHBOARDS.items():
        assert (DASHBOARDS / "json" / name).read_text(encoding="utf-8") == build.render(make), \
            f"{name} is stale: run python dashboards/build.py"
    assert build.main(["--check"]) == 0  # the alert rules and notifications too


def test_every_panel_uses_the_provisioned_datasource() -> None:
    provisioned = provisioned_datasources()
    assert set(provisioned) == {"noc-influxdb", "noc-postgres", "noc-prometheus"}
    uids = set()

    def known(ref: dict[str, str]) -> bool:
        return provisioned.get(ref["uid"]) == ref["type"]

    for name, dash in load_dashboards().items():
        assert dash["uid"] not in uids
        uids.add(dash["uid"])
        for panel in all_panels(dash["panels"]):
            if panel["type"] == "row":
                continue
            assert known(panel["datasource"]), f"{name}: {panel['title']}"
            assert panel["targets"], f"{name}: {panel['title']}"
            for t in panel["targets"]:
                assert t["datasource"] == panel["datasource"], f"{name}: {panel['title']}"
        for var in dash["templating"]["list"]:
            if var["type"] == "query":
                assert known(var["datasource"]), f"{name}: {var['name']}"
        for item in dash["annotations"]["list"]:
            assert known(item["datasource"]) and item["target"]["datasource"] == item["datasource"], name


def series_schema() -> dict[str, tuple[set[str], set[str]]]:
    """measurement -> (tags, fields) from the table in docs/series.md."""
    text = (ROOT / "docs/series.md").read_text()
    section = text.split("## Measurements", 1)[1].split("\n## ", 1)[0]
    schema = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`\w+`", cells[0]):
            tags, fields = (set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", c))) for c in cells[1:3])
            schema[cells[0].strip("`")] = (tags, fields)
    assert {"segment", "interface", "cm_downstream", "cm_upstream", "cm_status", "poll"} <= set(schema)
    return schema


COMPUTED = {"b", "n"}
"""Columns the queries make themselves (histogram bucket and count)."""


def test_flux_uses_only_documented_measurements_fields_and_tags() -> None:
    schema = series_schema()
    for name, dash in load_dashboards().items():
        for where, query in flux_queries(dash):
            measurements = set(re.findall(r'_measurement == "(\w+)"', query))
            assert measurements, f"{name}: {where} names no measurement"
            assert measurements <= set(schema), f"{name}: {where}: {measurements - set(schema)}"
            tags = set().union(*(schema[m][0] for m in measurements))
            fields = set().union(*(schema[m][1] for m in measurements))
            used_fields = set(re.findall(r'_field == "(\w+)"', query))
            assert used_fields <= fields, f"{name}: {where}: {used_fields - fields}"
            columns = {c for c in re.findall(r"\br\.(\w+)", query) if not c.startswith("_")}
            assert columns <= tags | fields | COMPUTED, f"{name}: {where}: {columns - tags - fields - COMPUTED}"
            assert set(re.findall(r'tag: "(\w+)"', query)) <= tags
            assert used_fields or where.startswith("variable"), f"{name}: {where} names no field"


def test_dashboard_variables_are_defined() -> None:
    """Grafana variables in queries exist in the dashboard; environment `$VAR`s belong in provisioning only."""
    for name, dash in load_dashboards().items():
        defined = {v["name"] for v in dash["templating"]["list"]}
        text = json.dumps(dash)
        used = set(re.findall(r"\$\{(\w+)", text)) | set(re.findall(r"\$(\w+)", text))
        used = {u for u in used if not u.startswith("__")}  # Grafana's own: ${__value.raw}, $__timeFilter(...)
        assert used <= defined, f"{name}: {used - defined}"


def test_segment_capacity_dashboard() -> None:
    dash = load_dashboards()["segment-capacity.json"]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert "schema.tagValues" in variables["segment"]["query"]
    assert {o["value"] for o in variables["direction"]["options"]} >= {"down", "up"}
    panels = list(all_panels(dash["panels"]))
    (series,) = [p for p in panels if p["type"] == "timeseries" and "utilization" in p["targets"][0]["query"]]
    defaults = series["fieldConfig"]["defaults"]
    assert defaults["unit"] == "percentunit" and defaults["min"] == 0
    assert {"color": "red", "value": 0.7} in defaults["thresholds"]["steps"]
    assert defaults["custom"]["thresholdsStyle"]["mode"] == "line"
    (table,) = [p for p in panels if p["type"] == "table"]
    assert 'sort(columns: ["utilization"], desc: true)' in table["targets"][0]["query"]
    for query in (series["targets"][0]["query"], table["targets"][0]["query"]):
        assert "${segment" in query and "${direction" in query


def test_fleet_and_poller_dashboards_cover_their_measurements() -> None:
    dashes = load_dashboards()
    fleet = " ".join(q for _, q in flux_queries(dashes["cpe-fleet-health.json"]))
    for needle in ('"power_dbmv"', '"snr_db"', '"cm_upstream"', '"tx_power_dbmv"', '_measurement == "poll"'):
        assert needle in fleet
    poller = " ".join(q for _, q in flux_queries(dashes["poller.json"]))
    assert '_measurement == "poll"' in poller and '"duration_s"' in poller


# --- docker compose config ----------------------------------------------------------------------------------

def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or a standalone compose v2, if either is installed."""
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(cmd[0]):
            continue
        try:
            out = subprocess.run([*cmd, "version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and re.search(r"v?2\.\d+", out.stdout):
            return cmd
    return None


def run_config(tmp_path: Path, values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = compose_command()
    if cmd is None:
        pytest.skip("no Docker Compose v2 client here (`docker compose version` fails: the compose plugin is "
                    "missing, and no standalone docker-compose v2 is on PATH)")
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("NOC_", "COMPOSE_"))}
    return subprocess.run([*cmd, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "--env-file",
                           str(env_file), "config", "--format", "json"],
                          capture_output=True, text=True, timeout=60, env=env)


def test_docker_compose_config(tmp_path: Path) -> None:
    values = {var: f"dummy-{var.lower().replace('_', '-')}" for var in SECRETS}
    result = run_config(tmp_path, values)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert set(config["services"]) == SERVICES
    env = config["services"]["noc-api"]["environment"]
    assert env["NOC_DATABASE_URL"] == "postgresql+psycopg://noc:dummy-postgres-password@postgres:5432/noc"
    assert env["NOC_INFLUX_TOKEN"] == config["services"]["grafana"]["environment"]["INFLUX_TOKEN"]
    assert env["NOC_BROKER_URL"] == "redis://redis:6379/0"
    assert config["services"]["noc-poller"]["deploy"]["replicas"] == 2


@pytest.mark.parametrize("missing", SECRETS)
def test_docker_compose_config_refuses_a_missing_secret(tmp_path: Path, missing: str) -> None:
    values = {var: "dummy" for var in SECRETS if var != missing}
    result = run_config(tmp_path, values)
    assert result.returncode != 0 and missing in result.stderr
