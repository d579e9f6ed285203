"""Device choice: params' ``device`` (``auto``: a GPU when one is present, else the CPU)."""

from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda")


def pick_device(choice: str = "auto") -> torch.device:
    """The device for ``choice``: ``auto`` is CUDA when torch sees a GPU, else the CPU
    (where results are bit-reproducible); ``cuda`` without a GPU is an error."""
    if choice not in DEVICES:
        raise ValueError(f"device: expected one of {', '.join(DEVICES)}, got {choice!r}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' asked for, but torch sees no CUDA GPU; use auto or cpu")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in torch; 0 leaves torch's default (one per core).
    Small networks run faster on one thread: their ops are too short to share."""
    if threads > 0:
        torch.set_num_threads(threads)
