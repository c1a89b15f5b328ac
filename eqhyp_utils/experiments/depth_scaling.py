r"""How does the peak layer scale with depth? A power-law fit with a bootstrap interval.

Model: :math:`\text{peak} = a\,L^{\beta}`, fitted by least squares on
:math:`\log \text{peak} = \log a + \beta \log L` over every (non-diverged) run, one point per seed.

Uncertainty, three ways (docs/science.md §9):

* :func:`bootstrap_power_law` resamples the seeds *within* each depth (with replacement, the same
  number as measured) and refits; the 95 % interval is the 2.5 and 97.5 percentiles of the refitted
  exponents. It captures seed-to-seed variation of the peak at fixed depth, and treats the power law
  as exact: a depth whose mean sits off the line (training length, optimiser, learning rate — §6
  shows those move the peak by several layers) narrows nothing and widens nothing.
* :func:`configuration_level_power_law`, the primary interval: least squares of the per-depth means
  of log peak on log L, with a Student-t interval on (depths − 2) degrees of freedom. In a balanced
  design this is the interval of the random-intercept mixed model
  :math:`\log \text{peak}_{ds} = \log a + \beta \log L_d + u_d + e_{ds}`: the scatter of the
  depths about the line (:math:`u_d`) counts, not only the seeds.
* :func:`cluster_bootstrap_power_law`: a two-stage bootstrap — depths resampled with replacement,
  then seeds within each drawn depth — whose percentile interval also includes configuration-level
  variation; with five depths it under-covers, which is why the t interval is primary.

References to compare with: the EH prediction's own slope over the same depths (the exact
crossing of :mod:`eqhyp_utils.equilibrium`, not its asymptotic law), 3/5 (the paper's
:math:`L^{3/5}`), and 1 (a fixed depth fraction).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import InvalidInputError

__all__ = ["PowerLawFit", "fit_power_law", "bootstrap_power_law", "configuration_level_power_law",
           "cluster_bootstrap_power_law"]


@dataclass(frozen=True)
class PowerLawFit:
    """peak ≈ prefactor · L^exponent; ``interval`` is the 95 % interval of the exponent (its method
    is ``method``: "seeds within depth", "configuration level (t)" or "two-stage bootstrap").
    ``n_boot`` is 0 for the t interval."""
    exponent: float
    prefactor: float
    interval: tuple[float, float]
    n_points: int
    n_boot: int
    method: str = "seeds within depth"


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


def _samples(peaks_by_depth: Mapping[int, Sequence[float]], minimum_depths: int = 2):
    depths = sorted(d for d, p in peaks_by_depth.items() if len(p) > 0)
    if len(depths) < minimum_depths:
        raise InvalidInputError(f"need peaks at >= {minimum_depths} depths, got {dict(peaks_by_depth)!r}.")
    samples = [np.asarray(peaks_by_depth[d], dtype=np.float64) for d in depths]
    if any((s <= 0).any() or not np.isfinite(s).all() for s in samples):
        raise InvalidInputError("peaks must be positive and finite for a log–log fit.")
    return depths, samples


def _check_level(level: float, n_boot: int = 1) -> None:
    if not (0 < level < 1) or n_boot < 1:
        raise InvalidInputError(f"level must lie in (0, 1) and n_boot be >= 1, got {level!r}, {n_boot!r}.")


def configuration_level_power_law(peaks_by_depth: Mapping[int, Sequence[float]], *,
                                  level: float = 0.95, mean: str = "log") -> PowerLawFit:
    r"""Fit :math:`\overline{\log \text{peak}}_d = \log a + \beta \log L_d` to the per-depth means of
    log peak and give β a Student-t interval on (depths − 2) degrees of freedom.

    The interval of a random-intercept model in a balanced design: the residual scatter of the
    depth means about the line — seed noise plus whatever moves a whole depth — sets its width.
    Needs ≥ 3 depths (one degree of freedom). ``mean="arithmetic"`` fits the log of each depth's
    mean peak instead, :math:`\log \overline{\text{peak}}_d`, which weighs a seed that peaks at
    layer 1 less than the mean of logs does (log 1 = 0).
    """
    if mean not in ("log", "arithmetic"):
        raise InvalidInputError(f"mean must be 'log' or 'arithmetic', got {mean!r}.")
    from scipy import stats

    _check_level(level)
    depths, samples = _samples(peaks_by_depth, minimum_depths=3)
    x = np.log(np.asarray(depths, dtype=np.float64))
    y = np.array([np.log(s).mean() if mean == "log" else np.log(s.mean()) for s in samples])
    beta, log_a = np.polyfit(x, y, 1)
    residuals = y - (log_a + beta * x)
    dof = len(x) - 2
    se = float(np.sqrt(residuals @ residuals / dof / np.sum((x - x.mean()) ** 2)))
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return PowerLawFit(exponent=float(beta), prefactor=float(np.exp(log_a)),
                       interval=(float(beta - half), float(beta + half)),
                       n_points=int(sum(len(s) for s in samples)), n_boot=0,
                       method="configuration level (t)" + ("" if mean == "log" else ", log of mean peak"))


def cluster_bootstrap_power_law(peaks_by_depth: Mapping[int, Sequence[float]], *, n_boot: int = 2000,
                                seed: int = 0, level: float = 0.95, min_distinct_depths: int = 3) -> PowerLawFit:
    """Fit peak ∝ L^β over every run and bootstrap β in two stages: draw the depths with replacement,
    then the seeds within each drawn depth; a draw with fewer than ``min_distinct_depths`` distinct
    depths is redrawn (a line through fewer is not determined or has no residual)."""
    _check_level(level, n_boot)
    depths, samples = _samples(peaks_by_depth, minimum_depths=max(2, min_distinct_depths))
    x = np.concatenate([np.full(len(s), d, dtype=np.float64) for d, s in zip(depths, samples)])
    beta, a = fit_power_law(x, np.concatenate(samples))
    rng = np.random.default_rng(seed)
    betas = np.empty(n_boot)
    b = 0
    while b < n_boot:
        drawn = rng.integers(0, len(depths), len(depths))
        if len(set(drawn.tolist())) < min_distinct_depths:
            continue
        xs = np.concatenate([np.full(len(samples[i]), np.log(depths[i])) for i in drawn])
        ys = np.concatenate([samples[i][rng.integers(0, len(samples[i]), len(samples[i]))] for i in drawn])
        betas[b] = np.polyfit(xs, np.log(ys), 1)[0]
        b += 1
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(betas, [tail, 100 - tail])
    return PowerLawFit(exponent=beta, prefactor=a, interval=(float(lo), float(hi)), n_points=len(x),
                       n_boot=n_boot, method="two-stage bootstrap")


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
