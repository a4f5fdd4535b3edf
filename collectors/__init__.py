"""collectors: talks to the network (SNMP polling by device profiles, a simulated network, series sinks); knows
nothing of subscribers."""
