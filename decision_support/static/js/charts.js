// Draws every [data-chart] element from the JSON in #chart-specs (no inline script, CSP-safe).
(function () {
  "use strict";
  var source = document.getElementById("chart-specs");
  if (!source || typeof Plotly === "undefined") { return; }
  var specs = JSON.parse(source.textContent);
  specs.forEach(function (spec) {
    var target = document.querySelector('[data-chart="' + spec.id + '"]');
    if (!target) { return; }
    var traces = spec.series.map(function (series) {
      return { type: "bar", name: series.name, x: spec.categories, y: series.values };
    });
    var layout = {
      margin: { t: spec.series.length > 1 ? 40 : 10, r: 10, b: 60, l: 60 },
      height: 300,
      barmode: "group",
      showlegend: spec.series.length > 1,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      xaxis: { title: { text: spec.x_title }, type: "category" },
      yaxis: { title: { text: spec.y_title }, tickformat: spec.percent ? ".0%" : "" }
    };
    Plotly.newPlot(target, traces, layout, { displaylogo: false, responsive: true });
  });
})();
