"""The bundled model, under `compact`, decides to talk to someone it has not talked with.

With three fixed examples ending in "continue", the 270M model copied "continue" every
time and nobody in the town ever talked; compact's example is built from the situation.
"""

from datetime import datetime

import pytest

from reverie.engine.config import AgentConfig
from reverie.engine.converse import Speaker, decide_reaction
from reverie.engine.memory import MemoryStream
from reverie.engine.persona import Identity

NOW = datetime(2023, 2, 13, 10, 0)
ISABELLA = Identity(name="Isabella Rodriguez", age=34, innate="warm, talkative", learned="Isabella runs Hobbs Cafe.",
                    currently="planning a Valentine's Day party at Hobbs Cafe", lifestyle="bed at 11pm",
                    living_area="the Ville:Hobbs Cafe:cafe")  # fmt: skip
MARIA = Identity(name="Maria Lopez", age=21, innate="curious, shy", learned="Maria studies physics.",
                 currently="studying for a midterm", lifestyle="bed at 12am",
                 living_area="the Ville:Oak Hill College Dorm:Maria Lopez's room")  # fmt: skip


@pytest.mark.model
async def test_the_bundled_model_talks_to_someone_it_has_not_talked_with():
    from llm.factory import build_gateway

    gw = build_gateway("llama_cpp:bundled", timeout=120)
    try:
        decisions = []
        for me, other, doing, theirs in [
            (ISABELLA, MARIA, "serving coffee at the counter", "drinking a chai latte"),
            (MARIA, ISABELLA, "reading at the corner table", "wiping the counter"),
        ]:
            me_, them = Speaker(me, MemoryStream(), doing), Speaker(other, MemoryStream(), theirs)
            decisions.append(await decide_reaction(gw, me_, them, NOW, config=AgentConfig.compact()))
        fallbacks = sum(t.fallbacks for t in gw.accounting.rows().values())
    finally:
        gw.close()
    assert fallbacks == 0  # the model's own answers
    assert decisions == ["talk", "talk"]
