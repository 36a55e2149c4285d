"""The strings the reader page's script shows, translated for the request's language.

They travel in the page's `boot` JSON (static_dirs/js/writer/read.js has the English
fallbacks); the page's fixed labels are translated in writer/read.html.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def reader_strings() -> dict[str, str]:
    return {
        "connecting": _("Connecting…"),
        "offline": _("Disconnected; reconnecting…"),
        "confirm_restart": _("Start over from the beginning of the story?"),
        "not_found": _("This story cannot be read here: it is not published, or it has not begun yet."),
        "failed": _("The next part could not be written. Choose again, or choose another option."),
        "title_fallback": _("A story"),
    }
