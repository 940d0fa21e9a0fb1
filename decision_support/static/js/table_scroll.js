// A .table-scroll region is a Tab stop only while its table is wider than it (so a keyboard can
// scroll it); one that fits costs no Tab press. The markup says tabindex="0" (right without
// script); sizes change with the window, the phone's rotation and opened <details>.
(function () {
  function update(region) {
    if (region.scrollWidth > region.clientWidth) {
      region.setAttribute("tabindex", "0");
    } else if (document.activeElement !== region) {
      region.removeAttribute("tabindex");
    }
  }
  var regions = document.querySelectorAll(".table-scroll");
  if (!window.ResizeObserver) { return; }
  // The region's size and its table's: a table can widen inside a region that keeps its size.
  var observer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { update(entry.target.closest(".table-scroll")); });
  });
  regions.forEach(function (region) {
    observer.observe(region);
    Array.prototype.forEach.call(region.children, function (child) { observer.observe(child); });
  });
})();
