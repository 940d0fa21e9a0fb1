// The educator's live view: polls the exercise's counts (JSON, read from the database on every
// request, so it works behind several workers) and updates the numbers. Without JavaScript the
// page's "Refresh" link does the same.
(function () {
  "use strict";
  var section = document.getElementById("live-section");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-counts-url");
  var seconds = parseInt(section.getAttribute("data-poll-seconds"), 10) || 3;
  var state = document.getElementById("exercise-state").getAttribute("data-state");

  function set(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = String(value); }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) {
        if (!counts) { return; }
        set("count-students", counts.students);
        set("count-opened", counts.opened);
        set("count-answered", counts.answered);
        set("count-complete", counts.complete);
        counts.cases.forEach(function (c) {
          var cell = section.querySelector('[data-position="' + c.position + '"]');
          if (cell) { cell.textContent = String(c.answers); }
        });
        if (counts.state !== state) { window.location.reload(); }
      })
      .catch(function () { /* the next poll tries again */ });
  }

  window.setInterval(poll, seconds * 1000);
})();
