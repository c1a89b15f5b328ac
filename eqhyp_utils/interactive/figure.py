r"""What an interactive figure is: its controls, and what it shows in every state of them, all precomputed.

An :class:`InteractiveFigure` is data, not code. Its :class:`Control`\ s (dropdown selects and range
sliders) each hold a list of values; a *state* is one value per control, in the controls' order; the
figure holds one :class:`View` (traces, vertical lines, a title, axis ranges) for every state a reader
can reach. Nothing is computed when a control moves: the book's script looks the new state up and draws
the stored view (:mod:`~eqhyp_utils.interactive.html`), and the still image is the default state's view
drawn by matplotlib (:mod:`~eqhyp_utils.interactive.still`) — one definition, two renderings.

**Dependent controls.** The views need not cover every combination of the controls' values: the options
a control offers are those that lead to a stored view given the controls *before* it. For example a
checkpoint slider that follows a grid selector offers the grid's own checkpoints. When an earlier control
moves, each later control keeps its value if it is still offered, else takes the value at the same
relative position along its new options (the first stays first, the middle the middle, the last the last).

**Styles.** Traces name a :class:`TraceStyle` (colour, dash, marker, legend name) instead of repeating
it, which keeps the page small when a figure has hundreds of views.

Text (titles, labels, legend names) may contain ``<sub>``/``<sup>`` (:mod:`~eqhyp_utils.interactive.markup`).
The layout's title may name controls in braces, ``"{activation}, L = {depth}"``: each is replaced by the
label of that control's current value.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InvalidInputError
from .markup import check_markup

__all__ = ["CONTROL_KINDS", "TRACE_KINDS", "MODES", "DASHES", "MARKER_SYMBOLS", "Control", "TraceStyle",
           "Trace", "VerticalLine", "View", "Layout", "InteractiveFigure", "format_title"]

#: The kinds of control: a dropdown list, or a slider over the control's values in their order.
CONTROL_KINDS = ("select", "slider")
#: The kinds of trace: points joined by lines and/or markers, or bars.
TRACE_KINDS = ("scatter", "bar")
#: How a scatter trace draws its points.
MODES = ("lines", "markers", "lines+markers")
#: Line dashes, with matplotlib's name for each.
DASHES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-."}
#: Marker symbols (plotly.js names), with matplotlib's name for each.
MARKER_SYMBOLS = {"circle": "o", "square": "s", "diamond": "D", "triangle-up": "^", "triangle-down": "v",
                  "star": "*", "x": "x", "cross": "P"}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FORMAT = re.compile(r"^\.[0-9][fg%]$")


def _plain_value(value: Any, what: str) -> "str | int | float":
    """A control value as a plain Python str, int or finite float."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInputError(f"{what} must be a string or a number, got {type(value).__name__} {value!r}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"{what} must be finite, got {value!r}.")
    return value


def _finite_numbers(values: Any, what: str) -> tuple[float, ...]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be a sequence of numbers, got {values!r}.") from None
    if array.ndim != 1 or array.size == 0:
        raise InvalidInputError(f"{what} must be a non-empty 1-D sequence of numbers, got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise InvalidInputError(f"{what} must be finite; found {int((~np.isfinite(array)).sum())} NaN or infinite "
                                f"value(s). Leave such points out.")
    return tuple(float(v) for v in array)


def _range(value: Any, what: str) -> "tuple[float, float] | None":
    if value is None:
        return None
    pair = _finite_numbers(value, what) if isinstance(value, (tuple, list, np.ndarray)) else ()
    low, high = pair if len(pair) == 2 else (None, None)
    if low is None or not low < high:
        raise InvalidInputError(f"{what} must be (low, high) with low < high, got {value!r}.")
    return (low, high)


