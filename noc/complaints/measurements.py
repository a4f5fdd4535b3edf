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
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
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
    """A checked row, before its subscriber is resolved; ``n`` is its line (CSV) or item (JSON) number."""

    n: int
    subscriber: str
    values: dict[str, Any]


@dataclass
class Records:
    """The records of one source: ``(n, record)`` pairs, and how to name record ``n`` in an error."""

    name: str
    unit: str
    """``line`` (CSV line number) or ``item`` (JSON list position)."""
    rows: Iterable[tuple[int, dict[str, Any]]]

    def where(self, n: int) -> str:
        """``file.csv line 7`` / ``file.json [3]``."""
        return f"{self.name} line {n}" if self.unit == "line" else f"{self.name} [{n}]"


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
    text = (value if value.__class__ is str else str(value)).strip()
    return text or None


def _number(raw: dict[str, Any], name: str, low: float, high: float, required: bool) -> float | None:
    value = raw.get(name)
    if value is not None and value.__class__ is not bool:
        try:
            number = float(value)  # float() ignores surrounding blanks
        except (TypeError, ValueError):
            if not (isinstance(value, str) and not value.strip()):
                raise RowProblem(name, f"{value!r} is not a number") from None
        else:
            if not low <= number <= high:  # also refuses NaN
                raise RowProblem(name, f"{number:g} is outside {low:g} .. {high:g}")
            return number
    elif value is not None:
        raise RowProblem(name, f"{value!r} is not a number")
    if required:
        raise RowProblem(name, "required")
    return None


def parse_time(value: Any, latest: datetime | None = None) -> datetime:
    """``time_utc`` as RMBT writes it (``2026-03-12 19:40:05``, UTC) or ISO 8601 with a zone; not after ``latest``
    (default: now plus a few minutes)."""
    if not isinstance(value, str) or not value.strip():
        raise RowProblem("time_utc", "required")
    text = value.strip()
    try:
        at = datetime.fromisoformat(text + "+00:00")  # RMBT's form: UTC without a zone
    except ValueError:
        try:
            at = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise RowProblem("time_utc", f"{value!r} is not a time like 2026-03-12 19:40:05 (UTC)") from None
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > (latest or datetime.now(UTC) + FUTURE_SLACK):
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


def parse_row(raw: dict[str, Any], n: int = 0, latest: datetime | None = None) -> Parsed:
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
        "time_utc": parse_time(raw.get("time_utc"), latest),
        "download_kbit": round(_number(raw, "download_kbit", 0, MAX_KBIT, True) or 0),
        "upload_kbit": round(_number(raw, "upload_kbit", 0, MAX_KBIT, True) or 0),
        "ping_ms": _number(raw, "ping_ms", 0, 600_000, True),
        "jitter_ms": _number(raw, "jitter_ms", 0, 600_000, False),
        "packet_loss": _number(raw, "packet_loss", 0, 100, False),
        "server_name": (_text(raw, "server_name") or "")[:128],
        "platform": (_text(raw, "platform") or "")[:64],
        "medium": medium_of(raw),
    }
    return Parsed(n, subscriber, values)


class FileFormatError(InvalidInput):
    """The file as a whole cannot be read."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


def read_records(name: str, content: bytes) -> Records:
    """The records of a ``.csv`` or ``.json`` file (by name; else sniffed from the content)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(f"{name}: not UTF-8 text") from None
    lower = name.lower()
    if lower.endswith(".json") or (not lower.endswith(".csv") and text.lstrip()[:1] in ("[", "{")):
        return Records(name, "item", _json_records(name, text))
    return Records(name, "line", _csv_records(name, text))


