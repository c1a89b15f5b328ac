"""The book's interactive figures (eqhyp_utils.interactive): precomputed data, deterministic HTML, two outputs.

Checks: the vendored plotly.js is the file SOURCE.txt describes; every figure's HTML is the same on every build
— in another process, with another hash seed and on the other numeric code path of the notebooks' second pass
(tests/conftest.py) — because nbval compares it exactly; the precomputed data cover every state and equal their
references (the EH layer of every setting against equilibrium_layer called directly, the alignment profiles
against the result files, the bars against summary.json); a notebook cell shows a still image, then the HTML;
bad input is refused with a clear message. The figures in the browser are checked by tests/test_book.py.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eqhyp_utils.equilibrium import backward_information, equilibrium_layer, forward_information
from eqhyp_utils.errors import InvalidInputError
from eqhyp_utils.experiments import shipped
from eqhyp_utils.experiments.config import load_grids
from eqhyp_utils.experiments.results import read_result, round_floats
from eqhyp_utils.experiments.scoreboard import NOISE_CEILING
from eqhyp_utils.interactive import (Control, InteractiveFigure, Layout, Trace, TraceStyle, VerticalLine, View,
                                     alignment_profile_explorer, equilibrium_explorer, figure_html, figure_outputs,
                                     plotly_data, scoreboard_explorer, still_png)
from eqhyp_utils.interactive.alignment import ALIGNMENT_GRIDS, checkpoint_labels
from eqhyp_utils.interactive.equilibrium import (EXPLORER_ACTIVATIONS, EXPLORER_DEPTHS, EXPLORER_SIGMA_B2,
                                                 EXPLORER_SIGMA_W2_FACTORS, explorer_sigma_w2)
from eqhyp_utils.interactive.html import NOTE, PLOTLY_PATH, data_json
from eqhyp_utils.interactive.markup import to_html, to_mathtext, to_text
from eqhyp_utils.interactive.scoreboard import SCOREBOARD_GRIDS

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "book" / "_vendor" / "plotly"


@pytest.fixture(scope="module")
def figures() -> dict[str, InteractiveFigure]:
    """The three figures of the course, with their default arguments, built once."""
    return {"equilibrium": equilibrium_explorer(), "alignment": alignment_profile_explorer(),
            "scoreboard": scoreboard_explorer()}


def _data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="eqhyp-ifig-data">(.*?)</script>',
                                html, re.S).group(1))


def _small_figure(**changes) -> InteractiveFigure:
    """A two-control figure: a select over curves and a slider over lengths; one state left out."""
    views = {(name, n): View(traces=(Trace("line", np.arange(n) * (1 + i)),),
                             lines=(VerticalLine(n / 2, f"half of {n}"),), x_range=(0.5, n + 0.5))
             for i, name in enumerate(("slow", "fast")) for n in (3, 5, 8) if (name, n) != ("fast", 8)}
    arguments = dict(
        name="A small figure", alt="Two lines of different slopes against their index, for three lengths.",
        controls=(Control("curve", "curve", ("slow", "fast")),
                  Control("length", "length n", (3, 5, 8), kind="slider", default=5)),
        views=views, styles={"line": TraceStyle("y = k·x<sub>i</sub>", color="#0072B2")},
        layout=Layout(x_title="index i", y_title="value", title="{curve}, n = {length}", x_integer=True))
    arguments.update(changes)
    return InteractiveFigure(**arguments)


# ------------------------------------------------------------------------------------------- the vendored library

def test_vendored_plotly_is_the_file_source_txt_describes():
    source = (VENDOR / "SOURCE.txt").read_text(encoding="utf-8")
    bundle = (VENDOR / "plotly-basic.min.js").read_bytes()
    recorded = re.search(r"plotly-basic\.min\.js\s+->\s+plotly-basic\.min\.js\s+\(sha256 ([0-9a-f]{64})\)", source)
    assert recorded, "SOURCE.txt must give the sha256 of plotly-basic.min.js"
    assert hashlib.sha256(bundle).hexdigest() == recorded.group(1), "plotly-basic.min.js differs from SOURCE.txt"
    assert "plotly.js-basic-dist-min@4.1.1" in source and b"plotly.js (basic - minified) v4.1.1" in bundle[:200]
    assert "MIT License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert PLOTLY_PATH == "_static/plotly/plotly-basic.min.js"  # book/_vendor is served as _static (_config.yml)


def test_the_book_serves_the_vendor_folder_as_static_files():
    import yaml

    config = yaml.safe_load((REPO / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert "_vendor" in config["sphinx"]["config"]["html_static_path"]
    assert "plotly" not in json.dumps(config["sphinx"]["config"].get("html_js_files", []))  # not on every page


# ------------------------------------------------------------------------------------------------ determinism

_HASHES = """
import hashlib, json
from eqhyp_utils.interactive import alignment_profile_explorer, equilibrium_explorer, figure_html, scoreboard_explorer
figures = {"equilibrium": equilibrium_explorer(), "alignment": alignment_profile_explorer(),
           "scoreboard": scoreboard_explorer()}
