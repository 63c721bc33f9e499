"""Server-rendered SVG bar charts: the admin works with no internet access, so no JS chart library.

Functions the dashboard tag and the doctors' admin call; no template tag of its own.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

NO_DATA = _("No data for this period.")

# Geometry of the drawing, in SVG user units (the SVG scales to its container's width).
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 36, 70
_LABEL_WIDTH = 40  # room one x label needs before labels are thinned out


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    tooltip: str = ""


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at least `raw`: tick steps people read at a glance."""
    if raw <= 0:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * power >= raw:
            return multiple * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _unit(value: float) -> str:
    # Coordinates are formatted here, not in the template, so that a locale with a decimal comma
    # cannot break the SVG.
    return f"{value:.1f}"


def _scale(highest: float, max_value: float | None) -> tuple[float, float]:
    """The value at the top of the plot and the step between its ticks."""
    if max_value is not None:
        return max_value, _nice_step(max_value / 5)
    step = _nice_step(highest / 5) if highest > 0 else 1
    return max(step * math.ceil(highest / step), step), step


def _ticks(top: float, step: float, plot_height: float, unit: str) -> list[dict]:
    """The y axis's ticks from 0 to `top`, each with its height and label."""
    ticks = []
    tick = 0.0
    while tick <= top + 1e-9:
        ticks.append({"y": _unit(_TOP + plot_height - tick / top * plot_height), "label": _number(tick) + unit})
        tick += step
    return ticks


def _drawn_bars(bars: list[Bar], top: float, plot_width: float, plot_height: float, unit: str) -> tuple[list, bool]:
    """Each bar's rectangle, value and label; and whether the x labels are turned to fit."""
    slot = plot_width / max(len(bars), 1)
    bar_width = max(slot * 0.7, 1)
    every = max(1, math.ceil(len(bars) * _LABEL_WIDTH / plot_width)) if bars else 1  # label every n-th bar
    rotate = max((len(bar.label) for bar in bars), default=0) * 7 > slot * every
    drawn = []
    for index, bar in enumerate(bars):
        bar_height = min(bar.value, top) / top * plot_height
        drawn.append(
            {
                "x": _unit(_LEFT + index * slot + (slot - bar_width) / 2),
                "y": _unit(_TOP + plot_height - bar_height),
                "width": _unit(bar_width),
                "height": _unit(bar_height),
                "centre": _unit(_LEFT + index * slot + slot / 2),
                "value_y": _unit(_TOP + plot_height - bar_height - 4),
                "label": bar.label,
                "value": _number(bar.value) + unit,
                "tooltip": bar.tooltip or f"{bar.label}: {_number(bar.value)}{unit}",
                "show_label": index % every == 0,
                "show_value": bar.value > 0 and len(bars) <= 31,
            }
        )
    return drawn, rotate


def _frame(width: int, height: int) -> dict:
    """Where the axes, the axis labels and the no-data note stand."""
    plot_width = width - _LEFT - _RIGHT
    plot_height = height - _TOP - _BOTTOM
    return {
        "width": width,
        "height": height,
        "left": _LEFT,
        "top": _TOP,
        "tick_x": _LEFT - 6,
        "right": width - _RIGHT,
        "plot_bottom": _TOP + plot_height,
        "label_y": _TOP + plot_height + 16,
        "x_label_y": height - 8,
        "y_label_x": 14,
        "y_label_y": _unit(_TOP + plot_height / 2),
        "centre_x": _unit(_LEFT + plot_width / 2),
        "centre_y": _unit(_TOP + plot_height / 2),
    }


def bar_chart(
    bars: Iterable[Bar],
    *,
    title: str | Promise,
    x_label: str | Promise,
    y_label: str | Promise,
    max_value: float | None = None,
    unit: str = "",
    width: int = 720,
    height: int = 280,
) -> SafeString:
    """An inline <svg> bar chart with a title, labelled axes, ticks and a tooltip per bar."""
    bars = list(bars)
    plot_width = width - _LEFT - _RIGHT
    plot_height = height - _TOP - _BOTTOM
    highest = max((bar.value for bar in bars), default=0)
    top, step = _scale(highest, max_value)
    drawn, rotate = _drawn_bars(bars, top, plot_width, plot_height, unit)
    context = {
        **_frame(width, height),
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "bars": drawn,
        "ticks": _ticks(top, step, plot_height, unit),
        "empty": not bars or highest == 0,
        "no_data": NO_DATA,
        "rotate": rotate,
    }
    return render_to_string("appointments/charts/bar_chart.svg", context)


def days_between(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1)]


def per_day_bars(rows: Iterable[dict], date_from: date, date_to: date, *, key: str, unit: str = "") -> list[Bar]:
    """One bar per day of the range, zero where the statistics have no row for the day."""
    values = {row["day"]: row[key] for row in rows}
    return [
        Bar(f"{day:%d.%m}", values.get(day, 0), f"{day:%Y-%m-%d}: {_number(values.get(day, 0))}{unit}")
        for day in days_between(date_from, date_to)
    ]
