// The projector screen refreshes its code and roster without a reload. No inline script: this file
// is served from our own origin, so the Content-Security-Policy can forbid everything else.
(function () {
  "use strict";
  function start() {
    var root = document.querySelector(".projector");
    if (!root) return;
    var url = root.getAttribute("data-state-url");
    function render(state) {
      if (!state.open) { window.location.reload(); return; }
      document.getElementById("checkin-code").textContent = state.code;
      document.getElementById("checkin-qr").src = state.qr_src;
      document.getElementById("checkin-count").textContent = state.present;
      state.roster.forEach(function (person) {
        var item = document.querySelector('#checkin-roster li[data-id="' + person.id + '"]');
        if (!item) return;
        item.className = person.status ? "in" : "out";
        item.querySelector(".mark").textContent = person.status ? "✓" : "·";
        if (person.status) item.querySelector(".state").textContent = person.status_label || person.status;
      });
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) { if (state) render(state); })
        .catch(function () { /* a missed poll is retried on the next tick */ })
        .then(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 3000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
