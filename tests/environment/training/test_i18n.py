"""The RISE results pages in English and Simplified Chinese: the list, one run, the strings
its script shows (boot.i18n) and the messages the views add, in the language the site
picked (the browser's Accept-Language or the language switcher's choice)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import translation

from environment.training import i18n
from tests.environment.training.factories import METRICS, PLAYS, make_run

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-Hans"}
RUN_JS = Path(settings.BASE_DIR) / "static_dirs" / "js" / "training" / "run.js"


def boot_of(html: str) -> dict[str, Any]:
    start = html.index('<script id="boot" type="application/json">') + len('<script id="boot" type="application/json">')
    return json.loads(html[start : html.index("</script>", start)])


def has_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def test_the_list_speaks_chinese_when_asked_and_english_otherwise(client: Any, tmp_path: Path) -> None:
    make_run(tmp_path, PLAYS[:5], name="done", finished=True, metrics=METRICS)
    make_run(tmp_path, PLAYS, name="waiting")
    english = client.get("/training/").content.decode()
    assert 'lang="en"' in english and "<h1>RISE runs</h1>" in english
    assert ">Status</th>" in english and ">finished</span>" in english and ">stopped</span>" in english
    assert "evaluation · gsm8k · 3 turns" in english and "turn</text>" in english  # the chart's axis
    chinese = client.get("/training/", headers=ZH).content.decode()
    assert 'lang="zh-hans"' in chinese and "<h1>RISE 运行</h1>" in chinese
    assert ">状态</th>" in chinese and ">进度</th>" in chinese and ">各轮正确率</th>" in chinese
    assert ">已完成</span>" in chinese and ">已停止</span>" in chinese
    assert "评测 · gsm8k · 3 轮" in chinese and "轮次</text>" in chinese
    assert "m1@t1" in chinese and "p1@t3" in chinese  # the metric names stay as they are
    assert "RISE runs" not in chinese and "Status" not in chinese


def test_the_switcher_choice_and_the_form_speak_chinese(client: Any, tmp_path: Path, settings: Any) -> None:
    settings.STORAGE_DIR = tmp_path
    user = get_user_model().objects.create_user("ann", password="pw")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="training", codename="add_riserun"))
    client.force_login(user)
    assert client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/training/"}).status_code == 302
    html = client.get("/training/").content.decode()
    assert ">启动评测</h2>" in html and ">每轮采样数</label>" in html and ">开始评测</button>" in html
    assert "还没有运行。" in html
    bad = client.post("/training/", {"env": "gsm8k", "model": "openai:student", "max_turns": "11",
                                     "samples": "1", "limit": "4"})  # fmt: skip
    assert bad.status_code == 400
    # The page's sentence is Chinese; the engine's reason after it stays as the commands print it.
    assert "评测没有启动：max turns must be between 1 and 10" in bad.content.decode()


def test_the_run_page_and_its_script_strings_speak_chinese(client: Any, tmp_path: Path) -> None:
    run = make_run(tmp_path, PLAYS[:5], name="done", finished=True, metrics=METRICS)
    html = client.get(f"/training/{run.pk}/", headers=ZH).content.decode()
    assert 'lang="zh-hans"' in html
    assert ">指标</h2>" in html and ">设置</h2>" in html and ">逐轮查看题目</h2>" in html
    assert ">所有轮次</dd>" in html and "512 个词元" in html and ">已完成</span>" in html and ">连接中…</span>" in html
    assert ">acc@t</th>" in html and ">改对</th>" in html and ">改错</th>" in html
    assert "评测 · gsm8k" in html and ">环境自带的样例集 · 前 5 道<" in html
    assert "Metrics" not in html and "Settings" not in html and "the sample set" not in html
    strings = boot_of(html)["i18n"]
    assert set(strings) == set(i18n.run_strings())
    assert strings["finished"] == "已完成" and strings["fixed"] == "改对" and strings["broke"] == "改错"
    assert strings["same"] == "答案未变" and strings["show_text"] == "模型写的内容"
    assert strings["page"] == "第 %(page)s 页，共 %(pages)s 页" and strings["live"] == "实时"
    assert all(has_chinese(text) for text in strings.values()), [k for k, v in strings.items() if not has_chinese(v)]
    chart = client.get(f"/training/{run.pk}/chart.svg", headers=ZH).content.decode()
    assert "各轮正确率" in chart and "正确率（%）" in chart and "acc@t" in chart


def test_in_english_the_run_page_and_its_strings_stay_english(client: Any, tmp_path: Path) -> None:
    run = make_run(tmp_path, PLAYS[:5], name="done", finished=True, metrics=METRICS)
    html = client.get(f"/training/{run.pk}/").content.decode()
    assert ">Metrics</h2>" in html and ">Problems, turn by turn</h2>" in html and "evaluation · gsm8k" in html
    assert ">the sample set · first 5<" in html
    strings = boot_of(html)["i18n"]
    assert strings["fixed"] == "fixed" and strings["same"] == "same answer" and strings["turn_n"] == "Turn %(n)s"
    assert not any(has_chinese(text) for text in strings.values())
    assert "% right" in client.get(f"/training/{run.pk}/chart.svg").content.decode()


def test_the_items_errors_the_view_adds_are_translated(client: Any, tmp_path: Path) -> None:
    run = make_run(tmp_path, PLAYS)
    assert "页码至少为 1" in client.get(f"/training/{run.pk}/items.json", {"page": 0}, headers=ZH).json()["error"]
    error = client.get(f"/training/{run.pk}/items.json", {"turn": "two"}, headers=ZH).json()["error"]
    assert error == "turn 必须是整数（收到的是 'two'）"


def test_the_script_english_fallbacks_match_the_server_strings() -> None:
    """run.js's EN holds the same keys and English as environment/training/i18n.py."""
    source = RUN_JS.read_text(encoding="utf-8")
    block = source[source.index("const EN = {") : source.index("};", source.index("const EN = {"))]
    pairs = re.findall(r'(?:"([^"]+)"|(\w+)): "([^"]*)"', block)
    fallbacks = {quoted or bare: text for quoted, bare, text in pairs}
    with translation.override("en"):
        assert fallbacks == i18n.run_strings()
