"""English and Simplified Chinese: every UI string translated, the switcher works."""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings

from environment.i18n import compile_messages

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_string_has_a_chinese_translation_with_the_same_placeholders():
    catalogue = polib.pofile(str(PO))
    assert len(catalogue) > 100
    assert not catalogue.untranslated_entries() and not catalogue.fuzzy_entries()
    names = re.compile(r"%\(\w+\)s")
    for entry in catalogue:
        assert sorted(names.findall(entry.msgid)) == sorted(names.findall(entry.msgstr)), entry.msgid


def test_catalogues_compile_without_gettext_and_only_when_stale(tmp_path):
    folder = tmp_path / "zh_Hans" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(PO, folder / "django.po")
    assert compile_messages([tmp_path]) == [folder / "django.mo"]
    assert compile_messages([tmp_path]) == []  # up to date: nothing rewritten
    compiled = polib.mofile(str(folder / "django.mo"))
    assert compiled.find("Play").msgstr == "播放"
    broken = polib.pofile(str(folder / "django.po"))
    broken.find("forked from %(source)s").msgstr = "复制自"
    broken.save()
    with pytest.raises(ValueError, match="placeholders differ"):
        compile_messages([tmp_path])


@pytest.mark.django_db
def test_the_pages_speak_chinese_when_asked(client):
    english = client.get("/").content.decode()
    assert "Smallville simulations" in english and 'lang="en"' in english
    chinese = client.get("/", headers={"Accept-Language": "zh-Hans"}).content.decode()
    assert "小镇模拟" in chinese and 'lang="zh-hans"' in chinese
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/simulator_home"})
    assert response.status_code == 302
    page = client.get("/simulator_home").content.decode()
    assert "还没有开始任何运行" in page
