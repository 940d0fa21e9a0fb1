// Draws every [data-chart] element from the JSON in #chart-specs (no inline script, CSP-safe).
// The specs come from decision_support/lib/charts.py; each page also shows them as tables.
(function () {
  "use strict";
  var source = document.getElementById("chart-specs");
  if (!source || typeof Plotly === "undefined") { return; }

  var builders = {
    bar: function (spec) {
      return spec.traces.map(function (t) { return { type: "bar", name: t.name, x: t.x, y: t.y }; });
    },
    line: function (spec) {
      var traces = spec.traces.map(function (t) {
        return { type: "scatter", mode: "lines+markers", name: t.name, x: t.x, y: t.y };
      });
      if (spec.layout.diagonal) {
        traces.push({ type: "scatter", mode: "lines", name: "Perfect / chance", x: [0, 1], y: [0, 1],
                      line: { dash: "dot", color: "#888" }, hoverinfo: "skip" });
      }
      return traces;
    },
    waterfall: function (spec) {
      var t = spec.traces[0];
      return [{ type: "waterfall", x: t.x, y: t.y, measure: t.measure, orientation: "v",
                increasing: { marker: { color: "#c0392b" } }, decreasing: { marker: { color: "#2166ac" } },
                totals: { marker: { color: "#555" } }, connector: { line: { color: "#bbb" } } }];
    },
    beeswarm: function (spec) {
      return spec.traces.map(function (t) {
        // SVG "scatter", not WebGL "scattergl": Plotly's WebGL code compiles functions at run time
        // (eval), which the Content Security Policy refuses; a few thousand dots draw fine in SVG.
        return { type: "scatter", mode: "markers", name: t.name, x: t.x, y: t.y, showlegend: false,
                 marker: { size: 5, color: t.colour, colorscale: "RdBu", cmin: 0, cmax: 1 },
                 hovertemplate: t.name + ": %{x}<extra></extra>" };
      });
    },
    interval: function (spec) {
      var t = spec.traces[0];
      return [{ type: "bar", x: t.x, y: t.y, marker: { color: "#2952a3" },
                error_y: { type: "data", symmetric: false,
                           array: t.high.map(function (h, i) { return h - t.y[i]; }),
                           arrayminus: t.low.map(function (l, i) { return t.y[i] - l; }) } }];
    }
  };

  JSON.parse(source.textContent).forEach(function (spec) {
    var target = document.querySelector('[data-chart="' + spec.id + '"]');
    if (!target || !builders[spec.kind]) { return; }
    var traces = builders[spec.kind](spec);
    var layout = {
      margin: { t: traces.length > 1 && spec.kind !== "beeswarm" ? 40 : 10, r: 10, b: 70, l: 70 },
      height: spec.kind === "beeswarm" ? 60 + 32 * spec.traces.length : 300,
      barmode: "group",
      showlegend: traces.length > 1 && spec.kind !== "beeswarm",
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      xaxis: { title: { text: spec.x_title }, automargin: true },
      yaxis: { title: { text: spec.y_title }, tickformat: spec.percent ? ".0%" : "", automargin: true }
    };
    if (spec.kind === "bar" || spec.kind === "interval") { layout.xaxis.type = "category"; }
    if (spec.kind === "beeswarm") {
      layout.yaxis.tickvals = spec.layout.tick_labels.map(function (_, i) { return i; });
      layout.yaxis.ticktext = spec.layout.tick_labels;
      layout.xaxis.zeroline = true;
    }
    // No mode bar: its buttons (one offers to upload the chart to Plotly Cloud) cost a Tab stop
    // each and are controls inside the plot's role="img"; every chart has its table instead.
    Plotly.newPlot(target, traces, layout, { displayModeBar: false, responsive: true });
  });
})();
