"""A real one-process gloo process group, as torchrun's launch starts one in each rank,
for checking that the training commands leave it when they are done."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.helpers import wait_until


def gloo_threads() -> list[str]:
    """The names of this process's threads that gloo started (Linux names them)."""
    tasks = Path("/proc/self/task")
    names = [(tasks / t / "comm").read_text().strip() for t in os.listdir(tasks)]
    return [name for name in names if "gloo" in name]


@contextmanager
def one_rank_group(folder: Path) -> Iterator[None]:
    import torch.distributed as dist

    dist.init_process_group("gloo", store=dist.FileStore(str(folder / "store"), 1), rank=0, world_size=1)
    # The group runs threads of its own, as under torchrun. Each names itself
    # ("pt_gloo_runloop") once it runs, which can be after init returns on a busy machine.
    wait_until(gloo_threads, timeout=30, interval=0.01, message="the gloo process group started no named thread")
    try:
        yield
    finally:
        if dist.is_initialized():  # the command under test did not leave it
            dist.destroy_process_group()
