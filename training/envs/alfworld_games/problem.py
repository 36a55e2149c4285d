"""Write a HouseTask (layouts.py) as a PDDL problem in the ALFRED domain.

The problem has the shape of ALFWorld's `initial_state.pddl` files, so the engine and
ALFWorld's name demangler treat it the same way:

- entities are named like ALFRED's (`Cabinet_bar_03`, `Sink_bar_00_bar_SinkBasin`):
  ALFWorld's `Demangler` shows the part before the first `_bar_` plus a number
  ("cabinet 1"), appending "basin" to names with "basin" in them ("sinkbasin 1");
- the Demangler numbers the ids of one name in reverse sorted order (the first id in
  sorted order gets the highest number), so "cabinet n" of K gets the suffix K - n;
- every receptacle has its own location; the agent starts at `loc_bar_0`, where
  nothing is, so the first observation is "You are in the middle of a room. ...";
- objects are `inReceptacle` their receptacle and `objectAtLocation` its location;
- the goal is the task type's condition (our own wording of ALFWorld's six goals).
"""

from __future__ import annotations

from collections.abc import Iterable

from training.envs.alfworld_games.layouts import (
    CAN_CONTAIN,
    CLEANABLE,
    COOLABLE,
    DOMAIN_OTYPES,
    DOMAIN_RTYPES,
    HEATABLE,
    OBJECT_TYPES,
    OPENABLE,
    RECEPTACLE_TYPES,
    TASK_TYPES,
    TOGGLEABLE,
    HouseTask,
)

HEADER = "; Written by `python -m training.envs.alfworld_games.build` from layouts.py: edit that, not this file."


def _split(name: str) -> tuple[str, int]:
    kind, _, number = name.rpartition(" ")
    if not kind or not number.isdigit() or int(number) < 1:
        raise ValueError(f"{name!r}: expected a name and a number, like 'cabinet 1'")
    return kind, int(number)


def _ids(names: Iterable[str], types: dict[str, str]) -> dict[str, str]:
    """Display name -> PDDL id, chosen so that ALFWorld's Demangler shows the display name."""
    names = list(names)
    counts: dict[str, int] = {}
    for name in names:
        kind, number = _split(name)
        if kind not in types:
            raise ValueError(f"{name!r}: unknown type {kind!r}")
        counts[kind] = max(counts.get(kind, 0), number)
    if len(set(names)) != len(names):
        raise ValueError(f"a name is used twice in {names}")
    for kind, count in counts.items():
        have = sorted(_split(n)[1] for n in names if _split(n)[0] == kind)
        if have != list(range(1, count + 1)):
            raise ValueError(f"{kind}: numbers {have} must run 1..{count} with no gaps")
    ids = {}
    for name in names:
        kind, number = _split(name)
        suffix = f"{counts[kind] - number:02d}"
        camel = types[kind]
        if kind.endswith("basin"):  # "sinkbasin" -> Sink_bar_00_bar_SinkBasin, shown "sinkbasin 1"
            ids[name] = f"{camel[: -len('Basin')]}_bar_{suffix}_bar_{camel}"
        else:
            ids[name] = f"{camel}_bar_{suffix}"
    return ids


def _goal(task: HouseTask) -> str:
    obj = OBJECT_TYPES[task.obj]
    if task.type == "look_at_obj_in_light":
        if task.toggle is None:
            raise ValueError(f"{task.id}: look_at_obj_in_light needs a lamp")
        lamp = OBJECT_TYPES[task.toggle]
        # Holding the object while standing where a switched-on lamp is.
        return f"""(:goal
    (and
      (exists (?lamp - object ?r - receptacle ?a - agent ?l - location)
        (and (objectType ?lamp {lamp}Type) (toggleable ?lamp) (isToggled ?lamp)
             (inReceptacle ?lamp ?r) (receptacleAtLocation ?r ?l) (atLocation ?a ?l)))
      (exists (?o - object ?a - agent)
        (and (objectType ?o {obj}Type) (holds ?a ?o)))))"""
    if task.recep is None:
        raise ValueError(f"{task.id}: {task.type} needs a receptacle")
    recep = RECEPTACLE_TYPES[task.recep]
    if task.type == "pick_two_obj_and_place":
        return f"""(:goal
    (exists (?r - receptacle ?o1 - object ?o2 - object)
      (and (receptacleType ?r {recep}Type) (objectType ?o1 {obj}Type) (objectType ?o2 {obj}Type)
           (not (= ?o1 ?o2)) (inReceptacle ?o1 ?r) (inReceptacle ?o2 ?r))))"""
    state = {
        "pick_and_place_simple": "",
        "pick_clean_then_place_in_recep": " (cleanable ?o) (isClean ?o)",
        "pick_heat_then_place_in_recep": " (heatable ?o) (isHot ?o)",
        "pick_cool_then_place_in_recep": " (coolable ?o) (isCool ?o)",
    }[task.type]
    return f"""(:goal
    (exists (?r - receptacle ?o - object)
      (and (receptacleType ?r {recep}Type) (objectType ?o {obj}Type){state} (inReceptacle ?o ?r))))"""


