"""Every setting of the agent architecture, as one typed, validated config with presets.

Why one object: the paper's results depend on a few dozen numbers (how many memories
a conversation line sees, when reflection fires, how long a plan may be), and a run
can only be explained and repeated if those numbers travel with it. `World` holds an
`AgentConfig`, every cognitive module reads its settings from it, and each simulation
stores `config.to_dict()` in its meta.

Presets:

    paper     the paper's values and, where the paper is silent, the original code's
              (docs/paper_fidelity.md lists each choice): broad retrieval (50 memories
              for a relationship, 15 per focal point), the original base's perception
              (8/8/8 is stored per persona in the base data), sampling temperatures
              above 0 where the original sampled, generous length caps, and no
              heuristic ever replaces a model decision.
    compact   what the bundled 270M model needs: tight caps, temperature 0, few
              memories per prompt, and the heuristics that keep a tiny model sensible
              (a keyword place guess as the example answer, a forced waking span, a
              4-11 wake-up range, examples built from the persona's own data).

`AgentConfig.preset(name)` builds one; `with_ablation(name)` switches parts of the
architecture off for the believability evaluation (the paper's ablations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from reverie.engine.prompting import LANGUAGES
from reverie.engine.retrieve import RetrievalConfig

__all__ = [
    "ABLATIONS",
    "PRESETS",
    "AgentConfig",
    "CallSettings",
    "ConfigError",
    "ConversationConfig",
    "InterviewConfig",
    "MemoryAccess",
    "PerceptionConfig",
    "PlanningConfig",
    "ReflectionConfig",
    "default_preset_for_model",
]

PresetName = Literal["paper", "compact"]
PRESETS: tuple[PresetName, ...] = ("paper", "compact")
# The paper's believability ablations (section 6): each removes parts of the architecture.
ABLATIONS: tuple[str, ...] = ("full", "no_reflection", "no_reflection_no_planning", "no_memory")


class ConfigError(ValueError):
    """A config value out of range, or an unknown preset/ablation; the message is one line."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True, slots=True)
class CallSettings:
    """How one purpose calls the model: the token budget, the sampling temperature, and
    the character cap of its main free-text field (None: the schema's own)."""

    max_tokens: int
    temperature: float = 0.0
    max_chars: int | None = None

    def validate(self, purpose: str) -> None:
        _check(self.max_tokens >= 1, f"calls[{purpose!r}].max_tokens must be >= 1, got {self.max_tokens}")
        _check(
            math.isfinite(self.temperature) and 0.0 <= self.temperature <= 2.0,
            f"calls[{purpose!r}].temperature must be in [0, 2], got {self.temperature}",
        )
        _check(
            self.max_chars is None or self.max_chars >= 2,
            f"calls[{purpose!r}].max_chars must be >= 2 or null, got {self.max_chars}",
        )