print(json.dumps({name: hashlib.sha256(figure_html(f).encode()).hexdigest() for name, f in figures.items()}))
"""


def test_html_is_the_same_in_another_process_and_on_the_other_numeric_path(figures):
    from eqhyp_utils.provenance import other_numeric_path

    here = {name: hashlib.sha256(figure_html(f).encode()).hexdigest() for name, f in figures.items()}
    env = {**os.environ, **other_numeric_path(), "PYTHONHASHSEED": "12345", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _HASHES], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here


def test_two_builds_give_the_same_bytes(figures):
    again = {"equilibrium": equilibrium_explorer(), "alignment": alignment_profile_explorer(),
             "scoreboard": scoreboard_explorer()}
    for name, figure in figures.items():
        assert figure_html(again[name]) == figure_html(figure), name
        assert figure_outputs(again[name])[1] == figure_outputs(figure)[1], name


def test_the_html_id_is_a_hash_of_the_content_and_the_json_is_canonical(figures):
    for name, figure in figures.items():
        html = figure_html(figure)
        ids = re.findall(r'id="(eqhyp-ifig-[0-9a-f]+)"', html)
        assert len(ids) == 1, name
        assert hashlib.sha256(html.replace(ids[0], "@@EQHYP_FIGURE_ID@@").encode()).hexdigest()[:16] == ids[0][11:]
        text = data_json(figure)
        data = json.loads(text)
        assert json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace(
            "&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") == text, name
        assert data == round_floats(data, 4), f"{name}: a float has more than 4 significant digits"
        assert not re.search(r"\d{4}-\d{2}-\d{2}|uuid", html), name
        assert "</script" not in text and "<" not in text


def test_the_html_loads_nothing_but_the_books_plotly_and_explains_itself(figures):
    html = figure_html(figures["scoreboard"])
    assert not re.search(r"(https?:)?//[\w.-]+\.[a-z]{2,}", html.replace("http://www.w3.org", "")), \
        "the snippet names another site"
    assert 'getAttribute("data-content_root")' in html and PLOTLY_PATH in html and "Plotly.react" in html
    assert NOTE in html and html.count("<label") == 2 and 'role="img"' in html and "aria-label=" in html
    assert re.search(r'<div class="eqhyp-ifig-live" hidden>', html)  # nothing but the note until drawn
    assert "@media print" in html and "@media screen" in html


# ---------------------------------------------------------------------------------------------------- the data

def test_equilibrium_explorer_covers_every_setting_and_its_layer_is_equilibrium_layer(figures):
    figure = figures["equilibrium"]
    expected = {(a, b, w, L) for a in EXPLORER_ACTIVATIONS for b in EXPLORER_SIGMA_B2
                for w in explorer_sigma_w2(a, b, EXPLORER_SIGMA_W2_FACTORS) for L in EXPLORER_DEPTHS}
    assert set(figure.states) == expected and len(expected) == 3 * 3 * 5 * 7
    data = plotly_data(figure)
    for state in figure.states:
        activation, sigma_b2, sigma_w2, depth = state
        view = figure.view(state)
        l_star = equilibrium_layer(activation, sigma_w2, sigma_b2, depth)  # the reference, called directly
        assert [line.x for line in view.lines] == [l_star], state
        forward, backward = (forward_information(activation, sigma_w2, sigma_b2, depth),
                             backward_information(activation, sigma_w2, sigma_b2, depth))
        assert [t.style for t in view.traces] == ["forward", "backward"]
        np.testing.assert_array_equal(view.traces[0].y, forward)
        np.testing.assert_array_equal(view.traces[1].y, backward)
        page = data["views"][figure.key(state)]
        assert page["lines"][0]["x"] == l_star
        assert page["traces"][0]["y"] == round_floats(forward.tolist(), 4)
        assert len(page["traces"][1]["y"]) == depth + 1 and "x" not in page["traces"][0]
    edge = explorer_sigma_w2("relu", 0.0)[EXPLORER_SIGMA_W2_FACTORS.index(1.0)]
    assert figure.default_state == ("relu", 0.0, edge, 16) and edge == 2.0
    assert figure.title(figure.default_state) == ("relu: σ<sub>w</sub><sup>2</sup> = 2 (edge of chaos), "
                                                  "σ<sub>b</sub><sup>2</sup> = 0, L = 16")


def test_equilibrium_explorer_offers_each_activation_its_own_weight_variances(figures):
    figure = figures["equilibrium"]
    tanh = figure.options(2, ("tanh", 0.05))
    assert tanh == explorer_sigma_w2("tanh", 0.05) and abs(tanh[2] - 1.7609546) < 1e-6
    assert figure.options(2, ("relu", 0.2)) == [1.6, 1.8, 2.0, 2.2, 2.5]
    labels = dict(zip(figure.controls[2].values, figure.controls[2].labels))
    assert [labels[w].split(" (")[1] for w in tanh] == ["ordered)", "ordered)", "edge of chaos)", "chaotic)",
                                                        "chaotic)"]


def _shipped_runs(name: str) -> list[dict]:
    """The payloads of a grid's depth-scaling runs, read file by file (independently of the explorer)."""
    source = ALIGNMENT_GRIDS[name]
    wanted = {c.config_hash() for c in load_grids(shipped.config_file(source.config))[source.table].runs}
    payloads = [read_result(p) for p in sorted((shipped.results_dir(source.results) / "runs").glob("*.json"))]
    return [p for p in payloads if p["config_hash"] in wanted and not p["history"]["diverged"]]


