"""A secondary SSID campaign over 10,000 simulated gateways, SNMPv3 authPriv end to end.

Setup, not timed:

1. the simulator in its own process (``python -m collectors.sim --config``): ``--gateways`` Arris TG3442
   gateways with the SNMPv3 user ``noc-wifi`` (SHA-256/AES) and the CLAB-WIFI-MIB tables, each on its own UDP
   port;
2. a fresh schema in the PostgreSQL of ``--pg`` (default ``$NOC_TEST_PG_URL``), migrated; ``--segments`` access
   segments, one subscriber (consenting, running contract) and one ``docsis-gw`` CPE per gateway with the v3
   credential (bulk-inserted); a WPA2-PSK SSID profile.

Timed:

- **create**: ``create_campaign`` for ``{"all": true}`` (eligibility of every CPE, one row each);
- **run**: ``run_campaign`` (what ``noc wifi run`` and the worker do): per gateway read, primary fingerprint, one
  SET batch + commit, read back and verify, states group-committed to PostgreSQL, an audit entry per change;
  concurrency ``NOC_WIFI_CONCURRENCY`` (64) and a per-segment start rate of ``--segment-rate`` (the default
  setting, 20/s per segment, would cap 10 segments at 200 CPEs/s: the benchmark lifts it to measure the
  machinery);
- **rerun**: the same campaign again (every gateway already as wanted: read and compare, no SET);
- peer in the same run: **net-snmp** — what a script would do with net-snmp's tools: ``snmpget`` the same
  objects, ``snmpset`` the same batch (to other rows), ``snmpget`` to read back, per gateway, ``--peer-jobs``
  gateways at a time, over ``--peer-count`` gateways (no state kept, no fingerprint, no rollback).

    NOC_TEST_PG_URL=... .venv/bin/python benchmarks/wifi_campaign.py --gateways 10000

The last line is machine-readable: ``gateways=<n> create_s=<n> run_s=<n> cpes_per_s=<n> done=<n> rerun_s=<n>
rerun_per_s=<n> netsnmp_per_s=<n>``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import insert

from collectors.snmp.profiles import load_profile
from collectors.snmp.values import Gauge32, Value
from noc.capabilities import runtime
from noc.core.db import Database, utcnow
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.models import Contract, Cpe, Credential, Package, Segment, Subscriber
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.migrations import upgrade
from noc.wifi import mib
from noc.wifi.models import Campaign, CampaignCpe
from noc.wifi.runner import run_campaign
from noc.wifi.service import SECRETS_PURPOSE, CampaignIn, ProfileIn, TargetIn, create_campaign, create_profile

USER = {"user": "noc-wifi", "auth_proto": "SHA256", "auth_key": "bench-auth-key-1", "priv_proto": "AES",
        "priv_key": "bench-priv-key-1"}
NETSNMP_V3 = ["-v3", "-l", "authPriv", "-u", "noc-wifi", "-a", "SHA-256", "-A", "bench-auth-key-1", "-x", "AES",
              "-X", "bench-priv-key-1", "-m", "", "-t", "2", "-r", "1"]
PROFILE = {"name": "hotspot", "ssid": "Kabel-Hotspot", "security": "wpa2-psk", "passphrase": "bench-passphrase-42",
           "vlan": 300, "max_clients": 16, "bandwidth_mbps": 20}
CHUNK = 5000


def start_simulator(gateways: int, folder: Path) -> tuple[subprocess.Popen[str], list[tuple[str, int]]]:
    """The simulated gateways in their own process; (host, port) of each, in name order."""
    config = {"seed": 3, "fleet": {"count": gateways, "prefix": "gw-", "community": "bench", "faults": {},
                                   "models": [{"kind": "gateway", "vendor": "Arris", "model": "TG3442"}],
                                   "v3_users": [USER]}}
    (folder / "net.json").write_text(json.dumps(config))
    proc = subprocess.Popen([sys.executable, "-m", "collectors.sim", "--config", str(folder / "net.json"),
                             "--inventory", str(folder / "agents.json")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving"):
        proc.kill()
        sys.exit(f"simulator did not start: {line!r}")
    agents = json.loads((folder / "agents.json").read_text())["agents"]
    return proc, [(a["host"], a["port"]) for a in sorted(agents, key=lambda a: a["name"])]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def populate(rt_db: Database, settings: Settings, endpoints: list[tuple[str, int]], segments: int) -> None:
    rt = runtime(settings, rt_db)
    sealed = rt.secret_box(CREDENTIALS_PURPOSE).seal({"auth_key": USER["auth_key"], "priv_key": USER["priv_key"]})
    with rt_db.engine.begin() as conn:
        credential = conn.execute(insert(Credential).returning(Credential.id), {
            "name": "v3", "version": "v3", "v3_user": USER["user"], "auth_proto": USER["auth_proto"],
            "priv_proto": USER["priv_proto"], "sealed": sealed}).scalar_one()
        package_id = conn.execute(insert(Package).returning(Package.id), {
            "code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10,
            "normal_download_mbps": 80, "normal_upload_mbps": 8, "min_download_mbps": 50,
            "min_upload_mbps": 5}).scalar_one()
        access = [conn.execute(insert(Segment).returning(Segment.id), {
            "name": f"sg-{n}", "kind": "access", "description": "", "rules": {}}).scalar_one()
            for n in range(segments)]
        for first in range(0, len(endpoints), CHUNK):
            numbers = range(first, min(first + CHUNK, len(endpoints)))
            ids = conn.execute(insert(Subscriber).returning(Subscriber.id, sort_by_parameter_order=True), [
                {"number": f"S-{i:07d}", "username": f"user{i}", "name": f"Naročnik {i}", "phone": "", "email": "",
                 "language": "sl", "tax_number": "", "ssid_consent": True} for i in numbers]).scalars().all()
            conn.execute(insert(Contract), [{"subscriber_id": sid, "package_id": package_id,
                                             "start_date": utcnow().date() - timedelta(days=400)} for sid in ids])
            conn.execute(insert(Cpe), [
                {"serial": f"GW{i:07d}", "mac": f"02:30:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                 "model": "TG3442", "profile": "docsis-gw", "address": endpoints[i][0], "port": endpoints[i][1],
                 "credential_id": credential, "enabled": True, "subscriber_id": sid,
                 "segment_id": access[i % segments]} for i, sid in zip(numbers, ids, strict=True)])
    with rt_db.session() as s:
        create_profile(s, ProfileIn.model_validate(PROFILE), rt.secret_box(SECRETS_PURPOSE), SYSTEM)
    rt.close()


def _typed(value: Value) -> list[str]:
    if isinstance(value, bytes):
        return ["x", value.hex()] if value else ["s", ""]
    return ["u" if isinstance(value, Gauge32) else "i", str(int(value))]  # type: ignore[call-overload]


def netsnmp_peer(endpoints: list[tuple[str, int]], jobs: int) -> float:
    """CPEs per second of the net-snmp tools doing the same read, batch SET and read back (to rows 5 and 6)."""
    mapping = load_profile("docsis-gw").secondary_ssid
    assert mapping is not None
    peer_rows = mapping.model_copy(update={"rows": tuple(r.model_copy(update={"id": r.id + 2})
                                                         for r in mapping.rows)})
    wanted = mib.Wanted("Kabel-Hotspot", 5, "bench-passphrase-42", (), 300, 16, 20)
    request = mib.set_request(peer_rows, {}, mib.targets(peer_rows, wanted))
    triples = [part for oid, value in request for part in (oid, *_typed(value))]
    oids = mib.read_oids(peer_rows)

    def one(endpoint: tuple[str, int]) -> None:
        where = f"{endpoint[0]}:{endpoint[1]}"
        for command in (["snmpget", *NETSNMP_V3, where, *oids], ["snmpset", *NETSNMP_V3, where, *triples],
                        ["snmpget", *NETSNMP_V3, where, *oids]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{command[0]} {where}: {done.stderr.strip()}")

    started = time.monotonic()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, endpoints))
    return len(endpoints) / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("NOC_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--gateways", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=10)
    parser.add_argument("--segment-rate", type=float, default=10_000.0, help="CPEs started per second per segment")
    parser.add_argument("--peer-count", type=int, default=300)
    parser.add_argument("--peer-jobs", type=int, default=8)
    args = parser.parse_args(argv)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    schema = f"bench_wifi_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.pg else "?"
    folder = Path(tempfile.mkdtemp(prefix="bench-wifi-"))
    settings = Settings(database_url=f"{args.pg}{sep}options=-csearch_path%3D{schema}", data_dir=folder,
                        secret_key="bench-secret-key-0123456789", wifi_segment_rate=args.segment_rate,
                        snmp_timeout_s=2.0, snmp_retries=1)
    db = Database(settings.resolved_database_url())
    sim, endpoints = start_simulator(args.gateways, folder)
    try:
        upgrade(db)
        populate(db, settings, endpoints, args.segments)
        rt = runtime(settings, db)
        boxes = {"credentials": rt.secret_box(CREDENTIALS_PURPOSE), "secrets": rt.secret_box(SECRETS_PURPOSE)}
        body = CampaignIn(profile="hotspot", action="enable", target=TargetIn(all=True))
        started = time.monotonic()
        with db.session() as s:
            campaign_id = create_campaign(s, body, settings, SYSTEM).id
        create_s = time.monotonic() - started
        print(f"create: {args.gateways} CPEs checked and recorded in {create_s:.1f} s", flush=True)
        cpu, sim_cpu = time.process_time(), cpu_seconds(sim.pid)
        started = time.monotonic()
        counts = run_campaign(db, settings, campaign_id, **boxes)
        run_s = time.monotonic() - started
        cpu, sim_cpu = time.process_time() - cpu, cpu_seconds(sim.pid) - sim_cpu
        assert counts is not None
        with db.read_session() as s:
            reasons = s.execute(sa.select(CampaignCpe.reason, sa.func.count()).where(
                CampaignCpe.campaign_id == campaign_id, CampaignCpe.state.in_(("failed", "rolled_back")))
                .group_by(CampaignCpe.reason).order_by(sa.func.count().desc()).limit(3)).all()
            state, why = s.execute(sa.select(Campaign.state, Campaign.reason).where(Campaign.id == campaign_id)).one()
        for reason, n in reasons:
            print(f"  {n} x {reason}", flush=True)
        print(f"run: campaign {state}{f' ({why})' if why else ''}: {counts} in {run_s:.1f} s = "
              f"{args.gateways / run_s:,.0f} CPEs/s (CPU: runner {cpu:.1f} s, simulator {sim_cpu:.1f} s; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
        with db.session() as s:
            again = create_campaign(s, body, settings, SYSTEM).id
        started = time.monotonic()
        recount = run_campaign(db, settings, again, **boxes)
        rerun_s = time.monotonic() - started
        print(f"rerun (already as wanted, no SET): {recount} in {rerun_s:.1f} s = "
              f"{args.gateways / rerun_s:,.0f} CPEs/s", flush=True)
        peer = netsnmp_peer(endpoints[-args.peer_count:], args.peer_jobs)
        print(f"peer: net-snmp snmpget + snmpset + snmpget, {args.peer_jobs} at a time, over {args.peer_count} "
              f"gateways: {peer:,.1f} CPEs/s", flush=True)
        rt.close()
        print(f"gateways={args.gateways} create_s={create_s:.1f} run_s={run_s:.1f} "
              f"cpes_per_s={args.gateways / run_s:.0f} done={counts['done']} rerun_s={rerun_s:.1f} "
              f"rerun_per_s={args.gateways / rerun_s:.0f} netsnmp_per_s={peer:.1f}")
        return 0 if counts["done"] == args.gateways else 1
    finally:
        sim.terminate()
        try:
            sim.wait(60)
        except subprocess.TimeoutExpired:
            sim.kill()
        db.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
