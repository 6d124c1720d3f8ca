"""A matplotlib Figure not registered with pyplot (shown once by Jupyter, never left open)."""

from __future__ import annotations


def new_axes(figsize: tuple[float, float]):
    """``(figure, axes)`` of a fresh stand-alone Figure.

    Jupyter displays a Figure returned by a cell through matplotlib's inline formatter; a
    pyplot-managed figure would be shown a second time when the cell ends and would stay open.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()
