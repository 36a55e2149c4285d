"""The Chinese base: it loads, a zh fork thinks in Chinese prompts, keywords work on Chinese."""

import json
import re

import pytest
import yaml

from reverie import services
from reverie.base_check import check_base
from reverie.engine.memory import MemoryStream, cjk_keywords, has_cjk, keyword_set, normalise_keyword
from reverie.engine.ports import InMemoryVectorIndex
from reverie.engine.prompting import PROMPTS
from reverie.engine.retrieve import retrieve_for_perception
from reverie.models import MemoryNode, Simulation
from tests.reverie.engine.fakes import routed_gateway

ZH = "base_the_ville_zh_3"
EN = "base_the_ville_isabella_maria_klaus"
_CJK = re.compile(r"[\u4e00-\u9fff]")
# The first line of every English prompt that starts with instructions, and other English
# instruction phrases: none may reach the model in a Chinese run.
_ENGLISH = ("remembers", "Today is", "Which hour", "Where?", "Which one does", "Pick an emoji", "rate how poignant",
            "Should ", "next line", "Name: ", "Currently: ")  # fmt: skip


def _options(prompt, marker, default):
    if marker not in prompt:
        return default
    listed = prompt.split(marker, 1)[1].split("。", 1)[0]
    return listed.split("; ")[0].strip() or default


ROUTES = {
    "几点起床": '{"hour": 6}',
    "今天的大致计划": '{"items": ["起床洗漱", "去咖啡馆烤面包", "招呼客人", "准备茶话会", "睡觉"]}',
    "分成若干时间段": '{"blocks": [{"start": "06:00", "end": "08:00", "activity": "在咖啡馆烤面包"}, '
    '{"start": "08:00", "end": "20:00", "activity": "招呼客人"}, '
    '{"start": "20:00", "end": "22:00", "activity": "看书"}]}',
    "个步骤": '{"subtasks": [{"activity": "和面", "minutes": 30}, {"activity": "烤面包", "minutes": 30}]}',
    "去哪里？": lambda p: json.dumps({"place": _options(p, "知道的地方：", "Hobbs Cafe: cafe")}, ensure_ascii=False),
    "用的是哪一样": lambda p: json.dumps({"object": _options(p, "那里的东西：", "")}, ensure_ascii=False),
    "选一个表情符号": '{"emoji": "🍞", "object_state": "正在烤面包"}',
    "有多重要": lambda p: json.dumps({"ratings": [3] * int(p.split("共 ")[1].split(" 个")[0])}),
    "应该主动和": '{"reasoning": "两人都有空", "decision": "talk"}',
    "下一句话": '{"line": "早上好！今天的面包好香啊。", "end": true}',
    "是怎么认识": '{"summary": "她是咖啡馆的老主顾，两人很熟。"}',
    "概括他们聊了什么": '{"summary": "聊到早上的面包"}',
    "从这段对话中得知": '{"text": "得知今天的面包刚出炉，下午可以再来。"}',
    "采访者问": '{"answer": "我在准备量子力学期中考试，下午去咖啡馆复习。"}',
    "修订今天的两项内容": '{"currently": "在筹备茶话会", "daily_requirement": "烤面包，看店，准备茶话会"}',
}


def _recording_gateway():
    seen: list[str] = []

    def route(reply):
        def answer(text):
            seen.append(text)
            return reply(text) if callable(reply) else reply

        return answer

    def unknown(text):
        seen.append(text)
        return "nonsense"

    gw = routed_gateway({k: route(v) for k, v in ROUTES.items()}, default=unknown)
    return gw, seen


def test_the_chinese_base_passes_the_check_and_is_written_in_chinese():
    folder = services.BASES / ZH
    assert check_base(folder) == []
    meta = yaml.safe_load((folder / "meta.yaml").read_text(encoding="utf-8"))
    assert meta["language"] == "zh" and len(meta["personas"]) == 3
    for person in yaml.safe_load((folder / "personas.yaml").read_text(encoding="utf-8")):
        assert has_cjk(person["name"])
        for key in ("innate", "learned", "currently", "lifestyle", "daily_requirement"):
            assert len(_CJK.findall(person[key])) >= 5, (person["name"], key)
        assert all(has_cjk(other) and has_cjk(text) for other, text in person["relationships"].items())


