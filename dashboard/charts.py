"""Server-rendered SVG charts: coordinates computed here, drawn by the template."""

import datetime as dt
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 160
PAD_LEFT = 4
PAD_BOTTOM = 18


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the day, for the <title> tooltip
    value: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    points: str  # polyline "x,y x,y" for line charts
    first_label: str
    last_label: str
    max_label: str
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - PAD_BOTTOM


def daily_chart(days: list[dt.date], values: list[float], *, fmt=str, max_value=None) -> Chart:
    """Bars (and the same values as a line) for one value per day."""
    real_top = max_value if max_value is not None else max(values, default=0)
    top = real_top or 1
    usable = HEIGHT - PAD_BOTTOM - 6
    step = (WIDTH - PAD_LEFT) / max(len(days), 1)
    bars, points = [], []
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        h = usable * (value / top)
        x = PAD_LEFT + i * step
        y = HEIGHT - PAD_BOTTOM - h
        bars.append(
            Bar(
                x=round(x + step * 0.15, 1),
                y=round(y, 1),
                width=round(max(step * 0.7, 1), 1),
                height=round(h, 1),
                label=day.strftime("%d %b"),
                value=fmt(value),
            )
        )
        points.append(f"{round(x + step / 2, 1)},{round(y, 1)}")
    return Chart(
        bars=bars,
        points=" ".join(points),
        first_label=days[0].strftime("%d %b") if days else "",
        last_label=days[-1].strftime("%d %b") if days else "",
        max_label=fmt(real_top),
    )
