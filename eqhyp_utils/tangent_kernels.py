r"""Layer tangent kernels of a fully connected network (Baratin et al. 2021).

The tangent features of layer l are the Jacobian of the outputs with respect to that layer's
parameters, :math:`\Phi_l = \partial f(x) / \partial\theta_l`, an (n·C) × p_l matrix over a data
set of n samples with C outputs. The layer tangent kernel is :math:`K_l = \Phi_l\Phi_l^\top`, and
the empirical NTK is their sum over layers.

For a dense layer :math:`z_l = W_l a_{l-1} + b_l` the Jacobian factorises exactly:

.. math::
    \frac{\partial f_a(x)}{\partial W_l} = \delta_l^a(x) \otimes a_{l-1}(x),\qquad
    \delta_l^a(x) = \frac{\partial f_a(x)}{\partial z_l(x)},

so that, with :math:`\tilde a = (a, 1)` when the bias is included,

.. math::
    K_l[(x,a),(x',b)] = \langle\delta_l^a(x), \delta_l^b(x')\rangle\,
                        \langle\tilde a_{l-1}(x), \tilde a_{l-1}(x')\rangle .

One forward pass records every :math:`a_{l-1}` and :math:`z_l`; C backward passes give every
:math:`\delta_l^a`. Nothing of size p_l is ever formed. Autograd handles whatever sits between the
layers (activations, residual connections), so this works for :class:`~eqhyp_utils.models.MLP`
and :class:`~eqhyp_utils.models.ResidualMLP` alike.

Kernel rows and columns are indexed sample-major: index ``x * C + a``. Layers are numbered
1 … L + 1 (output layer last); ``model.layers[l - 1]`` is layer l.

Devices: every entry point takes ``device`` (None: the device of the model's parameters; or "cpu",
"cuda", "cuda:N", a torch.device — see :func:`eqhyp_utils.devices.resolve_device`). The inputs and
copies of the parameters go there, every intermediate is made there, and the factors and kernels
are returned there as torch tensors (``.cpu()`` them when needed); nothing moves to the CPU on the way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from .errors import InvalidInputError, UnsupportedError

__all__ = ["LayerFactors", "layer_tangent_factors", "layer_tangent_kernels", "empirical_ntk",
           "reference_layer_tangent_kernels"]


@dataclass
class LayerFactors:
    """The two factors of layer ``l``'s tangent features over a data set.

    Attributes
    ----------
    l : layer index, 1 … L + 1 (output layer last).
    inputs : a_{l-1}(x), the layer's input, shape (n, N_{l-1}).
    deltas : δ_l^a(x) = ∂f_a(x)/∂z_l(x), shape (n, C, N_l).
    has_bias : whether the layer has a bias vector (its tangent features then include δ_l^a(x)).
    """

    l: int
    inputs: torch.Tensor
    deltas: torch.Tensor
    has_bias: bool = True

    def augmented_inputs(self, bias: bool = True) -> torch.Tensor:
        """ã_{l-1} = (a_{l-1}, 1) when the bias counts, else a_{l-1}; shape (n, N_{l-1} [+1])."""
        if not (bias and self.has_bias):
            return self.inputs
        ones = torch.ones(self.inputs.shape[0], 1, dtype=self.inputs.dtype, device=self.inputs.device)
        return torch.cat([self.inputs, ones], dim=1)


# ----------------------------------------------------------------------------------------------
# validation (public entry points only)

def _linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The nn.Linear layers of ``model.layers``; UnsupportedError for anything else with parameters."""
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (nn.ModuleList, list, tuple)) or len(layers) == 0:
        raise UnsupportedError(
            f"Expected a model with a non-empty `model.layers` list of nn.Linear layers (as MLP and "
            f"ResidualMLP have), got {type(model).__name__} without one. Build the network with "
            f"eqhyp_utils.models.build_model.")
    for i, layer in enumerate(layers):
        if not isinstance(layer, nn.Linear):
            raise UnsupportedError(
                f"Expected every entry of model.layers to be an nn.Linear, but layer {i + 1} is a "
                f"{type(layer).__name__}. Tangent kernels are implemented for dense layers only.")
    known = {id(layer) for layer in layers}
    for name, module in model.named_modules():
        if id(module) in known:
            continue
        if any(True for _ in module.parameters(recurse=False)):
            raise UnsupportedError(
                f"Module '{name}' ({type(module).__name__}) has parameters but is not an nn.Linear of "
                f"model.layers. Tangent kernels are implemented for networks whose parameters all sit "
                f"in the dense layers of model.layers; remove or freeze that module into a plain function.")
    return list(layers)