def test_alignment_explorer_data_are_the_result_files_numbers(figures):
    figure = figures["alignment"]
    data = plotly_data(figure)
    seen = 0
    for name in ("fixed_budget", "paper"):
        runs = _shipped_runs(name)
        assert len(runs) == {"fixed_budget": 24, "paper": 25}[name]
        for payload in runs:
            config, history = payload["config"], payload["history"]
            labels = checkpoint_labels(history)
            l_star = equilibrium_layer(config["activation"], config["sigma_w2"], config["sigma_b2"], config["depth"])
            for index, label in enumerate(labels):
                state = (name, config["depth"], config["seed"], label)
                page = data["views"][figure.key(state)]
                probes = [history["alignment"][index]] + (
                    [history["test_alignment"][index]] if history.get("test_alignment") else [])
                profiles = [t for t in page["traces"] if t["style"] in ("train", "test")]
                peaks = [t for t in page["traces"] if t["style"].endswith("_peak")]
                assert [t["y"] for t in profiles] == [round_floats(p, 4) for p in probes], state
                assert [t["x"] for t in peaks] == [[int(np.argmax(p)) + 1] for p in probes], state
                assert page["lines"][0]["x"] == l_star
                seen += 1
    assert seen == len(figure.views) == 24 * 24 + 25 * 3
    assert figure.options(3, ("paper", 19, 0)) == ["initialisation", "loss < 0.1", "loss < 0.02"]
    assert figure.options(1, ("paper",)) == [9, 19, 29, 39, 49]
    assert figure.default_state == ("fixed_budget", 16, 0, "epoch 20")
    assert checkpoint_labels(_shipped_runs("fixed_budget")[0]["history"])[:5] == [
        "initialisation", "epoch 1/8", "epoch 1/4", "epoch 1/2", "epoch 1"]


