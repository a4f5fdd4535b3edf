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
import json
import zipfile
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from noc.complaints.pdf import render_pdf

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


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def build_pack(case: dict[str, Any], document: dict[str, Any], version: int, generated_at: datetime,
               timezone: str) -> tuple[bytes, str]:
    """The pack's zip bytes and their SHA-256, from the case and its record's document."""
    local = generated_at.astimezone(ZoneInfo(timezone))
    data = {"pack": {"case": case["id"], "version": version, "generated_at": local.isoformat(),
                     "timezone": timezone},
            "case": json.loads(_json(case)), "record": document}  # the PDF shows what record.json holds (text dates)
    files = {"evidence.pdf": render_pdf(data, generated_at), "record.json": _json(data),
             "measurements.csv": measurements_csv(document["measurements"])}
    digests = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    files["manifest.json"] = _json({"case": case["id"], "version": version, "generated_at": local.isoformat(),
                                    "algorithm": "SHA-256",
                                    "files": {n: {"sha256": digests[n], "bytes": len(files[n])} for n in digests}})
    files["SHA256SUMS"] = "".join(f"{digests[n]}  {n}\n" for n in digests).encode()
    buffer = io.BytesIO()
    stamp = local.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(f"complaint-{case['id']}-v{version}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED  # compressed
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    content = buffer.getvalue()
    return content, hashlib.sha256(content).hexdigest()
