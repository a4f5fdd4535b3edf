"""Append-only audit log with a hash chain."""
