"""The ALFWorld engine: TextWorld's PDDL environment with ALFWorld's domain, grammar and names.

A game is what ALFWorld stores in a `game.tw-pddl` file: a JSON object with the PDDL
domain, the text grammar (with the task sentence written into it), the PDDL problem,
and `solvable` / `walkthrough` (set by whoever made the file). ALFWorld plays one with
`textworld.start(game_file, EnvInfos(won=True, admissible_commands=True, ...),
wrappers=[AlfredDemangler, ...])` (through `textworld.gym`); `open_game` builds the same
thing, `AlfredDemangler(PddlEnv(infos))`, and loads the game's JSON itself so a bad file
gives BadData instead of an open file handle and a traceback.

The domain and grammar come from the installed `alfworld` package
(`alfworld/data/alfred.pddl`, `alfred.twl2`); `game_data` writes the goal into the
grammar exactly as `alfworld.agents.utils.misc.add_task_to_grammar` does (it replaces
"UNKNOWN GOAL").

Why there is a lock: the engine keeps state in module globals. Fast Downward's PDDL
translator (`fast_downward.pddl2sas`, run when a game loads) sets `sys.argv`, swaps
`sys.stdout` while it works and keeps its options in globals; TextWorld's text grammar
derives every observation and command with one shared TatSu parser, which fails when
two threads use it at once. So every call into the engine (load, step, our parse check)
takes `ENGINE_LOCK`. Sessions stay independent (each game has its own state and its own
copy of `libdownward.so`, whose C++ planner also keeps its state in globals) and any
thread may play one; their engine calls simply take turns, which costs little since the
engine is pure Python work under the GIL anyway.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from training.envs.base import BadData

ENGINE_LOCK = threading.Lock()
# Copies of libdownward.so not in use. TextWorld loads a fresh copy for every PddlEnv and
# never unloads it (33 MB each, so a 134-game evaluation would keep hundreds); unloading
# two used copies with dlclose crashes the process at exit. So copies are kept and
# reused: a game borrows one while it is open, and there are as many as the most games
# ever open at once. Guarded by ENGINE_LOCK.
_FREE_LIBS: list[Any] = []
GOAL_PLACEHOLDER = "UNKNOWN GOAL"  # what alfred.twl2's "task" rule says until a goal is written in


def alfworld_data_dir() -> Path:
    """alfworld's bundled data folder, found without importing `alfworld` (whose import
    creates ~/.cache/alfworld and sets ALFWORLD_DATA in os.environ)."""
    spec = importlib.util.find_spec("alfworld")
    if spec is None or not spec.submodule_search_locations:
        raise BadData("the alfworld package is not installed: pip install alfworld==0.4.2 textworld==1.7.0")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@functools.cache
def domain_text() -> str:
    return (alfworld_data_dir() / "alfred.pddl").read_text(encoding="utf-8")


@functools.cache
def grammar_text() -> str:
    return (alfworld_data_dir() / "alfred.twl2").read_text(encoding="utf-8")


def game_data(problem: str, goal: str, *, walkthrough: list[str] | None = None) -> dict[str, Any]:
    """The content of a `game.tw-pddl` file for a PDDL problem and its goal sentence."""
    return {
        "pddl_domain": domain_text(),
        "grammar": grammar_text().replace(GOAL_PLACEHOLDER, goal),
        "pddl_problem": problem,
        "solvable": walkthrough is not None,
        "walkthrough": walkthrough,
    }


@contextlib.contextmanager
def _translator() -> Iterator[None]:
    """Fast Downward's translator reads its options from sys.argv when first imported and
    pddl2sas overwrites sys.argv: give it the argv it wants and put ours back after."""
    saved = sys.argv
    sys.argv = ["translate.py", "domain", "task"]
    try:
        yield
    finally:
        sys.argv = saved


def _reason(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}"[:300] if text else type(e).__name__


def check_problem(domain: str, problem: str, where: str) -> None:
    """Parse `problem` against `domain` as the engine will; BadData(`where`: why) if it does
    not parse, or uses a predicate or an object it never declared (Fast Downward would
    accept those silently and play a game that can never be won)."""
    with ENGINE_LOCK, _translator(), contextlib.redirect_stdout(io.StringIO()):
        try:
            from fast_downward.translate import pddl
            from fast_downward.translate.pddl_parser import lisp_parser, parsing_functions

            task = parsing_functions.parse_task(
                lisp_parser.parse_nested_list(domain.split("\n")),
                lisp_parser.parse_nested_list(problem.split("\n")),
            )
        except (Exception, SystemExit) as e:  # the translator's errors are asserts and sys.exit
            raise BadData(f"{where}: the PDDL problem does not parse ({_reason(e)})") from None
    predicates = {p.name for p in task.predicates} | {"="}
    objects = {o.name for o in task.objects}
    agent_placed = False
    for fact in task.init:
        if not isinstance(fact, pddl.Atom):
            continue
        if fact.predicate not in predicates:
            raise BadData(f"{where}: unknown predicate {fact.predicate!r} in :init")
        for arg in fact.args:
            if arg not in objects:
                raise BadData(f"{where}: {arg!r} is used in :init but not declared in :objects")
        agent_placed = agent_placed or fact.predicate == "atlocation"
    if not agent_placed:
        raise BadData(f"{where}: :init does not say where the agent is (atLocation)")

    def walk(condition: Any, bound: frozenset[str]) -> None:
        if isinstance(condition, (pddl.ExistentialCondition, pddl.UniversalCondition)):
            bound = bound | {p.name for p in condition.parameters}
        if isinstance(condition, pddl.Literal):
            if condition.predicate not in predicates:
                raise BadData(f"{where}: unknown predicate {condition.predicate!r} in :goal")
            for arg in condition.args:
                if arg not in bound and arg not in objects:
                    raise BadData(f"{where}: {arg!r} in :goal is neither a declared object nor a bound variable")
        for part in getattr(condition, "parts", ()):
            walk(part, bound)

    walk(task.goal, frozenset())


_TRANSLATIONS = 64  # games whose translation is kept


@functools.cache
def _remember_translations() -> None:
    """Make `fast_downward.pddl2sas` (the translator TextWorld calls) remember its last
    results. It is a pure function of the domain and problem texts, and loading a game
    runs it four times on the same texts (PddlEnv.load and PddlEnv.reset each build the
    start state, each translating twice); Retroformer then plays every game once per
    trial. Remembering halves the time to open a game and makes a replay's almost free.
    The translated task is only read afterwards, so sharing it between games is safe."""
    import fast_downward

    translate = fast_downward.pddl2sas
    done: OrderedDict[tuple[str, str, bool], Any] = OrderedDict()  # used with ENGINE_LOCK held

    def pddl2sas(domain: str, problem: str, verbose: bool = False, optimize: bool = False) -> Any:
        key = (domain, problem, bool(optimize))
        if key in done:
            done.move_to_end(key)
            return done[key]
        done[key] = result = translate(domain, problem, verbose=verbose, optimize=optimize)
        if len(done) > _TRANSLATIONS:
            done.popitem(last=False)
        return result

    fast_downward.pddl2sas = pddl2sas


@functools.cache
def _pooled_env_class() -> type:
    """TextWorld's PddlEnv, given a library copy from our pool instead of loading a new one."""
    import textworld
    from textworld.envs import PddlEnv

    class PooledPddlEnv(PddlEnv):  # type: ignore[misc]
        def __init__(self, infos: Any, lib: Any) -> None:
            textworld.Environment.__init__(self, infos)
            self.downward_lib = lib

    return PooledPddlEnv


