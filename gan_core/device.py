"""Device choice: a GPU when one is present, else the CPU."""

from __future__ import annotations

import torch


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in torch; 0 leaves torch's default (one per core).
    Small networks run faster on one thread: their ops are too short to share."""
    if threads > 0:
        torch.set_num_threads(threads)
