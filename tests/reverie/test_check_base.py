"""`manage.py check_base`: a base's problems as file:line lines, and its exit status."""

import shutil

import pytest
from django.core.management import CommandError, call_command

from reverie import services
from reverie.base_check import check_base

ZH = "base_the_ville_zh_3"

BAD_META = """\
name: my_town
language: fr
maze: the_ville
start_time: "Monday morning"
sec_per_step: 0
colour: blue
personas:
  - 王小明
  - 李雷
  - 王小明
town_labels:
  Hobbs Cafe: 霍布斯咖啡馆
  Nowhere Mall: 无处商场
"""

BAD_PEOPLE = """\
- name: "王小明"
  age: -3
  innate: "开朗"
  learned: "He is a baker."
  currently: "在准备开店"
  lifestyle: "早睡早起"
  home: "Isabella Rodriguez bed"
  home_sector: "Hobbs Caffe"
  workplace: "Hobbs Cafe"
  vision_radius: many
  hobby: 钓鱼
  relationships:
    韩梅梅: 老同学

- name: "张三"
  age: 30
  innate: "安静"
  learned: "张三是图书管理员。"
  currently: "整理旧书"
  home: "Isabella Rodriguez bed"
"""


def _write(folder, meta, people):
    folder.mkdir()
    (folder / "meta.yaml").write_text(meta, encoding="utf-8")
    (folder / "personas.yaml").write_text(people, encoding="utf-8")
    return folder


def test_every_problem_names_its_file_and_line(tmp_path):
    folder = _write(tmp_path / "my_town", BAD_META, BAD_PEOPLE)
    lines = [str(p) for p in check_base(folder)]
    meta, people = folder / "meta.yaml", folder / "personas.yaml"
    expected = [
        f"{meta}:6: unknown key 'colour'",
        f"{meta}:4: start_time 'Monday morning' is not a date and time",
        f"{meta}:5: sec_per_step must be a positive whole number",
        f"{meta}:2: unknown language 'fr'; choose from en, zh",
        f"{meta}:10: '王小明' is listed twice",
        f"{meta}:13: town_labels: 'Nowhere Mall' is not a place in town 'the_ville'",
        f"{people}:2: 王小明: age must be a positive whole number",
        f"{people}:11: 王小明: unknown key 'hobby'",
        f"{people}:10: 王小明: vision_radius must be a positive whole number",
        f"{people}:8: 王小明: home_sector 'Hobbs Caffe' is not a place in the town (did you mean 'Hobbs Cafe'?)",
        f"{people}:13: 王小明: relationship with '韩梅梅', who is not in this base",
        f"{people}:15: 张三: missing 'lifestyle'",
        f"{people}:20: 张三: home 'Isabella Rodriguez bed' is already 王小明's",
        f"{meta}:9: '李雷' is not in personas.yaml",
        f"{people}:15: warning: '张三' is not listed in meta.yaml's personas",
    ]
    for want in expected:
        assert any(line.startswith(want) for line in lines), (want, lines)
    # language: fr is not zh, so English text is not flagged
    assert not [line for line in lines if "has no Chinese" in line]


def test_a_chinese_base_with_english_text_gets_a_warning(tmp_path):
    meta = BAD_META.replace("language: fr", "language: zh")
    lines = [str(p) for p in check_base(_write(tmp_path / "my_town", meta, BAD_PEOPLE))]
    assert any(":4: warning: 王小明: learned has no Chinese in it" in line for line in lines), lines


def test_broken_yaml_and_missing_files_are_one_line_each(tmp_path):
    folder = _write(tmp_path / "broken", "name: broken\npersonas: [a, b\n", "- name: x\n")
    [problem] = check_base(folder)
    assert str(problem).startswith(f"{folder / 'meta.yaml'}:3: not valid YAML")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert [str(p) for p in check_base(empty)] == [
        f"{empty / 'meta.yaml'}:1: missing: a base folder needs meta.yaml",
        f"{empty / 'personas.yaml'}:1: missing: a base folder needs personas.yaml",
    ]


def test_the_shipped_bases_pass():
    for name in services.base_names():
        assert [str(p) for p in check_base(services.BASES / name)] == [], name


def test_the_command_by_name_by_folder_and_its_exit_status(tmp_path, capsys):
    call_command("check_base", ZH)
    assert capsys.readouterr().out.strip().endswith(f"{ZH}: OK")
    copy = tmp_path / ZH  # the folder is named like the base
    shutil.copytree(services.BASES / ZH, copy)
    text = (copy / "personas.yaml").read_text(encoding="utf-8").replace('home: "Maria Lopez bed"', 'home: "Maria bed"')
    (copy / "personas.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        call_command("check_base", str(copy))
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert f"{copy / 'personas.yaml'}:" in out and "home 'Maria bed' is not a spawning location" in out
    assert "1 error(s), 0 warning(s)" in out
    with pytest.raises(CommandError, match="no base folder 'no_such_base'"):
        call_command("check_base", "no_such_base")
    with pytest.raises(CommandError, match="no base folder"):
        call_command("check_base", "../storage")
