"""Kit guarantee in plans: no plan deploys a reserve its station cannot equip.

The optimum under the kit constraint is checked against an exhaustive search over which
reserves go (at most as many per station as its spare kit equips) and where, with the
objective recomputed by plain networkx Dijkstra (tests/support/planning_cases.py).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from coverage.data.personnel import read_resources
from coverage.engine.analysis import analyse
from coverage.errors import DataError
from coverage.planning.backfill import backfill, backfill_dict
from coverage.planning.kit import kit_budget
from coverage.planning.order import deployment_order, order_csv
from coverage.planning.readiness import readiness
from coverage.planning.robust import RefusalRisk
from tests.support.planning_cases import Case, random_case, reference_objective

NO_EVENTS = pd.DataFrame({"officer_id": [], "date": [], "kind": [], "days": [], "note": []})


def _budget(case: Case, folder: Path, rows: list[str], items: list[str]):
    (folder / "resources.csv").write_text("station_id,item,on_hand,per_officer\n"
                                          + "\n".join(rows) + "\n")
    ds = case.ds
    r = readiness(ds.stations, ds.officers, NO_EVENTS,
                  read_resources(folder / "resources.csv", ds.stations), as_of=date(2026, 11, 25))
    return kit_budget(r, ds.officers, items)


def _homes(case: Case) -> dict[str, str]:
    ro = case.ds.officers
    res = ro.loc[ro["status"] == "reserve"]
    return dict(zip(res["officer_id"], res["station_id"], strict=True))


def _on_duty(case: Case) -> Counter[str]:
    ro = case.ds.officers
    return Counter(ro.loc[ro["status"] == "on_duty", "station_id"])


def test_kit_blocked_reserves_are_named(tmp_path: Path) -> None:
    case = random_case(2, tmp_path, n_reserves=4)
    homes = _homes(case)
    duty = _on_duty(case)
    # every station: vests for its on-duty officers only (no spare), helmets plenty
    rows = [f"{s},vest,{duty[s]},1" for s in case.stations]
    rows += [f"{s},helmet,20,1" for s in case.stations]
    budget = _budget(case, tmp_path, rows, ["vest", "helmet"])
    assert budget.total == 0
    cov = analyse(case.ds)
    bf = backfill(cov, 4, kit=budget)
    assert bf.placed == ()
    rec = backfill_dict(bf)
    held = {h["station_id"]: h for h in rec["kit"]["held_back"]}
    per_station = Counter(homes.values())
    assert set(held) == set(per_station)
    for s, n in per_station.items():
        assert held[s]["held_back"] == n
        assert held[s]["equipped"] == 0
        assert held[s]["release"] == {"vest": n}
        assert held[s]["officers"] == sorted(o for o, h in homes.items() if h == s)
    note = next(n for n in bf.notes if n.startswith("kit"))
    assert all(s in note for s in per_station)
    assert "more vest" in note


def test_partly_equipped_station_sends_only_what_its_kit_covers(tmp_path: Path) -> None:
    case = random_case(2, tmp_path, n_reserves=6)
    homes = _homes(case)
    duty = _on_duty(case)
    big = Counter(homes.values()).most_common(1)[0][0]
    rows = [f"{s},vest,{duty[s] + (1 if s == big else 9)},1" for s in case.stations]
    budget = _budget(case, tmp_path, rows, ["vest"])
    assert budget.equipped[big] == 1
    cov = analyse(case.ds)
    bf = backfill(cov, 6, kit=budget)
    sent = Counter(homes[o.officer_id] for o in bf.placed)
    assert sent[big] <= 1
    held = bf.held_back or {}
    assert len(held[big]) == Counter(homes.values())[big] - 1
    assert not set(held[big]) & {o.officer_id for o in bf.placed}
    csv_text = order_csv(deployment_order(bf)).decode()
    assert "kit (vest)" in csv_text


@pytest.mark.parametrize("seed", range(8))
def test_optimum_under_kit_equals_brute_force(seed: int, tmp_path: Path) -> None:
    case = random_case(seed, tmp_path, n_reserves=4)
    rng = random.Random(seed)
    duty = _on_duty(case)
    homes = _homes(case)
    rows = [f"{s},vest,{duty[s] + rng.randint(0, 1)},1" for s in case.stations]
    budget = _budget(case, tmp_path, rows, ["vest"])
    cov = analyse(case.ds)
    k = 3
    bf = backfill(cov, k, kit=budget)
    units = list(case.units.values())
    sites = sorted(set(case.stations.values()))
    best = reference_objective(case, units)
    for n in range(1, k + 1):
        for chosen in itertools.combinations(sorted(homes), n):
            use = Counter(homes[o] for o in chosen)
            if any(c > budget.equipped[s] for s, c in use.items()):
                continue
            for where in itertools.combinations_with_replacement(sites, n):
                best = max(best, reference_objective(case, units + list(where)))
    assert bf.objective_after == pytest.approx(best)
    assert bf.optimal
    sent = Counter(homes[o.officer_id] for o in bf.placed)
    assert all(c <= budget.equipped[s] for s, c in sent.items())


def test_kit_with_the_robust_plan_and_unknown_items(tmp_path: Path) -> None:
    case = random_case(5, tmp_path, n_reserves=4)
    duty = _on_duty(case)
    homes = _homes(case)
    rows = [f"{s},vest,{duty[s]},1" for s in case.stations]
    budget = _budget(case, tmp_path, rows, ["vest"])
    bf = backfill(analyse(case.ds), 3, kit=budget, risk=RefusalRisk({}, 0.2))
    assert bf.placed == ()
    assert sum(len(v) for v in (bf.held_back or {}).values()) == len(homes)
    with pytest.raises(DataError, match=r"kit.*'radio'"):
        _budget(case, tmp_path, rows, ["radio"])
