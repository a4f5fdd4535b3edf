"""collectors: talks to the network (SNMP, ICMP, series sinks); knows nothing of subscribers."""
