"""Several independently initialized copies of one network, stacked into one module that runs
them all at once: a seed group. Input ``[S, N, ...]``, output ``[S, N, ...]``, member ``s``
computing exactly what copy ``s`` computes on ``x[s]``.

Each ``nn.Linear`` becomes a :class:`StackedLinear` (weights ``[S, out, in]``, one batched
matmul for all members); its spectral normalization (Miyato et al. 2018) becomes
:class:`StackedSpectralNorm` (one power iteration per member's matrix, batched). Elementwise
layers and the modules that let leading dims pass through (the MLP bodies, the composite
generator and discriminator, the minibatch layers: batch statistics over each member's own
``N``) are kept, their own parameters stacked. Anything else (convolutions, normalization
layers, embeddings) raises :class:`NotStackableError`: such a network trains seed by seed.

State-dict keys are those of one copy with a leading ``[S]`` on every tensor, so
:func:`member_state` gives back a state dict that one copy loads.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from gan_core.models.composite import Discriminator, Generator
from gan_core.models.minibatch import MinibatchDiscrimination, MinibatchStd
from gan_core.models.mlp import MLPFeatures, MLPGenerator

Tensor = torch.Tensor

# Modules whose forward lets leading dims through and whose own parameters (if any)
# broadcast over them once stacked (``torch.matmul`` for minibatch discrimination's T).
_PASS_THROUGH = (
    nn.Sequential, nn.Identity, nn.ReLU, nn.LeakyReLU, nn.Tanh,
    Generator, Discriminator, MLPGenerator, MLPFeatures, MinibatchStd, MinibatchDiscrimination,
)  # fmt: skip


class NotStackableError(ValueError):
    """A network holds a layer that has no stacked form."""


class StackedSpectralNorm(nn.Module):
    """Spectral normalization of each member's matrix ``W_s`` ``[out, in]`` of a stacked
    weight ``[S, out, in]``: W_s / sigma_s with sigma_s = u_s^T W_s v_s, u and v refined by
    one power iteration per training-mode forward pass. Member by member, with the very
    operations of ``torch.nn.utils.parametrizations.spectral_norm`` (matrix-vector
    products, whose batched form would sum in another order): a member normalizes its
    matrix exactly as its copy does."""

    def __init__(self, u: Tensor, v: Tensor, eps: float) -> None:
        super().__init__()
        self.register_buffer("_u", u)  # [S, out]
        self.register_buffer("_v", v)  # [S, in]
        self.eps = eps

    def forward(self, weight: Tensor) -> Tensor:
        sigmas = []
        for matrix, u, v in zip(weight, self._u, self._v, strict=True):  # rows: views
            if self.training:
                with torch.no_grad():
                    u.copy_(F.normalize(torch.mv(matrix, v), dim=0, eps=self.eps))
                    v.copy_(F.normalize(torch.mv(matrix.H, u), dim=0, eps=self.eps))
            sigmas.append(torch.vdot(u.clone(), torch.mv(matrix, v.clone())))
        return weight / torch.stack(sigmas).view(-1, 1, 1)

    def right_inverse(self, value: Tensor) -> Tensor:
        return value  # the stored weight is the unnormalized one


class StackedLinear(nn.Module):
    """``S`` linear layers at once: ``x`` ``[S, N, in]`` -> ``x_s W_s^T + b_s``
    ``[S, N, out]``, weight ``[S, out, in]``, bias ``[S, out]``."""

    def __init__(self, weight: Tensor, bias: Tensor | None) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = None if bias is None else nn.Parameter(bias)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight  # read once: a spectral norm's power iteration runs per read
        if 1 in weight.shape[1:]:
            # A single output (a discriminator's head) or input (1D data): a batched matmul
            # of such a shape sums in another order than one layer's; per member instead,
            # so that a member computes exactly what its copy computes.
            biases = [None] * len(x) if self.bias is None else self.bias
            return torch.stack([F.linear(*args) for args in zip(x, weight, biases, strict=True)])
        if self.bias is None:
            return torch.bmm(x, weight.transpose(1, 2))
        return torch.baddbmm(self.bias.unsqueeze(1), x, weight.transpose(1, 2))


def _stack_linear(layers: Sequence[nn.Linear]) -> StackedLinear:
    normalized = parametrize.is_parametrized(layers[0], "weight")
    if normalized:
        weight = torch.stack([layer.parametrizations.weight.original.detach() for layer in layers])
    else:
        weight = torch.stack([layer.weight.detach() for layer in layers])
    bias = (
        None if layers[0].bias is None else torch.stack([layer.bias.detach() for layer in layers])
    )
    stacked = StackedLinear(weight.clone(), None if bias is None else bias.clone())
    if normalized:
        norms = [layer.parametrizations.weight[0] for layer in layers]
        if any(len(layer.parametrizations.weight) != 1 for layer in layers) or any(
            norm.n_power_iterations != 1 or norm.dim != 0 for norm in norms
        ):
            raise NotStackableError("only one-iteration spectral norm on a linear weight stacks")
        u = torch.stack([norm._u for norm in norms]).clone()
        v = torch.stack([norm._v for norm in norms]).clone()
        # unsafe: registering would otherwise run one power iteration to check shapes
        norm = StackedSpectralNorm(u, v, norms[0].eps)
        parametrize.register_parametrization(stacked, "weight", norm, unsafe=True)
    return stacked


def _stack(modules: Sequence[nn.Module]) -> nn.Module:
    first = modules[0]
    # (by name: a parametrized layer's class is made for that one instance)
    if any(type(module).__name__ != type(first).__name__ for module in modules):
        raise NotStackableError("the copies differ in structure")
    if isinstance(first, nn.Linear):
        return _stack_linear(modules)
    if not isinstance(first, _PASS_THROUGH):
        raise NotStackableError(f"{type(first).__name__} has no stacked form")
    if first._buffers:
        raise NotStackableError(f"{type(first).__name__} has buffers")
    stacked = copy.copy(first)  # the same attributes; parameters and children replaced below
    stacked._buffers = {}
    stacked._parameters = {
        name: nn.Parameter(torch.stack([m._parameters[name].detach() for m in modules]).clone())
        for name in first._parameters
    }
    stacked._modules = {
        name: _stack([m._modules[name] for m in modules]) for name in first._modules
    }
    return stacked


def stack_networks(networks: Sequence[nn.Module]) -> nn.Module:
    """One module running ``networks`` (copies of one architecture, each its own weights)
    on ``[S, N, ...]`` batches, ``S = len(networks)``. Raises :class:`NotStackableError`
    for a network with a layer that has no stacked form."""
    if not networks:
        raise ValueError("nothing to stack")
    return _stack(list(networks))


def is_stacked(network: nn.Module) -> bool:
    """Whether ``network`` was made by :func:`stack_networks` (it has stacked layers)."""
    return any(isinstance(module, StackedLinear) for module in network.modules())


def member_state(stacked: nn.Module, index: int) -> dict[str, Tensor]:
    """Member ``index``'s state dict, for one copy of the stacked network (CPU clones)."""
    return {key: value[index].detach().cpu().clone() for key, value in stacked.state_dict().items()}
