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
  var es = new EventSource("/ops/events" + location.search);
  es.addEventListener("summary", function (ev) { $("live").className = "live on"; $("live").textContent = "live"; render(JSON.parse(ev.data)); });
  es.onerror = function () { $("live").className = "live off"; $("live").textContent = "reconnecting"; };
})();
