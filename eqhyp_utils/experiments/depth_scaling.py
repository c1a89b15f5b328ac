r"""How does the peak layer scale with depth? A power-law fit with a bootstrap interval.

Model: :math:`\text{peak} = a\,L^{\beta}`, fitted by least squares on
:math:`\log \text{peak} = \log a + \beta \log L` over every (non-diverged) run, one point per seed.

Uncertainty: a nonparametric bootstrap that resamples the seeds *within* each depth (with
replacement, the same number as measured) and refits; the 95 % interval is the 2.5 and 97.5
percentiles of the refitted exponents. It captures seed-to-seed variation of the peak at fixed
depth, not systematic effects (training length, optimiser) — docs/science.md §6 shows those move the
peak by several layers.

References to compare with: the EH prediction's own slope over the same depths (the exact
crossing of :mod:`eqhyp_utils.equilibrium`, not its asymptotic law), 3/5 (the paper's
:math:`L^{3/5}`), and 1 (a fixed depth fraction).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import InvalidInputError

__all__ = ["PowerLawFit", "fit_power_law", "bootstrap_power_law"]


@dataclass(frozen=True)
class PowerLawFit:
    """peak ≈ prefactor · L^exponent; ``interval`` is the bootstrap 95 % interval of the exponent."""
    exponent: float
    prefactor: float
    interval: tuple[float, float]
    n_points: int
    n_boot: int


def fit_power_law(depths: Sequence[float], peaks: Sequence[float]) -> tuple[float, float]:
    """(exponent β, prefactor a) of the least-squares line log peak = log a + β log L."""
    x = np.log(np.asarray(depths, dtype=np.float64))
    y = np.log(np.asarray(peaks, dtype=np.float64))
    if x.shape != y.shape or x.size < 2 or np.ptp(x) == 0:
        raise InvalidInputError(
            f"a power-law fit needs ≥ 2 points at ≥ 2 distinct depths, got depths {list(depths)}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InvalidInputError("depths and peaks must be positive and finite for a log–log fit.")
    beta, log_a = np.polyfit(x, y, 1)
    return float(beta), float(np.exp(log_a))


def bootstrap_power_law(peaks_by_depth: Mapping[int, Sequence[float]], *, n_boot: int = 2000,
                        seed: int = 0, level: float = 0.95) -> PowerLawFit:
    """Fit peak ∝ L^β to ``{L: [peak of each seed]}`` and bootstrap β by resampling seeds within depth."""
    depths = sorted(d for d, p in peaks_by_depth.items() if len(p) > 0)
    if len(depths) < 2:
        raise InvalidInputError(f"need peaks at ≥ 2 depths, got {dict(peaks_by_depth)!r}.")
    if not (0 < level < 1) or n_boot < 1:
        raise InvalidInputError(f"level must lie in (0, 1) and n_boot be >= 1, got {level!r}, {n_boot!r}.")
    samples = [np.asarray(peaks_by_depth[d], dtype=np.float64) for d in depths]
    x = np.concatenate([np.full(len(s), d, dtype=np.float64) for d, s in zip(depths, samples)])
    beta, a = fit_power_law(x, np.concatenate(samples))
    rng = np.random.default_rng(seed)
    logx = np.log(x)
    betas = np.empty(n_boot)
    for b in range(n_boot):
        y = np.concatenate([s[rng.integers(0, len(s), len(s))] for s in samples])
        betas[b] = np.polyfit(logx, np.log(y), 1)[0]
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(betas, [tail, 100 - tail])
    return PowerLawFit(exponent=beta, prefactor=a, interval=(float(lo), float(hi)), n_points=len(x),
                       n_boot=n_boot)