@dataclass(frozen=True)
class Control:
    """A dropdown select or a range slider.

    ``name``: an identifier (letters, digits, ``_``), used in title templates; ``label``: the text shown
    beside it; ``values``: what it can take, in the order shown (strings or numbers, distinct);
    ``labels``: the text shown for each value (default ``str(value)``, numbers with 4 significant digits);
    ``kind``: ``"select"`` or ``"slider"``; ``default``: the value of the figure's default state (default the
    first value).
    """

    name: str
    label: str
    values: tuple
    kind: str = "select"
    labels: "tuple[str, ...] | None" = None
    default: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InvalidInputError(f"a control's name must be an identifier (letters, digits, _), got {self.name!r}.")
        check_markup(self.label, f"control {self.name!r}: label")
        if self.kind not in CONTROL_KINDS:
            raise InvalidInputError(f"control {self.name!r}: kind must be one of {CONTROL_KINDS}, got {self.kind!r}.")
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence) or not len(self.values):
            raise InvalidInputError(f"control {self.name!r}: values must be a non-empty sequence, got {self.values!r}.")
        values = tuple(_plain_value(v, f"control {self.name!r}: each value") for v in self.values)
        if len(set(values)) != len(values):
            raise InvalidInputError(f"control {self.name!r}: values must be distinct, got {values!r}.")
        labels = self.labels
        if labels is None:
            labels = tuple(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values)
        elif isinstance(labels, str) or len(labels) != len(values):
            raise InvalidInputError(f"control {self.name!r}: labels must give one text per value "
                                    f"({len(values)}), got {labels!r}.")
        labels = tuple(check_markup(t, f"control {self.name!r}: each label") for t in labels)
        default = values[0] if self.default is None else _plain_value(self.default, f"control {self.name!r}: default")
        if default not in values:
            raise InvalidInputError(f"control {self.name!r}: default {default!r} is not one of its values {values!r}.")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "default", default)

    def index(self, value: Any) -> int:
        """The position of ``value`` among :attr:`values` (raises for a value the control does not have)."""
        try:
            return self.values.index(_plain_value(value, f"a value of control {self.name!r}"))
        except ValueError:
            raise InvalidInputError(f"control {self.name!r} has no value {value!r}; its values are {self.values!r}.") \
                from None

    def label_of(self, value: Any) -> str:
        """The text shown for ``value``."""
        return self.labels[self.index(value)]


