r"""Kernel alignment, and the layer-wise tangent-kernel alignment of Baratin et al. (2021).

The alignment of a kernel K with the labels is the cosine between K and the target yyᵀ:

.. math:: A(K, y) = \frac{\langle K, y y^\top\rangle_F}{\|K\|_F\,\|y y^\top\|_F}
                  = \frac{y^\top K y}{\|K\|_F\,\|y\|^2}.

For tangent kernels (shape (n·C) × (n·C), sample-major) y is the one-hot label matrix Y (n, C),
centred over samples and flattened sample-major (Baratin et al. 2021). A is unchanged when K is
rescaled, and when samples (and their labels) are permuted together.

:func:`layerwise_alignment` gives A_l for every layer without forming K_l:

* the numerator is a gradient norm, yᵀK_l y = ‖Φ_lᵀ y‖² = ‖Σ_{x,a} y_{xa} δ_l^a(x) ⊗ ã_{l-1}(x)‖_F²,
  the squared norm of the gradient of ⟨y, f⟩ with respect to θ_l (:func:`label_gradient_norms`);
* ‖K_l‖_F² is accumulated over tiles of sample blocks, each tile formed from the factors of
  :mod:`eqhyp_utils.tangent_kernels`, centred exactly, squared, summed in float64, and dropped.

Per-layer results are numpy float64 arrays of length L + 1 whose entry i belongs to layer i + 1.

Devices: :func:`layerwise_alignment` and :func:`label_gradient_norms` compute where ``device`` says
(None: where the model's parameters are; "cpu", "cuda", "cuda:N" or a torch.device). The inputs, the
copies of the parameters, the factors, the centring terms and the tiles all live there, and the tile
sums are accumulated there in float64; only the per-layer results come back, as numpy arrays. On the
CPU the arithmetic is exactly that of the CPU-only code; on a GPU, float64 results agree with it to
rounding (reductions run in another order), not bit for bit.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from tqdm.auto import tqdm

from .errors import InvalidInputError
from .tangent_kernels import (LayerFactors, _as_inputs, _cast_parameters, _check_dtype, _compute_device,
                              _linear_layers, _tangent_factors)

__all__ = ["one_hot_labels", "kernel_alignment", "kernel_target_alignment",
           "centered_kernel_alignment", "layerwise_alignment", "label_gradient_norms"]


# ----------------------------------------------------------------------------------------------
# validation

def _as_labels(labels: "torch.Tensor | np.ndarray | Sequence[int]", n_classes: "int | None") -> tuple[torch.Tensor, int]:
    labels_t = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
    if labels_t.ndim != 1 or labels_t.numel() == 0:
        raise InvalidInputError(
            f"Expected class labels as a non-empty 1-D sequence of integers, got shape {tuple(labels_t.shape)}.")
    if labels_t.is_floating_point():
        if not torch.isfinite(labels_t).all():
            raise InvalidInputError("Labels contain NaN or infinite values; expected integers 0..C-1.")
        if not torch.equal(labels_t, labels_t.round()):
            raise InvalidInputError("Expected integer class labels, got non-integer values.")
    elif labels_t.dtype == torch.bool or labels_t.is_complex():
        raise InvalidInputError(f"Expected integer class labels, got dtype {labels_t.dtype}.")
    labels_t = labels_t.to(torch.int64)
    low, high = int(labels_t.min()), int(labels_t.max())
    if n_classes is None:
        n_classes = high + 1
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise InvalidInputError(f"n_classes must be a positive integer, got {n_classes!r}.")
    if low < 0 or high >= n_classes:
        raise InvalidInputError(
            f"Labels must lie in 0..{n_classes - 1} (n_classes = {n_classes}), got values in {low}..{high}. "
            f"Relabel the classes as 0..C-1 or pass the right n_classes.")
    return labels_t, int(n_classes)


def _as_kernel(K: "torch.Tensor | np.ndarray", name: str = "K") -> torch.Tensor:
    K = torch.as_tensor(K).to(torch.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise InvalidInputError(f"Expected {name} to be a non-empty square matrix, got shape {tuple(K.shape)}.")
    if not torch.isfinite(K).all():
        raise InvalidInputError(f"{name} contains NaN or infinite values.")
    norm = torch.linalg.matrix_norm(K)
    if norm == 0:
        raise InvalidInputError(f"{name} has zero Frobenius norm; the alignment is undefined.")
    return K


def _targets(labels_or_Y, n_rows: int, n_classes: "int | None", centre: bool) -> torch.Tensor:
    """The target factor F (rows matching the kernel): the flattened y (column) or Y itself.

    A kernel of size n·C is paired with y = vec(Y) (sample-major); a kernel of size n with Y.
    """
    Y_in = torch.as_tensor(labels_or_Y) if not isinstance(labels_or_Y, torch.Tensor) else labels_or_Y
    if Y_in.ndim == 2:                                                  # a target matrix (n, C)
        Y = Y_in.to(torch.float64)
        if not torch.isfinite(Y).all():
            raise InvalidInputError("The target matrix Y contains NaN or infinite values.")
        if centre:
            Y = Y - Y.mean(dim=0, keepdim=True)
    else:
        n = Y_in.shape[0] if Y_in.ndim == 1 else 0
        if n and n_classes is None and n_rows % n == 0 and n_rows != n:
            n_classes = n_rows // n                                     # C read off the kernel size
        Y = one_hot_labels(Y_in, n_classes, centre=centre)
    n, C = Y.shape
    if n_rows == n * C:
        F = Y.reshape(n * C, 1)
    elif n_rows == n:
        F = Y
    else:
        raise InvalidInputError(
            f"The kernel has {n_rows} rows but the targets describe n = {n} samples with C = {C} classes; "
            f"expected a kernel of size n·C = {n * C} (tangent kernel, sample-major) or n = {n}.")
    if torch.linalg.matrix_norm(F) == 0:
        raise InvalidInputError(
            "The target is zero (after centring, labels of a single class are all zero); "
            "the alignment needs at least two classes among the samples.")
    return F


def _cosine_with_target(K: torch.Tensor, F: torch.Tensor) -> float:
    """⟨K, FFᵀ⟩_F / (‖K‖_F ‖FFᵀ‖_F), using ⟨K, FFᵀ⟩ = tr(FᵀKF) and ‖FFᵀ‖_F = ‖FᵀF‖_F (on K's device)."""
    F = F.to(K.device)
    numerator = torch.trace(F.T @ K @ F)
    return float(numerator / (torch.linalg.matrix_norm(K) * torch.linalg.matrix_norm(F.T @ F)))


# ----------------------------------------------------------------------------------------------
# alignments of a given kernel

def one_hot_labels(labels: "torch.Tensor | np.ndarray | Sequence[int]", n_classes: "int | None" = None, *,
                   centre: bool = True) -> torch.Tensor:
    """One-hot label matrix Y of shape (n, C), float64; ``centre=True`` subtracts the class frequencies
    (the mean over samples), so every column of Y sums to zero.

    C is ``n_classes``, or max(labels) + 1 when not given.
    """
    labels_t, C = _as_labels(labels, n_classes)
    Y = torch.nn.functional.one_hot(labels_t, C).to(torch.float64)
    if centre:
        Y = Y - Y.mean(dim=0, keepdim=True)
    return Y


def kernel_alignment(K: "torch.Tensor | np.ndarray", labels_or_Y, *, n_classes: "int | None" = None) -> float:
    r"""Baratin et al. (2021) alignment A = yᵀ K y / (‖K‖_F ‖y‖²), y = centred one-hot labels.

    K : a tangent kernel of shape (n·C, n·C), rows indexed sample-major (x * C + a); y = vec(Ỹ),
        Ỹ the one-hot labels centred over samples. A kernel of shape (n, n) is also accepted: it is
        then aligned with ỸỸᵀ, A = ⟨K, ỸỸᵀ⟩_F / (‖K‖_F ‖ỸỸᵀ‖_F).
    labels_or_Y : integer labels (n,) in 0..C-1, or a target matrix Y (n, C) (centred here).
    n_classes : C; read off the kernel size when not given.

    Invariances: K → cK (c > 0) leaves A unchanged; permuting the samples of K and the labels
    together leaves A unchanged. For centred tangent kernels A is Baratin's "centred alignment".
    """
    K = _as_kernel(K)
    return _cosine_with_target(K, _targets(labels_or_Y, K.shape[0], n_classes, centre=True))


def kernel_target_alignment(K: "torch.Tensor | np.ndarray", labels_or_Y, *,
                            n_classes: "int | None" = None) -> float:
    r"""Uncentred kernel–target alignment (Cristianini, Shawe-Taylor, Elisseeff, Kandola 2002).

    A = ⟨K, yyᵀ⟩_F / (‖K‖_F ‖yyᵀ‖_F) with y the *uncentred* one-hot labels (vec(Y) for a kernel of
    size n·C, sample-major; YYᵀ for a kernel of size n). Invariant to K → cK (c > 0) and to permuting
    samples and labels together; unlike :func:`kernel_alignment` it rewards a constant offset in K.
    """
    K = _as_kernel(K)
    return _cosine_with_target(K, _targets(labels_or_Y, K.shape[0], n_classes, centre=False))


def centered_kernel_alignment(K1: "torch.Tensor | np.ndarray", K2: "torch.Tensor | np.ndarray") -> float:
    r"""Centred kernel alignment (Cortes, Mohri, Rostamizadeh 2012; Kornblith et al. 2019).

    CKA(K1, K2) = ⟨HK1H, HK2H⟩_F / (‖HK1H‖_F ‖HK2H‖_F), H = I − 11ᵀ/m, m the kernel size.
    Symmetric, CKA(K, K) = 1, invariant to K_i → c K_i (c > 0), to a common permutation of rows and
    columns, and (through H) to adding a constant to either kernel.
    """
    K1, K2 = _as_kernel(K1, "K1"), _as_kernel(K2, "K2")
    if K1.shape != K2.shape:
        raise InvalidInputError(f"K1 and K2 must have the same shape, got {tuple(K1.shape)} and {tuple(K2.shape)}.")

    def centre(K: torch.Tensor, name: str) -> torch.Tensor:
        Kc = K - K.mean(dim=0, keepdim=True) - K.mean(dim=1, keepdim=True) + K.mean()
        if torch.linalg.matrix_norm(Kc) <= 1e-14 * torch.linalg.matrix_norm(K):
            raise InvalidInputError(f"{name} is constant up to centring (HKH = 0); CKA is undefined.")
        return Kc

    K1c, K2c = centre(K1, "K1"), centre(K2, "K2")
    return float((K1c * K2c).sum() / (torch.linalg.matrix_norm(K1c) * torch.linalg.matrix_norm(K2c)))


# ----------------------------------------------------------------------------------------------
# layer-wise alignment of a network, without forming the kernels

def output_layer_ceiling(n_classes: int) -> float:
    """Upper bound 1/√(C(C−1)) of the output layer's alignment for balanced labels (docs/science.md §2).

    K_{L+1} = G ⊗ I_C is block-diagonal in the classes, so by Cauchy–Schwarz
    A_{L+1} ≤ ‖ỸᵀỸ‖_F / (√C tr ỸᵀỸ), which equals 1/√(C(C−1)) when the classes are balanced.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise InvalidInputError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    return 1.0 / math.sqrt(n_classes * (n_classes - 1))


def _check_model_inputs(model: nn.Module, x, labels, n_classes: "int | None", dtype: torch.dtype,
                        device: "str | torch.device | None" = None):
    """(layers, x on the device of the computation, labels on the CPU, C)."""
    layers = _linear_layers(model)
    _check_dtype(dtype)
    x = _as_inputs(x, layers[0].in_features, dtype, _compute_device(model, device))
    C = layers[-1].out_features
    if n_classes is not None and n_classes != C:
        raise InvalidInputError(f"n_classes = {n_classes} but the model has C = {C} outputs; they must agree.")
    labels_t, _ = _as_labels(labels, C)
    if labels_t.shape[0] != x.shape[0]:
        raise InvalidInputError(
            f"Got {x.shape[0]} samples in x but {labels_t.shape[0]} labels; expected one label per sample.")
    return layers, x, labels_t, C


def _label_gradient_norm(factors: LayerFactors, Y: torch.Tensor, bias: bool) -> float:
    """‖Σ_{x,a} Y[x,a] δ^a(x) ⊗ ã(x)‖_F² = yᵀ K y, in float64."""
    D64 = factors.deltas.to(torch.float64)
    g = (Y.to(D64.device)[:, None, :] @ D64)[:, 0, :]                           # Σ_a y_xa δ^a(x), (n, N_l)
    V = g.T @ factors.augmented_inputs(bias).to(torch.float64)               # (N_l, N_{l-1} [+1])
    return float((V * V).sum())


def _centred_gram_norm2(factors: LayerFactors, bias: bool, centre: bool, block_size: int,
                        bar: "tqdm | None" = None) -> float:
    r"""‖K̃_l‖_F² accumulated over tiles (I, J) of sample blocks, J ≥ I (off-diagonal tiles twice).

    Tile: K[(x,a),(x',b)] = ⟨δ^a(x), δ^b(x')⟩ ⟨ã(x), ã(x')⟩ for x ∈ I, x' ∈ J. Centring the tangent
    features over samples, Φ̃(x,a) = Φ(x,a) − μ_a with μ_a = (1/n) Σ_x δ^a(x) ã(x)ᵀ, gives
    K̃ = K − R[x',a,b] − R[x,b,a] + m[a,b], with R[x',a,b] = δ^b(x')ᵀ μ_a ã(x') (the mean over x of
    block (a, b)'s column x') and m[a,b] = ⟨μ_a, μ_b⟩ = mean_x' R[x',a,b].
    """
    D, A = factors.deltas, factors.augmented_inputs(bias)
    n, C, N = D.shape
    tile_dtype = D.dtype
    blocks = [(start, min(start + block_size, n)) for start in range(0, n, block_size)]

    if centre:
        # R and m in float64, one sample block at a time (μ is N_l × N_{l-1}+1 per output).
        D64, A64 = D.to(torch.float64).reshape(n, C * N), A.to(torch.float64)
        mu = (D64.T @ A64) / n                                                # rows (a, i): μ_a, (C·N, P)
        R = torch.empty(n, C, C, dtype=torch.float64, device=D.device)
        for s, e in blocks:
            U = (A64[s:e] @ mu.T).view(e - s, C, N)                           # U[x', a] = μ_a ã(x')
            R[s:e] = U @ D64[s:e].view(e - s, C, N).transpose(1, 2)           # δ^b(x')ᵀ μ_a ã(x')
        del D64, A64, mu, U
        half_m = R.mean(dim=0) / 2                                            # m[a,b] / 2
        col = (R - half_m).permute(1, 0, 2).to(tile_dtype)                   # [a, x', b]
        row = (R.transpose(1, 2) - half_m).to(tile_dtype)                    # [x, a, b] = R[x,b,a] − m/2
        del R

    D_flat = D.reshape(n * C, N)
    total = 0.0
    # On the CPU each tile's sum becomes a Python float; elsewhere the float64 running total stays on
    # the device (no synchronisation per tile). Both add the same float64 numbers in the same order.
    on_device = _sum_on_device(D.device)
    running = torch.zeros((), dtype=torch.float64, device=D.device) if on_device else None
    tile = torch.empty(min(block_size, n) * C, min(block_size, n) * C, dtype=tile_dtype, device=D.device)
    for i, (si, ei) in enumerate(blocks):
        for sj, ej in blocks[i:]:
            bi, bj = ei - si, ej - sj
            T = tile[: bi * C, : bj * C]
            torch.mm(D_flat[si * C: ei * C], D_flat[sj * C: ej * C].T, out=T)
            T4 = T.view(bi, C, bj, C)
            T4.mul_((A[si:ei] @ A[sj:ej].T)[:, None, :, None])
            if centre:
                T4.sub_(col[None, :, sj:ej, :])
                T4.sub_(row[si:ei, :, None, :])
            T.square_()
            weight = 1.0 if si == sj else 2.0
            if on_device:
                running += weight * T.sum().to(torch.float64)
            else:
                total += weight * float(T.sum())    # cascade sum within the tile, float64 across tiles
            if bar is not None:
                bar.update(1)
    return float(running) if on_device else total


def _sum_on_device(device: torch.device) -> bool:
    """Whether :func:`_centred_gram_norm2` keeps its running total on ``device`` (every device but the CPU)."""
    return device.type != "cpu"


def layerwise_alignment(model: nn.Module, x: "torch.Tensor | np.ndarray", labels, *,
                        n_classes: "int | None" = None, centre: bool = True, bias: bool = True,
                        dtype: torch.dtype = torch.float64, block_size: int = 128,
                        progress: bool = False, device: "str | torch.device | None" = None) -> np.ndarray:
    r"""Alignment A_l = yᵀ K̃_l y / (‖K̃_l‖_F ‖y‖²) of every layer's tangent kernel with the labels.

    Equal to ``kernel_alignment(layer_tangent_kernels(model, x, centre=centre, bias=bias)[l-1], labels)``
    (Baratin et al. 2021) but never forms K_l nor a Jacobian: the numerator is the label-gradient norm
    ‖Σ_{x,a} y_{xa} δ_l^a(x) ⊗ ã_{l-1}(x)‖_F² (unchanged by centring because y is centred), and ‖K̃_l‖_F²
    is accumulated tile by tile (tiles of ``block_size`` samples, only J ≥ I, sums in float64).
    Memory: the factors, O(n·C·N) per layer, plus one (block_size·C)² tile. Cost: the tiles' matrix
    products, n²C²N_l per layer for the whole Gram; computing only the tiles J ≥ I takes the fraction
    (k + 1)/(2k) of it for k blocks, which is why small blocks are faster (measured at n = 1024,
    depth 10, width 256, 2 threads, float32: 6.5 s with blocks of 512, 3.4 s with 128).

    centre : centre the tangent features over samples, per output (Baratin's official code).
    bias : include the biases in θ_l.
    dtype : dtype of the forward/backward pass and of the tiles. ``torch.float32`` is faster and
        lighter; tile sums are still accumulated in float64, and the centring terms are computed in
        float64 (measured: ≤ 2e-7 relative to float64, n = 32–1024, depth 10, width 256, ReLU at init).
    progress : show a tqdm bar over tiles.
    device : where to compute (None: the device of the model's parameters); see the module docstring.
        On a GPU, larger blocks (e.g. 1024) keep it busy; the memory of a tile is (block_size·C)² numbers.

    Returns a numpy float64 array of length L + 1; entry i belongs to layer i + 1 (output layer last).
    A layer whose centred kernel is exactly zero (all the units it depends on dead) gets NaN: its
    alignment is undefined.
    """
    layers, x, labels_t, C = _check_model_inputs(model, x, labels, n_classes, dtype, device)
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise InvalidInputError(f"block_size must be a positive integer, got {block_size!r}.")
    Y = one_hot_labels(labels_t, C, centre=True)
    y_norm2 = float((Y * Y).sum())
    Y = Y.to(x.device)
    if y_norm2 == 0:
        raise InvalidInputError("All labels are of one class: the centred target is zero and A is undefined.")

    factors = _tangent_factors(model, layers, x, dtype)
    n_blocks = math.ceil(x.shape[0] / block_size)
    bar = tqdm(total=len(factors) * n_blocks * (n_blocks + 1) // 2, desc="layer tiles",
               disable=not progress, leave=False)
    out = np.empty(len(factors), dtype=np.float64)
    for i in range(len(factors)):
        f = factors[i]
        numerator = _label_gradient_norm(f, Y, bias)
        gram_norm = math.sqrt(_centred_gram_norm2(f, bias, centre, int(block_size), bar))
        # a layer whose (centred) kernel vanishes — e.g. every ReLU unit below it dead — has no alignment
        out[i] = numerator / (gram_norm * y_norm2) if gram_norm > 0 else math.nan
        factors[i] = None                                                     # free the layer's factors
    bar.close()
    return out


def label_gradient_norms(model: nn.Module, x: "torch.Tensor | np.ndarray", labels, *,
                         n_classes: "int | None" = None, bias: bool = True, centre_labels: bool = True,
                         dtype: torch.dtype = torch.float64,
                         device: "str | torch.device | None" = None) -> np.ndarray:
    r"""Numerators yᵀ K_l y of the layer alignments, for every layer, from ONE backward pass.

    yᵀ K_l y = ‖Φ_lᵀ y‖² = ‖∂⟨y, f⟩/∂θ_l‖²: the squared norm of the gradient of the scalar
    Σ_{x,a} y_{xa} f_a(x) with respect to layer l's parameters — the euclidean product of the
    tangent features and the labels. y is the one-hot label matrix, centred over samples when
    ``centre_labels`` (Baratin's y; the value is then the same for centred and uncentred kernels).

    ``device``: where to compute (None: the device of the model's parameters).

    Returns a numpy float64 array of length L + 1; entry i belongs to layer i + 1 (output layer last).
    """
    layers, x, labels_t, C = _check_model_inputs(model, x, labels, n_classes, dtype, device)
    Y = one_hot_labels(labels_t, C, centre=centre_labels).to(device=x.device, dtype=dtype)
    params = _cast_parameters(model, dtype, x.device)
    name_of = {id(p): name for name, p in model.named_parameters()}
    with torch.enable_grad():
        f = functional_call(model, params, (x,))
        grads = torch.autograd.grad((Y * f).sum(), list(params.values()), allow_unused=True)
    grad_of = dict(zip(params.keys(), grads))
    out = np.zeros(len(layers), dtype=np.float64)
    for i, layer in enumerate(layers):
        members = [layer.weight] + ([layer.bias] if bias and layer.bias is not None else [])
        out[i] = sum(float((grad_of[name_of[id(p)]].to(torch.float64) ** 2).sum()) for p in members)
    return out
