"""Importing inventory files (YAML or CSV): validate every row, then write all or nothing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from noc.core.errors import InvalidInput, NocError, field_errors
from noc.inventory.kinds import KINDS, SEGMENT, Kind
from noc.inventory.schemas import InventoryInput, SegmentIn
from noc.inventory.service import InventoryWriter, credential_warning


class ImportFormatError(InvalidInput):
    """The file as a whole cannot be read (not YAML/CSV, unknown section, no kind)."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


@dataclass(frozen=True)
class RowError:
    """One problem in one row, naming the row and the field."""

    where: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}: field '{self.field}': {self.message}" if self.field else f"{self.where}: {self.message}"


@dataclass
class Row:
    """A row read from a file: its kind, where it stands, its raw values and, once valid, its input."""

    kind: Kind
    where: str
    raw: dict[str, Any]
    data: InventoryInput | None = None


@dataclass
class ImportReport:
    """What an import did (or would do) per kind, and every row that failed."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What was accepted but deserves a look (an SNMPv3 user that protects nothing)."""

    def count(self, kind: Kind, status: str) -> None:
        """Count one row of ``kind`` as ``status`` (created, updated, unchanged)."""
        self.counts.setdefault(kind.plural, Counter())[status] += 1


class ImportRejected(Exception):
    """Raised inside the import transaction so that nothing is written when any row failed."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{len(report.errors)} bad row(s)")
        self.report = report


def parse_members(cell: str) -> list[dict[str, Any]]:
    """A CSV ``members`` cell: ``DEVICE IFACE DIRECTION [COUNTER]`` items separated by ``;``.

    IFACE is an ifIndex when it is a number, else an ifName.
    """
    members = []
    for item in filter(None, (part.strip() for part in cell.split(";"))):
        parts = item.split()
        if len(parts) not in (3, 4):
            raise ValueError(f"members: {item!r} is not 'DEVICE IFACE DIRECTION [COUNTER]'")
        member: dict[str, Any] = {"device": parts[0], "direction": parts[2]}
        member["if_index" if parts[1].isdigit() else "if_name"] = int(parts[1]) if parts[1].isdigit() else parts[1]
        if len(parts) == 4:
            member["counter"] = parts[3]
        members.append(member)
    return members


def read_rows(path: Path, kind_name: str | None = None) -> list[Row]:
    """Read a YAML file (sections named by kind) or a CSV file of one kind (``--kind`` or file name)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_rows(path.name, text)
    if path.suffix.lower() == ".csv":
        name = kind_name or path.stem
        if name not in KINDS:
            raise ImportFormatError(f"{path.name}: name the kind with --kind ({', '.join(KINDS)})")
        return _csv_rows(path.name, KINDS[name], text)
    raise ImportFormatError(f"{path.name}: expected a .yaml, .yml or .csv file")


def _yaml_rows(name: str, text: str) -> list[Row]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFormatError(f"{name}: not valid YAML ({exc.__class__.__name__})") from None
    return document_rows(name, document)


def document_rows(name: str, document: Any) -> list[Row]:
    """Rows of an import document: a mapping of kind sections, each a list of mappings."""
    if not isinstance(document, dict):
        raise ImportFormatError(f"{name}: expected a mapping of sections ({', '.join(KINDS)})")
    rows = []
    for section, items in document.items():
        if section not in KINDS:
            raise ImportFormatError(f"{name}: unknown section {section!r} (expected {', '.join(KINDS)})")
        if not isinstance(items, list):
            raise ImportFormatError(f"{name}: section {section!r} must be a list")
        for i, item in enumerate(items, start=1):
            raw = item if isinstance(item, dict) else {"__not_a_mapping__": item}
            rows.append(Row(KINDS[section], f"{name} {section}[{i}]", raw))
    return rows


def _csv_rows(name: str, kind: Kind, text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for raw in reader:
        values: dict[str, Any] = {k.strip(): v.strip() for k, v in raw.items() if k and v is not None and v.strip()}
        if None in raw:
            values["__extra_cells__"] = raw[None]
        rows.append(Row(kind, f"{name} line {reader.line_num}", values))
    return rows


def validate(rows: list[Row], report: ImportReport) -> None:
    """Validate every row's shape; duplicates of a natural key within the file are errors too."""
    seen: dict[tuple[str, str], str] = {}
    for row in rows:
        raw = dict(row.raw)
        if "__not_a_mapping__" in raw:
            report.errors.append(RowError(row.where, None, "expected a mapping of fields"))
            continue
        if "__extra_cells__" in raw:
            report.errors.append(RowError(row.where, None, "more cells than the header has columns"))
            continue
        if row.kind is SEGMENT and isinstance(raw.get("members"), str):
            try:
                raw["members"] = parse_members(raw["members"])
            except ValueError as exc:
                report.errors.append(RowError(row.where, "members", str(exc).removeprefix("members: ")))
                continue
        try:
            row.data = row.kind.schema.model_validate(raw)
        except ValidationError as exc:
            report.errors.extend(RowError(row.where, f, m) for f, m in field_errors(exc))
            continue
        key = (row.kind.name, "|".join(str(getattr(row.data, k, raw.get(k))) for k in _input_key(row.kind)))
        if key in seen:
            report.errors.append(RowError(row.where, _input_key(row.kind)[0], f"same {row.kind.name} as {seen[key]}"))
        else:
            seen[key] = row.where


def _input_key(kind: Kind) -> tuple[str, ...]:
    """The natural key in input field names (a contract's subscriber, not subscriber_id)."""
    by_column = {ref.column: ref.field for ref in kind.refs}
    return tuple(by_column.get(column, column) for column in kind.key)


def apply(rows: list[Row], writer: InventoryWriter, report: ImportReport) -> None:
    """Write valid rows in dependency order (segments parents first), collecting row errors."""
    ordered = sorted((r for r in rows if r.data is not None), key=lambda r: r.kind.order)
    for row in _parents_first(ordered):
        assert row.data is not None
        try:
            obj, status = writer.upsert(row.kind, row.data)
        except NocError as exc:
            report.errors.append(RowError(row.where, exc.field, exc.message))
            continue
        report.count(row.kind, status)
        if warning := credential_warning(obj):
            report.warnings.append(f"{row.where}: {warning}")


def _parents_first(rows: list[Row]) -> list[Row]:
    """Reorder segment rows so that a parent named in the same file comes before its children."""
    segments = {r.data.name: r for r in rows if r.kind is SEGMENT and isinstance(r.data, SegmentIn)}
    placed: list[Row] = []
    done: set[str] = set()

    def place(name: str, trail: frozenset[str]) -> None:
        if name in done or name in trail:
            return
        row = segments[name]
        parent = row.data.parent  # type: ignore[union-attr]
        if parent in segments:
            place(parent, trail | {name})
        done.add(name)
        placed.append(row)

    for name in segments:
        place(name, frozenset())
    out: list[Row] = []
    for row in rows:
        if row.kind is SEGMENT:
            if placed:
                out.extend(placed)
                placed = []
        else:
            out.append(row)
    return out


def import_rows(rows: list[Row], writer: InventoryWriter, *, dry_run: bool = False) -> ImportReport:
    """Validate and apply ``rows`` in the writer's transaction.

    Raises ImportRejected (so the caller's transaction rolls back) when any row failed, or after a
    dry run.
    """
    report = ImportReport()
    validate(rows, report)
    if report.errors:
        raise ImportRejected(report)
    apply(rows, writer, report)
    if report.errors or dry_run:
        raise ImportRejected(report)
    return report
