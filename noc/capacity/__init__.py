"""Segment utilization: 5-minute rollups now; the 70 % rules and upgrade tickets build on them."""