def _compute_device(model: nn.Module, device: "str | torch.device | None") -> torch.device:
    """Where to compute: ``device`` (checked by :func:`~eqhyp_utils.devices.resolve_device`), or the
    device of the model's parameters when None."""
    if device is None:
        first = next(model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")
    from .devices import resolve_device

    return resolve_device(device)


def _as_inputs(x: "torch.Tensor | np.ndarray", in_features: int, dtype: torch.dtype,
               device: "torch.device | None" = None) -> torch.Tensor:
    x = torch.as_tensor(x)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] != in_features:
        raise InvalidInputError(
            f"Expected inputs x of shape (n, {in_features}) with n >= 1, got shape {tuple(x.shape)}. "
            f"Stack the samples along the first dimension.")
    if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
        raise InvalidInputError(f"Expected real-valued inputs x, got dtype {x.dtype}.")
    x = x.to(dtype) if device is None else x.to(device=device, dtype=dtype)
    if not torch.isfinite(x).all():
        raise InvalidInputError("Inputs x contain NaN or infinite values; clean the data first.")
    return x


def _check_dtype(dtype: torch.dtype) -> None:
    if dtype not in (torch.float32, torch.float64):
        raise InvalidInputError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}.")


def _select_layers(layers: "Iterable[int] | None", n_layers: int) -> list[int]:
    if layers is None:
        return list(range(1, n_layers + 1))
    chosen = [int(l) for l in layers]
    bad = [l for l in chosen if not 1 <= l <= n_layers]
    if bad or not chosen:
        raise InvalidInputError(
            f"layers must be a non-empty list of layer indices in 1..{n_layers} (1-based, output layer "
            f"last), got {list(layers)!r}.")
    return chosen


def _cast_parameters(model: nn.Module, dtype: torch.dtype,
                     device: "torch.device | None" = None) -> dict[str, torch.Tensor]:
    """Detached copies of the parameters in ``dtype`` (on ``device``, default: where they are) that
    require grad (the model is not modified)."""
    if device is None:
        return {name: p.detach().to(dtype).requires_grad_(True) for name, p in model.named_parameters()}
    return {name: p.detach().to(device=device, dtype=dtype).requires_grad_(True)
            for name, p in model.named_parameters()}


# ----------------------------------------------------------------------------------------------
# the two factors: one forward pass, C backward passes

