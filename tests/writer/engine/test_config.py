"""Settings and how text is measured."""

import pytest

from writer.engine.config import WriterConfig, approx_tokens, text_length, truncate_to_length


def test_latin_words_count_once_each():
    assert text_length("The keeper's lamp burned all night.", "en") == 6
    assert text_length("", "en") == 0


def test_each_cjk_character_is_a_word_equivalent():
    assert text_length("灯塔守护者点亮了灯。", "zh") == 9  # punctuation does not count
    assert text_length("Ada 在灯塔里", "zh") == 5  # mixed: one Latin word + four characters
    assert text_length("灯塔", "en") == text_length("灯塔", "zh") == 2


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        text_length("x", "fr")


def test_truncate_to_length_counts_the_same_way():
    assert truncate_to_length("one two three four", 2) == "one two"
    assert truncate_to_length("灯塔守护者", 3, "zh") == "灯塔守"


def test_approx_tokens():
    assert approx_tokens("ten words " * 5) == 13  # 10 words * 1.3
    assert approx_tokens("灯塔守护者") == 5
    assert approx_tokens("Hi!") == 3  # ceil(1.3) + 1 symbol


def test_presets_and_round_trip():
    paper, compact = WriterConfig.paper(), WriterConfig.compact(language="zh")
    assert paper.plans == compact.plans == 3 and paper.init_paragraphs == 3 and compact.init_paragraphs == 1
    assert compact.memory_bound < paper.memory_bound and compact.language == "zh"
    assert WriterConfig.from_dict(compact.to_dict()) == compact
    with pytest.raises(ValueError):
        WriterConfig(plans=0)
    with pytest.raises(ValueError):
        WriterConfig(language="fr")  # type: ignore[arg-type]
