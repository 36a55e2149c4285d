"""A real one-process gloo process group, as torchrun's launch starts one in each rank,
for checking that the training commands leave it when they are done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def one_rank_group(folder: Path) -> Iterator[None]:
    import torch.distributed as dist

    dist.init_process_group("gloo", store=dist.FileStore(str(folder / "store"), 1), rank=0, world_size=1)
    try:
        yield
    finally:
        if dist.is_initialized():  # the command under test did not leave it
            dist.destroy_process_group()
