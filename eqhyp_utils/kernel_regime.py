r"""The kernel regime and how a finite network leaves it (notebook 4, §4.3–4.4).

At infinite width, layer l's tangent kernel at initialisation is :math:`\Theta_l \otimes I_C`
(Jacot et al. 2018), and in the kernel ("lazy") regime it stays so during training. Such a kernel
couples no two outputs, so *every* layer's alignment is capped like the output layer's,
:math:`A_l \le 1/\sqrt{C(C-1)}` for balanced classes
(:func:`~eqhyp_utils.alignment.output_layer_ceiling`). A finite network can exceed the cap only by
changing its kernel — by learning features ("rich" training).

* :func:`infinite_width_layer_kernels` — :math:`\Theta_l` in either parametrisation. The course's
  networks (:mod:`eqhyp_utils.models`) use the **standard** one, :math:`W = \sigma_w\tilde W/\sqrt{\text{fan\_in}}`
  with gradients taken with respect to :math:`W` and :math:`b`; the NTK parametrisation takes them
  with respect to :math:`\tilde W` and :math:`\tilde b = b/\sigma_b`. For a plain network

  .. math::
      \Theta^{\text{NTK}}_l = \big(\sigma_w^2\,\Sigma^a_{l-1} + \sigma_b^2\big)\odot\Sigma^\delta_l,\qquad
      \frac{\sigma_w^2}{N_{l-1}}\,K^{\text{SP}}_l \to \big(\sigma_w^2\,\Sigma^a_{l-1} + \tfrac{\sigma_w^2}{N_{l-1}}\big)\odot\Sigma^\delta_l,

  with :math:`\Sigma^\delta_l = \prod_{k=l}^{L}\sigma_w^2\dot\Sigma_k` and :math:`\Sigma^a_0 = XX^\top/d`:
  the weights' part is the same, the bias's part is :math:`\sigma_b^2` in one and
  :math:`\sigma_w^2/N_{l-1}` (the bias is one of :math:`N_{l-1} + 1` inputs of a unit) in the other,
  and the standard kernel carries the factor :math:`N_{l-1}/\sigma_w^2`, which alignment ignores.
  At σ_b = 0 and infinite hidden width the two differ only in layer 1's bias term.
* :func:`width_sweep_config` and :func:`train_width_sweep` — the lazy-versus-rich demo: the course's
  training recipe at several widths with the learning rate scaled as 1/width, so that every width
  takes steps of the same size in function space (what the NTK parametrisation does by construction).

Per-layer arrays are indexed by layer 1 … L + 1, output layer last.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .activations import Activation, get_activation
from .errors import InvalidInputError
from .signal_propagation import _pairwise

__all__ = ["PARAMETRISATIONS", "infinite_width_layer_kernels", "width_sweep_config", "train_width_sweep",
           "WIDTH_SWEEP_LR_TIMES_WIDTH", "hidden_layer_maximum"]

PARAMETRISATIONS = ("standard", "ntk")
"""The parametrisations :func:`infinite_width_layer_kernels` knows; the course's networks are ``"standard"``."""

WIDTH_SWEEP_LR_TIMES_WIDTH = 3.2
"""Learning rate × width of the width sweep (lr = 0.05 at width 64)."""


