// "My certificates": copy a verification link or code to the clipboard. Progressive: without this script (or
// without a clipboard) the buttons stay hidden, and the link and code are plain text to select. No inline
// script, so the Content-Security-Policy can keep forbidding it.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) return;

  // The live region reads a change: empty it first, so the same message twice is announced twice.
  function say(live, message) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 50);
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    var live = document.getElementById(button.getAttribute("data-live"));
    if (!target || !live) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(
        function () { say(live, button.getAttribute("data-copied")); },
        function () { say(live, button.getAttribute("data-failed")); });
    });
  });
})();
