/* The status page's live updates, said to screen readers. Each update replaces the order's
   section (#order-progress) with a new element, and a live region that is itself replaced
   is often not announced (NVDA and JAWS in Chrome say nothing), so one region that stays
   (#status-said) is given the new state's heading and its estimate ("Accepted by the
   kitchen. Ready around 12:40 (about 25 minutes)."). */
(function () {
  "use strict";
  var said = document.getElementById("status-said");
  if (!said) return;
  function current() {
    var section = document.getElementById("order-progress");
    if (!section) return "";
    return [section.querySelector("h2"), section.querySelector(".eta")]
      .filter(Boolean)
      .map(function (el) { return el.textContent.replace(/\s+/g, " ").trim(); })
      .join(". ");
  }
  var last = current();
  document.body.addEventListener("htmx:afterSettle", function () {
    var now = current();
    if (now && now !== last) said.textContent = now;
    last = now;
  });
})();
