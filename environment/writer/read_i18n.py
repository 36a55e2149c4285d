"""The strings the reader page's script shows, translated for the request's language."""

from __future__ import annotations

from django.utils.translation import gettext as _


def reader_strings() -> dict[str, str]:
    return {
        "connecting": _("Connecting…"),
        "offline": _("Offline: reconnecting…"),
    }
