"""Scenario files: a :class:`~coverage.planning.scenario.Scenario` saved as JSON and opened again.

The file holds ``format``, ``name``, ``author``, ``created`` (ISO 8601 with offset), the
``sha256`` of the canonical inputs and the ``inputs`` themselves. Opening checks every field
and the hash, and names the file and the field at fault.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from coverage.errors import DataError, problems_message
from coverage.planning.scenario import Deployment, Reassignment, Scenario

logger = logging.getLogger(__name__)

FORMAT = "seccov-scenario/1"
_INPUTS = ("remove", "deploy", "reassign", "closed_roads", "closed_areas", "turnout_s",
           "unit_turnout_s")


def save_scenario(scenario: Scenario, path: str | Path) -> Scenario:
    """Write ``scenario`` to ``path`` as JSON; return it, stamped with the time if unset.

    ``created`` is the local time with its UTC offset when the scenario has none.
    """
    if scenario.created is None:
        scenario = replace(scenario,
                           created=datetime.now().astimezone().isoformat(timespec="seconds"))
    record = {"format": FORMAT, "name": scenario.name, "author": scenario.author,
              "created": scenario.created, "sha256": scenario.sha256,
              "inputs": scenario.inputs()}
    try:
        Path(path).write_text(json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False)
                              + "\n", encoding="utf-8")
    except OSError as exc:
        msg = f"{Path(path).name}: cannot write the scenario file: {exc.strerror or exc}"
        raise DataError(msg) from exc
    logger.info("scenario '%s' saved to %s", scenario.name, Path(path).name)
    return scenario


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _list(raw: dict[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        problems.append(f"field 'inputs.{key}': expected a list, found {type(value).__name__}")
        return []
    return value


def _inputs(raw: Any, problems: list[str]) -> dict[str, Any]:
    """Check the ``inputs`` object field by field; return keyword arguments for Scenario."""
    if not isinstance(raw, dict):
        problems.append(f"field 'inputs': expected an object, found {type(raw).__name__}")
        return {}
    problems += [f"field 'inputs.{k}': unknown field; expected one of {', '.join(_INPUTS)}"
                 for k in raw if k not in _INPUTS]
    out: dict[str, Any] = {}
    remove = _list(raw, "remove", problems)
    problems += [f"field 'inputs.remove[{k}]': expected an officer id string, found {v!r}"
                 for k, v in enumerate(remove) if not isinstance(v, str)]
    out["remove"] = tuple(str(v) for v in remove)
    deploy = []
    for k, d in enumerate(_list(raw, "deploy", problems)):
        where = f"field 'inputs.deploy[{k}]"
        if not isinstance(d, dict) or not isinstance(d.get("officer_id"), str):
            problems.append(f"{where}': expected an object with an officer_id string")
            continue
        bad = [f"{where}.{f}': expected {kind}, found {d[f]!r}" for f, ok, kind in (
            ("node_id", _is_int, "an integer node id"), ("lon", _is_num, "a number"),
            ("lat", _is_num, "a number")) if d.get(f) is not None and not ok(d[f])]
        bad += [f"{where}.{f}': unknown field" for f in d
                if f not in ("officer_id", "node_id", "lon", "lat")]
        problems += bad
        if not bad:
            deploy.append({f: d.get(f) for f in ("officer_id", "node_id", "lon", "lat")})
    out["deploy"] = deploy
    reassign = []
    for k, r in enumerate(_list(raw, "reassign", problems)):
        if (not isinstance(r, dict) or set(r) != {"officer_id", "station_id"}
                or not all(isinstance(v, str) for v in r.values())):
            problems.append(f"field 'inputs.reassign[{k}]': expected an object with officer_id "
                            "and station_id strings")
        else:
            reassign.append(r)
    out["reassign"] = reassign
    pairs = _list(raw, "closed_roads", problems)
    for k, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2 and all(map(_is_int, pair))):
            problems.append(f"field 'inputs.closed_roads[{k}]': expected a pair of integer "
                            f"node ids, found {pair!r}")
    out["closed_roads"] = tuple(tuple(p) for p in pairs if isinstance(p, list))
    areas = _list(raw, "closed_areas", problems)
    problems += [f"field 'inputs.closed_areas[{k}]': expected a WKT polygon string"
                 for k, v in enumerate(areas) if not isinstance(v, str)]
    out["closed_areas"] = tuple(str(v) for v in areas)
    turnout = raw.get("turnout_s", 0.0)
    if not _is_num(turnout):
        problems.append(f"field 'inputs.turnout_s': expected seconds, found {turnout!r}")
    out["turnout_s"] = float(turnout) if _is_num(turnout) else 0.0
    units = raw.get("unit_turnout_s", {})
    if not isinstance(units, dict) or not all(_is_num(v) for v in units.values()):
        problems.append("field 'inputs.unit_turnout_s': expected an object of officer id -> "
                        "seconds")
        units = {}
    out["unit_turnout_s"] = tuple(units.items())
    return out


def load_scenario(path: str | Path) -> Scenario:
    """Open a scenario file written by :func:`save_scenario`.

    Raises DataError naming the file and every field at fault: malformed JSON, a wrong
    type, an unknown field, or a ``sha256`` that does not match the inputs (the file was
    edited after saving; delete the ``sha256`` line to accept the edit).
    """
    p = Path(path)
    try:
        record = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{p.name}: file not found at {p}"
        raise DataError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{p.name}: cannot be read as UTF-8 text ({exc})"
        raise DataError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"{p.name}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise DataError(msg) from exc
    if not isinstance(record, dict):
        msg = f"{p.name}: expected a JSON object, found {type(record).__name__}"
        raise DataError(msg)
    problems: list[str] = []
    if record.get("format") != FORMAT:
        problems.append(f"field 'format': expected '{FORMAT}', found {record.get('format')!r}")
    for key in ("name", "author"):
        if not isinstance(record.get(key, ""), str):
            problems.append(f"field '{key}': expected a string, found {record[key]!r}")
    created = record.get("created")
    if created is not None and not isinstance(created, str):
        problems.append(f"field 'created': expected an ISO 8601 string, found {created!r}")
    if "inputs" not in record:
        problems.append("field 'inputs': missing; it holds the scenario's changes")
    kwargs = _inputs(record.get("inputs", {}), problems)
    if problems:
        raise DataError(problems_message(p.name, problems))
    try:
        scenario = Scenario(
            name=record.get("name", "scenario"), author=record.get("author", ""),
            created=created, remove=kwargs["remove"],
            deploy=tuple(Deployment(**d) for d in kwargs["deploy"]),
            reassign=tuple(Reassignment(**r) for r in kwargs["reassign"]),
            closed_roads=kwargs["closed_roads"], closed_areas=kwargs["closed_areas"],
            turnout_s=kwargs["turnout_s"], unit_turnout_s=kwargs["unit_turnout_s"],
        )
    except DataError as exc:
        raise DataError(problems_message(p.name, str(exc).splitlines())) from None
    stored = record.get("sha256")
    if stored is not None and stored != scenario.sha256:
        msg = (f"field 'sha256': {stored!r} does not match the inputs ({scenario.sha256}); "
               "the file was edited after saving; delete the sha256 line to accept the edit")
        raise DataError(problems_message(p.name, [msg]))
    return scenario