def _tangent_factors(model: nn.Module, layers: Sequence[nn.Linear], x: torch.Tensor,
                     dtype: torch.dtype) -> list[LayerFactors]:
    """Inner routine of :func:`layer_tangent_factors`: inputs are already validated and on the device
    of the computation (the parameters are copied there)."""
    records: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {i: [] for i in range(len(layers))}

    def make_hook(i: int):
        def hook(module, args, output):
            records[i].append((args[0].detach(), output))
        return hook

    handles = [layer.register_forward_hook(make_hook(i)) for i, layer in enumerate(layers)]
    try:
        with torch.enable_grad():
            f = functional_call(model, _cast_parameters(model, dtype, x.device), (x,))
    finally:
        for handle in handles:
            handle.remove()

    for i, rec in records.items():
        if len(rec) != 1:
            raise UnsupportedError(
                f"Layer {i + 1} (model.layers[{i}]) was called {len(rec)} times in one forward pass; "
                f"expected exactly once (each dense layer used once per sample).")
    if f.ndim != 2 or f.shape[0] != x.shape[0]:
        raise UnsupportedError(f"Expected the model to return outputs of shape (n, C), got {tuple(f.shape)}.")
    n, C = f.shape
    z = [records[i][0][1] for i in range(len(layers))]
    deltas = [torch.empty(n, C, zi.shape[1], dtype=dtype, device=f.device) for zi in z]
    for a in range(C):
        grad_out = torch.zeros_like(f)
        grad_out[:, a] = 1.0
        grads = torch.autograd.grad(f, z, grad_outputs=grad_out, retain_graph=a < C - 1)
        for d, g in zip(deltas, grads):
            d[:, a, :] = g
    return [LayerFactors(l=i + 1, inputs=records[i][0][0], deltas=deltas[i],
                         has_bias=layers[i].bias is not None) for i in range(len(layers))]


def layer_tangent_factors(model: nn.Module, x: "torch.Tensor | np.ndarray", *,
                          dtype: torch.dtype = torch.float64,
                          device: "str | torch.device | None" = None) -> list[LayerFactors]:
    r"""Inputs a_{l-1}(x) and backward signals δ_l^a(x) = ∂f_a(x)/∂z_l(x) of every dense layer.

    One forward pass with hooks on the layers of ``model.layers`` records each layer's input and
    output z_l; C backward passes (one per output a) give δ_l^a. The tangent features of layer l
    are then ∂f_a(x)/∂W_l = δ_l^a(x) ⊗ a_{l-1}(x) and ∂f_a(x)/∂b_l = δ_l^a(x) (Baratin et al. 2021).

    The computation runs on copies of the parameters cast to ``dtype`` and placed on ``device``
    (None: the model's device); the model is not changed. Returns one :class:`LayerFactors` per
    layer, in layer order 1 … L + 1, with tensors on that device.
    """
    layers = _linear_layers(model)
    _check_dtype(dtype)
    x = _as_inputs(x, layers[0].in_features, dtype, _compute_device(model, device))
    return _tangent_factors(model, layers, x, dtype)


# ----------------------------------------------------------------------------------------------
# materialised kernels (teaching, small n)

def _double_centre_blocks(K: torch.Tensor, n: int, C: int) -> torch.Tensor:
    """Double-centre every (a, b) block over the sample index: K̃ = (H ⊗ I_C) K (H ⊗ I_C), H = I − 11ᵀ/n."""
    K4 = K.view(n, C, n, C)
    K4 = K4 - K4.mean(dim=0, keepdim=True)
    K4 = K4 - K4.mean(dim=2, keepdim=True)
    return K4.reshape(n * C, n * C)


def _kernel_from_factors(factors: LayerFactors, bias: bool, centre: bool) -> torch.Tensor:
    D = factors.deltas
    n, C, N = D.shape
    A = factors.augmented_inputs(bias)
    D_flat = D.reshape(n * C, N)
    K = (D_flat @ D_flat.T).view(n, C, n, C) * (A @ A.T)[:, None, :, None]
    K = K.reshape(n * C, n * C)
    return _double_centre_blocks(K, n, C) if centre else K


