"""The interactive version of a figure: an HTML snippet that the book's pages run without a kernel.

:func:`figure_html` writes one ``<div>`` holding

* a one-line note, shown where the figure cannot be interactive (JupyterLab, the notebook viewers);
* the controls (``<select>`` and ``<input type="range">``, each inside its ``<label>``) and the plot area
  (``role="img"``, its ``aria-label`` the figure's alt text), hidden until the figure is drawn;
* the figure's data (:func:`plotly_data`), as JSON;
* a script that, on a page of the book, loads the bundled plotly.js once per page from
  ``<content root>/_static/plotly/plotly-basic.min.js`` (the book's ``_vendor/plotly``; the content root is
  the ``data-content_root`` attribute Sphinx writes on ``<html>``), then draws the view of the controls'
  state with ``Plotly.react`` whenever a control moves. The script computes nothing: it looks the state's
  view up in the data. Once the figure is drawn it hides the still image just before it in the same cell
  output on screen; printed, the still image shows and the interactive part does not.

Without a ``data-content_root`` attribute (outside the book) the script does nothing, so the still image
stays and the note says where the figure is interactive. Nothing is ever loaded from another site.

The snippet is the same, byte for byte, on every run and machine: its id is a hash of its content, the
JSON has sorted keys and floats rounded to 4 significant digits
(:func:`eqhyp_utils.experiments.results.round_floats`), and nothing depends on time or chance.
"""
from __future__ import annotations

import hashlib
import html
import json
from typing import Any

from ..experiments.results import round_floats
from .figure import InteractiveFigure, Trace, VerticalLine, View
from .markup import to_html, to_text

__all__ = ["PLOTLY_PATH", "SIGNIFICANT_DIGITS", "NOTE", "plotly_data", "data_json", "figure_html"]

#: Where the book serves the vendored plotly.js, relative to its content root (book/_vendor/plotly/).
PLOTLY_PATH = "_static/plotly/plotly-basic.min.js"
#: Significant digits of every float in the page's data.
SIGNIFICANT_DIGITS = 4
#: The one line shown where the figure is not interactive.
NOTE = "This figure is interactive in the course book; the image above shows its default view."
_ID_PLACEHOLDER = "@@EQHYP_FIGURE_ID@@"
_LINE_DEFAULTS = {"color": VerticalLine.__dataclass_fields__["color"].default,
                  "dash": VerticalLine.__dataclass_fields__["dash"].default}

_CSS = """
.eqhyp-ifig { margin: 0.5em 0 1em; }
.eqhyp-ifig-note { font-size: 0.85em; font-style: italic; color: #555; margin: 0.2em 0; }
.eqhyp-ifig-controls { display: flex; flex-wrap: wrap; gap: 0.4em 1.5em; align-items: center; margin: 0.3em 0 0.5em; }
.eqhyp-ifig-control { display: inline-flex; gap: 0.5em; align-items: center; margin: 0; font-size: 0.9em;
                      max-width: 100%; }
.eqhyp-ifig-control select { max-width: 100%; min-width: 0; text-overflow: ellipsis; }
.eqhyp-ifig-control output { min-width: 8em; font-variant-numeric: tabular-nums; }
.eqhyp-ifig-live[hidden] { display: none; }
@media screen { img.eqhyp-ifig-still { display: none !important; } }
@media print { .eqhyp-ifig-live, .eqhyp-ifig-note { display: none !important; } }
"""

