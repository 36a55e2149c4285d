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
        # Built now rather than on a long run's first large retrieval (it is optional:
        # without it retrieval uses torch's int8 kernel).
        from reverie.engine import int8_kernel

        kernel = int8_kernel.load()
        stdout.write(f"int8 kernel:    {kernel.path if kernel else 'torch (' + int8_kernel.why_not() + ')'}")
