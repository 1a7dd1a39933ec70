"""Generate the demo district's SYNTHETIC personnel events and station resources.

Reads the existing demo files (officers.csv, stations.geojson, suspended_42.csv; they are
not changed) and writes events.csv and resources.csv beside them. Deterministic: its own
seed, no clock, byte-identical on every run. Every event note starts with "[synthetic]".
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 20261125 + 13
INCIDENT = date(2026, 11, 25)  # the day the 42 officers refused (suspended_42.csv)
START = date(2026, 8, 1)  # first day of the synthetic history
CITY = [f"PS-{i:02d}" for i in range(1, 11)]
# stations with a story of their own (the others get background noise only)
SICK_WAVE = "PS-21"  # a cluster of sick leave in the last month: critical absence rate
COMPLAINTS = "PS-13"  # three public complaints in the last 90 days: warning
EARLIER_REFUSAL = "PS-27"  # one refusal in October: warning
VEST_SHORT = ("PS-24", "PS-16")  # a few vests short: warning
LABEL = "[synthetic] "

REFUSAL_NOTE = ("Refused deployment to a sensitive zone: inadequate protective kit, unclear "
                "orders, no consultation")
GRIEVANCES = ("No protective vest issued for sensitive-zone duty", "Helmets not replaced "
              "after damage", "Orders for the deployment were unclear", "No consultation "
              "before the change of duty roster", "Radio batteries not replaced")
COMPLAINT_NOTES = ("Public complaint: discourtesy at a checkpoint", "Public complaint: "
                   "delayed response", "Public complaint: vehicle parked on footpath")


def _days(rng: np.random.Generator, first: date, last: date) -> date:
    return first + timedelta(days=int(rng.integers(0, (last - first).days + 1)))


def make_events(officers: list[dict[str, str]], suspended: list[str],
                rng: np.random.Generator) -> list[tuple[str, str, str, str, str]]:
    """Return (officer_id, date, kind, days, note) rows, sorted by date then officer."""
    rows: list[tuple[str, str, str, str, str]] = []
    by_station: dict[str, list[str]] = {}
    for o in officers:
        by_station.setdefault(o["station_id"], []).append(o["officer_id"])
    late = INCIDENT - timedelta(days=27)  # the last four weeks before the incident
    for o in officers:
        oid, sid = o["officer_id"], o["station_id"]
        # background: about one absence or sick leave every three months
        for _ in range(int(rng.poisson(1.2))):
            kind = "absence" if rng.random() < 0.5 else "sick_leave"
            rows.append((oid, _days(rng, START, INCIDENT).isoformat(), kind,
                         str(int(rng.integers(1, 3))), LABEL.strip()))
        if sid in CITY and rng.random() < 0.45:  # morale falls in the old city's stations
            rows.append((oid, _days(rng, late, INCIDENT).isoformat(), "absence",
                         str(int(rng.integers(1, 5))), LABEL + "Absent without leave"))
        if sid == SICK_WAVE and rng.random() < 0.8:
            rows.append((oid, _days(rng, late, INCIDENT).isoformat(), "sick_leave",
                         str(int(rng.integers(4, 8))), LABEL + "Sick leave (fever outbreak)"))
        if rng.random() < 0.08:
            rows.append((oid, _days(rng, START, INCIDENT).isoformat(), "commendation", "",
                         LABEL + "Commended for conduct on duty"))
    for sid in CITY:  # grievances about kit, orders and consultation before the incident
        staff = by_station[sid]
        for _ in range(int(rng.integers(2, 6))):
            oid = staff[int(rng.integers(0, len(staff)))]
            rows.append((oid, _days(rng, date(2026, 10, 1), INCIDENT - timedelta(days=1))
                         .isoformat(), "grievance", "",
                         LABEL + GRIEVANCES[int(rng.integers(0, len(GRIEVANCES)))]))
    for i in range(3):
        staff = by_station[COMPLAINTS]
        rows.append((staff[int(rng.integers(0, len(staff)))],
                     _days(rng, INCIDENT - timedelta(days=80), INCIDENT).isoformat(),
                     "complaint", "", LABEL + COMPLAINT_NOTES[i]))
    staff = by_station[EARLIER_REFUSAL]
    rows.append((staff[int(rng.integers(0, len(staff)))], "2026-10-12", "refusal", "",
                 LABEL + "Refused a night checkpoint without a vehicle"))
    rows.extend((oid, INCIDENT.isoformat(), "refusal", "", LABEL + REFUSAL_NOTE)
                for oid in suspended)
    return sorted(rows, key=lambda r: (r[1], r[0], r[2]))


def make_resources(officers: list[dict[str, str]], stations: list[dict[str, object]],
                   rng: np.random.Generator) -> list[tuple[str, str, int, int]]:
    """Return (station_id, item, on_hand, per_officer) rows, one per station and item."""
    deployable: dict[str, int] = {}
    for o in officers:
        if o["status"] in ("on_duty", "reserve"):
            deployable[o["station_id"]] = deployable.get(o["station_id"], 0) + 1
    rows = []
    for s in stations:
        sid, n = str(s["station_id"]), deployable.get(str(s["station_id"]), 0)
        if sid in CITY[:5]:
            vests = math.floor(0.35 * n)  # well under half of what is needed: critical
        elif sid in CITY:
            vests = math.floor(0.7 * n)
        elif sid in VEST_SHORT:
            vests = n - 2
        else:
            vests = n + int(rng.integers(0, 4))
        helmets = math.floor(0.8 * n) if sid in CITY else n + int(rng.integers(0, 3))
        rows += [(sid, "vest", vests, 1), (sid, "helmet", helmets, 1),
                 (sid, "radio", n + int(rng.integers(0, 3)), 1),
                 (sid, "vehicle", int(str(s["vehicles"])), 4)]
    return rows


def main(argv: list[str] | None = None) -> int:
    """Write events.csv and resources.csv into ``--dir`` (default: geodata/peshawar)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent / "peshawar")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(SEED)
    with (args.dir / "officers.csv").open(encoding="utf-8", newline="") as fh:
        officers = list(csv.DictReader(fh))
    with (args.dir / "suspended_42.csv").open(encoding="utf-8", newline="") as fh:
        suspended = [r["officer_id"] for r in csv.DictReader(fh)]
    stations = [f["properties"] for f in json.loads(
        (args.dir / "stations.geojson").read_text(encoding="utf-8"))["features"]]
    events = make_events(officers, suspended, rng)
    with (args.dir / "events.csv").open("w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["officer_id", "date", "kind", "days", "note"])
        wr.writerows(events)
    resources = make_resources(officers, stations, rng)
    with (args.dir / "resources.csv").open("w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["station_id", "item", "on_hand", "per_officer"])
        wr.writerows(resources)
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e[2]] = kinds.get(e[2], 0) + 1
    print(f"events={len(events)} " + " ".join(f"{k}={v}" for k, v in sorted(kinds.items()))
          + f" resources={len(resources)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
