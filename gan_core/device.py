"""Device choice: params' ``device`` (``auto``: a GPU when one is present, else the CPU)."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

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


def place(net: nn.Module, device: torch.device) -> nn.Module:
    """``net`` moved to ``device``; a convolutional network's weights in channels-last memory
    order, where its convolutions run about 10% faster on the CPU (``bench/image_step.py``).
    The order changes only the order of the convolutions' float sums, and every run takes the
    same one, so results stay bit-reproducible."""
    if any(isinstance(module, nn.modules.conv._ConvNd) for module in net.modules()):
        return net.to(device, memory_format=torch.channels_last)
    return net.to(device)


def image_layout(x: torch.Tensor) -> torch.Tensor:
    """An image batch ``[N, C, H, W]`` in channels-last memory order (what :func:`place`'s
    convolutional networks take); any other tensor as it is."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in torch; 0 leaves the process's setting (OMP_NUM_THREADS:
    one in a pipeline stage, see :mod:`stages.cli`; else one per core). Small networks run
    faster on one thread: their ops are too short to share."""
    if threads > 0:
        torch.set_num_threads(threads)


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context a training step's forward passes run in: ``fp32`` leaves every operation
    in float32; ``bf16`` is mixed precision, ``torch.autocast`` to bfloat16 (its 8 exponent
    bits keep float32's range, so no loss scaling): matrix products and convolutions in
    bfloat16, while weights, optimizer states and gradients stay float32. The training loop
    computes losses and gradient penalties outside it, in float32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    raise ValueError(f"precision: expected fp32 or bf16, got {precision!r}")