# The script of every snippet; __ID__ is replaced by the snippet's id. It re-implements nothing: it reads
# the controls, looks the view up in the data, and draws it.
_SCRIPT = r"""
(function () {
  "use strict";
  var box = (document.currentScript && document.currentScript.closest(".eqhyp-ifig"))
            || document.getElementById("__ID__");
  var root = document.documentElement.getAttribute("data-content_root");
  if (!box || root === null || box.getAttribute("data-started")) return;  // not a page of the book
  box.setAttribute("data-started", "1");
  var data = JSON.parse(box.querySelector("script.eqhyp-ifig-data").textContent);
  var live = box.querySelector(".eqhyp-ifig-live"), note = box.querySelector(".eqhyp-ifig-note");
  var plot = box.querySelector(".eqhyp-ifig-plot");
  var inputs = data.controls.map(function (c) { return box.querySelector('[data-control="' + c.name + '"]'); });
  var keys = Object.keys(data.views).map(function (k) { return k.split("|").map(Number); });
  var state = data.controls.map(function (c) { return c["default"]; });
  var offered = [];
  var config = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"]};

  function copy(value) { return JSON.parse(JSON.stringify(value)); }
  function text(markup) { var e = document.createElement("span"); e.innerHTML = markup; return e.textContent; }
  function options(p) {  // the values control p offers, given the controls before it
    var seen = {}, out = [];
    keys.forEach(function (k) {
      for (var i = 0; i < p; i++) { if (k[i] !== state[i]) return; }
      seen[k[p]] = true;
    });
    for (var v = 0; v < data.controls[p].labels.length; v++) { if (seen[v]) out.push(v); }
    return out;
  }
  function settle() {  // every control offers what the ones before it allow, and holds one of those values
    data.controls.forEach(function (c, p) {
      var before = offered[p], now = options(p);
      if (now.indexOf(state[p]) < 0) {
        var at = before && before.length > 1 ? Math.max(0, before.indexOf(state[p])) / (before.length - 1) : 0;
        state[p] = now[Math.round(at * (now.length - 1))];
      }
      offered[p] = now;
      var input = inputs[p], label = c.labels[state[p]];
      if (c.kind === "slider") {
        input.max = String(now.length - 1);
        input.value = String(now.indexOf(state[p]));
        input.disabled = now.length < 2;
        input.setAttribute("aria-valuetext", text(label));
        input.parentNode.querySelector("output").innerHTML = label;
      } else {
        Array.prototype.forEach.call(input.options, function (o) {
          o.hidden = o.disabled = now.indexOf(Number(o.value)) < 0;
        });
        input.value = String(state[p]);
      }
    });
  }
  function fill(template) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      for (var p = 0; p < data.controls.length; p++) {
        if (data.controls[p].name === name) return data.controls[p].labels[state[p]];
      }
      return whole;
    });
  }
  function draw() {
    var view = data.views[state.join("|")];
    var traces = view.traces.map(function (t) {
      var trace = copy(data.styles[t.style]);
      trace.y = t.y;
      trace.x = t.x || t.y.map(function (y, i) { return i + 1; });
      if (t.name !== undefined) trace.name = t.name;
      if (t.hover !== undefined) trace.hovertext = t.hover;
      return trace;
    });
    var layout = copy(data.layout);
    layout.title = {text: view.title !== undefined ? view.title : fill(data.title), x: 0, xanchor: "left"};
    layout.shapes = (view.lines || []).map(function (l) {
      return {type: "line", xref: "x", yref: "paper", x0: l.x, x1: l.x, y0: 0, y1: 1, showlegend: true,
              name: l.label, line: {color: l.color || "__LINE_COLOR__", dash: l.dash || "__LINE_DASH__", width: 2}};
    });
    if (view.x_range) layout.xaxis.range = view.x_range;
    if (view.y_range) layout.yaxis.range = view.y_range;
    if (data.x_integer && layout.xaxis.range) {
      var span = layout.xaxis.range[1] - layout.xaxis.range[0];
      layout.xaxis.dtick = [1, 2, 5, 10, 20, 50, 100].filter(function (d) { return span / d <= 16; })[0] || 200;
      layout.xaxis.tick0 = 0;
    }
    plot.setAttribute("data-state", state.join("|"));
    return window.Plotly.react(plot, traces, layout, config);
  }
  function stillImage() {  // the image output just before this one, within the same cell's output
    for (var node = box; node && node.parentElement; node = node.parentElement) {
      var prev = node.previousElementSibling;
      if (prev) {
        var images = prev.tagName === "IMG" ? [prev] : prev.querySelectorAll("img");
        return images.length ? images[images.length - 1] : null;
      }
      if (node.parentElement.classList.contains("cell_output")) return null;
    }
    return null;
  }
  var plotly = window.eqhypPlotly || (window.eqhypPlotly = new Promise(function (resolve, reject) {
    if (window.Plotly) { resolve(window.Plotly); return; }
    var script = document.createElement("script");
    script.src = root + "__PLOTLY__";
    script.onload = function () {
      if (window.Plotly) { resolve(window.Plotly); } else { reject(new Error("no Plotly")); }
    };
    script.onerror = function () { reject(new Error("could not load " + script.src)); };
    document.head.appendChild(script);
  }));
  plotly.then(function () {
    settle();
    live.hidden = false;
    return draw();
  }).then(function () {
    note.hidden = true;
    var still = stillImage();
    if (still) still.classList.add("eqhyp-ifig-still");
    box.classList.add("eqhyp-ifig-ready");
    inputs.forEach(function (input, p) {
      input.addEventListener(data.controls[p].kind === "slider" ? "input" : "change", function () {
        state[p] = data.controls[p].kind === "slider" ? offered[p][Number(input.value)] : Number(input.value);
        settle();
        draw();
      });
    });
  })["catch"](function (error) {  // the still image stays
    live.hidden = true;
    box.setAttribute("data-failed", String(error));
  });
})();
"""


