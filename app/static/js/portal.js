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
})();
