"""Metrics of capacity (in the kernel's registry, so ``GET /metrics`` shows them)."""

from __future__ import annotations

from prometheus_client import Counter

from noc.core.metrics import REGISTRY

ROLLUPS_STORED = Counter("noc_segment_rollups_stored_total", "Segment rollups written to the database.",
                         registry=REGISTRY)
SEGMENTS_SKIPPED = Counter("noc_capacity_segments_skipped_total",
                           "Segment evaluations skipped because the segment's rules cannot be used.",
                           registry=REGISTRY)