@dataclass(frozen=True)
class TraceStyle:
    """How a family of traces looks, shared by every view that shows one.

    ``name``: the legend entry (a trace may override it); ``kind``: ``"scatter"`` or ``"bar"``;
    ``mode`` (scatter): ``"lines"``, ``"markers"`` or ``"lines+markers"``; ``color``: ``#RRGGBB``;
    ``dash``: one of :data:`DASHES`; ``marker``: one of :data:`MARKER_SYMBOLS`; ``size``: marker size and
    ``width``: line width, in screen pixels; ``values_format`` (bars): write each bar's value above it with
    this format (``".2f"``, ``".3g"``), or None; ``legend``: whether the trace has a legend entry.
    """

    name: str
    kind: str = "scatter"
    mode: str = "lines+markers"
    color: str = "#000000"
    dash: str = "solid"
    marker: str = "circle"
    size: float = 6.0
    width: float = 2.0
    values_format: "str | None" = None
    legend: bool = True

    def __post_init__(self) -> None:
        check_markup(self.name, "a trace style's name")
        if self.kind not in TRACE_KINDS:
            raise InvalidInputError(f"style {self.name!r}: kind must be one of {TRACE_KINDS}, got {self.kind!r}.")
        if self.mode not in MODES:
            raise InvalidInputError(f"style {self.name!r}: mode must be one of {MODES}, got {self.mode!r}.")
        if not isinstance(self.color, str) or not _COLOUR.match(self.color):
            raise InvalidInputError(f"style {self.name!r}: color must be '#RRGGBB', got {self.color!r}.")
        if self.dash not in DASHES:
            raise InvalidInputError(f"style {self.name!r}: dash must be one of {tuple(DASHES)}, got {self.dash!r}.")
        if self.marker not in MARKER_SYMBOLS:
            raise InvalidInputError(f"style {self.name!r}: marker must be one of {tuple(MARKER_SYMBOLS)}, "
                                    f"got {self.marker!r}.")
        for what in ("size", "width"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 50:
                raise InvalidInputError(f"style {self.name!r}: {what} must be a number in (0, 50], got {value!r}.")
        if self.values_format is not None and not (isinstance(self.values_format, str)
                                                   and _FORMAT.match(self.values_format)):
            raise InvalidInputError(f"style {self.name!r}: values_format must be like '.2f' or '.3g', "
                                    f"got {self.values_format!r}.")


@dataclass(frozen=True)
class Trace:
    """One curve or set of bars of a view: ``y`` against ``x`` (default 1, 2, …, len(y): layers).

    Bars of different traces at the same x are drawn at the same place (give each trace its own x).

    ``style``: the name of a :class:`TraceStyle` of the figure; ``x``: numbers or category names;
    ``name``: the legend entry, if not the style's; ``hover``: a text per point shown on hover.
    """

    style: str
    y: tuple
    x: "tuple | None" = None
    name: "str | None" = None
    hover: "tuple[str, ...] | None" = None

    def __post_init__(self) -> None:
        if not isinstance(self.style, str):
            raise InvalidInputError(f"a trace's style must be a style name, got {self.style!r}.")
        y = _finite_numbers(self.y, f"trace of style {self.style!r}: y")
        x = self.x
        if x is not None:
            if isinstance(x, (str, bytes)) or len(x) != len(y):
                raise InvalidInputError(f"trace of style {self.style!r}: x must have one entry per y value "
                                        f"({len(y)}), got {x!r}.")
            x = tuple(_plain_value(v, f"trace of style {self.style!r}: each x") for v in x)
        if self.name is not None:
            check_markup(self.name, f"trace of style {self.style!r}: name")
        hover = self.hover
        if hover is not None:
            if isinstance(hover, str) or len(hover) != len(y):
                raise InvalidInputError(f"trace of style {self.style!r}: hover must give one text per point "
                                        f"({len(y)}), got {hover!r}.")
            hover = tuple(check_markup(t, f"trace of style {self.style!r}: hover") for t in hover)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "hover", hover)

    @property
    def xs(self) -> tuple:
        """The x of each point (1, 2, … when ``x`` was not given)."""
        return self.x if self.x is not None else tuple(range(1, len(self.y) + 1))


@dataclass(frozen=True)
class VerticalLine:
    """A vertical line across the plot at ``x`` (e.g. a predicted layer), with a legend entry ``label``."""

    x: float
    label: str
    color: str = "#000000"
    dash: str = "dash"

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", _finite_numbers([self.x], "a vertical line's x")[0])
        check_markup(self.label, "a vertical line's label")
        if not isinstance(self.color, str) or not _COLOUR.match(self.color):
            raise InvalidInputError(f"vertical line {self.label!r}: color must be '#RRGGBB', got {self.color!r}.")
        if self.dash not in DASHES:
            raise InvalidInputError(f"vertical line {self.label!r}: dash must be one of {tuple(DASHES)}, "
                                    f"got {self.dash!r}.")


@dataclass(frozen=True)
class View:
    """What the figure shows in one state: ``traces``, vertical ``lines``, and optionally its own ``title``
    (instead of the layout's template) and axis ranges ``x_range``, ``y_range`` (low, high)."""

    traces: tuple
    lines: tuple = ()
    title: "str | None" = None
    x_range: "tuple[float, float] | None" = None
    y_range: "tuple[float, float] | None" = None

    def __post_init__(self) -> None:
        traces, lines = tuple(self.traces), tuple(self.lines)
        if not traces or not all(isinstance(t, Trace) for t in traces):
            raise InvalidInputError(f"a view needs at least one Trace, got {self.traces!r}.")
        if not all(isinstance(line, VerticalLine) for line in lines):
            raise InvalidInputError(f"a view's lines must be VerticalLine objects, got {self.lines!r}.")
        if self.title is not None:
            check_markup(self.title, "a view's title")
        object.__setattr__(self, "traces", traces)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "x_range", _range(self.x_range, "a view's x_range"))
        object.__setattr__(self, "y_range", _range(self.y_range, "a view's y_range"))


