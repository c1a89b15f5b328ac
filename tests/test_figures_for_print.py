"""Figures live in eqhyp_utils.plotting, change no global state, and are fit for print.

* Only modules under ``eqhyp_utils/plotting/`` define figure functions (``*_figure``, ``plot_*``); the
  widget modules wire controls to them and create no figures themselves.
* No library module selects a backend, writes matplotlib's rcParams or seeds a global generator.
* Every main figure has integer ticks on each axis that counts layers, and no text (tick labels,
  legends, titles, labels) under 9 pt: chapters are printed with 10–11 inch figures scaled to ~6.5 inches.
"""
import ast
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import eqhyp_utils  # noqa: E402
from eqhyp_utils import plotting  # noqa: E402
from eqhyp_utils.experiments.config import Grid, RunConfig  # noqa: E402
from eqhyp_utils.experiments.interventions import intervention_rows  # noqa: E402
from eqhyp_utils.experiments.report import PROTOCOL_TEXT, depth_scaling_analysis  # noqa: E402
from eqhyp_utils.experiments.scoreboard import summarise_configurations  # noqa: E402
from eqhyp_utils.plotting import equilibrium as peq  # noqa: E402
from eqhyp_utils.plotting import experiments as px  # noqa: E402
from eqhyp_utils.plotting import explorer as pex  # noqa: E402
from eqhyp_utils.plotting import report as prep  # noqa: E402
from eqhyp_utils.plotting import signal_propagation as psp  # noqa: E402
from eqhyp_utils.training import TrainConfig, TrainingHistory  # noqa: E402

PACKAGE = Path(eqhyp_utils.__file__).parent
MIN_PT = 9.0


def _is_figure_function(name: str) -> bool:
    return name.endswith("_figure") or name.startswith("plot_")


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


# --- one place for figures ---------------------------------------------------------------------------


def test_figure_functions_are_defined_only_under_plotting():
    outside = [f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}"
               for path in sorted(PACKAGE.rglob("*.py")) if "plotting" not in path.relative_to(PACKAGE).parts
               for node in _functions(path) if _is_figure_function(node.name)]
    assert not outside, f"figure functions outside eqhyp_utils/plotting/: {outside}"


