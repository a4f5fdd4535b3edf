"""SNMPv3 (USM authPriv) against a real net-snmp agent: reads, errors, agent restarts, secrecy."""

from __future__ import annotations

import shutil
import traceback
from dataclasses import replace

import pytest

from collectors.snmp.auth import V3, Target, V2c
from collectors.snmp.client import SnmpAuthError, SnmpClient, SnmpError, SnmpTimeout
from collectors.snmp.values import TimeTicks, Value
from tests.support.snmpd import SECRETS, V3_SHA, V3_SHA256, Agent, free_udp_port

from .conftest import run, with_client

SYS_DESCR, SYS_UPTIME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.3.0"
ENGINE_ID, ENGINE_BOOTS = "1.3.6.1.6.3.10.2.1.1.0", "1.3.6.1.6.3.10.2.1.2.0"
IFX_TABLE = "1.3.6.1.2.1.31.1.1.1"


@pytest.mark.parametrize("creds", [V3_SHA, V3_SHA256], ids=["SHA-AES128", "SHA256-AES128"])
def test_v3_get_and_walk(snmpd: Agent, creds: V3) -> None:
    async def read(c: SnmpClient) -> tuple[dict[str, Value], dict[str, Value], dict[str, Value], dict[str, Value]]:
        v3 = snmpd.target(creds)
        return (
            await c.get(v3, [SYS_UPTIME, SYS_DESCR]),
            await c.get(snmpd.target(), [SYS_DESCR]),
            await c.walk(v3, IFX_TABLE),
            await c.walk(snmpd.target(), IFX_TABLE),
        )

    got, v2c, table, v2c_table = run(with_client(read))
    assert type(got[SYS_UPTIME]) is TimeTicks and got[SYS_UPTIME] > 0
    assert got[SYS_DESCR] == v2c[SYS_DESCR]
    assert list(table) == list(v2c_table)
    assert {type(v) for v in table.values()} == {type(v) for v in v2c_table.values()}


def test_wrong_auth_key_is_an_auth_error(snmpd: Agent) -> None:
    target = snmpd.target(replace(V3_SHA, auth_key="wrong-auth-key"), timeout=1, retries=0)
    with pytest.raises(SnmpAuthError, match="wrongDigest"):
        run(with_client(lambda c: c.get(target, [SYS_UPTIME])))


def test_unknown_user_is_an_auth_error(snmpd: Agent) -> None:
    target = snmpd.target(replace(V3_SHA, user="nobody"), timeout=1, retries=0)
    with pytest.raises(SnmpAuthError, match="unknownUserName"):
        run(with_client(lambda c: c.get(target, [SYS_UPTIME])))


def test_wrong_priv_key_times_out(snmpd: Agent) -> None:
    """net-snmp cannot parse a PDU decrypted with the wrong key and drops it without a report."""
    target = snmpd.target(replace(V3_SHA, priv_key="wrong-priv-key"), timeout=0.3, retries=0)
    with pytest.raises(SnmpTimeout):
        run(with_client(lambda c: c.get(target, [SYS_UPTIME])))


def test_v3_agent_restart_is_survived_by_the_same_client(own_snmpd: Agent) -> None:
    """Restart keeping state (boots + 1, time back to 0), then lose state (new engine ID): keep polling."""

    async def scenario(c: SnmpClient) -> list[dict[str, Value]]:
        target = own_snmpd.target(V3_SHA256, timeout=0.5, retries=1)
        readings = [await c.get(target, [SYS_UPTIME, ENGINE_ID, ENGINE_BOOTS])]
        own_snmpd.restart()
        readings.append(await c.get(target, [SYS_UPTIME, ENGINE_ID, ENGINE_BOOTS]))
        own_snmpd.stop()
        shutil.rmtree(own_snmpd.directory / "persist")  # e.g. a factory reset: new engine ID
        own_snmpd.start()
        readings.append(await c.get(target, [SYS_UPTIME, ENGINE_ID, ENGINE_BOOTS]))
        assert c.stats["v3_resyncs"] >= 2 and c.stats["timeouts"] == 0
        return readings

    before, after_restart, after_reset = run(with_client(scenario))
    assert after_restart[ENGINE_ID] == before[ENGINE_ID]
    assert after_restart[ENGINE_BOOTS] == before[ENGINE_BOOTS] + 1
    assert after_reset[ENGINE_ID] != before[ENGINE_ID]


def test_client_recovers_after_agent_was_down(own_snmpd: Agent) -> None:
    async def scenario(c: SnmpClient) -> None:
        target = own_snmpd.target(V3_SHA, timeout=0.3, retries=0)
        await c.get(target, [SYS_UPTIME])
        own_snmpd.stop()
        with pytest.raises(SnmpTimeout):
            await c.get(target, [SYS_UPTIME])
        own_snmpd.start()
        assert SYS_UPTIME in await c.get(target, [SYS_UPTIME])

    run(with_client(scenario))


def test_secrets_never_appear_in_errors_or_reprs(snmpd: Agent) -> None:
    dead = Target(snmpd.host, free_udp_port(), V2c(SECRETS[0]), timeout=0.2, retries=0)  # nothing listens
    wrong = snmpd.target(replace(V3_SHA, auth_key=V3_SHA.priv_key or ""), timeout=0.5, retries=0)
    bad_priv = snmpd.target(replace(V3_SHA256, priv_key=V3_SHA.auth_key), timeout=0.2, retries=0)
    too_short = snmpd.target(replace(V3_SHA, auth_key="short"), timeout=0.2, retries=0)

    async def collect(c: SnmpClient) -> list[SnmpError]:
        errors: list[SnmpError] = []
        for target in (dead, wrong, bad_priv, too_short):
            try:
                await c.get(target, [SYS_UPTIME])
            except SnmpError as exc:
                errors.append(exc)
        return errors

    errors = run(with_client(collect))
    assert [type(e) for e in errors] == [SnmpTimeout, SnmpAuthError, SnmpTimeout, SnmpAuthError]
    texts = [repr(t) for t in (dead, wrong, bad_priv, too_short)]
    for exc, target in zip(errors, (dead, wrong, bad_priv, too_short), strict=True):
        assert str(exc).startswith(f"{target.address}: ")
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