@dataclass(frozen=True)
class Layout:
    """What every view shares: axis titles, the title template, default axis ranges and sizes.

    ``title``: a template in which ``{control_name}`` stands for the label of that control's value;
    ``x_integer``: integer ticks only on the x axis (layers); ``height``: the interactive plot's height
    (pixels); ``still_size``: the still image's size (inches, at 100 dots per inch).
    """

    x_title: str
    y_title: str
    title: str = ""
    x_integer: bool = False
    x_range: "tuple[float, float] | None" = None
    y_range: "tuple[float, float] | None" = None
    height: int = 520
    still_size: tuple = (8.0, 4.4)

    def __post_init__(self) -> None:
        for what in ("x_title", "y_title", "title"):
            check_markup(getattr(self, what), f"layout {what}")
        object.__setattr__(self, "x_range", _range(self.x_range, "layout x_range"))
        object.__setattr__(self, "y_range", _range(self.y_range, "layout y_range"))
        if isinstance(self.height, bool) or not isinstance(self.height, int) or not 200 <= self.height <= 1200:
            raise InvalidInputError(f"layout height must be an integer number of pixels in 200 … 1200, "
                                    f"got {self.height!r}.")
        size = tuple(_finite_numbers(self.still_size, "layout still_size"))
        if len(size) != 2 or not all(2 <= s <= 20 for s in size):
            raise InvalidInputError(f"layout still_size must be (width, height) in inches, each in 2 … 20, "
                                    f"got {self.still_size!r}.")
        object.__setattr__(self, "still_size", size)


def format_title(template: str, controls: Sequence[Control], state: Sequence[Any]) -> str:
    """``template`` with each ``{name}`` replaced by the label of control ``name``'s value in ``state``."""
    labels = {c.name: c.label_of(v) for c, v in zip(controls, state)}
    return _PLACEHOLDER.sub(lambda m: labels[m.group(1)], template)


