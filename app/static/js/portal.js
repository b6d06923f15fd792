// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // After htmx swaps the catalogue results, announce the new count in the live region (screen readers do not
  // announce a live region that was itself just inserted) and keep keyboard focus where the person left it.
  document.addEventListener("htmx:afterSettle", function () {
    var status = document.getElementById("results-status");
    var heading = document.getElementById("results-heading");
    if (status && heading) {
      status.textContent = heading.textContent.trim();
    }
  });
  // Elements marked data-focus-after-swap receive focus once htmx has placed them (e.g. an error summary).
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt && event.detail.elt.querySelector
      ? event.detail.elt.querySelector("[data-focus-after-swap]") : null;
    if (target) {
      target.focus();
    }
  });
  // An error summary gets focus when the page loads, so screen-reader and keyboard users hear it first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) {
      summary.focus();
    }
  });
  // A request refused for coming too often (429, app/limits.py) would otherwise do nothing visible: its short
  // message goes at the top of <main>, replacing an earlier one, instead of into the request's own target.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var main = document.getElementById("main");
    if (event.detail.xhr.status !== 429 || !main) {
      return;
    }
    var notice = document.getElementById("rate-limit-notice");
    if (!notice) {
      notice = document.createElement("div");
      notice.id = "rate-limit-notice";
      main.insertBefore(notice, main.firstChild);
    }
    event.detail.target = notice;
    event.detail.swapOverride = "innerHTML";
    event.detail.selectOverride = "unset"; // the whole message, whatever hx-select the element has
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  });
  // A second click on "send" while the first is on its way does nothing (the server would answer it once anyway).
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-prevent-double-submit]");
    if (!button) {
      return;
    }
    if (button.getAttribute("aria-disabled") === "true") {
      event.preventDefault();
      return;
    }
    button.setAttribute("aria-disabled", "true");
  });
})();
