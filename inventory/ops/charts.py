"""Bar charts drawn on the server as SVG geometry: no JavaScript and nothing from the internet
(the kiosk LAN has none). The template draws the rectangles; this computes where they go."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str  # under the bar, or "" where labels would crowd
    title: str  # the tooltip: label and value


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    plot_height: int
    top: int

    @property
    def baseline(self) -> int:
        return self.plot_height


def bar_chart(points, *, width=720, height=180, label_every=1) -> BarChart:
    """points: [(label, value)]. Labels are drawn for every `label_every`-th bar."""
    margin = 16  # room for the "max" caption above the bars
    plot_height = height - 24  # room for the labels under the bars
    usable = plot_height - margin
    top = max((value for _label, value in points), default=0)
    slot = width / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = usable * value / top if top else 0
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.1, 2),
                y=round(plot_height - bar_height, 2),
                width=round(slot * 0.8, 2),
                height=round(bar_height, 2),
                value=value,
                label=str(label) if index % label_every == 0 else "",
                title=f"{label}: {value}",
            )
        )
    return BarChart(bars=bars, width=width, height=height, plot_height=plot_height, top=top)