def test_widget_modules_create_no_figures():
    for path in sorted((PACKAGE / "widgets").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for pattern in (r"plt\.subplots\(", r"plt\.figure\(", r"\bFigure\(", r"\.plot\(", r"\.errorbar\(",
                        r"\.scatter\(", r"matplotlib\.figure"):
            assert not re.search(pattern, source), f"{path.name} draws ({pattern}); move it to eqhyp_utils/plotting/"
        for node in _functions(path):
            returns = ast.unparse(node.returns) if node.returns is not None else ""
            assert "Figure" not in returns and "Axes" not in returns, f"{path.name}: {node.name} returns a figure"


def test_each_figure_function_has_one_definition():
    names = {}
    for path in sorted((PACKAGE / "plotting").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and _is_figure_function(node.name):
                names.setdefault(node.name, []).append(path.name)
    repeated = {name: files for name, files in names.items() if len(files) > 1}
    # plotting/report.py keeps the report's call signatures of two figures as one-line calls of plotting/experiments.py
    assert repeated == {"predicted_vs_measured_figure": ["experiments.py", "report.py"],
                        "depth_scaling_figure": ["experiments.py", "report.py"]}
    for name in repeated:
        body = [n for n in ast.parse((PACKAGE / "plotting" / "report.py").read_text(encoding="utf-8")).body
                if isinstance(n, ast.FunctionDef) and n.name == name][0].body
        calls = [n for n in ast.walk(body[-1]) if isinstance(n, ast.Call)]
        assert isinstance(body[-1], ast.Return) and ast.unparse(calls[0].func) == f"_experiments.{name}"


def test_every_figure_function_draws_in_the_print_style():
    adapters = {(prep, "predicted_vs_measured_figure"), (prep, "depth_scaling_figure")}
    for module in (plotting, pex, peq, psp, px, prep):
        for name in module.__all__:
            if _is_figure_function(name) and getattr(module, name).__module__ == module.__name__:
                assert getattr(getattr(module, name), "for_print", False) or (module, name) in adapters, name


# --- no global state ---------------------------------------------------------------------------------


def test_library_code_sets_no_global_state():
    forbidden = {r"matplotlib\.use\(|\bmpl\.use\(": "chooses a backend",
                 r"rcParams\[[^\]]+\]\s*=(?!=)|rcParams\.update\(|\brc\(|style\.use\(": "writes rcParams",
                 r"np\.random\.seed\(|(?<![\w.)])random\.seed\(": "seeds numpy's/Python's global generator",
                 r"(?<![\w)])torch\.manual_seed\(|torch\.cuda\.manual_seed": "seeds torch's global generator",
                 r"torch\.set_default_dtype\(": "changes torch's default dtype"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            found += [f"{path.relative_to(PACKAGE)}:{i} {why}" for pattern, why in forbidden.items()
                      if re.search(pattern, code)]
    assert not found, found


def test_set_num_threads_is_only_called_in_a_restoring_context():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in _functions(path):
            source = ast.unparse(node)
            if "set_num_threads(" in source:  # experiments.runner.torch_threads: set, yield, restore
                assert "finally" in source and "get_num_threads()" in source, f"{path.name}: {node.name}"


# --- the main figures, built small -------------------------------------------------------------------


def _history(n_layers=7):
    rng = np.random.default_rng(0)
    steps = np.array([0, 2, 4, 8, 16])
    return TrainingHistory(steps=steps, epochs=steps / 8, alignment=rng.uniform(0.01, 0.2, (5, n_layers)),
                           train_loss=np.linspace(2.3, 0.4, 5), train_accuracy=np.linspace(0.1, 0.9, 5),
                           test_loss=np.linspace(2.3, 0.6, 5), test_accuracy=np.linspace(0.1, 0.8, 5),
                           loss_steps=np.arange(16), loss_values=np.linspace(2.3, 0.4, 16), steps_per_epoch=8,
                           diverged=False, diverged_at_step=None, config=TrainConfig().to_dict())


def _payload(config: RunConfig, peak: int, rng) -> dict:
    epochs = [0.0, 0.5, 1.0, 2.0, 3.0]
    A = rng.uniform(0.0, 0.05, size=(len(epochs), config.depth + 1))
    A[2:, peak - 1] = 0.2
    return {"config": config.to_dict(), "config_hash": config.config_hash(),
            "history": {"alignment": A.tolist(), "epochs": epochs, "train_accuracy": [0.5] * len(epochs),
                        "diverged": False}}


def _main_figures() -> dict:
    rng = np.random.default_rng(0)
    payloads = [_payload(RunConfig(depth=L, seed=seed), max(1, round(0.7 * L) + seed), rng)
                for L in (6, 12, 24, 48) for seed in (0, 1)]
    summaries = summarise_configurations(payloads)
    analysis = depth_scaling_analysis(summaries, min_depth_subsets=(None,), n_boot=20)
    grid = Grid("interventions.bias", tuple(RunConfig(sigma_b2=b, seed=s) for b in (0.0, 0.5) for s in (0, 1)))
    rows = intervention_rows(grid, summarise_configurations([_payload(c, 12 if c.sigma_b2 == 0 else 9, rng)
                                                             for c in grid.runs]))
    h = _history()
    panels = [{"depth": s.depth, "profiles": {f"seed {seed}": hist["alignment"][-1]
                                              for seed, hist in zip(s.seeds, s.histories)},
               "eh_layer": s.predictions["EH"]} for s in summaries]
    predictions = {name: [s.predictions[name] for s in summaries] for name in ("EH", "middle")}
    return {
        "alignment profile": plotting.plot_alignment_profile(h.alignment[-1], label="trained", mark_layer=3).figure,
        "alignment during training": plotting.plot_alignment_during_training(h).figure,
        "curves by layer": plotting.plot_curves_by_layer(h.epochs, h.alignment).figure,
        "training curves": plotting.plot_training_curves(h),
        "alignment explorer": pex.plot_alignment_explorer({("digits", "relu", 6): h}, "digits", "relu", 6),
        "equilibrium": peq.equilibrium_figure("relu", 2.0, 0.0, 16),
        "equilibrium, measured": peq.equilibrium_figure("relu", 2.0, 0.0, 16, measured=h.alignment[0].repeat(3)[:17]),
        "forward propagation": psp.forward_propagation_figure("tanh", 1.5, 0.05, depth=24, widths=(16,), n_networks=1),
        "backward propagation": psp.backward_propagation_figure("tanh", 1.5, 0.05, depth=8, widths=(16,), n_networks=1),
        "predicted vs measured": px.predicted_vs_measured_figure(summaries, predictions, "final"),
        "depth scaling": px.depth_scaling_figure(analysis, "final"),
        "interventions": px.intervention_figure(rows),
        "alignment checkpoint": px.alignment_checkpoint_figure(payloads[2:4], -1, eh_layer=7),
        "residual information": px.residual_information_figure(0.25, 16),
        "report: predicted vs measured": prep.predicted_vs_measured_figure(summaries, ["final", "time_averaged"],
                                                                           PROTOCOL_TEXT),
        "report: depth profiles": prep.depth_profiles_figure(panels, "$A_l$", "profiles"),
        "report: depth scaling": prep.depth_scaling_figure(analysis, ["final", "time_averaged"], "depth scaling"),
    }


@pytest.fixture(scope="module")
def figures():
    before = {k: v for k, v in mpl.rcParams.items() if k != "backend"}
    out = _main_figures()
    for fig in out.values():
        if not isinstance(fig.canvas, FigureCanvasAgg):  # a plain Figure's base canvas does not draw
            FigureCanvasAgg(fig)
        fig.canvas.draw()  # ticks and their labels exist only once the figure is drawn
    out["_rc_changed"] = {k for k, v in mpl.rcParams.items() if k != "backend" and before.get(k) != v}
    yield out
    plt.close("all")


def test_drawing_the_figures_leaves_rc_params_unchanged(figures):
    assert figures["_rc_changed"] == set()


def test_report_figures_are_not_held_by_pyplot(figures):
    managed = {id(plt.figure(n)) for n in plt.get_fignums()}
    for name, fig in figures.items():
        if name.startswith("report"):
            assert isinstance(fig, Figure) and id(fig) not in managed, name


def _layer_axes(fig):
    """Every axis (x or y, colourbars included) whose label says it counts layers."""
    for ax in fig.axes:
        if not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if "layer" in axis.get_label_text():
                yield ax, axis


def _visible_ticks(axis, minor=False):
    low, high = sorted(axis.get_view_interval())
    locs = axis.get_minorticklocs() if minor else axis.get_majorticklocs()
    labels = axis.get_ticklabels(minor=minor)
    return [loc for loc, label in zip(locs, labels) if low - 1e-9 <= loc <= high + 1e-9 and label.get_text()]


def test_every_layer_axis_has_integer_ticks(figures):
    checked = 0
    for name, fig in figures.items():
        if name.startswith("_"):
            continue
        axes = list(_layer_axes(fig))
        assert axes or name == "training curves", f"{name}: no layer axis found"
        for ax, axis in axes:
            ticks = _visible_ticks(axis) + _visible_ticks(axis, minor=True)
            assert len(ticks) >= 2, f"{name}: {axis.get_label_text()!r} has {ticks}"
            assert all(float(t).is_integer() for t in ticks), f"{name}: {axis.get_label_text()!r} ticks {ticks}"
            checked += 1
    assert checked >= 20


def test_the_colourbar_over_the_layers_has_integer_ticks(figures):
    bar = figures["curves by layer"].axes[-1]
    assert "layer" in bar.get_ylabel()
    assert all(float(t).is_integer() for t in _visible_ticks(bar.yaxis))


def test_no_text_is_smaller_than_9_pt(figures):
    for name, fig in figures.items():
        if name.startswith("_"):
            continue
        small = sorted({(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
                        if t.get_visible() and t.get_text() and t.get_fontsize() < MIN_PT})
        assert not small, f"{name}: {small[:5]}"


def test_legends_and_tick_labels_are_at_least_9_pt(figures):
    for name, fig in figures.items():
        if name.startswith("_"):
            continue
        legends = [leg for ax in fig.axes for leg in [ax.get_legend()] if leg is not None] + list(fig.legends)
        assert legends or name in ("alignment during training", "curves by layer"), f"{name}: no legend"
        for legend in legends:
            assert all(t.get_fontsize() >= MIN_PT for t in legend.get_texts()), name
        for ax in fig.axes:
            labels = [t for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
            assert all(t.get_fontsize() >= MIN_PT for t in labels), name


def test_wide_figures_use_the_print_sizes(figures):
    """A figure 10–11 inches wide printed at 6.5 inches shrinks by ~0.6: its tick labels are 10 pt."""
    for name in ("alignment explorer", "equilibrium", "backward propagation", "training curves"):
        fig = figures[name]
        assert fig.get_figwidth() >= 10
        sizes = {t.get_fontsize() for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()}
        assert min(sizes) >= plotting.PRINT_SIZES["xtick.labelsize"] >= 10, name


def test_colours_are_colour_blind_safe_with_markers(figures):
    palette = {mpl.colors.to_hex(c) for c in plotting.OKABE_ITO}
    for name in ("predicted vs measured", "alignment checkpoint", "equilibrium", "residual information"):
        lines = [line for ax in figures[name].axes for line in ax.lines
                 if line.get_marker() not in (None, "None", "", " ") and len(line.get_xdata()) > 1]
        assert lines, name
        assert all(mpl.colors.to_hex(line.get_color()) in palette for line in lines), name