@dataclass(frozen=True, slots=True)
class PerceptionConfig:
    """Defaults for personas whose base data does not set their own (scratch wins)."""

    vision_radius: int = 4
    attention_bandwidth: int = 3
    retention: int = 5

    def validate(self) -> None:
        for name in ("vision_radius", "attention_bandwidth", "retention"):
            _check(getattr(self, name) >= 1, f"perception.{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class ReflectionConfig:
    enabled: bool = True
    threshold: int = 150  # accumulated poignancy that triggers a reflection
    recent_for_questions: int = 100  # memories the questions are drawn from
    questions: int = 3
    retrieve_per_question: int = 15
    max_insights: int = 5
    count_chats: bool = True  # chats add their poignancy to the counter, as events do
    # importance ratings (events, chats, insights) see a one-line identity: name, age,
    # traits and `currently` (compact); False: the whole identity, as the original
    brief_identity: bool = True

    def validate(self) -> None:
        _check(self.threshold >= 1, f"reflection.threshold must be >= 1, got {self.threshold}")
        for name in ("recent_for_questions", "questions", "retrieve_per_question", "max_insights"):
            _check(getattr(self, name) >= 1, f"reflection.{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class PlanningConfig:
    enabled: bool = True  # off: no daily plan; the agent follows its standing routine only
    daily_revision: bool = True  # revise `currently` and the daily requirement each morning
    revision_memories: int = 5  # memories retrieved per focal point for the day's planning (paper: 30)
    # compact-only heuristics (None/False in `paper`):
    wake_up_range: tuple[int, int] = (4, 11)  # the hours a wake-up answer may name
    # the wake-up hour is the lifestyle's ("wakes up around 6am") or yesterday's, with no
    # model call, when the lifestyle states one (the tiny model only copied its example)
    lifestyle_wake_up: bool = True
    waking_hours: int | None = 16  # force the schedule to fill this many waking hours
    guess_place: bool = True  # a keyword place guess shown as the example answer
    personal_examples: bool = True  # few-shot examples built from the persona's own data
    # the places a location prompt lists: current, home, workplace and the best keyword
    # fits, at most this many (None: every place the persona knows)
    place_options: int | None = 8
    # a block's decomposition sees the one-line identity (reflect.brief_identity) instead
    # of the whole one (False: the whole identity, as the original's task decomposition)
    brief_identity: bool = True

    def validate(self) -> None:
        low, high = self.wake_up_range
        _check(0 <= low <= high <= 23, f"planning.wake_up_range must be 0 <= low <= high <= 23, got {low}-{high}")
        _check(
            self.waking_hours is None or 1 <= self.waking_hours <= 24,
            f"planning.waking_hours must be 1-24 or null, got {self.waking_hours}",
        )
        _check(self.revision_memories >= 1, f"planning.revision_memories must be >= 1, got {self.revision_memories}")
        _check(
            self.place_options is None or self.place_options >= 2,
            f"planning.place_options must be >= 2 or null, got {self.place_options}",
        )


@dataclass(frozen=True, slots=True)
class ConversationConfig:
    max_lines: int = 8  # lines in all, both speakers together
    relationship_memories: int = 6  # retrieved for the one-sentence relationship summary
    memories_per_focal: int = 6  # retrieved per focal point for each line
    react_memories: int = 6  # retrieved when deciding whether to talk
    chat_cooldown_steps: int = 60  # the per-pair buffer: steps before the same two talk again
    react_cooldown_steps: int = 30  # after deciding not to talk, steps before reconsidering
    quiet_hours: tuple[int, int] = (23, 6)  # no new chats from 23:00 until 06:00
    # True: each speaker re-sums the relationship before every line (the original);
    # False: once per speaker per conversation (saves calls on a small model).
    relationship_per_line: bool = False
    # True: the relationship summary is a focal point for each line's memories (the
    # original), an embedding that waits for the summary; False (compact): the line
    # gets the memories the summary was written from, and its other focal points are
    # embedded while the summary is asked (one latency less on each first line).
    relationship_focal: bool = False
    chars_per_minute: int = 240  # chat length in game minutes = ceil(characters / this) (original: /8/30)
    # compact only: the talk decision's example is built from the situation ("talk" unless
    # they talked within `recent_chat_minutes`), because a tiny model copies the example;
    # False (paper): three fixed, balanced examples
    situated_example: bool = True
    recent_chat_minutes: int = 60

    def validate(self) -> None:
        for name in ("max_lines", "relationship_memories", "memories_per_focal", "react_memories", "chars_per_minute"):
            _check(getattr(self, name) >= 1, f"conversation.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("chat_cooldown_steps", "react_cooldown_steps"):
            _check(getattr(self, name) >= 0, f"conversation.{name} must be >= 0, got {getattr(self, name)}")
        start, end = self.quiet_hours
        _check(0 <= start <= 24 and 0 <= end <= 24, f"conversation.quiet_hours must be hours 0-24, got {start}-{end}")


@dataclass(frozen=True, slots=True)
class InterviewConfig:
    memories: int = 12  # retrieved for an answer
    summarise: bool = False  # summarise the retrieved memories before answering
    history_turns: int | None = 3  # earlier (question, answer) turns shown; None: all of them
    # compact: the answer's example is built from the first memory recalled (a tiny model
    # copies it); False (paper): one fixed example, and a copy of it is refused
    situated_example: bool = True

    def validate(self) -> None:
        _check(self.memories >= 1, f"interview.memories must be >= 1, got {self.memories}")
        _check(
            self.history_turns is None or self.history_turns >= 0,
            f"interview.history_turns must be >= 0 or null, got {self.history_turns}",
        )


@dataclass(frozen=True, slots=True)
class MemoryAccess:
    """Which parts of the memory stream exist and can be recalled (the ablation switches).

    recall        anything is recalled at all; off (the paper's "no memory" condition),
                  the agent answers from its identity alone: no chats, no planted or
                  starting memories either
    observations  perceived events are stored and retrieved
    reflections   reflection thoughts are retrieved (and made, with reflection.enabled)
    plans         planning thoughts (daily plans, chat memos) are retrieved
    """

    observations: bool = True
    reflections: bool = True
    plans: bool = True
    recall: bool = True


# --- per-purpose call settings -------------------------------------------------------------

_COMPACT_CALLS: dict[str, CallSettings] = {
    "plan.identity": CallSettings(160, max_chars=200),
    "plan.wake_up": CallSettings(12),
    "plan.daily": CallSettings(160, max_chars=60),
    "plan.hourly": CallSettings(340, max_chars=50),
    "plan.decompose": CallSettings(220, max_chars=50),
    "plan.revise": CallSettings(160, max_chars=50),
    "plan.location": CallSettings(40),
    "plan.object": CallSettings(30),
    "plan.details": CallSettings(30, max_chars=30),
    "perceive.poignancy": CallSettings(8),
    "reflect.questions": CallSettings(120, max_chars=100),
    "reflect.insights": CallSettings(200, max_chars=120),
    "reflect.poignancy": CallSettings(8),
    "react.decide": CallSettings(56, max_chars=80),
    "converse.relationship": CallSettings(60, max_chars=160),
    "converse.line": CallSettings(80, max_chars=160),
    "converse.summary": CallSettings(50, max_chars=120),
    "converse.memo": CallSettings(60, max_chars=140),
    "converse.poignancy": CallSettings(8),
    "interview.summary": CallSettings(120, max_chars=300),
    "interview.answer": CallSettings(160, max_chars=400),
    "whisper.poignancy": CallSettings(8),
}

# Generous caps, and sampling where the original sampled (docs/paper_fidelity.md): the
# original sent temperature 0.8 for the wake-up hour, 1.0 for the daily plan, 0.5 for the
# hourly schedule and insights, 0 for decomposition, places and the talk decision, and
# the chat API's default (1.0) for free text (lines, relationship, summaries, identity).
# Scores and choices stay at 0 here: a sampled importance adds noise, not believability.
_PAPER_CALLS: dict[str, CallSettings] = {
    "plan.identity": CallSettings(500, 1.0, 800),
    "plan.wake_up": CallSettings(20, 0.8),
    "plan.daily": CallSettings(500, 1.0, 160),
    "plan.hourly": CallSettings(900, 0.5, 120),
    "plan.decompose": CallSettings(1000, 0.0, 120),
    "plan.revise": CallSettings(1000, 0.0, 120),
    "plan.location": CallSettings(60),
    "plan.object": CallSettings(60),
    "plan.details": CallSettings(60, 0.0, 60),
    "perceive.poignancy": CallSettings(16),
    "reflect.questions": CallSettings(300, 1.0, 200),
    "reflect.insights": CallSettings(600, 0.5, 300),
    "reflect.poignancy": CallSettings(16),
    "react.decide": CallSettings(200, 0.0, 300),
    "converse.relationship": CallSettings(200, 1.0, 400),
    "converse.line": CallSettings(300, 1.0, 500),
    "converse.summary": CallSettings(120, 1.0, 300),
    "converse.memo": CallSettings(200, 1.0, 400),
    "converse.poignancy": CallSettings(16),
    "interview.summary": CallSettings(500, 1.0, 1200),
    "interview.answer": CallSettings(500, 1.0, 1500),
    "whisper.poignancy": CallSettings(16),
}

# Poignancy calls rate several memories at once: their max_tokens grows by this per memory.
TOKENS_PER_RATING = 4


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """All settings of the agent architecture (see the module docstring)."""

    preset: str = "compact"
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    reflection: ReflectionConfig = field(default_factory=ReflectionConfig)
    planning: PlanningConfig = field(default_factory=PlanningConfig)
    conversation: ConversationConfig = field(default_factory=ConversationConfig)
    interview: InterviewConfig = field(default_factory=InterviewConfig)
    memory: MemoryAccess = field(default_factory=MemoryAccess)
    ablation: str = "full"
    calls: Mapping[str, CallSettings] = field(default_factory=lambda: dict(_COMPACT_CALLS))
    # the language agents think and speak in: which prompt files they get
    # (reverie/engine/prompts/ for "en", prompts/zh/ for "zh"); see prompting.py
    language: str = "en"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        _check(self.ablation in ABLATIONS, f"unknown ablation {self.ablation!r}; choose from {', '.join(ABLATIONS)}")
        _check(self.language in LANGUAGES, f"unknown language {self.language!r}; choose from {', '.join(LANGUAGES)}")
        self.perception.validate()
        self.reflection.validate()
        self.planning.validate()
        self.conversation.validate()
        self.interview.validate()
        for purpose, settings in self.calls.items():
            settings.validate(purpose)

    # -- per purpose ------------------------------------------------------------------

    def call(self, purpose: str) -> CallSettings:
        """Settings for `purpose`; an unknown purpose is a bug (KeyError names it)."""
        try:
            return self.calls[purpose]
        except KeyError:
            raise KeyError(f"no call settings for purpose {purpose!r}; add it to reverie/engine/config.py") from None

    def call_kwargs(self, purpose: str, *, ratings: int = 0) -> dict[str, Any]:
        """The gateway keyword arguments for `purpose` (purpose, max_tokens, temperature).

        `ratings` > 0 widens the budget of a batched poignancy call by TOKENS_PER_RATING each.
        """
        settings = self.call(purpose)
        return {
            "purpose": purpose,
            "max_tokens": settings.max_tokens + TOKENS_PER_RATING * ratings,
            "temperature": settings.temperature,
        }

    def chars(self, purpose: str, default: int) -> int:
        """The character cap of `purpose`'s main free-text field (`default` when unset)."""
        cap = self.call(purpose).max_chars
        return default if cap is None else cap

    # -- presets and ablations ----------------------------------------------------------

    @classmethod
    def compact(cls) -> AgentConfig:
        return cls()

    @classmethod
    def paper(cls) -> AgentConfig:
        return cls(
            preset="paper",
            retrieval=RetrievalConfig.paper(),
            perception=PerceptionConfig(vision_radius=8, attention_bandwidth=8, retention=8),
            reflection=ReflectionConfig(retrieve_per_question=30, brief_identity=False),
            planning=PlanningConfig(
                revision_memories=30,
                wake_up_range=(0, 23),
                lifestyle_wake_up=False,
                waking_hours=None,
                guess_place=False,
                personal_examples=False,
                place_options=None,
                brief_identity=False,
            ),
            conversation=ConversationConfig(
                max_lines=16,
                relationship_memories=50,
                memories_per_focal=15,
                react_memories=30,
                chat_cooldown_steps=800,
                quiet_hours=(23, 24),
                relationship_per_line=True,
                relationship_focal=True,
                situated_example=False,
            ),
            interview=InterviewConfig(memories=50, summarise=True, history_turns=None, situated_example=False),
            calls=dict(_PAPER_CALLS),
        )

    @classmethod
    def preset_named(cls, name: str) -> AgentConfig:
        if name == "paper":
            return cls.paper()
        if name == "compact":
            return cls.compact()
        raise ConfigError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")

    def with_ablation(self, name: str) -> AgentConfig:
        """This config with parts of the architecture switched off (the paper's ablations):

        full                        nothing off
        no_reflection               no reflections made or recalled
        no_reflection_no_planning   ... and no daily plans made or recalled
        no_memory                   no observations, reflections or plans: the agent
                                    has only its identity (and what it hears in a chat)
        """
        if name not in ABLATIONS:
            raise ConfigError(f"unknown ablation {name!r}; choose from {', '.join(ABLATIONS)}")
        reflect_on = name == "full"
        plan_on = name in ("full", "no_reflection")
        observe_on = name != "no_memory"
        return replace(
            self,
            ablation=name,
            reflection=replace(self.reflection, enabled=reflect_on),
            planning=replace(self.planning, enabled=plan_on),
            memory=MemoryAccess(observations=observe_on, reflections=reflect_on, plans=plan_on, recall=observe_on),
        )

    # -- storage --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["calls"] = {purpose: asdict(settings) for purpose, settings in self.calls.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentConfig:
        """Rebuild a stored config: the named preset, overridden by every stored value.

        Keys this version does not know are refused (a typo must not be ignored);
        sections and purposes missing from `data` keep the preset's values, so a run
        stored by an older version still loads.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"an agent config is a mapping, got {type(data).__name__}")
        base = cls.preset_named(str(data.get("preset", "compact")))
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        _check(not unknown, f"unknown agent config keys: {', '.join(sorted(unknown))}")
        changes: dict[str, Any] = {}
        sections: dict[str, type] = {
            "retrieval": RetrievalConfig,
            "perception": PerceptionConfig,
            "reflection": ReflectionConfig,
            "planning": PlanningConfig,
            "conversation": ConversationConfig,
            "interview": InterviewConfig,
            "memory": MemoryAccess,
        }
        for name, kind in sections.items():
            if name not in data:
                continue
            values = data[name]
            _check(isinstance(values, Mapping), f"agent config {name!r} must be a mapping")
            allowed = {f.name for f in fields(kind)}
            bad = set(values) - allowed
            _check(not bad, f"unknown keys in agent config {name!r}: {', '.join(sorted(bad))}")
            current = getattr(base, name)
            cleaned = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
            try:
                changes[name] = replace(current, **cleaned)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"agent config {name!r}: {exc}") from None
        if "calls" in data:
            calls = dict(base.calls)
            for purpose, values in dict(data["calls"]).items():
                try:
                    calls[str(purpose)] = CallSettings(**values)
                except TypeError as exc:
                    raise ConfigError(f"agent config calls[{purpose!r}]: {exc}") from None
            changes["calls"] = calls
        if "ablation" in data:
            changes["ablation"] = str(data["ablation"])
        if "language" in data:
            changes["language"] = str(data["language"])
        return replace(base, **changes)


def default_preset_for_model(model_spec: str) -> PresetName:
    """`compact` for the bundled tiny model (and the offline default), `paper` otherwise."""
    spec = (model_spec or "").strip().lower()
    if not spec or spec.endswith(":bundled") or spec == "bundled" or "270m" in spec:
        return "compact"
    return "paper"
