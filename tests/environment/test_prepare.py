"""`manage.py prepare` calls each installed app's own hook (AppConfig.prepare)."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from environment.management.commands import prepare


def test_every_app_with_a_prepare_hook_is_found_in_installed_apps_order():
    hooks = prepare.app_hooks()
    labels = [label for label, _ in hooks]
    assert "reverie" in labels
    assert "environment" not in labels  # no hook: nothing to call
    order = [config.label for config in apps.get_app_configs()]
    assert labels == sorted(labels, key=order.index)


def test_prepare_calls_the_hooks_with_its_output(monkeypatch, settings):
    class Config:
        def __init__(self, label, hook=None):
            self.label = label
            if hook is not None:
                self.prepare = hook

    monkeypatch.setattr(
        prepare.apps,
        "get_app_configs",
        lambda: [
            Config("first", lambda out: out.write("first: ready")),
            Config("plain"),
            Config("second", lambda out: out.write("second: ready")),
        ],
    )
    settings.LLM_MODEL = "openai:some-model"  # nothing to assemble
    settings.EMBEDDING_MODEL = "openai:some-embedder"
    out = StringIO()
    call_command("prepare", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines.index("first: ready") < lines.index("second: ready") < lines.index("prepare: OK")


@pytest.mark.django_db
def test_reverie_hook_loads_the_base_simulations():
    from reverie.models import Simulation

    out = StringIO()
    apps.get_app_config("reverie").prepare(prepare.OutputWrapper(out))
    bases = set(Simulation.objects.filter(is_base=True).values_list("name", flat=True))
    assert bases and all(f"base simulation: {name} (" in out.getvalue() for name in bases)
