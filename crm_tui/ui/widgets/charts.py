"""Charts for the dashboard and the reports (textual-plotext).

plotext draws the bars, lines, frame and y axis. The x-axis labels are written by this module
instead: plotext counts a Chinese character as one column although it takes two, and where
labels crowd it places them in an order that changes from one process to the next (so the same
data could look different). Here the labels are centred under the tick marks plotext drew ('┬'),
the latest label always kept, any label that would touch its right-hand neighbour left out, and
labels are cut to the room each bar has. Titles and legends sit in the border. Counts get
whole-number ticks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.markup import escape
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from crm_tui.i18n import _
from crm_tui.services.reports import SourceRow, WeekRow

COLOURS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "gray")
_MARKUP = {"cyan": "cyan", "orange": "dark_orange", "green": "green", "magenta": "magenta", "blue": "blue",
           "red": "red", "yellow": "yellow", "gray": "grey50"}
_Y_AXIS = 7  # columns plotext takes for the y tick labels and the frame, roughly


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def fit(label: str, cells: int | None = None) -> str:
    """``label`` cut to ``cells`` display columns."""
    out, used = [], 0
    for ch in label:
        w = 2 if _wide(ch) else 1
        if cells is not None and used + w > cells:
            break
        out.append(ch)
        used += w
    return "".join(out)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def label_row(axis: str, labels: Sequence[str]) -> str:
    """A line of ``labels`` centred under the '┬' marks of the plain-text ``axis`` line."""
    cols = [i for i, ch in enumerate(axis) if ch == "┬"]
    width = len(axis)
    placed: list[tuple[int, str]] = []
    right = width + 1
    for col, label in reversed(list(zip(cols, labels))):
        w = cell_len(label)
        if not w:
            continue
        start = min(max(0, col - (w - 1) // 2), width - w)
        if start + w >= right:  # would touch the label to its right
            continue
        placed.append((start, label))
        right = start
    out, pos = [], 0
    for start, label in reversed(placed):
        out.append(" " * (start - pos) + label)
        pos = start + cell_len(label)
    return "".join(out)


def _ticks(top: float, percent: bool = False) -> list[int]:
    if percent:
        return [0, 25, 50, 75, 100]
    top = max(1, int(top + 0.999))
    step = max(1, -(-top // 4))
    return list(range(0, top + step, step))


BAR_SLOT = 4  # cells a bar of a weekly chart needs to stand apart from the next


@dataclass
class _Spec:
    kind: str  # bars | stacked | lines
    labels: list[str]
    series: list[tuple[str, list[float | None]]]
    percent: bool = False
    ymin: float | None = None
    ymax: float | None = None
    sparse: bool = False  # label only some x positions (weeks)


class Chart(PlotextPlot):
    """A titled chart: call ``bars``, ``stacked`` or ``lines`` with the data; it redraws to fit."""

    DEFAULT_CSS = """
    Chart { border: round $primary 50%; height: 12; min-width: 30; }
    """

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self.border_title = escape(title)
        self.spec: _Spec | None = None
        self._labels: list[str] = []  # x labels of the last draw, written by render()

    # -- data ------------------------------------------------------------------------------------
    def bars(self, labels: Sequence[str], values: Sequence[float | None], *, percent: bool = False,
             sparse: bool = False) -> None:
        self._set(_Spec("bars", list(labels), [("", list(values))], percent=percent, sparse=sparse), legend=False)

    def stacked(self, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
                sparse: bool = False) -> None:
        self._set(_Spec("stacked", list(labels), [(n, list(v)) for n, v in series], sparse=sparse))

    def lines(self, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
              ymin: float | None = None, ymax: float | None = None, sparse: bool = True) -> None:
        """A line per series; a missing value (None) leaves a gap rather than dropping to zero."""
        self._set(_Spec("lines", list(labels), [(n, list(v)) for n, v in series], ymin=ymin, ymax=ymax,
                        sparse=sparse))

    def _set(self, spec: _Spec, legend: bool = True) -> None:
        self.spec = spec
        self.border_subtitle = "  ".join(
            f"[{_MARKUP[COLOURS[i % len(COLOURS)]]}]■[/] {escape(n)}" for i, (n, _v) in enumerate(spec.series)
        ) if legend else ""
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------------
    def _xticks(self, spec: _Spec, n: int, room: int) -> tuple[list[int], list[str]]:
        xs = list(range(1, n + 1))
        if not spec.sparse:
            cells = max(1, room // max(1, n) - 1)
            return xs, [fit(lbl, cells) for lbl in spec.labels]
        widest = max((cell_len(lbl) for lbl in spec.labels), default=1) + 2
        every = max(1, -(-widest * n // max(1, room)))
        keep = [i for i in range(n) if (n - 1 - i) % every == 0]  # always label the latest
        return [xs[i] for i in keep], [spec.labels[i] for i in keep]

    def _draw(self) -> None:
        # A fresh figure every time: plotext keeps layout state between builds (tick positions
        # moved with the sizes the widget had been drawn at before), and a chart must look the
        # same for the same data and size.
        self._plot = Plot()
        plt = self.plt
        spec = self.spec
        if spec is None or not spec.labels:
            return
        room = max(10, self.size.width - _Y_AXIS)
        if spec.sparse and spec.kind != "lines" and len(spec.labels) * BAR_SLOT > room:
            # fewer, wider bars: the latest weeks that fit, each with a gap (at 80 columns twelve
            # weeks' bars merged into one block; issue 21)
            keep = max(1, room // BAR_SLOT)
            spec = _Spec(spec.kind, spec.labels[-keep:], [(name, list(vals)[-keep:]) for name, vals in spec.series],
                         percent=spec.percent, sparse=spec.sparse, ymin=spec.ymin, ymax=spec.ymax)
        n = len(spec.labels)
        bar = 0.6 if room / max(1, n) >= 6 else 0.45  # narrow slots: thinner bars keep a gap between them
        ticks, names = self._xticks(spec, n, room)
        xs = list(range(1, n + 1))
        colours = [COLOURS[i % len(COLOURS)] for i in range(len(spec.series))]
        if spec.kind == "bars":
            vals = [0 if v is None else v for v in spec.series[0][1]]
            plt.bar(xs, vals, color=colours[0], width=bar)
            plt.yticks(_ticks(max(vals, default=0) if not spec.percent else 100, spec.percent))
            if spec.percent:
                plt.ylim(0, 100)
        elif spec.kind == "stacked":
            # Drawn as overlapping bars of the running totals, tallest first: plotext's own stacked
            # bars paint a blank cell for a zero-height segment, which hid the segment below it.
            data = [[0 if v is None else v for v in vals] for _n, vals in spec.series]
            totals = [[sum(col[: k + 1]) for col in zip(*data)] for k in range(len(data))]
            for k in reversed(range(len(data))):
                pts = [(x, v) for x, v in zip(xs, totals[k]) if v]  # a zero bar would blank the cell below
                if pts:
                    plt.bar([p[0] for p in pts], [p[1] for p in pts], color=colours[k], width=bar)
            plt.yticks(_ticks(max(totals[-1], default=0) if totals else 0))
        else:
            for colour, (_n, vals) in zip(colours, spec.series):
                pts = [(x, v) for x, v in zip(xs, vals) if v is not None]
                if pts:
                    plt.plot([p[0] for p in pts], [p[1] for p in pts], color=colour, marker="dot")
            if spec.ymin is not None and spec.ymax is not None:
                plt.ylim(spec.ymin, spec.ymax)
                plt.yticks(list(range(int(spec.ymin), int(spec.ymax) + 1)))
        plt.xlim(0.5, n + 0.5)  # every period keeps its slot, even when nothing is drawn in it
        plt.xticks(ticks, [" "] * len(ticks))  # the labels are written by render()
        self._labels = names

    def _empty(self) -> bool:
        return self.spec is None or not any(v for _n, vals in self.spec.series for v in vals)

    def render(self) -> RenderResult:
        self._labels = []
        if self._empty():  # an empty frame would read as "all zero"; say there is nothing yet
            note = "" if self.spec is None else _("No data for this period yet")
            return Text("\n" * max(0, self.size.height // 2 - 1) + note, justify="center", style="dim")
        self._draw()
        self.plt.theme("clear")
        self.plt.plotsize(self.size.width, self.size.height)
        self.plt._set_size(self.size.width, self.size.height)
        lines = self.plt.build().split("\n")
        plain = [_ANSI.sub("", ln) for ln in lines]
        axis = next((i for i in range(len(plain) - 1, -1, -1) if "┬" in plain[i]), None)
        if axis is not None and self._labels and axis + 1 < len(lines):
            lines[axis + 1] = label_row(plain[axis], self._labels)
        return Text.from_ansi("\n".join(lines))


def draw_weeks(screen: Widget, prefix: str, weeks: Sequence[WeekRow]) -> None:
    """Fill ``#<prefix>-new``, ``-complaints`` and ``-satisfaction`` with the weekly series (the
    dashboard and the reports screen show the same three charts)."""
    labels = [f"{w.week:%m-%d}" for w in weeks]
    screen.query_one(f"#{prefix}-new", Chart).bars(labels, [w.new_customers for w in weeks], sparse=True)
    screen.query_one(f"#{prefix}-complaints", Chart).stacked(labels, [
        (_("Within the time limits"), [w.complaints_within for w in weeks]),
        (_("Missed or overdue"), [w.complaints - w.complaints_within for w in weeks]),
    ], sparse=True)
    screen.query_one(f"#{prefix}-satisfaction", Chart).lines(labels, [
        (_("Complaint handling"), [w.satisfaction for w in weeks]),
        (_("Satisfaction surveys"), [w.survey for w in weeks]),
    ], ymin=1, ymax=5)


def draw_conversion(chart: Chart, sources: Sequence[SourceRow], top: int = 6) -> None:
    """Conversion (%) of the ``top`` sources with the most cards."""
    rows = list(sources)[:top]
    chart.bars([r.source for r in rows], [None if r.conversion is None else round(r.conversion * 100) for r in rows],
               percent=True)
