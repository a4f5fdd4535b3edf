"""Measurements from the regulator's tool: parsing RMBT open-data records (CSV or JSON) and storing them all or
nothing.

The columns are those of the open-rmbt open-data export — ``open_test_uuid``, ``time_utc``, ``download_kbit``,
``upload_kbit``, ``ping_ms`` and, where present, ``jitter_ms``, ``packet_loss``, ``server_name``, ``platform``,
``network_type`` / ``cat_technology`` — plus ``subscriber`` (the subscriber's number); other columns are ignored.
Every row is checked before anything is kept; a bad row, an unknown subscriber or a test id seen before (in the
file or in the database) is named with its row and field, and then nothing is written. PostgreSQL receives the
rows by ``COPY``, SQLite by batched ``executemany``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from noc.audit.service import record
from noc.complaints.models import Measurement
from noc.core.db import utcnow
from noc.core.errors import InvalidInput
from noc.core.security import Actor
from noc.inventory.importer import RowError
from noc.inventory.models import Subscriber

REQUIRED = ("subscriber", "open_test_uuid", "time_utc", "download_kbit", "upload_kbit", "ping_ms")
OPTIONAL = ("jitter_ms", "packet_loss", "server_name", "platform", "network_type", "cat_technology")
COLUMNS = REQUIRED + OPTIONAL
UUID = re.compile(r"^O?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
MEDIA = {"LAN": "lan", "ETHERNET": "lan", "WLAN": "wlan", "WIFI": "wlan", "WI-FI": "wlan", "MOBILE": "mobile",
         "2G": "mobile", "3G": "mobile", "4G": "mobile", "5G": "mobile", "LTE": "mobile", "2G/3G": "mobile",
         "3G/4G": "mobile", "2G/3G/4G": "mobile", "2G/4G": "mobile", "NR": "mobile"}
MAX_KBIT = 100_000_000
"""100 Gbit/s: larger figures are typing errors."""
FUTURE_SLACK = timedelta(minutes=5)
CHUNK = 5_000
"""Rows checked against the database and written together."""
MAX_REPORTED = 100
"""Row errors reported one by one; more are counted."""
STORED = ("subscriber_id", "open_test_uuid", "time_utc", "download_kbit", "upload_kbit", "ping_ms", "jitter_ms",
          "packet_loss", "server_name", "platform", "medium", "source_sha256", "imported_at")


class RowProblem(ValueError):
    """One field of one row is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class Parsed:
    """A checked row, before its subscriber is resolved."""

    where: str
    position: int
    subscriber: str
    values: dict[str, Any]


class MeasurementsRejected(InvalidInput):
    """Some rows were bad: nothing was written. ``errors`` names each (up to :data:`MAX_REPORTED`)."""

    def __init__(self, source: str, errors: list[RowError], bad: int) -> None:
        first = errors[0]
        super().__init__(first.field, f"{bad} bad row(s) in {source}; nothing was written. First: {first}")
        self.errors, self.bad, self.source = errors, bad, source


@dataclass
class ImportResult:
    """What an import stored."""

    source: str
    sha256: str
    stored: int = 0
    ids: list[int] = field(default_factory=list)
    """Ids of the stored measurements (filled for small imports only: the API's one-by-one POST)."""


