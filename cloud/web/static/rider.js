"use strict";
// The rider page: one card per order, live from events (Server-Sent
// Events). A notification replaces its order's card in place when it is
// newer (a higher version, the agent's per-order decision sequence, or the
// same decision again), so the card goes eta -> ready_soon -> ready and a
// late, older one never overwrites a newer one (wire.Notification.Supersedes).
// Each card shown is acknowledged to the API at its version; "Arrived"
// tells the API the rider is at the counter.
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var parts = location.pathname.split("/").filter(Boolean); // riders, {rider}
  var rider = decodeURIComponent(parts[1] || "");
  $("rider").textContent = rider;
  var token = new URLSearchParams(location.search).get("access_token");
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function hhmm(t) { var d = new Date(t); return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0") + ":" + String(d.getSeconds()).padStart(2, "0"); }
  function decided(n) { return Date.parse(n.decided_at) || 0; }
  // supersedes is wire.Notification.Supersedes.
  function supersedes(n, old) {
    var v = n.version || 0, ov = old.version || 0;
    if (v !== ov) return v > ov;
    return decided(n) >= decided(old);
  }
  // post sends a rider receipt; done(ok) runs with the answer.
  function post(order, what, body, done) {
    var h = { "Content-Type": "application/json" };
    if (token) h.Authorization = "Bearer " + token;
    fetch("/v1/riders/" + encodeURIComponent(rider) + "/orders/" + encodeURIComponent(order) + "/" + what,
      { method: "POST", headers: h, body: JSON.stringify(body) })
      .then(function (r) { done(r.status === 204); }, function () { done(false); });
  }
  var cards = {}; // store + "/" + order -> {n, el}
  function card(n) {
    var c = el("article", "note");
    c.dataset.order = n.order_id; c.dataset.store = n.store;
    var top = el("div", "top");
    top.appendChild(el("span", "code"));
    top.appendChild(el("span", "kind"));
    c.appendChild(top);
    c.appendChild(el("div", "text"));
    c.appendChild(el("div", "meta"));
    var b = el("button", "arrived", "Arrived");
    b.type = "button";
    b.addEventListener("click", function () {
      b.disabled = true;
      post(n.order_id, "arrived", { store: n.store }, function (ok) {
        if (ok) { c.dataset.arrived = "1"; b.textContent = "Arrived ✓"; } else { b.disabled = false; }
      });
    });
    c.appendChild(b);
    // newest order first, by its first decision
    c.dataset.decided = decided(n);
    var list = $("notes"), before = list.firstChild;
    while (before && Number(before.dataset.decided) > Number(c.dataset.decided)) before = before.nextSibling;
    list.insertBefore(c, before);
    return c;
  }
  function fill(c, n) {
    c.className = "note " + n.kind;
    c.dataset.id = n.id; c.dataset.kind = n.kind; c.dataset.version = n.version || 0;
    c.querySelector(".code").textContent = n.short_code || n.order_id;
    c.querySelector(".kind").textContent = n.kind.replace("_", " ");
    c.querySelector(".text").textContent = n.text;
    var meta = (n.store_name || n.store) + " · sent " + hhmm(n.sent_at);
    if (n.minutes && n.kind !== "ready") meta += " · ~" + n.minutes + " min";
    if (n.shelf) meta += " · shelf " + n.shelf;
    if (n.replayed) meta += " · sent late";
    if (n.resent) meta += " · sent again";
    c.querySelector(".meta").textContent = meta;
  }
  function show(n) {
    var key = n.store + "/" + n.order_id, cur = cards[key];
    if (cur && !supersedes(n, cur.n)) return; // late and older: the card keeps the newer
    var w = $("waiting"); if (w) w.remove();
    if (!cur) cur = cards[key] = { el: card(n) };
    cur.n = n;
    fill(cur.el, n);
    post(n.order_id, "ack", { store: n.store, version: n.version || 0 }, function (ok) {
      if (ok && cur.n === n) cur.el.dataset.acked = n.version || 0;
    });
  }
  var es = new EventSource("events" + location.search);
  es.addEventListener("hello", function () { $("live").className = "live on"; $("live").textContent = "live"; });
  es.addEventListener("notification", function (ev) { show(JSON.parse(ev.data)); });
  es.onerror = function () { $("live").className = "live off"; $("live").textContent = "reconnecting"; };
})();
