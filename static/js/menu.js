/* The menu page: the focus stays where the diner was after +, − or Add (the form is
   re-rendered by the server), the form refreshes itself when the kitchen 86s an item,
   pauses or sets a busy time, and "Place order and pay" cannot be sent twice. */
(function () {
  "use strict";
  var intent = null;  // where the focus goes after the form is swapped

  function itemOf(op) { var parts = (op || "").split(":"); return { verb: parts[0], id: parts[1] }; }
  function first(ids) {
    for (var i = 0; i < ids.length; i++) {
      var el = ids[i] && document.getElementById(ids[i]);
      if (el) return el;
    }
    return null;
  }
  document.body.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    if (!source || !source.closest || !source.closest("#order-form, #menu-refresh")) return;
    var active = document.activeElement;
    if (source.name === "op") {
      var op = itemOf(source.value);
      var next = null;
      if (op.verb === "remove") {
        var line = source.closest(".cart-line");
        var after = line && line.nextElementSibling && line.nextElementSibling.querySelector("[name=op]");
        var before = line && line.previousElementSibling && line.previousElementSibling.querySelector("[name=op]");
        next = (after || before) ? (after || before).id : "cart-heading";
      }
      intent = {
        add: ["inc-" + op.id, "add-" + op.id], inc: ["inc-" + op.id, "add-" + op.id],
        dec: ["dec-" + op.id, "add-" + op.id], remove: [next, "cart-heading"]
      }[op.verb] || null;
    } else if (active && active.id) {
      intent = [active.id];
    }
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!intent) return;
    var target = first(intent);
    intent = null;
    if (target) target.focus({ preventScroll: false });
  });

  // The kitchen changed what can be ordered: re-render the form from its own fields.
  document.body.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (!event.detail || event.detail.type !== "menu") return;
    event.preventDefault();  // nothing to swap: the data is the menu's state fingerprint
    var form = document.getElementById("order-form");
    if (!form || form.dataset.menuState === event.detail.data) return;
    htmx.trigger("#menu-refresh", "refresh");
  });

  // One submit at a time: the server dedupes on the form's key, the button says so too.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "order-form") return;
    var submitter = event.submitter;
    if (submitter && submitter.name === "op") return;  // +, −, Add, Remove
    if (form.dataset.submitting === "1") { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    var button = form.querySelector(".primary-action");
    if (button) button.setAttribute("aria-busy", "true");
  }, true);
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = document.getElementById("order-form");
    if (form && !event.detail.successful) form.dataset.submitting = "";  // let them try again
  });
})();