def test_scoreboard_explorer_bars_are_the_summary_numbers(figures, tmp_path):
    figure = figures["scoreboard"]
    present = [n for n in SCOREBOARD_GRIDS if (shipped.results_dir("paper").parent / n / "summary.json").is_file()]
    assert figure.controls[0].values == tuple(present) and {"fixed_budget", "paper"} <= set(present)
    data = plotly_data(figure)
    for name in present:
        summary = json.loads((shipped.results_dir(name) / "summary.json").read_text())
        for protocol, rows in summary["scoreboard"].items():
            row = next(r for r in rows if r["group"] == "all")
            page = data["views"][figure.key((name, protocol))]
            bars = {x: y for t in page["traces"] for x, y in zip(t["x"], t["y"])}
            expected = {k: round_floats(v["mae"], 4) for k, v in row.items()
                        if isinstance(v, dict) and v.get("n")}
            assert bars == expected, (name, protocol)
            order = [x for t in page["traces"] for x in t["x"]]
            assert order[:3] == ["EH", "EH normalised", "EH data c0"] and order[-1] == NOISE_CEILING
    # a grid given as a folder (e.g. results/factorial once its summary.json is written)
    folder = tmp_path / "factorial"
    folder.mkdir()
    shutil.copy(shipped.results_dir("paper") / "summary.json", folder / "summary.json")
    three = scoreboard_explorer(["fixed_budget", "paper", folder])
    assert three.controls[0].values == ("fixed_budget", "paper", str(folder))
    assert plotly_data(three)["views"][three.key((str(folder), "loss<0.02"))]["traces"] == \
        data["views"][figure.key(("paper", "loss<0.02"))]["traces"]


def test_every_state_is_reachable_and_offered_in_order():
    figure = _small_figure()
    assert figure.options(1, ("fast",)) == [3, 5] and figure.options(1, ("slow",)) == [3, 5, 8]
    assert figure.key(("fast", 5)) == "1|1" and figure.title(("fast", 5)) == "fast, n = 5"
    assert len(plotly_data(figure)["views"]) == 5


# ------------------------------------------------------------------------------------------------- the outputs

