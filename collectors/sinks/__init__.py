"""Where samples go: InfluxDB (with an on-disk spool for outages) or the embedded SQLite series store."""

from __future__ import annotations

from pathlib import Path

from collectors.sinks.embedded import DEFAULT_RETENTION_S, EmbeddedStore
from collectors.sinks.influx import InfluxSink, SecretLike, default_write_options
from collectors.sinks.lineproto import to_line
from collectors.sinks.metrics import SinkCollector
from collectors.sinks.protocol import Sink
from collectors.sinks.spool import Spool, SpoolLockedError

__all__ = [
    "DEFAULT_RETENTION_S",
    "EmbeddedStore",
    "InfluxSink",
    "SecretLike",
    "Sink",
    "SinkCollector",
    "Spool",
    "SpoolLockedError",
    "default_write_options",
    "open_sink",
    "to_line",
]


def open_sink(
    data_dir: Path,
    influx_url: str | None = None,
    influx_org: str = "noc",
    influx_bucket: str = "noc",
    influx_token: str | SecretLike | None = None,
) -> InfluxSink | EmbeddedStore:
    """The sink settings ask for: InfluxDB (spool in ``<data_dir>/spool/influx``) when a URL is given,
    else the embedded store in ``<data_dir>/series.db``. ``influx_token`` may be a str or a pydantic
    ``SecretStr``."""
    data_dir = Path(data_dir)
    if influx_url:
        return InfluxSink(influx_url, influx_org, influx_bucket, influx_token, data_dir / "spool" / "influx")
    return EmbeddedStore(data_dir / "series.db")