def _trace_style(style) -> dict[str, Any]:
    """A style as the start of a plotly.js trace."""
    out: dict[str, Any] = {"type": style.kind, "name": to_html(style.name), "showlegend": style.legend}
    if style.kind == "bar":
        out["marker"] = {"color": style.color}
        if style.values_format:
            out["texttemplate"] = "%{y:" + style.values_format + "}"
            out["textposition"] = "outside"
            out["cliponaxis"] = False
        return out
    out["mode"] = style.mode
    out["line"] = {"color": style.color, "dash": style.dash, "width": style.width}
    out["marker"] = {"color": style.color, "symbol": style.marker, "size": style.size}
    return out


def _trace(trace: Trace) -> dict[str, Any]:
    out: dict[str, Any] = {"style": trace.style, "y": list(trace.y)}
    if trace.x is not None:
        out["x"] = [to_html(x) if isinstance(x, str) else x for x in trace.x]
    if trace.name is not None:
        out["name"] = to_html(trace.name)
    if trace.hover is not None:
        out["hover"] = [to_html(t) for t in trace.hover]
    return out


def _line(line: VerticalLine) -> dict[str, Any]:
    out: dict[str, Any] = {"x": line.x, "label": to_html(line.label)}
    for name in ("color", "dash"):  # the defaults are left for the script to fill in
        if getattr(line, name) != _LINE_DEFAULTS[name]:
            out[name] = getattr(line, name)
    return out


def _view(view: View) -> dict[str, Any]:
    out: dict[str, Any] = {"traces": [_trace(t) for t in view.traces]}
    if view.lines:
        out["lines"] = [_line(line) for line in view.lines]
    if view.title is not None:
        out["title"] = to_html(view.title)
    if view.x_range is not None:
        out["x_range"] = list(view.x_range)
    if view.y_range is not None:
        out["y_range"] = list(view.y_range)
    return out