def _borrow_lib() -> Any:
    # Called with ENGINE_LOCK held.
    if _FREE_LIBS:
        return _FREE_LIBS.pop()
    import fast_downward

    return fast_downward.load_lib()


def _load(data: Mapping[str, Any], where: str, **infos: bool) -> tuple[Any, Any, Any]:
    import textworld
    from alfworld.agents.environment.alfred_tw_env import AlfredDemangler

    with ENGINE_LOCK, _translator():
        _remember_translations()
        pddl_env = _pooled_env_class()(textworld.EnvInfos(won=True, admissible_commands=True, **infos), _borrow_lib())
        env = AlfredDemangler(pddl_env, shuffle=False)  # shuffle=False: ALFWorld's evaluation naming
        try:
            env.load(dict(data))
            state = env.reset()
        except (Exception, SystemExit) as e:
            _FREE_LIBS.append(pddl_env.downward_lib)
            raise BadData(f"{where}: the engine cannot load this game ({_reason(e)})") from None
    return env, pddl_env, state


def open_game(data: Mapping[str, Any], where: str) -> tuple[Any, Any, Any]:
    """(wrapped env, its PddlEnv, first game state) for one game; BadData(`where`: why) if
    the engine cannot load it. Give the PddlEnv to `close_game` when done."""
    return _load(data, where)


def step_game(env: Any, command: str) -> Any:
    """Play one command; the new game state."""
    with ENGINE_LOCK:
        state, _score, _done = env.step(command)
    return state


def close_game(pddl_env: Any) -> None:
    """Free the game's planner state and put its library copy back in the pool; safe twice."""
    lib = getattr(pddl_env, "downward_lib", None)
    if lib is None:
        return
    pddl_env.downward_lib = None
    lib.cleanup()
    with ENGINE_LOCK:
        _FREE_LIBS.append(lib)


def plan(data: Mapping[str, Any], where: str) -> list[str] | None:
    """The engine's own planner's solution for a game (Fast Downward search from the start
    state), as commands; None when it finds none. For the build script and tests."""
    _env, pddl_env, state = _load(data, where, policy_commands=True)
    try:
        commands = list(state["policy_commands"] or [])
    finally:
        close_game(pddl_env)
    return commands or None
