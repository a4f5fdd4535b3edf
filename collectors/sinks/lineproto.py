"""Samples as InfluxDB line protocol (second precision), and the field rules every sink shares."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from collectors.samples import FieldValue, Sample

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_STRING = str.maketrans({'"': r"\"", "\\": "\\\\"})


def valid_field(value: object) -> bool:
    """Whether a field value can be stored: finite floats, int64 integers, bools and strings.

    InfluxDB rejects a whole batch for NaN/inf or an integer out of int64, so sinks drop such fields.
    """
    if isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    return False


def clean_fields(fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    """The storable fields of ``fields`` (see :func:`valid_field`), in name order."""
    return {k: fields[k] for k in sorted(fields) if k and valid_field(fields[k])}


def _field_value(value: FieldValue) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return '"' + value.translate(_ESCAPE_STRING) + '"'


_names: dict[tuple[str, bool], str] = {}
"""Escaped measurement and key names (a bounded vocabulary: the schema's names)."""


def _name(name: str, measurement: bool = False) -> str:
    escaped = _names.get((name, measurement))
    if escaped is None:
        escaped = name.translate(_ESCAPE_MEASUREMENT if measurement else _ESCAPE_KEY)
        if len(_names) < 10_000:
            _names[(name, measurement)] = escaped
    return escaped


def to_line(sample: Sample) -> str | None:
    """One line of line protocol for ``sample`` (time in seconds), or None if no field is storable.

    Tags are sorted by name (what InfluxDB stores fastest); empty tag values are left out (InfluxDB
    refuses them). Integers carry the ``i`` suffix, so a field keeps one type across writes as long as the
    poller keeps its Python type.
    """
    if not sample.measurement:
        return None
    field_set = ",".join(
        f"{_name(k)}={_field_value(v)}" for k, v in sorted(sample.fields.items()) if k and valid_field(v)
    )
    if not field_set:
        return None
    head = _name(sample.measurement, measurement=True)
    tags = sorted(sample.tags) if len(sample.tags) > 1 else sample.tags
    tag_set = "".join(f",{_name(k)}={v.translate(_ESCAPE_KEY)}" for k, v in tags if k and v)
    return f"{head}{tag_set} {field_set} {int(sample.time)}"


def to_lines(samples: Iterable[Sample]) -> tuple[list[bytes], int]:
    """Encoded lines for ``samples`` and how many samples had nothing storable (skipped)."""
    lines: list[bytes] = []
    skipped = 0
    for sample in samples:
        line = to_line(sample)
        if line is None:
            skipped += 1
        else:
            lines.append(line.encode())
    return lines, skipped
