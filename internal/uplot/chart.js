"use strict";
// PasslineChart draws one time series into el with uPlot: x is unix
// seconds, y numbers or null (a gap: nothing was measured). It returns
// {set(xs, ys, span)}, span an optional [from, to] of the x axis (hourly
// points say which hours they cover, so a lone point is not a year wide);
// el.dataset.points always holds how many non-null points are drawn, so a
// test can check that the plot has data.
window.PasslineChart = function (el, o) {
  var fmt = o.format || function (v) {
    if (v == null) return "–";
    return v !== 0 && Math.abs(v) < 1 ? String(Number(v.toPrecision(2))) : String(Math.round(v * 10) / 10);
  };
  var width = function () { return Math.max(el.clientWidth || 300, 120); };
  var span = null;
  var opts = {
    width: width(), height: o.height || 160,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: function (u, min, max) { return span || [min, max]; } }, y: { range: o.range || function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.15 : 1]; } } },
    axes: [
      { stroke: o.axis || "#888", grid: { stroke: "rgba(128,128,128,.15)" }, ticks: { stroke: "rgba(128,128,128,.3)" } },
      { stroke: o.axis || "#888", grid: { stroke: "rgba(128,128,128,.15)" }, ticks: { stroke: "rgba(128,128,128,.3)" }, size: 56,
        values: function (u, vals) { return vals.map(fmt); } }
    ],
    series: [{}, {
      label: o.label || "", stroke: o.color || "#ffb000", width: 2, fill: o.fill || "rgba(255,176,0,.12)",
      spanGaps: false, points: { show: true, size: 5 }
    }]
  };
  var u = new uPlot(opts, [[], []], el);
  window.addEventListener("resize", function () { u.setSize({ width: width(), height: opts.height }); });
  return {
    set: function (xs, ys, xspan) {
      span = xspan || null;
      u.setSize({ width: width(), height: opts.height });
      u.setData([xs, ys]);
      el.dataset.points = String(ys.filter(function (y) { return y != null; }).length);
    },
    plot: u
  };
};
