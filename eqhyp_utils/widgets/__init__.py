"""Interactive demos for the notebooks (ipywidgets).

Each demo is split into a pure function that computes and draws a figure (covered by pytest and
used for the static figure shown in the book) and a thin ``*_widget()`` that wires sliders to it.
"""
