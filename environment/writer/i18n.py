"""The strings the writer pages' scripts show, translated for the request's language.

They travel in the page's `boot` JSON (as Smallville's pages do), so the scripts never
hold English text of their own beyond a fallback.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def writer_strings() -> dict[str, str]:
    return {
        "connecting": _("Connecting…"),
        "connected": _("Live"),
        "offline": _("Offline: reconnecting…"),
    }
