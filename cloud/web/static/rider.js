"use strict";
// The rider page: one rider's notifications, newest first, live from
// events (Server-Sent Events).
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var parts = location.pathname.split("/").filter(Boolean); // riders, {rider}
  $("rider").textContent = decodeURIComponent(parts[1] || "");
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function hhmm(t) { var d = new Date(t); return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0") + ":" + String(d.getSeconds()).padStart(2, "0"); }
  var seen = {};
  function show(n) {
    if (seen[n.id]) return;
    seen[n.id] = true;
    var w = $("waiting"); if (w) w.remove();
    var c = el("article", "note " + n.kind);
    c.dataset.id = n.id; c.dataset.order = n.order_id; c.dataset.kind = n.kind;
    var top = el("div", "top");
    top.appendChild(el("span", "code", n.short_code || n.order_id));
    top.appendChild(el("span", "kind", n.kind.replace("_", " ")));
    c.appendChild(top);
    c.appendChild(el("div", "text", n.text));
    var meta = (n.store_name || n.store) + " · sent " + hhmm(n.sent_at);
    if (n.minutes && n.kind !== "ready") meta += " · ~" + n.minutes + " min";
    if (n.shelf) meta += " · shelf " + n.shelf;
    if (n.replayed) meta += " · sent late";
    c.appendChild(el("div", "meta", meta));
    // newest decision first, whatever order the channels delivered them in
    c.dataset.decided = Date.parse(n.decided_at) || 0;
    var list = $("notes"), before = list.firstChild;
    while (before && Number(before.dataset.decided) > Number(c.dataset.decided)) before = before.nextSibling;
    list.insertBefore(c, before);
  }
  var es = new EventSource("events" + location.search);
  es.addEventListener("hello", function () { $("live").className = "live on"; $("live").textContent = "live"; });
  es.addEventListener("notification", function (ev) { show(JSON.parse(ev.data)); });
  es.onerror = function () { $("live").className = "live off"; $("live").textContent = "reconnecting"; };
})();
