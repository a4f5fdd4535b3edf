"""Real net-snmp agents (`snmpd`) on loopback, for any test that needs a real SNMP agent, with v2c communities and
SNMPv3 users for every authentication x privacy protocol (``V3_MATRIX``) and a noAuthNoPriv user.

Each agent runs from its own directory with a persistent-state dir, like a real device: restarting it
keeps the engine ID and increments snmpEngineBoots. Credentials are test-only values.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from collectors.snmp.auth import AUTH_PROTOCOLS, PRIV_PROTOCOLS, V3, AuthProto, Credentials, PrivProto, Target, V2c

COMMUNITY = "pub-Xq7-community"
RW_COMMUNITY = "rw-Zk9-community"
V3_SHA = V3("nocsha", "SHA", "auth-Sha1-9f3k", "AES", "priv-Aes-2m8v")
V3_SHA256 = V3("noc256", "SHA256", "auth-Sha256-q4w", "AES", "priv-Aes-7c1z")

NET_SNMP_AUTH: dict[AuthProto, str] = {
    "MD5": "MD5", "SHA": "SHA", "SHA224": "SHA-224", "SHA256": "SHA-256", "SHA384": "SHA-384", "SHA512": "SHA-512",
}  # fmt: skip
NET_SNMP_PRIV: dict[PrivProto, str] = {
    "DES": "DES", "AES": "AES", "AES192": "AES-192", "AES256": "AES-256",
    "AES192C": "AES-192-C", "AES256C": "AES-256-C",
}  # fmt: skip
"""Each protocol as net-snmp's createUser and -a/-x options spell it."""
V3_MATRIX: dict[tuple[AuthProto, PrivProto | None], V3] = {
    (auth, priv): V3(f"m{auth}{priv or 'nopriv'}".lower(), auth, f"auth-{auth}-{priv}-k7", priv,
                     f"priv-{priv}-{auth}-x2" if priv else None)
    for auth in AUTH_PROTOCOLS for priv in (None, *PRIV_PROTOCOLS)
}  # fmt: skip
"""One user of the shared agent per authentication x privacy protocol (authNoPriv where privacy is None)."""
V3_NOAUTH = V3("mnoauth")
"""A noAuthNoPriv user of the shared agent."""
SECRETS = (
    COMMUNITY, RW_COMMUNITY, V3_SHA.auth_key, V3_SHA.priv_key, V3_SHA256.auth_key, V3_SHA256.priv_key,
    *(key for creds in V3_MATRIX.values() for key in (creds.auth_key, creds.priv_key) if key),
)  # fmt: skip


def _create_user(creds: V3) -> str:
    """snmpd.conf lines creating ``creds``' user with read access at its security level."""
    line = f"createUser {creds.user}"
    if creds.auth_proto is not None:
        line += f' {NET_SNMP_AUTH[creds.auth_proto]} "{creds.auth_key}"'
    if creds.priv_proto is not None:
        line += f' {NET_SNMP_PRIV[creds.priv_proto]} "{creds.priv_key}"'
    level = {"noAuthNoPriv": "noauth", "authNoPriv": "auth", "authPriv": "priv"}[creds.level]
    return f"{line}\nrouser {creds.user} {level}\n"


CONF = f"""\
rocommunity {COMMUNITY} 127.0.0.1
rwcommunity {RW_COMMUNITY} 127.0.0.1
createUser {V3_SHA.user} SHA "{V3_SHA.auth_key}" AES "{V3_SHA.priv_key}"
createUser {V3_SHA256.user} SHA-256 "{V3_SHA256.auth_key}" AES "{V3_SHA256.priv_key}"
rouser {V3_SHA.user} priv
rwuser {V3_SHA256.user} priv
sysLocation noc-test-rack
dontLogTCPWrappersConnects yes
""" + "".join(_create_user(creds) for creds in (*V3_MATRIX.values(), V3_NOAUTH))

BIG_OBJECTS = 120
"""The agent also serves 120 OCTET STRINGs of 900 bytes under BIG_ROOT: a GETBULK of 100 of them would
need a ~100 kB answer, which snmpd silently drops (it never answers tooBig)."""
BIG_ROOT = "1.3.6.1.4.1.99999.1"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (net-snmp) is not installed")


@dataclass
class Agent:
    """One snmpd process on 127.0.0.1:<port>."""

    directory: Path
    port: int = field(default_factory=free_udp_port)
    proc: subprocess.Popen[bytes] | None = None
    _lacks: dict[PrivProto, str | None] = field(default_factory=dict)

    host = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def target(self, credentials: Credentials | None = None, **kw: float | int) -> Target:
        return Target(self.host, self.port, credentials or V2c(COMMUNITY), **kw)  # type: ignore[arg-type]

    def start(self) -> None:
        persist = self.directory / "persist"
        persist.mkdir(parents=True, exist_ok=True)
        conf = CONF + "".join(
            f'override .{BIG_ROOT}.{i}.0 octet_str "{"x" * 900}"\n' for i in range(1, BIG_OBJECTS + 1)
        )
        (self.directory / "snmpd.conf").write_text(conf)
        env = {
            **os.environ,
            "MIBS": "",
            "SNMPCONFPATH": f"{self.directory}:{persist}",
            "SNMP_PERSISTENT_DIR": str(persist),
        }
        log = self.directory / "snmpd.log"
        for _ in range(5):
            self.proc = subprocess.Popen(
                ["snmpd", "-f", "-Lf", str(log), "-I", "-smux", f"udp:{self.host}:{self.port}"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready():
                return
            self.stop()
            self.port = free_udp_port()  # lost a race for the port: try another one
        raise RuntimeError(f"snmpd did not start: {log.read_text()[-2000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            r = self.cli("snmpget", "1.3.6.1.2.1.1.3.0", timeout=0.3, check=False)
            if r.returncode == 0:
                return True
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cli(
        self, tool: str, *args: str, community: str = COMMUNITY, timeout: float = 2, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a net-snmp command-line tool against this agent (v2c)."""
        cmd = [tool, "-m", "", "-v2c", "-c", community, "-t", str(timeout), "-r", "0", "-On", self.address, *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, env={**os.environ, "MIBS": ""})

    def lacks(self, priv: PrivProto) -> str | None:
        """Why this net-snmp (agent or tools) cannot do privacy protocol ``priv``, or None when it can: net-snmp's
        own snmpget reads sysUpTime as that protocol's SHA matrix user (checked once per agent)."""
        if priv not in self._lacks:
            creds = V3_MATRIX["SHA", priv]
            cmd = ["snmpget", "-m", "", "-v3", "-l", "authPriv", "-u", creds.user, "-a", "SHA", "-A",
                   creds.auth_key or "", "-x", NET_SNMP_PRIV[priv], "-X", creds.priv_key or "", "-t", "2", "-r", "1",
                   "-On", self.address, "1.3.6.1.2.1.1.3.0"]  # fmt: skip
            run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MIBS": ""})
            ok = run.returncode == 0 and "1.3.6.1.2.1.1.3.0 = " in run.stdout
            self._lacks[priv] = None if ok else f"net-snmp here lacks {NET_SNMP_PRIV[priv]}: {run.stderr.strip()}"
        return self._lacks[priv]
