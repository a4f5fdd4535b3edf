"""The evidence pack: one zip with the PDF, the same data as JSON and CSV, and a manifest of SHA-256 hashes.

Layout (docs/complaints.md): ``evidence.pdf``, ``record.json`` (``{"pack", "case", "record"}``),
``measurements.csv`` (one row per measurement with its verdict and network context), ``manifest.json`` (each
file's SHA-256 and size) and ``SHA256SUMS`` (for ``sha256sum -c``). Entries carry the generation time, so a pack
is a function of its data; once stored its bytes are what every download serves.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from noc.complaints.pdf import render_pdf
from noc.core.gcpause import gc_paused

CSV_COLUMNS = ("id", "open_test_uuid", "time_utc", "local_time", "download_mbps", "upload_mbps", "ping_ms",
               "jitter_ms", "packet_loss", "medium", "server_name", "platform", "counted", "set_aside", "segment",
               "utilization_down", "utilization_up", "cpe_grade", "cpe_health_source", "source_sha256")


def measurements_csv(measurements: list[dict[str, Any]]) -> bytes:
    """The record's measurements as CSV (UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for m in measurements:
        context, health = m["context"], m["context"]["cpe_health"]
        writer.writerow([m["id"], m["open_test_uuid"], m["time_utc"], m["local_time"], m["download_mbps"],
                         m["upload_mbps"], m["ping_ms"], m["jitter_ms"], m["packet_loss"], m["medium"],
                         m["server_name"], m["platform"], m["counted"], m["set_aside"] or "", context["segment"] or "",
                         context["utilization"]["down"], context["utilization"]["up"],
                         health["grade"] if health else "", health["source"] if health else "", m["source_sha256"]])
    return buffer.getvalue().encode()


JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
"""Dates and times are written as ``str()`` writes them (as the standard library's encoder with ``default=str``
did), so record.json reads the same whichever wrote it."""


def _json(value: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: the record of 10,000 measurements is 7 MB, 0.1 s with the standard encoder)."""
    return orjson.dumps(value, default=str, option=JSON_OPTIONS)


@gc_paused()
def build_pack(case: dict[str, Any], document: dict[str, Any], version: int, generated_at: datetime,
               timezone: str) -> tuple[bytes, str]:
    """The pack's zip bytes and their SHA-256, from the case and its record's document.

    The JSON and CSV are compressed and hashed on a second thread while the PDF is set: zlib and hashlib let go
    of the GIL, so on a machine with a free core the pack is ready sooner for the same CPU time."""
    local = generated_at.astimezone(ZoneInfo(timezone))
    data = {"pack": {"case": case["id"], "version": version, "generated_at": local.isoformat(),
                     "timezone": timezone},
            "case": orjson.loads(_json(case)), "record": document}  # the PDF shows what record.json holds (text dates)
    files = {"record.json": _json(data), "measurements.csv": measurements_csv(document["measurements"])}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        entry = _Entries(archive, f"complaint-{case['id']}-v{version}/", local.timetuple()[:6])
        with ThreadPoolExecutor(1, thread_name_prefix="pack") as pool:
            stored = pool.submit(lambda: {name: entry.add(name, content) for name, content in files.items()})
            pdf = render_pdf(data, generated_at)
            data_digests = stored.result()  # the zip takes one entry at a time
        digests = {"evidence.pdf": entry.add("evidence.pdf", pdf), **data_digests}
        files["evidence.pdf"] = pdf
        entry.add("manifest.json", _json({
            "case": case["id"], "version": version, "generated_at": local.isoformat(), "algorithm": "SHA-256",
            "files": {n: {"sha256": digests[n], "bytes": len(files[n])} for n in digests}}))
        entry.add("SHA256SUMS", "".join(f"{digests[n]}  {n}\n" for n in digests).encode())
    content = buffer.getvalue()
    return content, hashlib.sha256(content).hexdigest()


class _Entries:
    """Adds files to a pack's zip under one folder with one timestamp (the PDF stored as is: it is compressed)."""

    def __init__(self, archive: zipfile.ZipFile, folder: str, stamp: tuple[int, ...]) -> None:
        self.archive, self.folder, self.stamp = archive, folder, stamp

    def add(self, name: str, content: bytes) -> str:
        """Add ``name``; its SHA-256."""
        info = zipfile.ZipInfo(self.folder + name, date_time=self.stamp)  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.archive.writestr(info, content)
        return hashlib.sha256(content).hexdigest()
