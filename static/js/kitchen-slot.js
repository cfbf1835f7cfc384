// A booked ticket's Accept says, before the press, whether the prep time in its field would
// promise the diner a time after their slot: "With 40 min: ready 12:25, 25 min after the 12:00
// slot" (app/kitchen/services.py `slot_hint` words the server's default the same). Follows the
// clock and what the cook types; nothing shows while the slot holds. Apart from kitchen.js:
// it only reads the cards (data-slot-at: the slot, ms; data-slot-clock: it on the
// restaurant's clock, which the ready time is counted on from, whatever the tablet's zone).
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function later(clock, minutes) {
    var parts = clock.split(":"), total = (Number(parts[0]) * 60 + Number(parts[1]) + minutes) % 1440;
    return pad(Math.floor(total / 60)) + ":" + pad(total % 60);
  }
  function update(hint, now) {
    var card = hint.closest(".order-card");
    var field = card && card.querySelector("input[name='prep_minutes']");
    if (!field) return;
    var prep = parseInt(field.value, 10);
    if (!(prep > 0)) prep = parseInt(field.defaultValue, 10) || 0;
    var slot = Number(hint.dataset.slotAt), clock = hint.dataset.slotClock || "";
    var after = Math.floor((now + prep * 60000 - slot) / 60000);
    var text = after > 0 ? "With " + prep + " min: ready " + later(clock, after) + ", " + after +
      " min after the " + clock + " slot" : "";
    if (hint.textContent !== text) hint.textContent = text;
    hint.hidden = !text;
  }
  function updateAll() {
    var now = Date.now();
    document.querySelectorAll("#board [data-slot-hint]").forEach(function (hint) { update(hint, now); });
  }
  document.addEventListener("input", function (event) {
    var card = event.target && event.target.closest && event.target.closest(".order-card");
    var hint = card && card.querySelector("[data-slot-hint]");
    if (hint) update(hint, Date.now());
  });
  document.body.addEventListener("htmx:afterSettle", updateAll);
  // a `tickets` frame is patched in by kitchen.js (a typed prep time put back): after it
  document.body.addEventListener("htmx:sseBeforeMessage", function () { window.setTimeout(updateAll, 0); });
  window.setInterval(updateAll, 1000);
  updateAll();
})();
