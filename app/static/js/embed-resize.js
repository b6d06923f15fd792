// For municipal websites that embed the portal: include this script and mark the iframe, e.g.
//   <iframe src="https://riga.example/lv/embed/services" title="Pakalpojumi" data-lv-eservices
//           style="width:100%;height:800px;border:0"></iframe>
//   <script src="https://riga.example/static/js/embed-resize.js" defer></script>
// It resizes the iframe to its content. A message is accepted only from the iframe's own window and origin, and
// only a sane height is applied. Without this script the iframe still works, with its own scroll bar.
(function () {
  "use strict";
  var MIN = 200;
  var MAX = 20000;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "lv-eservices:height" || typeof data.height !== "number" || !isFinite(data.height)) {
      return;
    }
    var frames = document.querySelectorAll("iframe[data-lv-eservices]");
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      var origin;
      try {
        origin = new URL(frame.src, window.location.href).origin;
      } catch (e) {
        continue;
      }
      if (event.source === frame.contentWindow && event.origin === origin) {
        frame.style.height = Math.max(MIN, Math.min(MAX, Math.round(data.height))) + "px";
        frame.setAttribute("scrolling", "no");
        return;
      }
    }
  });
})();
