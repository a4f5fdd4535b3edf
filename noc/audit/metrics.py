"""Metrics of the audit log (in the kernel's registry, so ``GET /metrics`` shows them)."""

from __future__ import annotations

from prometheus_client import Gauge

from noc.core.metrics import REGISTRY

CHAIN_OK = Gauge("noc_audit_chain_ok", "1 when the last check of the audit log's hash chain found it intact, 0 when "
                 "broken.", registry=REGISTRY)
CHAIN_CHECKED = Gauge("noc_audit_chain_checked_timestamp_seconds", "When the audit log's hash chain was last checked.",
                      registry=REGISTRY)
