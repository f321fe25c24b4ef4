"use strict";
// The pass board: renders the agent's snapshots from /events (Server-Sent
// Events) and advances its clocks every second between snapshots.
(function () {
  var board = null, receivedAt = 0, offset = 0;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function now() { return Date.now() + offset; }
  function hhmm(t) {
    var d = new Date(t);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }
  function mmss(s) {
    s = Math.max(0, Math.floor(s));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + String(r).padStart(2, "0");
  }
  function age(s) { return s < 90 ? Math.round(s) + " s" : Math.round(s / 60) + " min"; }
  var cooking = { accepted: true, started: true };

  function card(o) {
    var c = el("article", "card");
    c.dataset.order = o.id;
    c.dataset.status = o.status;
    if (o.marked) c.classList.add("marked");
    var top = el("div", "row");
    top.appendChild(el("div", "code", o.short_code || o.id));
    var el2 = el("div", "elapsed");
    el2.dataset.accepted = o.accepted_at;
    top.appendChild(el2);
    c.appendChild(top);
    var meta = el("div", "row meta");
    meta.appendChild(el("span", "status", o.status.replace("_", " ")));
    meta.appendChild(el("span", "items", o.items + (o.items === 1 ? " item" : " items")));
    c.appendChild(meta);
    if (!cooking[o.status]) {
      c.classList.add("done");
    } else if (o.prediction) {
      var p = o.prediction, t = now();
      var late = Date.parse(p.late), early = Date.parse(p.early);
      c.classList.add(t > late ? "late" : t > Date.parse(p.ready_at) ? "at-risk" : "on-time");
      var eta = el("div", "row eta");
      var when = el("span");
      when.appendChild(document.createTextNode("ready "));
      when.appendChild(el("b", "", hhmm(p.ready_at)));
      eta.appendChild(when);
      eta.appendChild(el("span", "band", hhmm(early) + "–" + hhmm(late)));
      c.appendChild(eta);
      var pct = Math.round(p.p_ready * 100);
      var conf = el("div", "row conf");
      var bar = el("div", "bar"), fill = el("i");
      fill.style.width = pct + "%";
      bar.appendChild(fill);
      conf.appendChild(bar);
      conf.appendChild(el("span", "pct", pct + " % in lead time"));
      c.appendChild(conf);
    }
    // The rider line only when the rider has been told something.
    if (!o.told || o.told.length === 0) return c;
    var told = el("div", "told");
    told.appendChild(el("span", "label", "rider"));
    o.told.forEach(function (x) {
      var txt = x.kind.replace("_", " ") + " " + hhmm(x.at);
      if (x.eta && x.kind !== "ready") txt += " → " + hhmm(x.eta);
      if (x.queued) txt += " · waiting to send";
      var chip = el("span", "chip " + x.kind + (x.queued ? " queued" : "") + (x.withdrawn ? " withdrawn" : ""), txt);
      chip.dataset.kind = x.kind;
      told.appendChild(chip);
    });
    c.appendChild(told);
    return c;
  }

  function column(title, cls, orders, station) {
    var col = el("section", "column " + cls);
    col.dataset.section = cls;
    if (station) col.dataset.station = station;
    var h = el("h2");
    h.appendChild(el("span", "", title));
    h.appendChild(el("span", "count", String(orders.length)));
    col.appendChild(h);
    orders.forEach(function (o) { col.appendChild(card(o)); });
    return col;
  }

  function render() {
    if (!board) return;
    var main = $("board");
    main.textContent = "";
    main.dataset.state = "live";
    var ready = [];
    board.stations.forEach(function (s) {
      var cook = s.orders.filter(function (o) { return cooking[o.status]; });
      s.orders.forEach(function (o) { if (!cooking[o.status]) ready.push(o); });
      main.appendChild(column(s.name, "station", cook, s.name));
    });
    ready.sort(function (a, b) { return Date.parse(a.accepted_at) - Date.parse(b.accepted_at); });
    main.appendChild(column("Ready", "ready", ready));
    // Every column shares the width: none is ever cut off.
    var cols = board.stations.length + 1;
    main.style.setProperty("--cols", String(cols));
    main.classList.toggle("dense", cols >= 5);
    if (board.stations.length === 0) main.insertBefore(el("p", "empty", "No open orders."), main.firstChild);
    renderHealth();
    renderFooter();
    renderToday();
    tick();
  }

  // Today: ready-report rate (the box's own count) and rider wait (what
  // the cloud heard from the platforms and the rider app), with a plot
  // per hour each.
  var charts = null;
  function pct(v) { return v == null ? "–" : Math.round(v * 100) + " %"; }
  function mins(v) { return v == null ? "–" : v < 90 ? Math.round(v) + " s" : (v / 60).toFixed(1) + " min"; }
  function renderToday() {
    var t = board.today, sec = $("today");
    if (!t) { sec.hidden = true; return; }
    sec.hidden = false;
    if (!charts) {
      charts = {
        ready: PasslineChart($("plot-ready"), { height: 90, label: "ready reported", color: "#37c871", fill: "rgba(55,200,113,.15)",
          format: pct, range: function () { return [0, 1.05]; } }),
        wait: PasslineChart($("plot-wait"), { height: 90, label: "rider wait", color: "#4fa3ff", fill: "rgba(79,163,255,.15)", format: mins })
      };
    }
    $("ready-rate").textContent = pct(t.ready_report_rate);
    $("ready-detail").textContent = t.orders ? t.ready_reported + " of " + t.orders + " finished orders had a real ready (bump or scale)" : "no finished order yet today";
    var hs = t.hours || [];
    var day = new Date(now()); day.setHours(0, 0, 0, 0);
    var span = [day.getTime() / 1000, Math.ceil(now() / 3600000) * 3600];
    charts.ready.set(hs.map(function (h) { return Date.parse(h.start) / 1000; }), hs.map(function (h) { return h.ready_report_rate; }), span);
    var r = t.rider, wait = $("kpi-wait");
    var noData = !r || r.rider_wait_s == null;
    wait.classList.toggle("nodata", noData);
    if (!r) {
      $("rider-wait").textContent = "no arrival data";
      $("wait-detail").textContent = "not read from the cloud yet";
    } else if (r.rider_wait_s == null) {
      $("rider-wait").textContent = "no arrival data";
      $("wait-detail").textContent = "no platform or rider app reported a rider at the counter today";
    } else {
      $("rider-wait").textContent = mins(r.rider_wait_s);
      $("wait-detail").textContent = "mean of " + r.rider_wait_n + " riders, arrival → pickup" +
        (r.avoidable_wait_s != null ? " · " + mins(r.avoidable_wait_s) + " before food was ready" : "");
    }
    var rh = (r && r.hours) || [];
    charts.wait.set(rh.map(function (h) { return Date.parse(h.start) / 1000; }), rh.map(function (h) { return h.rider_wait_s; }), span);
  }

  function pill(text, state) {
    var p = el("span", "pill " + state);
    p.appendChild(el("span", "dot"));
    p.appendChild(document.createTextNode(text));
    return p;
  }

  function renderHealth() {
    var h = $("health");
    h.textContent = "";
    board.links.forEach(function (l) {
      var p = pill(l.name.toUpperCase() + (l.up ? "" : " down"), l.up ? "up" : "down");
      p.dataset.link = l.name;
      if (l.detail) p.title = l.detail;
      h.appendChild(p);
    });
    var ob = board.outbox;
    var state = ob.oldest_age_s > 300 ? "down" : ob.depth > 0 ? "warn" : "up";
    var p = pill("outbox " + ob.depth + (ob.depth > 0 ? " · " + age(ob.oldest_age_s) : ""), state);
    p.id = "outbox";
    h.appendChild(p);
    $("store").textContent = board.store;
  }

  function renderFooter() {
    var d = $("devices");
    d.textContent = "";
    if (board.devices === null) {
      d.textContent = "devices: health not reported";
    } else {
      d.appendChild(document.createTextNode(board.devices.length ? "devices " : "no device has reported"));
      board.devices.forEach(function (x) {
        var p = pill(x.id + (x.online ? "" : " offline"), x.online ? "up" : "down");
        p.dataset.device = x.id;
        if (x.detail) p.title = x.detail;
        d.appendChild(p);
      });
    }
    var r = $("rejects");
    r.textContent = board.rejects.length ? "recent rejects: " : "no rejects";
    board.rejects.forEach(function (x) {
      r.appendChild(el("span", "r", hhmm(x.at) + " " + x.reason + (x.detail ? " (" + x.detail.slice(0, 60) + ")" : "")));
    });
  }

  function tick() {
    $("clock").textContent = hhmm(now());
    var els = document.querySelectorAll(".elapsed");
    for (var i = 0; i < els.length; i++) {
      var a = Date.parse(els[i].dataset.accepted);
      els[i].textContent = isNaN(a) || a <= 0 ? "" : mmss((now() - a) / 1000);
    }
  }

  function problem(text) {
    var p = $("problem");
    p.hidden = !text;
    p.textContent = text || "";
  }

  function connect() {
    var es = new EventSource("events");
    es.addEventListener("board", function (ev) {
      board = JSON.parse(ev.data);
      receivedAt = Date.now();
      offset = Date.parse(board.now) - receivedAt;
      problem("");
      render();
    });
    es.addEventListener("problem", function (ev) { problem("Agent problem: " + JSON.parse(ev.data)); });
    es.onerror = function () { problem("Lost the agent — reconnecting…"); };
  }

  setInterval(tick, 1000);
  connect();
})();