def test_a_notebook_cell_shows_the_still_image_then_the_html(figures, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from eqhyp_utils.interactive import scoreboard_explorer\nscoreboard_explorer()")])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data", "display_data"]
    assert sorted(outputs[0].data) == ["image/png", "text/plain"]
    assert sorted(outputs[1].data) == ["text/html", "text/plain"]
    assert base64.b64decode(outputs[0].data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert outputs[1].data["text/html"] == figure_html(figures["scoreboard"])  # the kernel's bytes are ours
    assert outputs[0].data["text/plain"] == "Still image: The scoreboard: error of each predictor of the peak layer"
    assert outputs[1].data["text/plain"] == ("Interactive in the course book (15 views): The scoreboard: error of "
                                             "each predictor of\nthe peak layer")


def test_text_outputs_fit_the_page(figures):
    for figure in [*figures.values(), _small_figure(name="A figure with a long name " * 6)]:
        for output in figure_outputs(figure):
            lines = output["data"]["text/plain"].splitlines()
            assert lines and max(len(line) for line in lines) <= 88, lines


def test_display_publishes_two_outputs_in_order(monkeypatch):
    import IPython.display

    published = []
    monkeypatch.setattr(IPython.display, "publish_display_data", lambda data, metadata: published.append(data))
    figure = _small_figure()
    figure._ipython_display_()
    assert [sorted(d) for d in published] == [["image/png", "text/plain"], ["text/html", "text/plain"]]
    assert published[1]["text/html"] == figure_html(figure)


def test_the_still_image_is_the_default_view_and_leaves_pyplot_alone():
    import matplotlib.pyplot as plt
    from PIL import Image

    before = plt.get_fignums()
    figure = _small_figure()
    png = still_png(figure)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and plt.get_fignums() == before
    assert Image.open(__import__("io").BytesIO(png)).size == (800, 440)
    assert still_png(figure, ("slow", 8)) != png


def test_markup_is_drawn_by_both_renderers():
    assert to_html("σ<sub>w</sub><sup>2</sup> & loss < 0.1") == "σ<sub>w</sub><sup>2</sup> &amp; loss &lt; 0.1"
    assert to_mathtext("σ<sub>w</sub> costs $5") == r"σ$_{\mathregular{w}}$ costs \$5"
    assert to_text("σ<sub>w</sub><sup>2</sup> = 2") == "σ_w^2 = 2"


# ------------------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, message", [
    (lambda: Control("1st", "x", (1, 2)), "identifier"),
    (lambda: Control("x", "x", (1, 1)), "distinct"),
    (lambda: Control("x", "x", (1, 2), default=3), "default 3 is not one of its values"),
    (lambda: Control("x", "x", (1, 2), kind="knob"), "kind must be one of"),
    (lambda: Control("x", "x", (1, 2), labels=("one",)), "one text per value"),
    (lambda: Control("x", "x", (1, float("nan"))), "finite"),
    (lambda: TraceStyle("s", color="red"), "#RRGGBB"),
    (lambda: TraceStyle("s", marker="heart"), "marker must be one of"),
    (lambda: Trace("s", [1.0, float("nan")]), "NaN"),
    (lambda: Trace("s", [1.0, 2.0], x=[1]), "one entry per y value"),
    (lambda: View(traces=()), "at least one Trace"),
    (lambda: Layout("x", "y", height=50), "height"),
    (lambda: to_html("a<sub>b"), "unbalanced"),
    (lambda: to_html("<sub>a<sup>2</sup></sub>"), "nested"),
    (lambda: _small_figure(alt=""), "alt must be a sentence"),
    (lambda: _small_figure(views={("slow", 3): View((Trace("line", [1.0]),))}), "no view for value"),
    (lambda: _small_figure(views={("slow", 5, 1): View((Trace("line", [1.0]),))}), "give one per control"),
    (lambda: _small_figure(views={("slow", 7): View((Trace("line", [1.0]),))}), "has no value 7"),
    (lambda: _small_figure(styles={"other": TraceStyle("o")}), "undefined style"),
    (lambda: _small_figure(layout=Layout("x", "y", title="{nope}")), "not controls"),
    (lambda: equilibrium_explorer("relu"), "non-empty sequence of names"),
    (lambda: equilibrium_explorer(["gelu"]), "no edge of chaos"),
    (lambda: equilibrium_explorer(["swish"]), "unsupported activation(s) ['swish']"),
    (lambda: equilibrium_explorer(depths=[0, 6]), "depths must be integers >= 1"),
    (lambda: equilibrium_explorer(sigma_w2_factors=[0.9, 1.1]), "must contain 1"),
    (lambda: alignment_profile_explorer(["nope"]), "distinct names among"),
    (lambda: alignment_profile_explorer("paper"), "non-empty sequence"),
    (lambda: scoreboard_explorer(["nope"]), "must be one of"),
    (lambda: scoreboard_explorer([Path("/nonexistent/folder")]), "no scoreboard at"),
    (lambda: figure_outputs("a figure"), "must be an InteractiveFigure"),
])
def test_bad_input_is_refused_with_a_clear_message(make, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        make()


def test_a_summary_without_a_scoreboard_is_refused(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"protocols": {}}))
    with pytest.raises(InvalidInputError, match=r"is not a scoreboard summary .*KeyError"):
        scoreboard_explorer([tmp_path])
