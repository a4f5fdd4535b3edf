"""Samples to line protocol: escaping, types, tag order, unstorable fields."""

from __future__ import annotations

import math

from collectors.samples import Sample
from collectors.sinks.lineproto import clean_fields, to_line, to_lines


def test_types_sorted_tags_and_second_timestamp() -> None:
    s = Sample("interface", (("ifindex", "3"), ("device", "r1")),
               {"in_bps": 1.5, "in_octets": 42, "valid": True, "note": 'a "b" \\c'}, 1_700_000_000)
    assert to_line(s) == (
        'interface,device=r1,ifindex=3 in_bps=1.5,in_octets=42i,note="a \\"b\\" \\\\c",valid=true 1700000000'
    )


def test_escaping_of_names_and_tag_values() -> None:
    s = Sample("my meas,x", (("a b", "c=d,e f"),), {"f 1": 1.0}, 5)
    assert to_line(s) == r"my\ meas\,x,a\ b=c\=d\,e\ f f\ 1=1.0 5"


def test_empty_tag_values_are_left_out() -> None:
    assert to_line(Sample("m", (("a", ""), ("b", "x")), {"f": 1}, 1)) == "m,b=x f=1i 1"


def test_unstorable_fields_are_dropped_and_empty_samples_skipped() -> None:
    fields = {"nan": math.nan, "inf": math.inf, "big": 2**63, "ok": 2**63 - 1, "neg": -(2**63)}
    assert clean_fields(fields) == {"neg": -(2**63), "ok": 2**63 - 1}
    assert to_line(Sample("m", (), {"nan": math.nan}, 1)) is None
    lines, skipped = to_lines([Sample("m", (), {"x": math.nan}, 1), Sample("m", (), {"x": 1.0}, 2)])
    assert lines == [b"m x=1.0 2"]
    assert skipped == 1