def _text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(raw: dict[str, Any], name: str, low: float, high: float, required: bool) -> float | None:
    value = raw.get(name)
    if isinstance(value, str):
        value = value.strip() or None
    if value is None:
        if required:
            raise RowProblem(name, "required")
        return None
    if isinstance(value, bool):
        raise RowProblem(name, f"{value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowProblem(name, f"{value!r} is not a number") from None
    if not low <= number <= high:  # also refuses NaN
        raise RowProblem(name, f"{number:g} is outside {low:g} .. {high:g}")
    return number


def parse_time(value: Any) -> datetime:
    """``time_utc`` as RMBT writes it (``2026-03-12 19:40:05``, UTC) or ISO 8601 with a zone."""
    if not isinstance(value, str) or not value.strip():
        raise RowProblem("time_utc", "required")
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RowProblem("time_utc", f"{value!r} is not a time like 2026-03-12 19:40:05 (UTC)") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > datetime.now(UTC) + FUTURE_SLACK:
        raise RowProblem("time_utc", f"{value!r} lies in the future")
    return at


def medium_of(raw: dict[str, Any]) -> str:
    """``lan``, ``wlan``, ``mobile`` from ``network_type`` (else ``cat_technology``); ``unknown`` when neither."""
    for name in ("network_type", "cat_technology"):
        value = _text(raw, name)
        if value is not None:
            medium = MEDIA.get(value.upper())
            if medium is None:
                raise RowProblem(name, f"{value!r} is not LAN, WLAN or a mobile technology (2G .. 5G, MOBILE)")
            return medium
    return "unknown"


def parse_row(raw: dict[str, Any], where: str, position: int = 0) -> Parsed:
    """Check one record; raises :class:`RowProblem` naming the first wrong field."""
    subscriber = _text(raw, "subscriber")
    if subscriber is None:
        raise RowProblem("subscriber", "required (the subscriber's number)")
    test_id = _text(raw, "open_test_uuid")
    if test_id is None:
        raise RowProblem("open_test_uuid", "required")
    match = UUID.match(test_id)
    if match is None:
        raise RowProblem("open_test_uuid", f"{test_id!r} is not a test UUID (O followed by a UUID)")
    values = {
        "open_test_uuid": "O" + match[1].lower(),
        "time_utc": parse_time(raw.get("time_utc")),
        "download_kbit": round(_number(raw, "download_kbit", 0, MAX_KBIT, True) or 0),
        "upload_kbit": round(_number(raw, "upload_kbit", 0, MAX_KBIT, True) or 0),
        "ping_ms": _number(raw, "ping_ms", 0, 600_000, True),
        "jitter_ms": _number(raw, "jitter_ms", 0, 600_000, False),
        "packet_loss": _number(raw, "packet_loss", 0, 100, False),
        "server_name": (_text(raw, "server_name") or "")[:128],
        "platform": (_text(raw, "platform") or "")[:64],
        "medium": medium_of(raw),
    }
    return Parsed(where, position, subscriber, values)


class FileFormatError(InvalidInput):
    """The file as a whole cannot be read."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


def read_records(name: str, content: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, record) of every record of a ``.csv`` or ``.json`` file (by name; else sniffed from the content)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(f"{name}: not UTF-8 text") from None
    lower = name.lower()
    is_json = lower.endswith(".json") or (not lower.endswith(".csv") and text.lstrip()[:1] in ("[", "{"))
    return _json_records(name, text) if is_json else _csv_records(name, text)


def _csv_records(name: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise FileFormatError(f"{name}: empty file (expected a header line with {', '.join(REQUIRED)})")
    names = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FileFormatError(f"{name}: the header lacks {', '.join(missing)}")
    wanted = [(i, n) for i, n in enumerate(names) if n in COLUMNS]
    width = len(names)
    for cells in reader:
        where = f"{name} line {reader.line_num}"
        if not cells:
            continue
        if len(cells) > width:
            yield where, {"__problem__": "more cells than the header has columns"}
            continue
        yield where, {n: cells[i] for i, n in wanted if i < len(cells)}


def _json_records(name: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(document, dict):
        lists = [document[k] for k in ("measurements", "results") if isinstance(document.get(k), list)]
        document = lists[0] if lists else None
    if not isinstance(document, list):
        raise FileFormatError(f"{name}: expected a list of measurements (or an object with 'results')")
    for i, item in enumerate(document, start=1):
        where = f"{name} [{i}]"
        yield where, (item if isinstance(item, dict) else {"__problem__": "expected an object of fields"})


class MeasurementWriter:
    """Checks and stores measurements in the caller's transaction; raises :class:`MeasurementsRejected` (after
    reading every row) when any row was bad, so the caller's rollback leaves nothing behind."""

    def __init__(self, session: Session, actor: Actor, *, reason: str = "", via: str = "api") -> None:
        self.session, self.actor, self.reason, self.via = session, actor, reason, via
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self._subscribers: dict[str, int | None] = {}

    def store(self, source: str, content: bytes, records: Iterable[tuple[str, dict[str, Any]]],
              keep_ids: bool = False) -> ImportResult:
        """Check every record and store them all, or raise naming the bad rows."""
        result = ImportResult(source, hashlib.sha256(content).hexdigest())
        errors: list[tuple[int, RowError]] = []
        bad = 0
        seen: dict[str, str] = {}
        chunk: list[Parsed] = []
        now = utcnow()

        def flush() -> None:
            nonlocal bad
            problems = self._check_chunk(chunk, seen)
            bad += len(problems)
            errors.extend(problems[: max(0, MAX_REPORTED - len(errors))])
            if not bad:
                result.stored += self._write(chunk, result.sha256, now, result.ids if keep_ids else None)
            chunk.clear()

        for position, (where, raw) in enumerate(records):
            if "__problem__" in raw:
                bad += 1
                if len(errors) < MAX_REPORTED:
                    errors.append((position, RowError(where, None, raw["__problem__"])))
                continue
            try:
                chunk.append(parse_row(raw, where, position))
            except RowProblem as exc:
                bad += 1
                if len(errors) < MAX_REPORTED:
                    errors.append((position, RowError(where, exc.field, exc.message)))
                continue
            if len(chunk) >= CHUNK:
                flush()
        flush()
        if bad:
            raise MeasurementsRejected(source, [e for _, e in sorted(errors, key=lambda item: item[0])], bad)
        if result.stored == 0:
            raise InvalidInput("file", f"{source}: no measurements in it")
        record(self.session, self.actor, "measurements.import", "file", source[:200], reason=self.reason,
               details={"rows": result.stored, "sha256": result.sha256, "via": self.via})
        return result

    def _check_chunk(self, chunk: list[Parsed], seen: dict[str, str]) -> list[tuple[int, RowError]]:
        """Subscribers resolved; test ids repeated in the file or already stored are errors."""
        errors: list[tuple[int, RowError]] = []
        self._resolve({p.subscriber for p in chunk} - self._subscribers.keys())
        ids = [p.values["open_test_uuid"] for p in chunk]
        stored = set(self.session.scalars(select(Measurement.open_test_uuid)
                                          .where(Measurement.open_test_uuid.in_(ids)))) if ids else set()
        for parsed in chunk:
            test_id = parsed.values["open_test_uuid"]
            sid = self._subscribers.get(parsed.subscriber)
            if sid is None:
                problem = RowError(parsed.where, "subscriber", f"no subscriber {parsed.subscriber!r}")
            elif test_id in stored:
                problem = RowError(parsed.where, "open_test_uuid", f"test {test_id} was imported before")
            elif test_id in seen:
                problem = RowError(parsed.where, "open_test_uuid",
                                   f"test {test_id} appears twice (first at {seen[test_id]})")
            else:
                seen[test_id] = parsed.where
                parsed.values["subscriber_id"] = sid
                continue
            errors.append((parsed.position, problem))
        return errors

    def _resolve(self, numbers: set[str]) -> None:
        for number in numbers:
            self._subscribers[number] = None
        pending = list(numbers)
        for start in range(0, len(pending), CHUNK):
            query = select(Subscriber.number, Subscriber.id).where(Subscriber.number.in_(pending[start:start + CHUNK]))
            self._subscribers.update({n: i for n, i in self.session.execute(query)})

    def _write(self, chunk: list[Parsed], sha256: str, now: datetime, ids: list[int] | None) -> int:
        if not chunk:
            return 0
        for parsed in chunk:
            parsed.values["source_sha256"], parsed.values["imported_at"] = sha256, now
        if ids is not None:
            stored = self.session.scalars(insert(Measurement).returning(Measurement.id),
                                          [p.values for p in chunk])
            ids.extend(stored)
        elif self.postgres:
            raw = self.session.connection().connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                    f"COPY measurements ({', '.join(STORED)}) FROM STDIN") as copy:
                for parsed in chunk:
                    values = parsed.values
                    copy.write_row([values[c] for c in STORED])
        else:
            self.session.execute(insert(Measurement), [p.values for p in chunk])
        return len(chunk)
