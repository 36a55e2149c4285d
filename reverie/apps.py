from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class ReverieConfig(AppConfig):
    name = "reverie"
    verbose_name = "Smallville simulations"

    def prepare(self, stdout: OutputWrapper) -> None:
        """`manage.py prepare`: load the base simulations shipped in storage/base."""
        from reverie import services

        for base in services.base_names():
            sim = services.ensure_base(base)  # loads storage/base/<base> unless it is there
            stdout.write(f"base simulation: {sim.name} ({sim.personas.count()} personas)")
