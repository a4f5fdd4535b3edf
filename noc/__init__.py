"""noc: network operations for a cable/fibre internet operator."""

__version__ = "0.1.0"
