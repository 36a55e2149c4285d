"""Run a simulation in this process with a scripted, slowed-down model (for the
kill-and-resume test). Usage: python -m tests.reverie.fake_runner SIM STEPS

Prints "committed <step>" after each step is committed. The database comes from
DATABASE_URL, like any other process of the project.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
    import django

    django.setup()
    from reverie import services
    from tests.reverie.engine.fakes import routed_gateway
    from tests.reverie.engine.test_world import GOOD

    name, steps = sys.argv[1], int(sys.argv[2])
    gw = routed_gateway(GOOD)
    try:
        sim = services.get_simulation(name)
    except services.SimulationNotFound:
        sim = services.fork("base_the_ville_isabella_maria_klaus", name, gateway=gw)
    gw.backend.delay = 0.02  # type: ignore[attr-defined]  # each model call takes a moment, like a real one

    start = sim.step

    def progress(done: int, total: int) -> None:
        print(f"committed {start + done}", flush=True)

    services.run_steps(sim, steps, gateway=gw, progress=progress)
    print("done", flush=True)


if __name__ == "__main__":
    main()
