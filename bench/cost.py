"""Smallville cost and end-to-end time under an agent-config preset.

Forks the 3-agent base under `--preset` (compact or paper; default: the model's), loads
its history, and runs `--hours` game hours (360 steps each) from `--start` (default the
base's 07:00) on LLM_MODEL (default: the bundled model, in process), on a fresh SQLite
database in a temp folder, with the response cache off (`LLM_CACHE=off`, so every call
reaches the model and is counted; `--cache auto` counts hits as 0 tokens, as
`llm_stats` does). Reports the wall time of each game hour and the model calls and
tokens (prompt + completion, repair attempts included) per agent per game hour, by
purpose, split into the once-a-day planning calls (identity revision, wake-up, daily
plan, schedule: amortised over 24 hours for the experiment's estimate) and the rest.
The fork and the history load (relationships, whispers) are setup and not counted.
Embedding calls are listed apart: they are another model, and cost almost nothing.
The original Generative Agents averaged ~21k tokens per agent per game hour.

    python bench/cost.py --preset compact [--hours 2] [--start 07:00] [--model llama_cpp:bundled]
    python bench/cost.py --preset paper --model rules --base n25 --hours 4 --start 13:00

`--model rules` runs the rule-following scripted model of the whole-chain test instead:
it plans plausible days and talks about the news it reads, so a 25-agent town has its
chats in minutes; its token counts are characters / 4 (within 5% of the bundled
model's tokenizer on these prompts) and its answers are short: the prompt tokens are
what it measures. Writes bench/results/cost_<preset>[_<HHMM>][_rules][_n25].json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

BASES = {
    "n3": ("base_the_ville_isabella_maria_klaus", "the_ville/agent_history_init_n3.csv"),
    "n25": ("base_the_ville_n25", "the_ville/agent_history_init_n25.csv"),
}
# Planning calls made once per agent per game day (at its first step after midnight, or
# the run's first step): the experiment's estimate spreads them over 24 hours.
DAY_PURPOSES = ("plan.identity", "plan.wake_up", "plan.daily", "plan.hourly")
ORIGINAL_TOKENS_PER_AGENT_HOUR = 21_000


def is_embedding(purpose: str) -> bool:
    return purpose.endswith(".embed") or purpose in ("fork.relationships", "world.names")


def snapshot(gw: Any, run: str) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    for (_, purpose), t in gw.accounting.rows(run=run).items():
        row = rows.setdefault(
            purpose,
            dict.fromkeys(("calls", "prompt", "completion", "seconds", "repairs", "fallbacks", "cache_hits"), 0.0),
        )
        row["calls"] += t.calls
        row["prompt"] += t.prompt_tokens
        row["completion"] += t.completion_tokens
        row["seconds"] += t.seconds
        row["repairs"] += t.repairs
        row["fallbacks"] += t.fallbacks
        row["cache_hits"] += t.cache_hits
    return rows


def delta(after: dict[str, dict[str, float]], before: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    out = {}
    for purpose, row in after.items():
        prior = before.get(purpose, {})
        diff = {k: v - prior.get(k, 0.0) for k, v in row.items()}
        if diff["calls"]:
            out[purpose] = diff
    return out


def per_agent_hour(rows: dict[str, dict[str, float]], agent_hours: float) -> dict[str, dict[str, float]]:
    return {
        purpose: {
            "calls": row["calls"] / agent_hours,
            "prompt_tokens": row["prompt"] / agent_hours,
            "completion_tokens": row["completion"] / agent_hours,
            "tokens": (row["prompt"] + row["completion"]) / agent_hours,
            "repairs": row["repairs"],
            "fallbacks": row["fallbacks"],
            "model_seconds": row["seconds"],
        }
        for purpose, row in rows.items()
    }


def totals(rows: dict[str, dict[str, float]], keep: Any) -> dict[str, float]:
    chosen = [r for p, r in rows.items() if keep(p)]
    return {
        "calls": sum(r["calls"] for r in chosen),
        "prompt_tokens": sum(r["prompt_tokens"] for r in chosen),
        "completion_tokens": sum(r["completion_tokens"] for r in chosen),
        "tokens": sum(r["tokens"] for r in chosen),
    }


CHAT_LINE = 'end" is true when the conversation should end'
TOPICS = ("the cafe's new pastries", "the exam on Thursday", "the weather in the park", "the town library",
          "the mayoral election", "a book they both read", "the market's prices", "the art show next week")  # fmt: skip


def chatty(backend: Any) -> Any:
    """The rule model, but every chat line goes on (a varied sentence of ~30 tokens, never
    "end"): conversations run to the preset's `max_lines`, the longest chat it allows."""
    respond = backend.respond
    said = iter(range(10**9))

    def keep_talking(prompt: str, schema: dict[str, Any]) -> str:
        if CHAT_LINE not in prompt:
            return str(respond(prompt, schema))
        n = next(said)
        topic = TOPICS[n % len(TOPICS)]
        line = f"Line {n}: I have been thinking about {topic}, and I wonder what you make of it these days."
        return json.dumps({"line": line, "end": False})

    backend.respond = keep_talking
    return backend