@pytest.mark.django_db
def test_the_base_loads_and_a_fork_speaks_chinese_by_default():
    base = services.ensure_base(ZH)
    assert base.meta["language"] == "zh" and base.meta["town_labels"]["Hobbs Cafe"] == "霍布斯咖啡馆"
    assert sorted(base.personas.values_list("name", flat=True)) == ["何远", "林晓雨", "苏念"]
    sim = services.fork(ZH, "小镇-1", gateway=routed_gateway({}))
    assert sim.meta["agent_config"]["language"] == "zh"
    assert services.agent_config(sim).language == "zh"
    relationships = MemoryNode.objects.filter(persona__simulation=sim, persona__name="苏念").order_by("node_id")
    assert [m.description.split("：")[0] for m in relationships] == ["苏念认识何远", "苏念认识林晓雨"]
    # A fork of an English base stays English; choosing a language overrides the source's.
    assert services.fork(EN, "town-en", gateway=routed_gateway({})).meta["agent_config"]["language"] == "en"
    english = services.fork(ZH, "小镇-en", gateway=routed_gateway({}), language="en")
    assert english.meta["agent_config"]["language"] == "en"
    assert services.fork("小镇-1", "小镇-2", gateway=routed_gateway({})).meta["agent_config"]["language"] == "zh"
    chosen = services.fork(EN, "town-zh", gateway=routed_gateway({}), preset="paper", language="zh")
    assert chosen.meta["agent_config"]["language"] == "zh" and chosen.meta["agent_config"]["preset"] == "paper"


@pytest.mark.django_db
def test_an_unknown_language_refuses_the_fork_and_writes_nothing():
    with pytest.raises(services.SimulationError, match="unknown language 'fr'; choose from en, zh"):
        services.fork(ZH, "bad-language", gateway=routed_gateway({}), language="fr")
    assert not Simulation.objects.exists()


@pytest.mark.django_db
def test_a_chinese_run_steps_with_the_chinese_prompts_and_remembers_in_chinese():
    gw, seen = _recording_gateway()
    sim = services.fork(ZH, "小镇-step", gateway=gw)
    added = services.load_history(sim, "the_ville/agent_history_init_zh3.csv", gateway=gw)
    assert added == 10
    whispers = [p for p in seen if "有多重要" in p]
    assert whispers and all("岁（" in p and "近况：" in p for p in whispers)
    sim = services.run_steps(sim, 3, gateway=gw)
    assert sim.step == 3
    assert len(seen) > len(whispers)
    zh_prompts = {p.stem for p in (PROMPTS / "zh").glob("*.txt")}
    assert zh_prompts
    for text in seen:
        assert _CJK.search(text), text[:200]
        leaked = [phrase for phrase in _ENGLISH if phrase in text]
        assert not leaked, (leaked, text[:300])
    assert not [p for p in seen if "Corrected JSON" in p], "every scripted answer was valid on the first try"
    asked = " ".join(seen)
    for phrase in ("今天的大致计划", "分成若干时间段", "去哪里？"):
        assert phrase in asked, phrase
    # The Chinese lifestyle says when each wakes up ("早上六点左右起床"): compact asks no wake-up call.
    assert "几点起床" not in asked
    # What they remember and do is Chinese.
    party = MemoryNode.objects.filter(persona__simulation=sim, persona__name="林晓雨", kind="thought",
                                      description__contains="茶话会")  # fmt: skip
    assert party.exists()
    plan = sim.personas.get(name="林晓雨").scratch
    assert plan["daily_plan"] and all(has_cjk(item) for item in plan["daily_plan"])
    assert has_cjk(plan["action"]["description"])
    plan_thought = MemoryNode.objects.get(persona__simulation=sim, persona__name="林晓雨", kind="thought",
                                          description__startswith="这是林晓雨")  # fmt: skip
    items = "起床洗漱、去咖啡馆烤面包、招呼客人、准备茶话会、睡觉"
    assert plan_thought.description == f"这是林晓雨2月13日（星期一）的计划：{items}。"
    events = MemoryNode.objects.filter(persona__simulation=sim, kind="event").values_list("description", flat=True)
    assert events and all(has_cjk(e) and " is " not in e and "正在正在" not in e for e in events)
    # The interview answers in Chinese, from a Chinese prompt; nothing is stored.
    before = MemoryNode.objects.filter(persona__simulation=sim).count()
    seen.clear()
    reply = services.interview(sim, "苏念", "你最近在忙什么？", gateway=gw)
    assert reply == "我在准备量子力学期中考试，下午去咖啡馆复习。"
    [asked_interview] = [p for p in seen if "采访者问" in p]
    assert "姓名：苏念（21岁）" in asked_interview and "2月13日（星期一）07:00" in asked_interview
    assert MemoryNode.objects.filter(persona__simulation=sim).count() == before


