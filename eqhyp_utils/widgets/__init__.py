"""Interactive demos for the notebooks (ipywidgets): widget wiring only.

The figures are drawn by pure functions in :mod:`eqhyp_utils.plotting` (covered by pytest and used
for the static figures shown in the book); each ``*_widget()`` here wires sliders to one of them.
The widget modules also hold the short cached training runs the demos need and re-export the figure
functions the notebooks import from them.
"""
