"""The strings the writer pages' scripts show, translated for the request's language.

They travel in the page's `boot` JSON (as Smallville's pages do), so the scripts never
hold English text of their own beyond a fallback. Placeholders are Python-format
names (`%(n)s`): static_dirs/js/writer/project.js fills them in.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def writer_strings() -> dict[str, str]:
    """Every string static_dirs/js/writer/project.js shows (its English fallbacks match)."""
    return {
        # connection and run
        "connecting": _("Connecting…"),
        "connected": _("Live"),
        "offline": _("Offline: reconnecting…"),
        "gone": _("This project is not yours or no longer exists."),
        "not_connected": _("Not connected: your change was not sent. Try again in a moment."),
        "ready": _("Ready"),
        "queued": _("Queued…"),
        "writing": _("Writing…"),
        "stopping": _("Stopping…"),
        "waiting": _("Waiting for the model server"),
        "run_error": _("The writer stopped: %(error)s"),
        "failed": _("The last step failed: %(error)s"),
        "dismiss": _("Dismiss"),
        # cost
        "this_step": _("This step"),
        "project_total": _("Project"),
        # "<key>_one" for 1, "<key>_n" otherwise: English and Chinese need no more forms
        # (separate msgids, not ngettext: the catalogue test compares msgstr placeholders)
        "tokens_one": _("%(n)s token"),
        "tokens_n": _("%(n)s tokens"),
        "calls_one": _("%(n)s call"),
        "calls_n": _("%(n)s calls"),
        "seconds_n": _("%(n)s s"),
        "steps_one": _("%(n)s step"),
        "steps_n": _("%(n)s steps"),
        "first_words": _("first words after %(n)s s"),
        # the story
        "untitled": _("Untitled"),
        "opening": _("The opening is being written…"),
        "not_started": _("The story has not started yet."),
        "paragraph_n": _("Paragraph %(n)s"),
        "edit": _("Edit"),
        "edit_paragraph": _("Edit paragraph %(n)s"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "saving": _("Saving…"),
        "unsaved": _("Not saved yet"),
        "entry": _("Long-term memory"),
        "edit_summary": _("Edit summary"),
        "no_summary": _("(no summary)"),
        # what happens next
        "write_this": _("Write this"),
        "plan_n": _("Plan %(n)s"),
        "no_plans": _("No plans yet."),
        "busy_note": _("A step is being written: wait for it, or stop it."),
        # side panels
        "none": _("None."),
        "added": _("Added"),
        "dropped": _("Dropped"),
        "score": _("score %(score)s"),
        "paragraph_short": _("¶%(n)s"),
        "lore_fired": _("used in the last step"),
        "no_lore": _(
            "No entries yet. An entry enters the prompt when one of its keywords appears "
            "in the recent text or the plan."
        ),
        "lore_new": _("New lorebook entry"),
        "lore_edit": _("Edit lorebook entry"),
        "lore_name": _("Name"),
        "lore_kind": _("Kind"),
        "lore_text": _("Text"),
        "lore_keywords": _("Keywords (comma-separated)"),
        "lore_aliases": _("Aliases (comma-separated)"),
        "keywords": _("Keywords"),
        "aliases": _("Aliases"),
        "delete": _("Delete"),
        "lore_delete_confirm": _("Delete the lorebook entry %(name)s?"),
        "kind_character": pgettext("lorebook kind", "Character"),
        "kind_place": pgettext("lorebook kind", "Place"),
        "kind_fact": pgettext("lorebook kind", "Fact"),
        "choice": _("The simulator chose plan %(n)s: %(reason)s"),
        "choice_fallback": _("(the model's answer was unusable: this is the fallback choice)"),
        "fallbacks": _("These parts of the last step used a fallback (the model's answer was unusable): %(list)s"),
        # history
        "node_init": pgettext("history", "Opening"),
        "node_step": pgettext("history", "Step"),
        "node_edit": pgettext("history", "Edit"),
        "current": _("shown"),
        "go_to": _("Show this version"),
        "compare_pick": _("Pick this version to compare"),
        "compare_hint": _("Tick two versions, then compare them."),
        "version": _("Version %(id)s"),
        "paragraphs_one": _("%(n)s paragraph"),
        "paragraphs_n": _("%(n)s paragraphs"),
        "parts_at": _("The two versions part at paragraph %(n)s."),
        "same": _("The two versions tell the same story."),
    }