def layer_tangent_kernels(model: nn.Module, x: "torch.Tensor | np.ndarray", *, bias: bool = True,
                          centre: bool = False, dtype: torch.dtype = torch.float64,
                          layers: "Iterable[int] | None" = None,
                          device: "str | torch.device | None" = None) -> list[torch.Tensor]:
    r"""Materialised layer tangent kernels K_l = Φ_l Φ_lᵀ, each of shape (n·C, n·C).

    Uses the exact factorisation
    K_l[(x,a),(x',b)] = ⟨δ_l^a(x), δ_l^b(x')⟩ (⟨a_{l-1}(x), a_{l-1}(x')⟩ + 1[bias])
    (Baratin et al. 2021); rows and columns are indexed sample-major, ``x * C + a``.

    bias : include the bias in θ_l (``False``: θ_l is the weight matrix W_l only).
    centre : centre the tangent features over samples, per output (Baratin's official code);
        in kernel form, each (a, b) block is double-centred over the sample index.
    layers : 1-based layer indices to return (default: all L + 1, output layer last).
    device : where to compute, and where the kernels are returned (None: the model's device).

    Memory grows as (n·C)² per layer: meant for teaching and small n. For alignments at large n use
    :func:`eqhyp_utils.alignment.layerwise_alignment`, which never forms K_l.
    """
    model_layers = _linear_layers(model)
    _check_dtype(dtype)
    chosen = _select_layers(layers, len(model_layers))
    x = _as_inputs(x, model_layers[0].in_features, dtype, _compute_device(model, device))
    factors = _tangent_factors(model, model_layers, x, dtype)
    return [_kernel_from_factors(factors[l - 1], bias, centre) for l in chosen]


def empirical_ntk(model: nn.Module, x: "torch.Tensor | np.ndarray", *, bias: bool = True,
                  centre: bool = False, dtype: torch.dtype = torch.float64,
                  layers: "Iterable[int] | None" = None,
                  device: "str | torch.device | None" = None) -> torch.Tensor:
    """The empirical NTK Θ = Σ_l K_l (Jacot et al. 2018), shape (n·C, n·C), sample-major.

    Same options as :func:`layer_tangent_kernels`; ``layers`` restricts the sum.
    """
    return torch.stack(layer_tangent_kernels(model, x, bias=bias, centre=centre, dtype=dtype,
                                             layers=layers, device=device)).sum(dim=0)


# ----------------------------------------------------------------------------------------------
# the slow, obvious reference: explicit Jacobians with torch.func

def reference_layer_tangent_kernels(model: nn.Module, x: "torch.Tensor | np.ndarray", *,
                                    bias: bool = True, centre: bool = False,
                                    dtype: torch.dtype = torch.float64,
                                    layers: "Iterable[int] | None" = None,
                                    device: "str | torch.device | None" = None) -> list[torch.Tensor]:
    r"""Layer tangent kernels from explicit Jacobians (torch.func: functional_call + jacrev + vmap).

    For each layer l, Φ_l = ∂f(x)/∂θ_l is built as an (n·C) × p_l matrix (rows sample-major),
    optionally centred over samples per output, and K_l = Φ_l Φ_lᵀ. Same conventions and result as
    :func:`layer_tangent_kernels`, at the cost of forming Φ_l: use it to check the fast path.
    ``device``: where to compute and return the kernels (None: the model's device).
    """
    model_layers = _linear_layers(model)
    _check_dtype(dtype)
    chosen = _select_layers(layers, len(model_layers))
    x = _as_inputs(x, model_layers[0].in_features, dtype, _compute_device(model, device))
    params = {name: p.detach() for name, p in _cast_parameters(model, dtype, x.device).items()}
    name_of = {id(p): name for name, p in model.named_parameters()}

    kernels = []
    for l in chosen:
        layer = model_layers[l - 1]
        names = [name_of[id(layer.weight)]]
        if bias and layer.bias is not None:
            names.append(name_of[id(layer.bias)])

        def f_single(theta: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
            return functional_call(model, {**params, **theta}, (xi[None],))[0]

        theta_l = {name: params[name] for name in names}
        jac = vmap(jacrev(f_single), in_dims=(None, 0))(theta_l, x)     # name -> (n, C, *shape)
        n, C = jac[names[0]].shape[:2]
        Phi = torch.cat([jac.pop(name).reshape(n, C, -1) for name in names], dim=2)
        if centre:
            Phi -= Phi.mean(dim=0, keepdim=True)
        Phi = Phi.reshape(n * C, -1)
        kernels.append(Phi @ Phi.T)
        del Phi
    return kernels
