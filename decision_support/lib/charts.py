"""Chart specifications shared by every page.

A chart is data, never script: the page embeds the specs with ``json_script`` and
``static/js/charts.js`` draws them with Plotly (no inline script, so a strict CSP holds). Every
chart carries the table that the page shows beside it, built from the same numbers; a table that
shows fewer rows than the chart draws points says which in its ``table_note``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # bar | line | waterfall | beeswarm | interval
    x_title: str
    y_title: str
    traces: list[dict]
    table_columns: list[str]
    table_rows: list[list]
    percent: bool = False
    caption: str = ""
    layout: dict = field(default_factory=dict)
    table_note: str = ""  # the table's caption: what it shows, when not every point drawn

    def labels(self) -> list[str]:
        """Every text the chart draws: axis titles, legend names, categories and tick labels."""
        names = [trace.get("name", "") for trace in self.traces]
        categories = dict.fromkeys(x for trace in self.traces for x in trace["x"]
                                   if isinstance(x, str))
        ticks = self.layout.get("tick_labels", [])
        return [self.x_title, self.y_title, *ticks, *names, *categories]

    def as_json(self) -> dict:
        # Shallow: json_script serialises it at once, and asdict's deep copy of every trace
        # cost a model page about a sixth of its time.
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("table_columns", "table_rows", "table_note")}


def plain(value, digits: int = 4):
    """JSON-friendly numbers: numpy scalars to Python, NaN to None."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return None if np.isnan(value) else round(value, digits)


def bar_chart(chart_id, title, x_title, y_title, categories, series: dict, *, percent=False,
              caption="") -> Chart:
    categories = [str(c) for c in categories]
    traces = [{"name": name, "x": categories, "y": [plain(v) for v in values]}
              for name, values in series.items()]
    rows = [[c, *(t["y"][i] for t in traces)] for i, c in enumerate(categories)]
    return Chart(chart_id, title, "bar", x_title, y_title, traces, [x_title, *series], rows,
                 percent=percent, caption=caption)


def line_chart(chart_id, title, x_title, y_title, series: dict, *, diagonal=False,
               percent=False, caption="") -> Chart:
    """``series``: name -> (x values, y values). ``diagonal`` draws the y = x reference."""
    traces, rows = [], []
    for name, (xs, ys) in series.items():
        xs, ys = [plain(x) for x in xs], [plain(y) for y in ys]
        traces.append({"name": name, "x": xs, "y": ys})
        rows += [[name, x, y] for x, y in zip(xs, ys)]
    layout = {"diagonal": True} if diagonal else {}
    return Chart(chart_id, title, "line", x_title, y_title, traces, ["Series", x_title, y_title],
                 rows, percent=percent, caption=caption, layout=layout)


def waterfall_chart(chart_id, title, *, base: float, contributions: dict, output: float,
                    units: str, top: int = 12, caption="") -> Chart:
    """SHAP waterfall: from the base value, each feature's push, to the model output. Features
    beyond the ``top`` largest are summed into one bar so the chart stays readable."""
    ordered = sorted(contributions.items(), key=lambda item: abs(item[1]), reverse=True)
    shown, rest = ordered[:top], ordered[top:]
    if rest:
        shown.append((f"{len(rest)} other features", sum(v for _, v in rest)))
    labels = [label for label, _ in shown]
    values = [plain(v, 5) for _, v in shown]
    trace = {"x": ["Average patient", *labels, "This patient"],
             "y": [plain(base, 5), *values, plain(output, 5)],
             "measure": ["absolute", *["relative"] * len(values), "total"]}
    rows = [["Average patient (base value)", plain(base, 5)], *[[l, v] for l, v in zip(labels, values)],
            ["This patient (model output)", plain(output, 5)]]
    return Chart(chart_id, title, "waterfall", "", f"Model output ({units})", [trace],
                 ["Step", f"Contribution ({units})"], rows, caption=caption)


def beeswarm_chart(chart_id, title, *, features: list[str], labels: dict, shap: dict,
                   colour: dict, units: str, caption="") -> Chart:
    """One row of dots per feature: each held-out patient's SHAP value, coloured by the
    feature's value (low blue, high red). Jitter is deterministic."""
    traces = []
    for row, feature in enumerate(reversed(features)):
        values = shap[feature]
        jitter = (np.sin(np.arange(len(values)) * 12.9898) * 0.3).round(3).tolist()
        traces.append({"name": labels[feature], "x": [plain(v, 5) for v in values],
                       "y": [row + j for j in jitter], "colour": colour[feature]})
    rows = [[labels[f], plain(np.mean(np.abs(shap[f])), 5), plain(min(shap[f]), 5),
             plain(max(shap[f]), 5)] for f in features]
    layout = {"tick_labels": [labels[f] for f in reversed(features)]}
    return Chart(chart_id, title, "beeswarm", f"SHAP value ({units})", "", traces,
                 ["Feature", "Mean |SHAP|", "Lowest", "Highest"], rows, caption=caption,
                 layout=layout)


def interval_chart(chart_id, title, x_title, y_title, labels, values, low, high, *,
                   percent=True, caption="") -> Chart:
    """Point estimates with an interval each (error bars)."""
    trace = {"x": [str(label) for label in labels], "y": [plain(v) for v in values],
             "low": [plain(v) for v in low], "high": [plain(v) for v in high]}
    rows = [[label, *cells] for label, *cells in zip(trace["x"], trace["y"], trace["low"], trace["high"])]
    return Chart(chart_id, title, "interval", x_title, y_title, [trace],
                 [x_title, y_title, "Interval low", "Interval high"], rows, percent=percent,
                 caption=caption)
