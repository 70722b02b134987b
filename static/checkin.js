// The check-in screens refresh their code and roster without a reload, and the projector mode can go full
// screen. No inline script: this file is served from our own origin, so the Content-Security-Policy can
// forbid everything else.
(function () {
  "use strict";

  function poll(url, render) {
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) { if (state) render(state); })
        .catch(function () { /* a missed poll is retried on the next tick */ })
        .then(function () { window.setTimeout(tick, 3000); });
    }
    window.setTimeout(tick, 3000);
  }

  function showCode(state) {
    if (!state.open) { window.location.reload(); return false; }
    document.getElementById("checkin-code").textContent = state.code;
    document.getElementById("checkin-qr").src = state.qr_src;
    document.getElementById("checkin-count").textContent = state.present;
    return true;
  }

  // The trainer's own screen: the full roster, each with their status.
  function trainerScreen(root) {
    poll(root.getAttribute("data-state-url"), function (state) {
      if (!showCode(state)) return;
      state.roster.forEach(function (person) {
        var item = document.querySelector('#checkin-roster li[data-id="' + person.id + '"]');
        if (!item) return;
        item.className = person.in ? "in" : (person.status ? "marked" : "out");
        item.querySelector(".mark").textContent = person.in ? "\u2713" : (person.status ? "\u2717" : "\u00b7");
        if (person.status) item.querySelector(".state").textContent = person.status_label || person.status;
      });
    });
  }

  // Projector mode: only the names of those in the room.
  function roomScreen(root) {
    var button = document.getElementById("room-fullscreen");
    if (button && document.fullscreenEnabled) {
      button.hidden = false;
      button.addEventListener("click", function () {
        if (document.fullscreenElement) document.exitFullscreen();
        else document.documentElement.requestFullscreen();
      });
    }
    poll(root.getAttribute("data-room-url"), function (state) {
      if (!showCode(state)) return;
      var list = document.getElementById("room-names");
      while (list.firstChild) list.removeChild(list.firstChild);
      state.names.forEach(function (name) {
        var item = document.createElement("li");
        var isolated = document.createElement("bdi");
        isolated.textContent = name;
        item.appendChild(isolated);
        list.appendChild(item);
      });
    });
  }

  function start() {
    var trainer = document.querySelector(".projector[data-state-url]");
    if (trainer) trainerScreen(trainer);
    var room = document.querySelector(".room-main[data-room-url]");
    if (room) roomScreen(room);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