async def measure_chats(gw: Any, session: Any, pairs: int, config: Any) -> dict[str, Any]:
    """Run `pairs` conversations between neighbouring agents of the loaded town (their
    memories as the run left them) and return the calls and tokens per chat by purpose."""
    from reverie.engine.converse import Speaker, converse, remember_conversation

    world = session.world
    agents = list(world.agents.values())
    before = snapshot(gw, "")
    lines = 0
    for i in range(pairs):
        a, b = agents[i % len(agents)], agents[(i + 1) % len(agents)]
        first, second = Speaker(a.identity, a.stream, a.doing()), Speaker(b.identity, b.stream, b.doing())
        convo = await converse(gw, first, second, world.now, place="Hobbs Cafe", config=config)
        await remember_conversation(gw, convo, first, second, world.now, config=config)
        lines += len(convo.lines)
    rows = per_agent_hour(delta(snapshot(gw, ""), before), pairs)
    model = totals(rows, lambda p: not is_embedding(p))
    return {"chats": pairs, "lines_per_chat": lines / pairs, "per_chat": model, "by_purpose_per_chat": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=2)
    parser.add_argument("--model", default=os.environ.get("LLM_MODEL", "llama_cpp:bundled"))
    parser.add_argument("--preset", choices=("compact", "paper"), default=None)
    parser.add_argument("--start", default=None, help="game clock time to start at, HH:MM (default: the base's)")
    parser.add_argument("--cache", choices=("off", "auto"), default="off")
    parser.add_argument("--db", default=None, help="keep the run's SQLite database (traces with prompts) at this path")
    parser.add_argument("--base", choices=sorted(BASES), default="n3", help="the 3-agent base (default) or the 25")
    parser.add_argument("--chats", type=int, default=0, help="then run this many full-length chats and price one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "cost.sqlite3"
        db.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db.resolve()}"
        if args.model != "rules":
            os.environ["LLM_MODEL"] = args.model
        os.environ["LLM_CACHE"] = args.cache
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from _common import write_result
        from tqdm import tqdm

        from environment.gateway import get_gateway, reset_gateway
        from reverie import services
        from reverie.engine.config import default_preset_for_model

        preset = args.preset or default_preset_for_model(args.model)
        if args.model == "rules":
            # The rule-following scripted model of the whole-chain test (tests/reverie/rule_model.py):
            # plausible days and chats about the news it reads in the prompts, instantly; its
            # token counts are characters / 4 (within 5% of the bundled tokenizer on these prompts).
            sys.path.insert(0, str(ROOT))
            from tests.reverie.rule_model import rule_gateway

            gw = rule_gateway()
            gw.cache_policy = args.cache
            if args.chats:
                chatty(gw.backend)
        else:
            gw = get_gateway()
        base, history = BASES[args.base]
        try:
            sim = services.fork(base, f"bench-cost-{preset}", preset=preset, gateway=gw)
            if args.start:
                hour, _, minute = args.start.partition(":")
                start = sim.current_time.replace(hour=int(hour), minute=int(minute or 0), second=0)
                sim.start_time = sim.current_time = start
                sim.save(update_fields=["start_time", "current_time"])
            services.load_history(sim, history, gateway=gw)
            sim.refresh_from_db()
            agents = sim.personas.count()
            started_at: datetime = sim.current_time
            before = snapshot(gw, sim.run_label)
            hours: list[float] = []
            hourly: list[dict[str, dict[str, float]]] = []
            bar = tqdm(total=360 * args.hours, desc=f"steps ({preset})", unit="step")
            for _ in range(args.hours):
                mark = snapshot(gw, sim.run_label)
                start_s = time.perf_counter()
                services.run_steps(sim, 360, gateway=gw, progress=lambda done, total: bar.update(1))
                hours.append(time.perf_counter() - start_s)
                hourly.append(delta(snapshot(gw, sim.run_label), mark))
                sim.refresh_from_db()
            bar.close()
            game_hours = args.hours
            rows = per_agent_hour(delta(snapshot(gw, sim.run_label), before), agents * game_hours)
            model = totals(rows, lambda p: not is_embedding(p))
            day = totals(rows, lambda p: p in DAY_PURPOSES)
            embed = totals(rows, is_embedding)
            # Once-a-day planning spread over the day instead of this run's hours.
            rest = model["tokens"] - day["tokens"]
            steady = rest + day["tokens"] * game_hours / 24
            steady_calls = model["calls"] - day["calls"] + day["calls"] * game_hours / 24

            print(f"model {args.model}; preset {preset}; cache {args.cache}; {game_hours} game hours from "
                  f"{started_at:%H:%M}, {agents} agents; wall per game hour: "
                  f"{', '.join(f'{h / 60:.1f} min' for h in hours)}")  # fmt: skip
            print(f"{'purpose (per agent per game hour)':34} {'calls':>6} {'prompt':>7} {'compl':>6} {'tokens':>7} "
                  f"{'repairs':>7} {'fallbk':>6}")  # fmt: skip
            for purpose, row in sorted(rows.items(), key=lambda kv: (is_embedding(kv[0]), -kv[1]["tokens"])):
                print(f"{purpose:34} {row['calls']:6.1f} {row['prompt_tokens']:7.0f} {row['completion_tokens']:6.0f} "
                      f"{row['tokens']:7.0f} {row['repairs']:7.0f} {row['fallbacks']:6.0f}")  # fmt: skip
            print(f"{'TOTAL (chat model)':34} {model['calls']:6.1f} {model['prompt_tokens']:7.0f} "
                  f"{model['completion_tokens']:6.0f} {model['tokens']:7.0f}")  # fmt: skip
            print(f"{'  of which once-a-day planning':34} {day['calls']:6.1f} {'':7} {'':6} {day['tokens']:7.0f}")
            print(f"{'embeddings':34} {embed['calls']:6.1f} {'':7} {'':6} {embed['tokens']:7.0f}")
            for i, hour_rows in enumerate(hourly):
                used = sum(r["prompt"] + r["completion"] for p, r in hour_rows.items() if not is_embedding(p))
                planning = sum(r["prompt"] + r["completion"] for p, r in hour_rows.items() if p in DAY_PURPOSES)
                print(f"hour {i + 1}: {used / agents:.0f} tokens per agent ({planning / agents:.0f} of them "
                      f"once-a-day planning)")  # fmt: skip
            print(f"tokens per agent per game hour: {model['tokens']:.0f} (original ~21,000); "
                  f"with the once-a-day planning spread over 24 h: {steady:.0f}")  # fmt: skip
            name = "_".join(
                ["cost", preset]
                + ([args.start.replace(":", "")] if args.start else [])
                + (["rules"] if args.model == "rules" else [])
                + ([args.base] if args.base != "n3" else [])
            )
            path = write_result(name, {
                "model": args.model, "preset": preset, "cache": args.cache, "agents": agents, "hours": game_hours,
                "start": f"{started_at:%Y-%m-%dT%H:%M}", "wall_s_per_game_hour": hours,
                "tokens_per_agent_hour": model["tokens"], "calls_per_agent_hour": model["calls"],
                "prompt_tokens_per_agent_hour": model["prompt_tokens"],
                "completion_tokens_per_agent_hour": model["completion_tokens"],
                "day_planning_tokens_per_agent_hour": day["tokens"], "day_planning_calls_per_agent_hour": day["calls"],
                "steady_tokens_per_agent_hour": steady, "steady_calls_per_agent_hour": steady_calls,
                "embedding": embed, "by_purpose": rows,
                "per_hour_tokens_per_agent": [
                    sum(r["prompt"] + r["completion"] for p, r in h.items() if not is_embedding(p)) / agents
                    for h in hourly
                ],
                "per_hour_by_purpose": [per_agent_hour(h, agents) for h in hourly],
                "original_tokens_per_agent_hour": ORIGINAL_TOKENS_PER_AGENT_HOUR,
            })  # fmt: skip
            print(f"written {path}")
            if args.chats:
                import asyncio
                from dataclasses import replace

                from reverie.engine.config import AgentConfig

                chats: dict[str, Any] = {}
                config = AgentConfig.preset_named(preset)
                variants = {"as preset": config}
                if config.conversation.relationship_per_line:
                    variants["relationship once per speaker"] = replace(
                        config, conversation=replace(config.conversation, relationship_per_line=False)
                    )
                for label, variant in variants.items():
                    session = services.load_session(sim)
                    found = asyncio.run(measure_chats(gw, session, args.chats, variant))
                    chats[label] = found
                    per = found["per_chat"]
                    print(f"chat ({label}): {found['lines_per_chat']:.1f} lines, {per['calls']:.1f} calls, "
                          f"{per['prompt_tokens']:.0f} prompt + {per['completion_tokens']:.0f} completion tokens "
                          f"per chat (both speakers)")  # fmt: skip
                    for purpose, row in sorted(found["by_purpose_per_chat"].items(), key=lambda kv: -kv[1]["tokens"]):
                        if not is_embedding(purpose):
                            print(f"    {purpose:30} {row['calls']:5.1f} calls {row['tokens']:8.0f} tokens")
                data = json.loads(path.read_text())
                data["chats"] = chats
                path.write_text(json.dumps(data, indent=2))
        finally:
            # Free the model (and flush its traces) while the temporary database still exists;
            # left to interpreter shutdown, llama.cpp's cleanup prints a traceback.
            reset_gateway()


if __name__ == "__main__":
    main()
