"""Reachability probes: ICMP echo bursts and TCP SYN built with scapy, and a plain TCP connect without privilege."""