@dataclass(frozen=True, eq=False)
class InteractiveFigure:
    """A figure whose every state is precomputed: controls, views, styles, layout and an alt text.

    ``name``: a short title (shown in the text outputs); ``controls``: the :class:`Control` objects, in the
    order shown; ``views``: ``{state: View}``, a state being the tuple of one value per control, in the
    controls' order — the default state (each control's default) must be one, and every value of every
    control must occur in some state; ``styles``: ``{style name: TraceStyle}`` for the traces' ``style``;
    ``layout``: a :class:`Layout`; ``alt``: a sentence saying what the figure shows, for readers who do not
    see it (the plot's aria-label).

    In a notebook, the figure displays itself as two outputs: its still image, then the interactive
    version (:func:`~eqhyp_utils.interactive.display.display_interactive`).
    """

    name: str
    controls: tuple
    views: Mapping
    styles: Mapping
    layout: Layout
    alt: str
    _keys: dict = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_markup(self.name, "the figure's name")
        if not isinstance(self.alt, str) or len(self.alt.strip()) < 10:
            raise InvalidInputError(f"alt must be a sentence saying what the figure shows, got {self.alt!r}.")
        controls = tuple(self.controls)
        if not controls or not all(isinstance(c, Control) for c in controls):
            raise InvalidInputError(f"controls must be a non-empty sequence of Control objects, got {self.controls!r}.")
        names = [c.name for c in controls]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"control names must be distinct, got {names}.")
        if not isinstance(self.layout, Layout):
            raise InvalidInputError(f"layout must be a Layout, got {type(self.layout).__name__}.")
        unknown = sorted(set(_PLACEHOLDER.findall(self.layout.title)) - set(names))
        if unknown:
            raise InvalidInputError(f"the layout's title names {unknown}, which are not controls ({names}).")
        if not isinstance(self.styles, Mapping) or not self.styles or \
                not all(isinstance(s, TraceStyle) for s in self.styles.values()):
            raise InvalidInputError("styles must be a non-empty {name: TraceStyle} mapping.")
        if not isinstance(self.views, Mapping) or not self.views:
            raise InvalidInputError("views must be a non-empty {state: View} mapping.")
        views, keys = {}, {}
        for state, view in self.views.items():
            state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
            if len(state) != len(controls):
                raise InvalidInputError(f"state {state!r} has {len(state)} value(s); give one per control {names}.")
            index = tuple(c.index(v) for c, v in zip(controls, state))
            state = tuple(c.values[i] for c, i in zip(controls, index))
            if not isinstance(view, View):
                raise InvalidInputError(f"the view of state {state!r} must be a View, got {type(view).__name__}.")
            missing = sorted({t.style for t in view.traces} - set(self.styles))
            if missing:
                raise InvalidInputError(f"the view of state {state!r} uses undefined style(s) {missing}; "
                                        f"defined: {sorted(self.styles)}.")
            if state in views:
                raise InvalidInputError(f"state {state!r} is given twice.")
            views[state], keys[state] = view, index
        for position, control in enumerate(controls):
            unused = [v for i, v in enumerate(control.values) if all(k[position] != i for k in keys.values())]
            if unused:
                raise InvalidInputError(f"control {control.name!r}: no view for value(s) {unused}; drop them from "
                                        f"its values or add their views.")
        default = tuple(c.default for c in controls)
        if default not in views:
            raise InvalidInputError(f"the default state {default!r} (each control's default) has no view.")
        object.__setattr__(self, "controls", controls)
        object.__setattr__(self, "views", views)
        object.__setattr__(self, "styles", dict(self.styles))
        object.__setattr__(self, "_keys", keys)

    @property
    def default_state(self) -> tuple:
        """The state shown first and drawn in the still image: each control's default."""
        return tuple(c.default for c in self.controls)

    @property
    def states(self) -> list[tuple]:
        """Every state with a view, in the order given."""
        return list(self.views)

    def view(self, state: Sequence[Any]) -> View:
        """The view of ``state`` (a tuple of one value per control)."""
        state = tuple(state)
        if state not in self.views:
            raise InvalidInputError(f"no view for state {state!r} (controls {[c.name for c in self.controls]}).")
        return self.views[state]

    def title(self, state: Sequence[Any]) -> str:
        """The title shown in ``state``: the view's own, else the layout's template filled in."""
        view = self.view(state)
        return view.title if view.title is not None else format_title(self.layout.title, self.controls, state)

    def key(self, state: Sequence[Any]) -> str:
        """The state as the page's data names it: the positions of its values, joined by ``|``."""
        self.view(state)
        return "|".join(str(i) for i in self._keys[tuple(state)])

    def options(self, position: int, prefix: Sequence[Any]) -> list:
        """The values control ``position`` offers when the controls before it hold ``prefix``."""
        prefix = tuple(prefix)
        if len(prefix) != position:
            raise InvalidInputError(f"prefix must hold the {position} value(s) before control {position}.")
        offered = {state[position] for state in self.views if state[:position] == prefix}
        return [v for v in self.controls[position].values if v in offered]

    def _ipython_display_(self) -> None:
        from .display import display_interactive

        display_interactive(self)

    def __repr__(self) -> str:
        return (f"InteractiveFigure({self.name!r}: {len(self.controls)} controls "
                f"({', '.join(c.name for c in self.controls)}), {len(self.views)} views)")