def plotly_data(figure: InteractiveFigure) -> dict[str, Any]:
    """Everything the page's script needs, JSON-ready, floats rounded to :data:`SIGNIFICANT_DIGITS`.

    ``controls``: name, label, kind, the label of each value and the default's position; ``styles``: the
    start of a plotly.js trace per style; ``layout``: the plotly.js layout shared by the views; ``title``:
    the title template; ``x_integer``; ``views``: ``{key: view}`` with :meth:`InteractiveFigure.key` keys,
    each view's traces (``style``, ``y``, and ``x`` only where it is not 1, 2, …), vertical lines, title
    and ranges.
    """
    layout = figure.layout
    axis = {"zeroline": False, "automargin": True, "gridcolor": "#e5e5e5", "linecolor": "#444", "ticks": "outside"}
    plot_layout: dict[str, Any] = {
        "height": layout.height, "margin": {"l": 70, "r": 40, "t": 50, "b": 120},
        "font": {"size": 13, "color": "#222"}, "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
        "hovermode": "closest", "barmode": "overlay", "modebar": {"orientation": "v"},
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yref": "container", "yanchor": "bottom"},
        "xaxis": dict(axis, title={"text": to_html(layout.x_title)}),
        "yaxis": dict(axis, title={"text": to_html(layout.y_title)}),
    }
    if layout.x_range is not None:
        plot_layout["xaxis"]["range"] = list(layout.x_range)
    if layout.y_range is not None:
        plot_layout["yaxis"]["range"] = list(layout.y_range)
    data = {
        "controls": [{"name": c.name, "label": to_html(c.label), "kind": c.kind,
                      "labels": [to_html(t) for t in c.labels], "default": c.index(c.default)}
                     for c in figure.controls],
        "styles": {name: _trace_style(style) for name, style in figure.styles.items()},
        "layout": plot_layout,
        "title": to_html(layout.title),
        "x_integer": layout.x_integer,
        "views": {figure.key(state): _view(view) for state, view in figure.views.items()},
    }
    return round_floats(data, SIGNIFICANT_DIGITS)


def data_json(figure: InteractiveFigure) -> str:
    """:func:`plotly_data` as compact JSON with sorted keys, safe inside a ``<script>`` element."""
    text = json.dumps(plotly_data(figure), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _control_html(figure: InteractiveFigure, position: int) -> str:
    control = figure.controls[position]
    state = figure.default_state
    offered = figure.options(position, state[:position])
    current = control.index(state[position])
    if control.kind == "slider":
        spoken = html.escape(to_text(control.labels[current]))
        widget = (f'<input type="range" data-control="{control.name}" min="0" max="{len(offered) - 1}" step="1" '
                  f'value="{offered.index(state[position])}" aria-valuetext="{spoken}">'
                  f' <output>{to_html(control.labels[current])}</output>')
    else:
        options = []
        for index, (value, label) in enumerate(zip(control.values, control.labels)):
            flags = (" selected" if index == current else "") + ("" if value in offered else " hidden disabled")
            options.append(f'<option value="{index}"{flags}>{html.escape(to_text(label))}</option>')
        widget = f'<select data-control="{control.name}">{"".join(options)}</select>'
    return f'<label class="eqhyp-ifig-control"><span>{to_html(control.label)}</span> {widget}</label>'


def figure_html(figure: InteractiveFigure) -> str:
    """The snippet described in this module's docstring (deterministic: same figure, same bytes)."""
    controls = "\n".join(_control_html(figure, p) for p in range(len(figure.controls)))
    script = (_SCRIPT.replace("__PLOTLY__", PLOTLY_PATH).replace("__ID__", _ID_PLACEHOLDER)
              .replace("__LINE_COLOR__", _LINE_DEFAULTS["color"]).replace("__LINE_DASH__", _LINE_DEFAULTS["dash"]))
    snippet = (f'<div class="eqhyp-ifig" id="{_ID_PLACEHOLDER}">\n<style>{_CSS}</style>\n'
               f'<p class="eqhyp-ifig-note">{html.escape(NOTE)}</p>\n'
               f'<div class="eqhyp-ifig-live" hidden>\n<div class="eqhyp-ifig-controls">\n{controls}\n</div>\n'
               f'<div class="eqhyp-ifig-plot" role="img" aria-label="{html.escape(figure.alt)}"></div>\n</div>\n'
               f'<script type="application/json" class="eqhyp-ifig-data">{data_json(figure)}</script>\n'
               f'<script>{script}</script>\n</div>')
    figure_id = "eqhyp-ifig-" + hashlib.sha256(snippet.encode("utf-8")).hexdigest()[:16]
    return snippet.replace(_ID_PLACEHOLDER, figure_id)
