"""snmpsim's ``.snmprec`` recordings: ``OID|TAG|VALUE`` lines, read into a MIB and written back.

Tags: 2 Integer32, 4 OCTET STRING, 5 NULL, 6 OBJECT IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32,
67 TimeTicks, 68 Opaque, 70 Counter64, 128/129/130 noSuchObject/noSuchInstance/endOfMibView. A tag ending in
``x`` carries a hex value, one ending in ``e`` a value with Python-style escapes. Lines of snmpsim variation
modules (``TAG:module``) are skipped and counted, since their values are programs, not data.
"""

from __future__ import annotations

import bz2
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from collectors.sim.agent import Agent, SetFailure, SetItem
from collectors.sim.clock import Moment
from collectors.sim.smi import Value, VarBind, same_kind
from collectors.snmp.ber import (
    SPECIAL_TAGS,
    TAG_IPADDRESS,
    TAG_OCTETS,
    TAG_OID,
    TAG_TYPES,
    ErrorStatus,
    Oid,
    format_oid,
    normalize_oid,
    parse_oid,
    tag_of,
)
from collectors.snmp.values import IpAddress, ObjectId, Special


class SnmprecError(ValueError):
    """A line of a recording cannot be read."""


_TEXT_PARSERS: dict[int, Callable[[bytes], Value]] = {
    TAG_OID: lambda raw: ObjectId(normalize_oid(raw.decode("ascii"))),
    TAG_IPADDRESS: lambda raw: IpAddress(".".join(str(int(p)) for p in raw.decode("ascii").split("."))),
}


def _value(tag: int, raw: bytes) -> Value:
    """A value from its tag (the BER tag, in decimal) and its (unescaped) text."""
    if tag in SPECIAL_TAGS:
        return SPECIAL_TAGS[tag]
    if tag in _TEXT_PARSERS:
        return _TEXT_PARSERS[tag](raw)
    kind = TAG_TYPES.get(tag)
    if kind is None:
        raise SnmprecError(f"unknown tag {tag}")
    return kind(raw) if issubclass(kind, bytes) else kind(int(raw))


_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|.)", re.S)
_ESCAPES = {b"\\": b"\\", b"'": b"'", b'"': b'"', b"a": b"\a", b"b": b"\b", b"f": b"\f", b"n": b"\n",
            b"r": b"\r", b"t": b"\t", b"v": b"\v"}


def _unescape(raw: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1] == b"x":
            return bytes((int(code[1:], 16),))
        if code not in _ESCAPES:
            raise SnmprecError(f"unknown escape \\{code.decode(errors='replace')}")
        return _ESCAPES[code]
    return _ESCAPE.sub(one, raw)


@dataclass
class Recording:
    """The records of one file, in file order, and how many variation-module lines were skipped."""

    records: list[VarBind] = field(default_factory=list)
    skipped: int = 0


def parse_snmprec(data: bytes) -> Recording:
    """Parse recording content (bytes: values are raw octets, whatever their encoding)."""
    recording = Recording()
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        parts = line.split(b"|", 2)
        if len(parts) != 3:
            raise SnmprecError(f"line {number}: expected OID|TAG|VALUE")
        oid_text, tag_text, raw = parts
        if b":" in tag_text:
            recording.skipped += 1
            continue
        try:
            encoding = tag_text[-1:] if tag_text[-1:] in (b"x", b"e") else b""
            tag = int(tag_text[:-1] if encoding else tag_text)
            if encoding == b"x":
                raw = bytes.fromhex(raw.decode("ascii"))
            elif encoding == b"e":
                raw = _unescape(raw)
            recording.records.append((parse_oid(oid_text.decode("ascii")), _value(tag, raw)))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SnmprecError(f"line {number}: {exc}") from exc
    return recording


def load_snmprec(path: str | Path) -> Recording:
    """Read a ``.snmprec`` (or ``.snmprec.bz2``) file."""
    path = Path(path)
    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    return parse_snmprec(data)


def _printable(value: bytes) -> bool:
    return all(0x20 <= b < 0x7F for b in value) and b"|" not in value


def format_snmprec(records: Iterable[VarBind]) -> str:
    """Records as ``.snmprec`` text (sorted by OID; non-printable octets hex-encoded with tag ``4x``)."""
    lines = []
    for oid, value in sorted(records, key=lambda r: r[0]):
        tag = tag_of(value)
        if isinstance(value, Special):
            lines.append(f"{format_oid(oid)}|{tag}|")
            continue
        if isinstance(value, str) and tag == TAG_OCTETS:
            value = value.encode()
        if isinstance(value, bytes):
            text = value.decode("ascii") if _printable(value) else None
            lines.append(f"{format_oid(oid)}|{tag}|{text}" if text is not None
                         else f"{format_oid(oid)}|{tag}x|{value.hex()}")
        else:
            lines.append(f"{format_oid(oid)}|{tag}|{value}")
    return "\n".join(lines) + "\n"


class RecordingWriter:
    """Lets a recording accept SETs of existing objects with the same type (values kept in memory)."""

    prefix: Oid = ()

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def plan(self, items: Sequence[SetItem], moment: Moment) -> Callable[[], None]:
        for position, oid, value in items:
            current = self.agent.mib.value(oid, moment)
            if current is None:
                raise SetFailure(ErrorStatus.NO_CREATION, position)
            if not same_kind(current, value):
                raise SetFailure(ErrorStatus.WRONG_TYPE, position)

        def apply() -> None:
            for _, oid, value in items:
                self.agent.mib.put(oid, value)
        return apply


def build_recording(agent: Agent, path: Path, writable: bool) -> Recording:
    """Fill ``agent`` with a recording's records (served as recorded: sysUpTime does not move)."""
    recording = load_snmprec(path)
    for oid, value in recording.records:
        agent.mib.put(oid, value)
    if writable:
        agent.add_writer(RecordingWriter(agent))
    agent.info.update({"file": str(path), "records": len(recording.records), "skipped": recording.skipped})
    return recording
