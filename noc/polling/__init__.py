"""Poll cycles: which devices to poll, when, and what became of each poll."""
