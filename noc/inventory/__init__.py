"""Subscribers, packages, contracts, devices, CPEs, segments and SNMP credentials."""
