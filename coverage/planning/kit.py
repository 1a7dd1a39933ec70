"""Kit guarantee in plans (DATA.md): no plan deploys a reserve its station cannot equip.

A reserve deployed by a plan takes one of each kit item (e.g. ``vest``, ``helmet``) from its
station's spare, ``on_hand x per_officer - on-duty officers`` (never below 0,
:func:`coverage.planning.readiness.spare_kit`). So a station can equip at most
``min(reserves, spare of each item)`` of its reserves; the others are *held back*, and
``reserves - spare`` more of an item (where positive) would release them all.

The plain objective does not depend on which reserve goes where, so the optimum under the
kit constraint is the optimum with ``min(k, equipped reserves)`` reserves; the orders then
take, nearest first, only reserves whose station still has kit to hand out
(:func:`coverage.planning.backfill.backfill`, ``kit=``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from coverage.engine.units import apply_suspension
from coverage.planning.readiness import Readiness, spare_kit


@dataclass(frozen=True)
class KitShortage:
    """One station whose kit holds reserves back.

    ``release`` maps each short item to how many more would equip every reserve there.
    """

    station_id: str
    reserves: int
    equipped: int
    held_back: int
    release: tuple[tuple[str, int], ...]


@dataclass(frozen=True, eq=False)
class KitBudget:
    """How many reserves each station can equip with ``items`` (one of each per reserve)."""

    items: tuple[str, ...]
    reserves: Mapping[str, int]
    equipped: Mapping[str, int]
    spare: Mapping[str, Mapping[str, int]]

    @property
    def total(self) -> int:
        """Reserves that can be equipped over all stations."""
        return int(sum(self.equipped.values()))

    def shortages(self) -> tuple[KitShortage, ...]:
        """Stations that hold reserves back, by station id."""
        out = []
        for sid in sorted(self.reserves):
            n, ok = self.reserves[sid], self.equipped[sid]
            if ok < n:
                release = tuple((i, n - self.spare[sid][i]) for i in self.items
                                if self.spare[sid][i] < n)
                out.append(KitShortage(sid, n, ok, n - ok, release))
        return tuple(out)


def kit_budget(r: Readiness, officers: pd.DataFrame, items: Sequence[str], *,
               suspended: Sequence[str] = ()) -> KitBudget:
    """Return each station's equippable reserves for the kit ``items``.

    ``officers`` is the roster; reserves are counted after ``suspended``. An item the
    resources file does not list is a DataError (:func:`spare_kit`); a station with no row
    for an item has none of it.
    """
    wanted = tuple(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    spare_rows = spare_kit(r, wanted)
    roster = apply_suspension(officers, suspended)
    res = roster.loc[roster["status"] == "reserve", "station_id"].astype(str).value_counts()
    stations = [str(s) for s in r.stations["station_id"]]
    spare = {s: dict.fromkeys(wanted, 0) for s in stations}
    for sid, item, n in zip(spare_rows["station_id"], spare_rows["item"],
                            spare_rows["spare"].astype("int64"), strict=True):
        spare.setdefault(str(sid), dict.fromkeys(wanted, 0))[str(item)] = int(n)
    reserves = {s: int(res.get(s, 0)) for s in stations}
    equipped = {s: min([reserves[s], *spare[s].values()]) for s in stations}
    return KitBudget(items=wanted, reserves=reserves, equipped=equipped, spare=spare)


def kit_note(budget: KitBudget) -> str | None:
    """One line naming the stations whose kit holds reserves back, or None."""
    short = budget.shortages()
    if not short:
        return None
    parts = [f"{s.station_id} {s.held_back} of {s.reserves} ("
             + ", ".join(f"{n} more {item}" for item, n in s.release) + " would release them)"
             for s in short]
    return (f"kit ({', '.join(budget.items)}): {sum(s.held_back for s in short)} reserve(s) "
            f"held back for want of kit: {'; '.join(parts)}")


def kit_dict(budget: KitBudget, held_back_officers: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The ``kit`` object of the backfill JSON: items, equipped reserves, held-back stations.

    ``held_back_officers`` names, per station, the reserves left without kit by the plan.
    """
    return {
        "items": list(budget.items),
        "reserves_equipped": budget.total,
        "held_back": [{"station_id": s.station_id, "reserves": s.reserves,
                       "equipped": s.equipped, "held_back": s.held_back,
                       "release": dict(s.release),
                       "officers": list(held_back_officers.get(s.station_id, ()))}
                      for s in budget.shortages()],
    }


def held_back_officers(budget: KitBudget, pool: pd.DataFrame,
                       placed: Sequence[Any]) -> dict[str, tuple[str, ...]]:
    """Per station that holds reserves back: the reserves a plan leaves without kit.

    ``pool`` holds the available reserves (``officer_id``, ``station_id``), ``placed`` the
    plan's reserve placements (with ``officer_id``). Of a station's reserves not deployed,
    the first (by officer id) that its remaining kit still equips could go; the rest are
    held back.
    """
    sent = {o.officer_id for o in placed}
    out: dict[str, tuple[str, ...]] = {}
    for s in budget.shortages():
        mine = sorted(str(o) for o, h in zip(pool["officer_id"], pool["station_id"],
                                             strict=True) if str(h) == s.station_id)
        used = sum(o in sent for o in mine)
        left = [o for o in mine if o not in sent]
        out[s.station_id] = tuple(left[max(s.equipped - used, 0):])
    return out
