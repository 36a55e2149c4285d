"""Compile the translations (locale/*/LC_MESSAGES/django.po -> .mo) without GNU gettext.

Django's `compilemessages` needs the msgfmt binary; polib does the same in Python, so
a fresh machine needs no apt package. The .mo files are build output (git-ignored);
`manage.py prepare` compiles whatever is missing or older than its .po.
"""

from __future__ import annotations

from pathlib import Path

import polib


def compile_messages(locale_dirs: list[Path]) -> list[Path]:
    """Compile every stale catalogue; returns the .mo files written."""
    written = []
    for root in locale_dirs:
        for po_path in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.is_file() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            catalogue = polib.pofile(str(po_path))
            bad = [e for e in catalogue if e.msgstr and e.msgid.count("%(") != e.msgstr.count("%(")]
            if bad:
                raise ValueError(f"{po_path}: placeholders differ in {bad[0].msgid!r}")
            catalogue.save_as_mofile(str(mo_path))
            written.append(mo_path)
    return written
