"""Planned maintenance windows: which segments, when, why; capacity reads them to suppress tickets."""
