// Draws every [data-chart] element from the JSON in #chart-specs (no inline script, CSP-safe).
// The specs come from decision_support/lib/charts.py; each page also shows them as tables.
(function () {
  "use strict";
  var source = document.getElementById("chart-specs");
  if (!source || typeof Plotly === "undefined") { return; }

  // Text is laid out by its content and never rotated (a rotated label collides with its axis
  // title). Plotly's 12 px font takes about 7 px a character. Category labels wrap under their
  // bars; where they cannot fit there, the bars turn horizontal with the labels on the y axis, and
  // the chart grows with the number of bars.
  var CHAR_PX = 7, LINE_PX = 15, BAR_PX = 18, MAX_LINES = 3;

  function wrap(text, chars) {
    var lines = [];
    String(text).split(" ").forEach(function (word) {
      var last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + word).length <= chars) { lines[last] += " " + word; }
      else { lines.push(word); }
    });
    return lines;
  }

  function wrapped(texts, chars) {
    return texts.map(function (text) { return wrap(text, chars); });
  }

  function longest(lines) {
    return Math.max.apply(null, lines.map(function (l) { return l.length; }));
  }

  // The labels wrapped to fit under their bars, or null where some would not fit.
  function underBars(labels, width) {
    var chars = Math.floor((width - 100) / labels.length / CHAR_PX) - 1;
    var lines = wrapped(labels, chars);
    var fits = lines.every(function (l) { return l.length <= MAX_LINES && longest(l) <= chars; });
    return fits ? lines : null;
  }

  // Rows a horizontal legend above the plot takes: Plotly adds its symbol and gaps to each name.
  function legendRows(names, width) {
    var rows = 1, used = 0;
    names.forEach(function (name) {
      var item = String(name).length * 6 + 50;
      if (used && used + item > width) { rows += 1; used = 0; }
      used += item;
    });
    return rows;
  }

  function place(trace, categories, values, horizontal) {
    trace.orientation = horizontal ? "h" : "v";
    trace[horizontal ? "y" : "x"] = categories;
    trace[horizontal ? "x" : "y"] = values;
    return trace;
  }

  var builders = {
    bar: function (spec, horizontal) {
      return spec.traces.map(function (t) { return place({ type: "bar", name: t.name }, t.x, t.y, horizontal); });
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
    waterfall: function (spec, horizontal) {
      var t = spec.traces[0];
      return [place({ type: "waterfall", measure: t.measure,
                      increasing: { marker: { color: "#c0392b" } }, decreasing: { marker: { color: "#2166ac" } },
                      totals: { marker: { color: "#555" } }, connector: { line: { color: "#bbb" } } },
                    t.x, t.y, horizontal)];
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
    interval: function (spec, horizontal) {
      var t = spec.traces[0];
      var trace = place({ type: "bar", marker: { color: "#2952a3" } }, t.x, t.y, horizontal);
      trace[horizontal ? "error_x" : "error_y"] = {
        type: "data", symmetric: false,
        array: t.high.map(function (h, i) { return h - t.y[i]; }),
        arrayminus: t.low.map(function (l, i) { return t.y[i] - l; }) };
      return [trace];
    }
  };

  // An axis title wrapped to the length of its axis, and kept clear of the tick labels.
  function axisTitle(text, length) {
    return { text: wrap(text || "", Math.max(12, Math.floor(length / CHAR_PX))).join("<br>"), standoff: 10 };
  }

  // Where a chart's categories go: "x" (labels wrapped under the bars), "y" (horizontal bars) or
  // null (no categories: line and beeswarm charts).
  function categoryPlacement(spec, width) {
    if (spec.kind === "waterfall") { return { axis: "y" }; }
    if (spec.kind !== "bar" && spec.kind !== "interval") { return null; }
    var lines = underBars(spec.traces[0].x, width);
    return lines ? { axis: "x", lines: lines } : { axis: "y" };
  }

  JSON.parse(source.textContent).forEach(function draw(spec) {
    var target = document.querySelector('[data-chart="' + spec.id + '"]');
    if (!target || !builders[spec.kind]) { return; }
    // Hidden in a closed <details>, a chart has no width to lay out in: it is drawn when the
    // <details> opens, or before printing (js/print_details.js opens every one first).
    var closed = target.closest("details:not([open])");
    if (closed) {
      var opened = function () {
        if (!closed.open) { return; }
        closed.removeEventListener("toggle", opened);
        window.removeEventListener("beforeprint", opened);
        draw(spec);
      };
      closed.addEventListener("toggle", opened);
      window.addEventListener("beforeprint", opened);
      return;
    }
    var width = target.clientWidth || 600;
    var placement = categoryPlacement(spec, width);
    var horizontal = placement !== null && placement.axis === "y";
    var traces = builders[spec.kind](spec, horizontal);
    var legend = traces.length > 1 && spec.kind !== "beeswarm";
    var rows = legend ? legendRows(traces.map(function (t) { return t.name; }), width - 80) : 0;
    var height = spec.kind === "beeswarm" ? 60 + 32 * spec.traces.length : 300;
    var valueAxis = { title: axisTitle(spec.y_title, horizontal ? width - 200 : height - 80),
                      tickformat: spec.percent ? ".0%" : "", automargin: true };
    var anyValue = spec.traces.some(function (t) { return t.y.some(function (v) { return v !== null; }); });
    if (!anyValue) { valueAxis.range = [0, 1]; }  // every value hidden: an empty axis, not -1 to 4
    var otherAxis = { title: axisTitle(spec.x_title, horizontal ? height - 80 : width - 100),
                      automargin: true, tickangle: 0 };
    if (placement !== null) {
      var categories = spec.traces[0].x;
      var lines = horizontal ? wrapped(categories, Math.max(14, Math.floor(width * 0.4 / CHAR_PX)))
                             : placement.lines;
      var most = longest(lines);
      otherAxis.type = "category";
      otherAxis.tickvals = categories;
      otherAxis.ticktext = lines.map(function (l) { return l.join("<br>"); });
      if (horizontal) {
        otherAxis.autorange = "reversed";  // the first category on top, as in the table
        var bars = (traces.length > 1 ? BAR_PX - 6 : BAR_PX) * traces.length + 8;
        height = 90 + categories.length * Math.max(bars, LINE_PX * most + 6);
        otherAxis.title = axisTitle(spec.x_title, height - 80);
      } else {
        height += LINE_PX * (most - 1);
      }
    }
    height += 20 * Math.max(rows - 1, 0);
    var layout = {
      margin: { t: legend ? 20 + 20 * rows : 10, r: 20, b: 50, l: 60 },
      height: height,
      barmode: "group",
      showlegend: legend,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      xaxis: horizontal ? valueAxis : otherAxis,
      yaxis: horizontal ? otherAxis : valueAxis
    };
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