def infinite_width_layer_kernels(activation: "str | Activation", sigma_w2: float, sigma_b2: float, depth: int,
                                 x: np.ndarray, *, parametrisation: str = "standard",
                                 width: "int | None" = None) -> np.ndarray:
    r"""Layer tangent kernels at initialisation in the infinite-width limit, shape (L + 1, n, n).

    ``parametrisation="ntk"``: :math:`\Theta^{\text{NTK}}_l` of the module docstring, equal to
    :func:`eqhyp_utils.signal_propagation.mean_field_layer_ntk`. ``"standard"`` (the course's networks):
    the limit of :math:`(\sigma_w^2/N_{l-1})\,K_l`, whose bias term is :math:`\sigma_w^2/N_{l-1}` —
    :math:`\sigma_w^2/d` for layer 1, and :math:`\sigma_w^2/` ``width`` for the others (0 when
    ``width`` is None, the infinite-width limit). Multiply entry l − 1 by :math:`N_{l-1}/\sigma_w^2`
    for the kernel of the network itself; alignment does not need it. For C outputs each kernel is
    :math:`\Theta_l\otimes I_C`. ``x``: inputs of shape (n, d). Plain networks only (no residual branch).
    """
    act = get_activation(activation)
    if parametrisation not in PARAMETRISATIONS:
        raise InvalidInputError(f"parametrisation must be one of {PARAMETRISATIONS}, got {parametrisation!r}.")
    for name, value, low in (("sigma_w2", sigma_w2, 0.0), ("sigma_b2", sigma_b2, 0.0)):
        if not (isinstance(value, (int, float, np.floating)) and np.isfinite(value) and value >= low) \
                or (name == "sigma_w2" and value == 0):
            raise InvalidInputError(f"{name} must be a finite number {'> 0' if name == 'sigma_w2' else '>= 0'}, "
                                    f"got {value!r}.")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise InvalidInputError(f"depth (number of hidden layers L) must be an integer >= 1, got {depth!r}.")
    if width is not None and (isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1):
        raise InvalidInputError(f"width must be a positive integer or None (infinite), got {width!r}.")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1 or not np.all(np.isfinite(x)):
        raise InvalidInputError(f"x must be a finite array of shape (n, d), got shape {x.shape}.")
    d = x.shape[1]
    gram = x @ x.T / d
    if sigma_b2 == 0 and np.any(np.diag(gram) == 0):
        raise InvalidInputError("An input has zero norm and sigma_b2 = 0: its correlations are undefined. Remove it.")

    activation_kernels = [gram]                      # Σ^a_{l−1}, l = 1 … L + 1
    dots = []                                        # Σ̇_l, l = 1 … L
    sigma = sigma_w2 * gram + sigma_b2               # covariance of h_1
    for _ in range(depth):
        activation_kernels.append(_pairwise(act.cross_moment, sigma))
        dots.append(_pairwise(act.derivative_cross_moment, sigma))
        sigma = sigma_w2 * activation_kernels[-1] + sigma_b2
    if parametrisation == "ntk":
        bias = [sigma_b2] * (depth + 1)
    else:
        bias = [sigma_w2 / d] + [0.0 if width is None else sigma_w2 / width] * depth
    n = gram.shape[0]
    kernels = np.empty((depth + 1, n, n))
    sigma_delta = np.ones((n, n))                    # Σ^δ_{L+1} = 1
    kernels[depth] = (sigma_w2 * activation_kernels[depth] + bias[depth]) * sigma_delta
    for layer in range(depth, 0, -1):
        sigma_delta = sigma_w2 * dots[layer - 1] * sigma_delta
        kernels[layer - 1] = (sigma_w2 * activation_kernels[layer - 1] + bias[layer - 1]) * sigma_delta
    return kernels


def width_sweep_config(width: int, *, depth: int = 3, epochs: int = 5, dataset: str = "digits",
                       probe_per_class: int = 5, seed: int = 0,
                       lr_times_width: float = WIDTH_SWEEP_LR_TIMES_WIDTH):
    """The width sweep's run at one ``width``: ReLU at the edge of chaos, SGD-momentum 0.9 with
    ``lr = lr_times_width / width`` and no gradient clipping, batch 128, cross-entropy, a checkpoint at
    every epoch's end, a probe of ``probe_per_class`` training points per class.

    In the standard parametrisation a layer's kernel grows like its fan-in, so a fixed learning rate
    is a larger step in function space for a wider network; lr ∝ 1/width keeps the steps comparable,
    as the NTK parametrisation would, and clipping the gradient norm (which grows like √width) would
    undo that scaling.
    """
    from .experiments.config import RunConfig

    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise InvalidInputError(f"width must be a positive integer, got {width!r}.")
    if not (isinstance(lr_times_width, (int, float)) and np.isfinite(lr_times_width) and lr_times_width > 0):
        raise InvalidInputError(f"lr_times_width must be a finite number > 0, got {lr_times_width!r}.")
    return RunConfig(dataset=dataset, activation="relu", sigma_w2=2.0, sigma_b2=0.0, depth=int(depth),
                     width=int(width), epochs=int(epochs), lr=float(lr_times_width) / int(width), grad_clip=None,
                     probe_per_class=int(probe_per_class), early_fractions=(), every_epoch=True, seed=int(seed))


def train_width_sweep(widths: Iterable[int] = (16, 64, 256, 512), seeds: Iterable[int] = (0, 1, 2),
                      **kwargs) -> dict:
    """{width: [TrainingHistory, one per seed]} of :func:`width_sweep_config` at every width and seed (the
    seed draws the initialisation, the mini-batches and the probe set), trained by the course's recipe
    (:func:`eqhyp_utils.experiments.runner.cached_train_run`: identical calls return the same histories; do not
    modify them). Keyword arguments go to :func:`width_sweep_config`."""
    from .experiments.runner import cached_train_run

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise InvalidInputError("seeds must name at least one seed.")
    return {int(w): [cached_train_run(width_sweep_config(int(w), seed=s, **kwargs)) for s in seeds] for w in widths}


def hidden_layer_maximum(alignment: Sequence[float]) -> float:
    """The largest alignment over the hidden layers 1 … L of a profile of length L + 1."""
    a = np.asarray(alignment, dtype=np.float64)
    if a.ndim != 1 or len(a) < 2:
        raise InvalidInputError(f"alignment must be a profile of length L + 1 >= 2, got shape {a.shape}.")
    return float(a[:-1].max())
