"""The report's charts: matplotlib figures as PNG `data:` URIs, so the page needs no network and no JS.

Figures are built with `matplotlib.figure.Figure` (not pyplot): no global state, safe in a worker.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

DPI = 96  # the page shows them at their pixel size; ~20-40 KB each
WIDTH_IN, HEIGHT_IN = 7.5, 3.0
THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}".replace(",", " "))  # 40 000, the French way
PALETTE = ["#2e7d32", "#ef6c00", "#c62828", "#1565c0", "#6a1b9a", "#00838f", "#9e9d24", "#5d4037"]


def _uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(height: float = HEIGHT_IN) -> tuple[Figure, object]:
    fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    return fig, ax


def stacked_bars(labels: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str,
                 colors: dict[str, str] | None = None) -> str:
    """Bars per label (a day), one stacked segment per series (a decision)."""
    fig, ax = _figure()
    bottom = [0.0] * len(labels)
    for i, (name, values) in enumerate(series.items()):
        color = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
        ax.bar(labels, values, bottom=bottom, label=name, color=color)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    if len(labels) > 8:
        ax.tick_params(axis="x", labelrotation=45)
    return _uri(fig)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> str:
    """One bar per label, largest on top (reasons, defects, kinds)."""
    fig, ax = _figure(height=max(1.6, 0.32 * len(labels) + 0.8))
    ax.grid(axis="y", alpha=0)
    ax.grid(axis="x", alpha=0.3)
    ax.barh(list(labels)[::-1], list(values)[::-1], color=PALETTE[3])
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.set_title(title, loc="left")
    ax.set_xlabel(xlabel)
    return _uri(fig)


def histogram(values: Sequence[float], title: str, xlabel: str, bins: int = 20,
              span: tuple[float, float] | None = None, ylabel: str = "documents") -> str:
    """The distribution of one score (readability 0-1, confidence 0-100, seconds)."""
    fig, ax = _figure()
    ax.hist(list(values), bins=bins, range=span, color=PALETTE[3], edgecolor="white")
    ax.set_title(title, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _uri(fig)


def scatter_equal(x: Sequence[float], y: Sequence[float], title: str, xlabel: str, ylabel: str) -> str:
    """Points against the y = x line (care-sheet total against invoice total)."""
    fig, ax = _figure(height=3.6)
    ax.scatter(list(x), list(y), s=14, color=PALETTE[3], alpha=0.7)
    top = max([*x, *y, 1.0])
    ax.plot([0, top], [0, top], color="#999", linewidth=1, linestyle="--")
    ax.set_title(title, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _uri(fig)