def problem_text(task: HouseTask) -> str:
    """The PDDL problem for `task` (deterministic: the same task gives the same text)."""
    if task.type not in TASK_TYPES:
        raise ValueError(f"{task.id}: unknown task type {task.type!r}")
    receptacles = list(task.plan.receptacles)
    unknown = set(task.contents) - set(receptacles)
    if unknown:
        raise ValueError(f"{task.id}: {sorted(unknown)} not in floor plan {task.plan.name}")
    objects = [o for r in receptacles for o in task.contents.get(r, ())]
    r_ids = _ids(receptacles, RECEPTACLE_TYPES)
    o_ids = _ids(objects, OBJECT_TYPES)
    location = {r: f"loc_bar_{i}" for i, r in enumerate(receptacles, start=1)}
    r_kinds = sorted({_split(r)[0] for r in receptacles})
    o_kinds = sorted({_split(o)[0] for o in objects})
    rtypes = sorted({RECEPTACLE_TYPES[k] for k in r_kinds} | set(DOMAIN_RTYPES))
    otypes = sorted({OBJECT_TYPES[k] for k in o_kinds} | set(DOMAIN_OTYPES))

    declared = ["    agent1 - agent", "    loc_bar_0 - location ; the middle of the room"]
    declared += [f"    {location[r]} - location ; at {r}" for r in receptacles]
    declared += [f"    {r_ids[r]} - receptacle ; {r}" for r in receptacles]
    declared += [f"    {o_ids[o]} - object ; {o}" for o in objects]
    declared += [f"    {t}Type - rtype" for t in rtypes]
    declared += [f"    {t}Type - otype" for t in otypes]

    init = ["    (atLocation agent1 loc_bar_0)"]
    for r in receptacles:
        kind, _ = _split(r)
        init.append(f"    (receptacleAtLocation {r_ids[r]} {location[r]})")
        init.append(f"    (receptacleType {r_ids[r]} {RECEPTACLE_TYPES[kind]}Type)")
        if kind in OPENABLE:
            init.append(f"    (openable {r_ids[r]})")
    for r in receptacles:
        for o in task.contents.get(r, ()):
            kind, _ = _split(o)
            if kind not in CAN_CONTAIN[_split(r)[0]]:
                raise ValueError(f"{task.id}: a {kind} cannot be in a {_split(r)[0]}")
            init.append(f"    (objectType {o_ids[o]} {OBJECT_TYPES[kind]}Type)")
            init.append(f"    (inReceptacle {o_ids[o]} {r_ids[r]})")
            init.append(f"    (objectAtLocation {o_ids[o]} {location[r]})")
            facts = [
                ("pickupable", kind not in TOGGLEABLE),
                ("toggleable", kind in TOGGLEABLE),
                ("cleanable", kind in CLEANABLE),
                ("heatable", kind in HEATABLE),
                ("coolable", kind in COOLABLE),
            ]
            init.extend(f"    ({fact} {o_ids[o]})" for fact, holds in facts if holds)
    for rk in r_kinds:
        for ok in o_kinds:
            if ok in CAN_CONTAIN[rk]:
                init.append(f"    (canContain {RECEPTACLE_TYPES[rk]}Type {OBJECT_TYPES[ok]}Type)")

    return "\n".join(
        [
            HEADER,
            f"; {task.id}: {task.goal} ({task.type})",
            f"(define (problem {task.id.replace('-', '_')})",
            "  (:domain alfred)",
            "  (:objects",
            *declared,
            "  )",
            "  (:init",
            *init,
            "  )",
            "  " + _goal(task),
            ")",
            "",
        ]
    )
