// Runs inside the portal's embed pages: tells the host page how tall the content is, so embed-resize.js on the
// host can size the iframe. Only a height is sent, so any host may read it; the host checks where it came from.
(function () {
  "use strict";
  if (window.parent === window) {
    return;
  }
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: "lv-eservices:height", height: height }, "*");
    }
  }
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  document.addEventListener("htmx:afterSettle", report);
  if (window.ResizeObserver) {
    new ResizeObserver(report).observe(document.documentElement);
  }
  report();
})();