def test_keywords_of_chinese_text_are_character_ngrams_not_whitespace_words():
    assert normalise_keyword("the Ville:霍布斯咖啡馆:柜台：咖啡机。") == "咖啡机"
    grams = cjk_keywords("林晓雨在图书馆")
    assert "林晓雨" in grams and "图书馆" in grams and "林晓" in grams
    assert cjk_keywords("Klaus reads") == []
    assert keyword_set(["Klaus Mueller", "coffee machine"]) == {"klaus mueller", "coffee machine"}  # English unchanged
    words = keyword_set(["苏念", "在霍布斯咖啡馆复习量子力学"])
    assert {"苏念", "咖啡馆", "量子", "复习"} <= words


def test_perception_finds_chinese_memories_that_share_a_word():
    stream = MemoryStream(index=InMemoryVectorIndex())
    from datetime import datetime

    now = datetime(2023, 2, 13, 8)
    old = stream.add_event("林晓雨", "is", "在咖啡馆烤面包", "林晓雨正在在咖啡馆烤面包", created=now, poignancy=3)
    thought = stream.add_thought("苏念", "knows", "茶话会", "林晓雨要在霍布斯咖啡馆办茶话会", created=now, poignancy=6,
                                 keywords=["苏念", *cjk_keywords("林晓雨要在霍布斯咖啡馆办茶话会")])  # fmt: skip
    unrelated = stream.add_event("何远", "is", "看书", "何远正在看书", created=now, poignancy=2)
    [found] = retrieve_for_perception(stream, [("林晓雨", "is", "招呼咖啡馆的客人")])
    assert old in found.events and unrelated not in found.events
    assert thought in found.thoughts


@pytest.mark.django_db
def test_the_reverie_command_forks_in_the_chosen_language(monkeypatch):
    import io

    from django.core.management import CommandError, call_command

    gateway = routed_gateway({})
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gateway)
    out = io.StringIO()
    call_command("reverie", "--fork", EN, "--name", "cli-zh", "--language", "zh", "--command", "fin",
                 stdout=out, stderr=io.StringIO())  # fmt: skip
    assert services.get_simulation("cli-zh").meta["agent_config"]["language"] == "zh"
    call_command("reverie", "--fork", ZH, "--name", "cli-default", "--command", "fin", stdout=io.StringIO(),
                 stderr=io.StringIO())  # fmt: skip
    assert services.get_simulation("cli-default").meta["agent_config"]["language"] == "zh"
    with pytest.raises(CommandError, match="invalid choice: 'fr'"):
        call_command("reverie", "--fork", EN, "--name", "x", "--language", "fr")
    with pytest.raises(CommandError, match="--language applies to a fork"):
        call_command("reverie", "--resume", "cli-zh", "--language", "en")


@pytest.mark.model
@pytest.mark.django_db
def test_a_chinese_run_on_the_bundled_model_plans_acts_and_remembers_in_chinese():
    """The real thing: the bundled model with the Chinese prompts, one step (every
    agent's day planned). Whatever the tiny model writes, what the run shows is Chinese:
    its own text (the prompts ask for Chinese) or our Chinese fallbacks and labels."""
    from llm.factory import build_gateway

    gw = build_gateway("llama_cpp:bundled", cache_policy="off", timeout=120)
    try:
        sim = services.fork(ZH, "小镇-bundled", gateway=gw)
        sim = services.run_steps(sim, 1, gateway=gw)
    finally:
        gw.close()
    assert sim.step == 1
    purposes = {purpose for (_, purpose) in gw.accounting.rows(run=sim.run_label)}
    assert {"plan.daily", "plan.hourly", "plan.location"} <= purposes
    for persona in sim.personas.all():
        scratch = persona.scratch
        assert has_cjk(scratch["action"]["description"]), (persona.name, scratch["action"])
        schedule = [item["activity"] for item in scratch["hourly_schedule"]]
        assert schedule[0] == "睡觉" and sum(item["minutes"] for item in scratch["hourly_schedule"]) == 24 * 60
        assert not {"sleeping", "free time", "morning routine"} & set(schedule), schedule
        plan_thought = MemoryNode.objects.get(persona=persona, kind="thought", description__startswith="这是")
        assert f"这是{persona.name}" in plan_thought.description