def _csv_records(name: str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if any(c in text for c in '"\r\0'):
        rows = _csv_rows(name, text)
    else:  # nothing quoted: a line's cells are its text split at commas, as csv reads them (3x faster)
        rows = ((n, line.split(",") if line else []) for n, line in enumerate(text.split("\n"), start=1))
    header = next(rows, (0, []))[1]
    if not header:
        raise FileFormatError(f"{name}: empty file (expected a header line with {', '.join(REQUIRED)})")
    names = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FileFormatError(f"{name}: the header lacks {', '.join(missing)}")
    width = len(names)
    for n, cells in rows:
        if len(cells) > width:
            yield n, {"__problem__": "more cells than the header has columns"}
        elif cells:
            yield n, dict(zip(names, cells, strict=False))  # a short row lacks its last columns


def _csv_rows(name: str, text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileFormatError(f"{name}: line {reader.line_num}: not valid CSV ({exc})") from None
        yield reader.line_num, cells


def _json_records(name: str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
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
        yield i, (item if isinstance(item, dict) else {"__problem__": "expected an object of fields"})


class MeasurementWriter:
    """Checks and stores measurements in the caller's transaction; raises :class:`MeasurementsRejected` (after
    reading every row) when any row was bad, so the caller's rollback leaves nothing behind."""

    def __init__(self, session: Session, actor: Actor, *, reason: str = "", via: str = "api") -> None:
        self.session, self.actor, self.reason, self.via = session, actor, reason, via
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self._subscribers: dict[str, int | None] = {}

    def store(self, content: bytes, records: Records, keep_ids: bool = False) -> ImportResult:
        """Check every record and store them all, or raise naming the bad rows. ``content`` is the source's bytes
        (its SHA-256 is kept with each measurement).

        Checked chunks stream into one ``COPY`` (PostgreSQL) under a savepoint while the next chunk is checked, so
        the server works while the file is read; a test id stored before makes the load fail at the database,
        after which the rows behind it are named.
        """
        result = ImportResult(records.name, hashlib.sha256(content).hexdigest())
        errors: list[tuple[int, RowError]] = []
        bad = 0
        seen: dict[str, int] = {}
        chunk: list[Parsed] = []
        now = utcnow()
        latest = now + FUTURE_SLACK
        where = records.where
        sink = _Sink(self.session, self.postgres and not keep_ids, result.sha256, now,
                     result.ids if keep_ids else None)

        def flush() -> None:
            nonlocal bad
            problems = self._check_chunk(chunk, seen, where)
            bad += len(problems)
            errors.extend(problems[: max(0, MAX_REPORTED - len(errors))])
            if not bad:
                sink.write(chunk)
                result.stored += len(chunk)
            chunk.clear()

        for n, raw in records.rows:
            try:
                if "__problem__" in raw:
                    raise RowProblem("", raw["__problem__"])
                chunk.append(parse_row(raw, n, latest))
            except RowProblem as exc:
                bad += 1
                if len(errors) < MAX_REPORTED:
                    errors.append((n, RowError(where(n), exc.field or None, exc.message)))
                continue
            if len(chunk) >= CHUNK:
                flush()
        flush()
        if not sink.finish(keep=not bad):
            stored = self._stored_before(seen, where) or [(0, RowError(records.name, "open_test_uuid", "a test id "
                "was stored at the same time by another import"))]
            bad += len(stored)
            errors.extend(stored[: max(0, MAX_REPORTED - len(errors))])
        if bad:
            raise MeasurementsRejected(records.name, [e for _, e in sorted(errors, key=lambda item: item[0])], bad)
        if result.stored == 0:
            raise InvalidInput("file", f"{records.name}: no measurements in it")
        record(self.session, self.actor, "measurements.import", "file", records.name[:200], reason=self.reason,
               details={"rows": result.stored, "sha256": result.sha256, "via": self.via})
        return result

    def _check_chunk(self, chunk: list[Parsed], seen: dict[str, int],
                     where: Callable[[int], str]) -> list[tuple[int, RowError]]:
        """Subscribers resolved; unknown ones and test ids repeated within the file are errors."""
        errors: list[tuple[int, RowError]] = []
        self._resolve({p.subscriber for p in chunk} - self._subscribers.keys())
        for parsed in chunk:
            test_id = parsed.values["open_test_uuid"]
            sid = self._subscribers.get(parsed.subscriber)
            if sid is None:
                errors.append((parsed.n, RowError(where(parsed.n), "subscriber",
                                                  f"no subscriber {parsed.subscriber!r}")))
            elif test_id in seen:
                errors.append((parsed.n, RowError(where(parsed.n), "open_test_uuid",
                                                  f"test {test_id} appears twice (first at {where(seen[test_id])})")))
            else:
                seen[test_id] = parsed.n
                parsed.values["subscriber_id"] = sid
        return errors

    def _stored_before(self, seen: dict[str, int], where: Callable[[int], str]) -> list[tuple[int, RowError]]:
        """The rows whose test id the database holds already (asked only after the load failed on one)."""
        ids = list(seen)
        stored: list[str] = []
        for start in range(0, len(ids), CHUNK):
            stored.extend(self.session.scalars(select(Measurement.open_test_uuid).where(
                Measurement.open_test_uuid.in_(ids[start:start + CHUNK]))))
        return [(seen[i], RowError(where(seen[i]), "open_test_uuid", f"test {i} was imported before")) for i in stored]

    def _resolve(self, numbers: set[str]) -> None:
        for number in numbers:
            self._subscribers[number] = None
        pending = list(numbers)
        for start in range(0, len(pending), CHUNK):
            query = select(Subscriber.number, Subscriber.id).where(Subscriber.number.in_(pending[start:start + CHUNK]))
            self._subscribers.update({n: i for n, i in self.session.execute(query)})


class _Abandoned(Exception):
    """Ends a load that must not be kept (bad rows were found after some were sent)."""


class _Sink:
    """Where checked rows go: one ``COPY`` (PostgreSQL) or batched ``INSERT`` s, all under one savepoint opened
    with the first row; :meth:`finish` keeps or drops them and says whether the database accepted them."""

    def __init__(self, session: Session, copy: bool, sha256: str, now: datetime, ids: list[int] | None) -> None:
        self.session, self.use_copy, self.ids, self.sha256, self.now = session, copy, ids, sha256, now
        self.extra = {"source_sha256": sha256, "imported_at": now}
        self.stack: ExitStack | None = None
        self.copy: Any = None
        self.failed = False
        self.errors: tuple[type[BaseException], ...] = (IntegrityError,
                                                        session.get_bind().dialect.loaded_dbapi.IntegrityError)

    def _open(self) -> None:
        self.stack = ExitStack()
        self.stack.enter_context(self.session.begin_nested())
        if self.use_copy:
            raw = self.session.connection().connection.driver_connection
            cursor = self.stack.enter_context(raw.cursor())  # type: ignore[union-attr]
            self.copy = self.stack.enter_context(cursor.copy(  # a writer thread sends while the next chunk is checked
                f"COPY measurements ({', '.join(STORED)}) FROM STDIN", writer=QueuedLibpqWriter(cursor)))

    def write(self, chunk: list[Parsed]) -> None:
        """Send ``chunk`` (nothing more once the database refused a row)."""
        if self.failed or not chunk:
            return
        try:
            if self.stack is None:
                self._open()
            if self.use_copy:
                self.copy.write(copy_rows(chunk, self.sha256, self.now))
            else:
                rows = [{**p.values, **self.extra} for p in chunk]
                if self.ids is None:
                    self.session.execute(insert(Measurement), rows)
                else:
                    self.ids.extend(self.session.scalars(insert(Measurement).returning(Measurement.id), rows))
        except self.errors as exc:
            self.failed = True
            assert self.stack is not None
            self.stack.__exit__(type(exc), exc, exc.__traceback__)  # rolls the savepoint back

    def finish(self, keep: bool) -> bool:
        """End the load, kept or dropped; False when the database refused a row."""
        if self.failed:
            return False
        if self.stack is None:
            return True
        if not keep:
            with suppress(_Abandoned):
                self.stack.__exit__(_Abandoned, _Abandoned(), None)
            return True
        try:
            self.stack.close()
        except self.errors:
            return False
        return True


def copy_rows(chunk: list[Parsed], sha256: str, now: datetime) -> bytes:
    """Checked rows (their subscriber resolved) in ``COPY``'s text format, in :data:`STORED` column order (the test
    id as PostgreSQL's uuid: without its ``O``)."""
    tail = f"\t{sha256}\t{now.isoformat()}\n"
    lines = []
    for parsed in chunk:
        v = parsed.values
        lines.append(f"{v['subscriber_id']}\t{v['open_test_uuid'][1:]}\t{v['time_utc'].isoformat()}\t"
                     f"{v['download_kbit']}\t{v['upload_kbit']}\t{v['ping_ms']!r}\t{_copy_value(v['jitter_ms'])}\t"
                     f"{_copy_value(v['packet_loss'])}\t{_copy_text(v['server_name'])}\t"
                     f"{_copy_text(v['platform'])}\t{v['medium']}{tail}")
    return "".join(lines).encode()


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: float | None) -> str:
    return "\\N" if value is None else repr(value)


def _copy_text(value: str) -> str:
    return value.translate(COPY_ESCAPES) if value and ("\\" in value or "\t" in value or "\n" in value
                                                      or "\r" in value) else value
