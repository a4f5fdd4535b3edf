"""Asynchronous SNMP polling: client, counter arithmetic and device profiles."""
