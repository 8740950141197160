"""Data-parallel training under ``torchrun`` (PyTorch DDP): the backend is chosen automatically (NCCL on
GPUs, Gloo on CPU).  Without torchrun's environment everything runs in one process.

    torchrun --standalone --nproc-per-node 8 -m ronbun.cli.main mt train …        # one node, 8 GPUs
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d \\
             --rdzv-endpoint HOST:29500 --rdzv-id JOB -m ronbun.cli.main mt train …   # two nodes
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1


def init_from_env() -> tuple[int, int, torch.device]:
    """Join the process group described by torchrun's environment; return ``(rank, world, device)``."""
    if not launched_by_torchrun():
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if backend == "nccl":
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def rank_zero_first():
    """Rank 0 runs the block first (e.g. trains the tokenizer, writes caches); the others wait, then run it
    and find the results on disk."""
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    if rank != 0:
        barrier()
    yield
    if rank == 0:
        barrier()


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside ``DistributedDataParallel`` and/or ``torch.compile`` wrappers (for its methods)."""
    while True:
        inner = getattr(model, "_orig_mod", None) or getattr(model, "module", None)
        if not isinstance(inner, torch.nn.Module):
            return model
        model = inner
