// Presenter mode: the arrow keys (and n / p) follow the page's next and previous links.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target.tagName;
    if (target === "INPUT" || target === "TEXTAREA" || target === "SELECT") { return; }
    var rel = { ArrowRight: "next", n: "next", PageDown: "next",
                ArrowLeft: "prev", p: "prev", PageUp: "prev" }[event.key];
    var link = rel && document.querySelector('a[rel="' + rel + '"]');
    if (link) {
      event.preventDefault();
      window.location.href = link.href;
    }
  });
})();
