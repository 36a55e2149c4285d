"""Every prompt purpose exists in every language, with the same fields and answer shape."""

import json
import re

import pytest

from llm.prompts import load_prompt, prompt_fields
from reverie.engine.config import AgentConfig, ConfigError
from reverie.engine.converse import example_in
from reverie.engine.persona import Identity
from reverie.engine.prompting import (
    LANGUAGES,
    PROMPTS,
    PromptLanguageError,
    current_language,
    prompt,
    prompt_path,
    speaking,
)

PURPOSES = sorted(p.stem for p in PROMPTS.glob("*.txt"))
_CJK = re.compile(r"[\u4e00-\u9fff]")
_JSON = re.compile(r"\{.*\}")


def test_the_english_prompts_are_where_they_always_were():
    assert len(PURPOSES) >= 20
    assert prompt_path("plan_daily") == PROMPTS / "plan_daily.txt"
    assert prompt_path("plan_daily", "zh") == PROMPTS / "zh" / "plan_daily.txt"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_purpose_exists_in_every_language_with_the_same_fields(purpose, language):
    english = load_prompt(str(prompt_path(purpose)))
    other = load_prompt(str(prompt_path(purpose, language)))
    assert prompt_fields(other) == prompt_fields(english), f"{language}/{purpose}.txt"
    # the completion cue, where the model starts answering, is the same
    assert other.rstrip("\n").endswith(": ") and english.rstrip("\n").endswith(": ")


def test_no_stray_prompt_files_in_a_language():
    for language in LANGUAGES[1:]:
        extra = sorted(p.stem for p in (PROMPTS / language).glob("*.txt") if p.stem not in PURPOSES)
        assert extra == [], f"prompts/{language}/ has purposes English lacks: {extra}"


@pytest.mark.parametrize("purpose", PURPOSES)
def test_chinese_prompts_are_chinese_and_keep_the_json_field_names(purpose):
    english = load_prompt(str(prompt_path(purpose)))
    chinese = load_prompt(str(prompt_path(purpose, "zh")))
    assert len(_CJK.findall(chinese)) >= 15, "the instructions are Chinese"
    # The answer models are shared: every JSON key of an English example is in the Chinese one.
    en_keys = set(re.findall(r'"([a-z_]+)":', english))
    zh_keys = set(re.findall(r'"([a-z_]+)":', chinese))
    assert en_keys == zh_keys
    # The copy guard finds the example answer by its marker (converse.example_in).
    assert ("Example answer" in english) == ("Example answer" in chinese)
    for line in chinese.splitlines():
        if line.startswith("Example answer: {") and "{{" not in line:
            example = json.loads(_JSON.search(line).group(0))
            texts = [v for v in example.values() if isinstance(v, str)]
            assert all(_CJK.search(t) for t in texts), f"{purpose}: Chinese example answers"


def test_the_free_text_prompts_ask_for_chinese_answers():
    free_text = [p for p in PURPOSES if p not in ("plan_wake_up", "plan_location", "plan_object", "plan_daily",
                                                   "perceive_poignancy", "eval_judge")]  # fmt: skip
    for purpose in free_text:
        assert "简体中文" in load_prompt(str(prompt_path(purpose, "zh"))), purpose


def test_speaking_chooses_the_language_and_restores_english():
    fields = {"first_name": "何远", "activity": "看书", "arena": "图书馆", "options": "书桌, 书架", "example": ""}
    assert "Which one does" in prompt("plan_object", **fields)
    with speaking("zh"):
        assert current_language() == "zh"
        text = prompt("plan_object", **fields)
        assert "用的是哪一样" in text and "Which one" not in text
        assert "Which one does" in prompt("plan_object", language="en", **fields)
    assert current_language() == "en"
    assert "Which one does" in prompt("plan_object", **fields)


def test_an_unknown_language_or_a_missing_translation_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(PromptLanguageError, match="unknown prompt language 'fr'"), speaking("fr"):
        pass
    import reverie.engine.prompting as prompting

    (tmp_path / "zh").mkdir()
    (tmp_path / "only_english.txt").write_text("Hello {{name}}\nJSON: \n", encoding="utf-8")
    monkeypatch.setattr(prompting, "PROMPTS", tmp_path)
    missing = r"prompt 'only_english' has no 'zh' version: write .*zh/only_english"
    with pytest.raises(PromptLanguageError, match=missing):
        prompt("only_english", language="zh", name="x")
    assert prompt("only_english", name="x").startswith("Hello x")


def test_the_example_answer_guard_reads_chinese_prompts():
    with speaking("zh"):
        text = prompt("converse_memo", name="何远", other="苏念", summary="聊到论文", transcript="...")
    assert example_in(text, "text") == "小梅得知阿哲的论文周五要交，她打算周四约他一起复习。"


def test_the_identity_is_labelled_in_the_prompt_language():
    who = Identity(name="何远", age=20, innate="认真", learned="社会学学生", currently="写论文", lifestyle="早睡",
                   living_area="the Ville:x:y", daily_requirement="上课")  # fmt: skip
    assert who.summary().startswith("Name: 何远 (age: 20)")
    with speaking("zh"):
        assert who.summary().startswith("姓名：何远（20岁）") and "每日要务：上课" in who.summary()


def test_the_agent_config_has_a_language():
    assert AgentConfig().language == "en" and AgentConfig.paper().language == "en"
    zh = AgentConfig.from_dict({**AgentConfig.paper().to_dict(), "language": "zh"})
    assert zh.language == "zh" and zh.preset == "paper"
    assert AgentConfig.from_dict(zh.to_dict()) == zh
    assert zh.with_ablation("no_memory").language == "zh"
    assert AgentConfig.from_dict({"preset": "compact"}).language == "en"  # runs stored before languages
    with pytest.raises(ConfigError, match="unknown language 'fr'; choose from en, zh"):
        AgentConfig.from_dict({"preset": "compact", "language": "fr"})
