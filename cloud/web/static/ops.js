"use strict";
// The operations page: renders the relay's summaries from /ops/events.
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function cell(tr, text, cls) { var td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
  function badge(tr, text) { var td = cell(tr, ""); var b = document.createElement("span"); b.className = "badge " + text; b.textContent = text; td.appendChild(b); }
  function rows(id, list, fill, empty) {
    var tb = $(id); tb.textContent = "";
    if (!list.length) { var tr = document.createElement("tr"); cell(tr, empty, "none").colSpan = 3; tb.appendChild(tr); return; }
    list.forEach(function (x) { var tr = document.createElement("tr"); fill(tr, x); tb.appendChild(tr); });
  }
  function fmt(n) { return n >= 1000 ? n.toLocaleString("en") : String(Math.round(n * 10) / 10); }
  function ago(t) { var s = (Date.now() - Date.parse(t)) / 1000; return s < 90 ? Math.round(s) + " s ago" : Math.round(s / 60) + " min ago"; }
  function render(s) {
    $("stores-online").textContent = s.stores_online;
    $("dps").textContent = fmt(s.decisions_per_second);
    $("p99").textContent = s.delivery_p99_s ? (s.delivery_p99_s < 1 ? Math.round(s.delivery_p99_s * 1000) + " ms" : fmt(s.delivery_p99_s) + " s") : "–";
    $("dead").textContent = fmt(s.dead_lettered);
    $("dlq").textContent = fmt(s.dlq_depth);
    $("dead-tile").classList.toggle("bad", s.dlq_depth > 0);
    rows("deliveries", s.deliveries, function (tr, d) { cell(tr, d.channel); badge(tr, d.outcome); cell(tr, fmt(d.count), "n"); }, "no deliveries yet");
    rows("breakers", s.breakers, function (tr, b) { cell(tr, b.channel); cell(tr, b.endpoint); badge(tr, b.state); }, "no breakers configured");
    var dec = Object.keys(s.decisions).sort().map(function (k) { return { k: k, v: s.decisions[k] }; });
    rows("decisions", dec, function (tr, d) { badge(tr, d.k); cell(tr, fmt(d.v), "n"); }, "none yet");
    rows("stores", s.stores, function (tr, st) { cell(tr, st.store); badge(tr, st.online ? "ok" : "offline"); cell(tr, ago(st.last_decision)); }, "no store has sent a decision");
  }
  // Plots of the last hours: live samples and hourly KPIs (Series).
  function dur(v) { return v == null ? "–" : v === 0 ? "0" : v < 1 ? Math.round(v * 1000) + " ms" : v < 120 ? Math.round(v) + " s" : (v / 60).toFixed(1) + " min"; }
  function pct(v) { return v == null ? "–" : Math.round(v * 100) + "%"; }
  var charts = {
    dps: PasslineChart($("plot-dps"), { label: "decisions/s" }),
    p99: PasslineChart($("plot-p99"), { label: "delivery p99", color: "#4fa3ff", fill: "rgba(79,163,255,.12)", format: dur }),
    avoid: PasslineChart($("plot-avoid"), { label: "avoidable wait", color: "#ff5a4f", fill: "rgba(255,90,79,.12)", format: dur }),
    rate: PasslineChart($("plot-rate"), { label: "ready-report rate", color: "#37c871", fill: "rgba(55,200,113,.12)", format: pct,
      range: function () { return [0, 1.05]; } })
  };
  function lastOf(ys) { for (var i = ys.length - 1; i >= 0; i--) if (ys[i] != null) return ys[i]; return null; }
  function allNull(ys) { return !ys || ys.every(function (y) { return y == null; }); }
  var series = null;
  function plot() {
    var s = series; if (!s) return;
    var sel = $("scope"), store = sel.value, have = {};
    Array.prototype.forEach.call(sel.options, function (o) { have[o.value] = true; });
    Object.keys(s.stores).sort().forEach(function (st) {
      if (!have[st]) { var o = document.createElement("option"); o.value = st; o.textContent = "store " + st; sel.appendChild(o); }
    });
    var h = (store && s.stores[store]) || s.fleet || {};
    var hours = s.hours || [];
    var span = hours.length ? [hours[0], hours[hours.length - 1] + 3600] : null;
    if (store) {
      charts.dps.set(hours, h.decisions_per_second || [], span);
      $("hint-dps").textContent = "store " + store + ": decisions per hour ÷ 3600 (this hour: so far)";
      var d = lastOf(h.decisions_per_second || []) || 0;
      $("now-dps").textContent = d > 0 && d < 1 ? String(Number(d.toPrecision(2))) : fmt(d);
    } else {
      charts.dps.set(s.live.t, s.live.decisions_per_second);
      $("hint-dps").textContent = "whole cluster, sampled every few seconds";
      $("now-dps").textContent = fmt(lastOf(s.live.decisions_per_second) || 0);
    }
    charts.p99.set(s.live.t, s.live.delivery_p99_s);
    $("now-p99").textContent = dur(lastOf(s.live.delivery_p99_s));
    charts.avoid.set(hours, h.avoidable_wait_s || [], span);
    $("now-avoid").textContent = dur(lastOf(h.avoidable_wait_s || []));
    $("hint-avoid").textContent = allNull(h.avoidable_wait_s) ? "no arrival data: no platform or rider app reported a rider's arrival" : "rider arrived before the food was ready: ready − arrival";
    charts.rate.set(hours, h.ready_report_rate || [], span);
    $("now-rate").textContent = pct(lastOf(h.ready_report_rate || []));
    $("hint-rate").textContent = allNull(h.ready_report_rate) ? "no orders in these hours" : "orders with a real kitchen ready signal ÷ orders, by hour accepted";
  }
  $("scope").addEventListener("change", plot);
  var es = new EventSource("/ops/events" + location.search);
  es.addEventListener("series", function (ev) { series = JSON.parse(ev.data); plot(); });
  es.addEventListener("summary", function (ev) { $("live").className = "live on"; $("live").textContent = "live"; render(JSON.parse(ev.data)); });
  es.onerror = function () { $("live").className = "live off"; $("live").textContent = "reconnecting"; };
})();
