"""RecurrentGPT as a pure engine: no Django, no vector store; a gateway in, new state out.

    from writer.engine import WriterConfig, init, step, choose_plan
    config = WriterConfig.compact(language="zh")
    state = init(gw, novel_type="science fiction", topic="Aliens", config=config).state
    result = step(gw, state, state.plans[0], config=config, on_piece=print)
    result.state, result.retrieved, result.lore, result.memory_added, result.memory_dropped

See recurrence.py for the algorithm, config.py for the settings and how text is
measured, state.py for the state, lorebook.py, memory.py, edits.py, simulator.py.
"""

from writer.engine.config import LANGUAGES, Temperatures, WriterConfig, approx_tokens, text_length
from writer.engine.edits import edit_long_term, edit_memory, edit_paragraph, edit_plans, remove_lore, upsert_lore
from writer.engine.lorebook import LoreHit, match_lore
from writer.engine.memory import EntryIndex, Retrieved, bound_memory, memory_lines, retrieve, update_memory
from writer.engine.recurrence import Cancelled, InitResult, StepResult, init, paragraph_prompt, step
from writer.engine.simulator import Choice, choose_plan, expand_paragraph, refine_plan, simulate_step
from writer.engine.state import LongTermEntry, LoreEntry, StoryState, new_id

__all__ = [
    "LANGUAGES",
    "Cancelled",
    "Choice",
    "EntryIndex",
    "InitResult",
    "LongTermEntry",
    "LoreEntry",
    "LoreHit",
    "Retrieved",
    "StepResult",
    "StoryState",
    "Temperatures",
    "WriterConfig",
    "approx_tokens",
    "bound_memory",
    "choose_plan",
    "edit_long_term",
    "edit_memory",
    "edit_paragraph",
    "edit_plans",
    "expand_paragraph",
    "init",
    "match_lore",
    "memory_lines",
    "new_id",
    "paragraph_prompt",
    "refine_plan",
    "remove_lore",
    "retrieve",
    "simulate_step",
    "step",
    "text_length",
    "update_memory",
    "upsert_lore",
]
