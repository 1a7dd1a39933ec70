"""Fuzz the feed's CSV and NDJSON readers: no traceback, every line in exactly one record,
and every record counted once (accepted + duplicates + rejected == records read)."""

from __future__ import annotations

import csv
import io
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage.ops._tail import Limits, Line, file_lines
from coverage.ops.feed import RawRecord, ingest_records, read_records
from coverage.ops.store import Store, open_store

HEADER = ["officer_id", "lat", "lon", "timestamp", "status", "speed_kph", "heading_deg"]
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
NOW = 1_800_000_000_000_000

# Cells a device or a hostile writer might send: good values, near misses and nasty bytes.
cell = st.one_of(
    st.sampled_from(["KP-1", "34.0", "71.5", "2026-11-25T08:00:00+05:00", "on_duty", "20",
                     "90", "", "3_4.0", "\u0663\u0664", "1e308", "nan", "-0", "2026-11-25",
                     "2026-11-25T08:00:00,5Z", "x'); DROP TABLE positions; --"]),
    st.text(alphabet=st.sampled_from(list('ab1.,;"\r\t\x00 -+eZ:\u0660\u00e9')), max_size=12),
)
good_row = st.lists(st.sampled_from(["KP-1", "KP-2", "KP-3"]), min_size=1, max_size=1).map(
    lambda oid: [oid[0], "34.0", "71.5", "2026-11-25T08:00:00+05:00", "on_duty", "20", "90"])
# A record as csv.writer writes it (quotes, embedded line breaks), or a raw line of junk.
record = st.one_of(
    good_row.map(lambda r: ("row", r)),
    st.lists(cell, min_size=0, max_size=9).map(lambda r: ("row", r)),
    st.text(alphabet=st.sampled_from(list('ab1,"\r\x00 ')), max_size=20).map(
        lambda t: ("junk", t)),
)


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _lines(data: bytes, tmp: Path) -> list[Line]:
    path = tmp / "feed.csv"
    path.write_bytes(data)
    items = file_lines(path, follow=False, limits=Limits(stop=threading.Event()))
    return [li for li in items if isinstance(li, Line)]


def _covered(records: list[RawRecord]) -> list[int]:
    return sorted(itertools.chain.from_iterable(
        range(r.line, r.line + r.raw.count("\n") + 1) for r in records))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db") as s:
        yield s


_runs = itertools.count()


@FUZZ
@given(records=st.lists(record, max_size=25), ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_feed_every_line_in_one_record_and_every_record_counted(
        store: Store, tmp_path: Path, records: list[tuple[str, object]], ending: str) -> None:
    body = [_csv_line(v) if kind == "row" else str(v) for kind, v in records]  # type: ignore[arg-type]
    data = (ending.join([",".join(HEADER), *body]) + ending).encode("utf-8")
    lines = _lines(data, tmp_path)
    parsed = [r for r in read_records(iter(lines), "csv", "feed.csv")
              if isinstance(r, RawRecord)]
    # every non-blank physical line after the header lies in exactly one record
    want = [li.number for li in lines[1:] if li.text.strip()]
    got = _covered(parsed)
    assert len(got) == len(set(got))
    assert set(want) <= set(got) <= {li.number for li in lines[1:]}
    if all(kind == "row" and '"' not in _csv_line(v) and "\r" not in _csv_line(v)  # type: ignore[arg-type]
           for kind, v in records) and ending != "\r":
        assert len(parsed) == sum(1 for b in body if b.strip())
    # and through the store: each record read is counted once
    name = f"fuzz-{next(_runs)}.csv"
    before = (store.count("positions"), store.count("rejects"))
    res = ingest_records(store, iter(parsed), input_name=name, fmt="csv", now=NOW)
    assert res.read == len(parsed) == res.accepted + res.duplicates + res.rejected
    assert (store.count("positions") - before[0], store.count("rejects") - before[1]) == (
        res.accepted, res.rejected)


@FUZZ
@given(lines=st.lists(st.one_of(
    st.text(max_size=40),
    st.sampled_from(['{"officer_id": "KP-1", "lat": 34, "lon": 71.5, "timestamp": '
                     '"2026-11-25T08:00:00+05:00", "speed_kph": 1e308}', '[1, 2]', '{"lat": NaN}',
                     '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [71.5]}}',
                     '{"officer_id": "K\\u0000P", "lat": "3_4", "lon": 71, "timestamp": 5}']),
), max_size=20))
def test_ndjson_feed_never_raises_and_counts_each_line(store: Store, tmp_path: Path,
                                                        lines: list[str]) -> None:
    data = "\n".join(s.replace("\n", " ").replace("\r", " ") for s in lines).encode(
        "utf-8", "surrogatepass")
    items = _lines(data, tmp_path)
    parsed = [r for r in read_records(iter(items), "ndjson", "feed.ndjson")
              if isinstance(r, RawRecord)]
    assert len(parsed) == sum(1 for li in items if li.text.strip())
    res = ingest_records(store, iter(parsed), input_name=f"fuzz-{next(_runs)}.ndjson",
                         fmt="ndjson", now=NOW)
    assert res.read == len(parsed) == res.accepted + res.duplicates + res.rejected
