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
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:  # Chinese has one plural form, written like the plural msgid
            assert sorted(names.findall(entry.msgid)) == sorted(names.findall(text)), entry.msgid


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


TRANSLATE_TAG = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<msgid>.*?)(?P=q)(?:\s+context\s+(?P<cq>["'])(?P<ctx>.*?)(?P=cq))?"""
)


def test_every_translate_tag_in_the_templates_is_in_the_catalogue():
    """A string added to a template without a catalogue entry shows English in the
    Chinese UI; makemessages needs gettext, which CI does not have, so this scans."""
    catalogue = polib.pofile(str(PO))
    known = {(entry.msgctxt, entry.msgid) for entry in catalogue if not entry.obsolete}
    templates = sorted((Path(settings.BASE_DIR) / "environment" / "templates").rglob("*.html"))
    found = [
        (path.name, match["ctx"], match["msgid"])
        for path in templates
        for match in TRANSLATE_TAG.finditer(path.read_text(encoding="utf-8"))
    ]
    assert len(found) > 100
    missing = [item for item in found if (item[1], item[2]) not in known]
    assert not missing, missing
