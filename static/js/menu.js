/* The menu page: the focus stays where the diner was after +, − or Add (the form is
   re-rendered by the server), what the diner types while a refresh is on its way stays
   (with the focus and caret), the form refreshes itself when the kitchen 86s an item,
   pauses or sets a busy time, "Place order and pay" cannot be sent twice (and, refused,
   brings its errors into view and focuses them), taps made faster than the basket answers
   wait their turn instead of being lost, and the basket survives a reload. */
(function () {
  "use strict";
  var SLOW_MS = 4000;  // "still setting up your payment" after this long without an answer
  var intent = null;  // where the focus goes after the form is swapped

  function itemOf(op) { var parts = (op || "").split(":"); return { verb: parts[0], id: parts[1] }; }
  var FIRST_INVALID = "\u0000first-invalid";  // no element's id: the first field marked wrong
  function firstInvalid() {
    var form = document.getElementById("order-form");
    var marked = form ? form.querySelectorAll("[aria-invalid=true]") : [];
    for (var i = 0; i < marked.length; i++) {  // in page order; one shown and usable
      if (marked[i].getClientRects().length && !marked[i].disabled) return marked[i];
    }
    return null;
  }
  function first(ids) {
    for (var i = 0; i < ids.length; i++) {
      var el = ids[i] === FIRST_INVALID ? firstInvalid()
        : ids[i] && document.getElementById(ids[i]);
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
    } else if (/\/checkout$/.test(event.detail.path || "")) {
      // "Place order and pay" refused: every wrong field is marked at once, and the focus
      // goes to the first (read out with its message). What has no field of its own (a dish
      // sold out meanwhile) is said in the error box at the top of the form, far above the
      // button on a phone: then that box comes into view and is read out.
      intent = [FIRST_INVALID, "form-errors"];
    } else if (active && active.id) {
      intent = [active.id];
    }
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!intent) return;
    var target = first(intent);
    intent = null;
    if (!target) return;
    if (target.id === "form-errors") {
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "start" });
    } else if (target.getAttribute("aria-invalid") === "true") {
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "center" });  // with its label above, its message below
    } else {
      target.focus({ preventScroll: false });
    }
  });

  // What the diner typed while a refresh was on its way is theirs. The new form carries
  // the values as they were sent, so every field changed since (typed into, or a choice
  // without a refresh of its own) is carried over to it, with the focus and the caret.
  // A field nobody touched meanwhile follows the server: the quantity after +, the tip.
  var sentState = [];  // [xhr, {id: value or checked}, focus when sent, at the swap]
  function stateOf(field) {
    return (field.type === "radio" || field.type === "checkbox") ? field.checked : field.value;
  }
  function isText(field) {
    return field.tagName === "TEXTAREA" ||
      (field.tagName === "INPUT" && /^(text|email|tel|number|search|url)$/.test(field.type));
  }
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.querySelectorAll("input[id], textarea[id], select[id]"),
      function (field) { return field.type !== "hidden"; });
  }
  function sentFor(xhr) {
    for (var i = 0; i < sentState.length; i++) if (sentState[i][0] === xhr) return sentState[i];
    return null;
  }
  function isFormTarget(detail) { return detail.target && detail.target.id === "order-form"; }
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = document.getElementById("order-form");
    if (!form || !isFormTarget(event.detail) || !event.detail.xhr) return;
    var values = {};
    fieldsOf(form).forEach(function (field) { values[field.id] = stateOf(field); });
    sentState.push([event.detail.xhr, values, document.activeElement, null]);
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var sent = sentFor(event.detail.xhr);
    if (!sent || !isFormTarget(event.detail)) return;
    var active = document.activeElement;
    var at = { form: event.detail.target, active: active, start: null, end: null, dir: null,
               swaps: event.detail.shouldSwap };
    if (active && isText(active)) {
      try {
        at.start = active.selectionStart; at.end = active.selectionEnd;
        at.dir = active.selectionDirection;
      } catch (e) { /* a field without a caret (number) */ }
    }
    sent[3] = at;
    // The diner went on to another field: their focus wins over the one planned at send.
    if (active !== sent[2] && active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) {
      intent = null;
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var sent = sentFor(event.detail.xhr);
    if (!sent || !sent[3]) return;
    sentState.splice(sentState.indexOf(sent), 1);
    var values = sent[1], at = sent[3];
    var form = document.getElementById("order-form");
    if (!form || form === at.form) return;
    fieldsOf(at.form).forEach(function (old) {  // the form swapped out, as the diner left it
      var now = stateOf(old);
      if (!(old.id in values) || now === values[old.id]) return;  // untouched since sent
      var fresh = document.getElementById(old.id);
      if (!fresh || !form.contains(fresh) || fresh.tagName !== old.tagName ||
          fresh.type !== old.type || fresh.disabled) return;  // gone, or no longer the same
      if (isText(fresh)) {
        fresh.value = now;
      } else if (fresh.hasAttribute("hx-post")) {
        return;  // a choice with its own refresh (tip, day): that one brings its answer
      } else if (fresh.type === "radio" || fresh.type === "checkbox") {
        fresh.checked = now;
      } else {
        var server = fresh.value;
        fresh.value = now;
        if (fresh.value !== now) fresh.value = server;  // the option is gone
      }
    });
    var focus = at.active && at.active.id && document.getElementById(at.active.id);
    if (focus && form.contains(focus) && at.start !== null && isText(focus)) {
      if (document.activeElement !== focus) focus.focus({ preventScroll: true });
      try { focus.setSelectionRange(at.start, at.end, at.dir || "none"); } catch (e) { /* */ }
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var sent = sentFor(event.detail.xhr);  // not swapped (an error, a redirect): forget it
    if (sent && !(sent[3] && sent[3].swaps)) sentState.splice(sentState.indexOf(sent), 1);
  });

  // One basket request at a time. Each answer re-renders the whole form from the fields it
  // was sent with, so a tap sent while another was on its way was answered from the state
  // before that one, and whichever answer came last wiped the other tap (a slow phone lost
  // most quick taps). A tap made meanwhile (+, −, Add, Remove, "Place order and pay") waits
  // and is made again on the new form, in order; the form is aria-busy until all are done.
  var inFlight = 0;
  var waiting = [];  // the taps' op values, "" for the order's own submit
  function showBusy() {
    var form = document.getElementById("order-form");
    if (!form) return;
    if (inFlight || waiting.length) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
  }
  function opButton(form, op) {
    var part = itemOf(op);
    var tries = [op];  // after the first Add the dish shows + instead, and back
    if (part.verb === "add") tries.push("inc:" + part.id);
    if (part.verb === "inc") tries.push("add:" + part.id);
    for (var i = 0; i < tries.length; i++) {
      var found = form.querySelector('button[name="op"][value="' + CSS.escape(tries[i]) + '"]');
      if (found) return found;
    }
    return null;  // gone: the dish sold out, the line was removed
  }
  function drain() {
    while (!inFlight && waiting.length) {
      var op = waiting.shift();
      var form = document.getElementById("order-form");
      if (!form) { waiting = []; break; }
      var button = op ? opButton(form, op) : form.querySelector(".primary-action");
      if (button && !button.disabled) button.click();  // sends: inFlight counts it
    }
    showBusy();
  }
  document.addEventListener("click", function (event) {
    if (!inFlight) return;
    var button = event.target && event.target.closest && event.target.closest("button");
    var form = button && button.form;
    if (!form || form.id !== "order-form" || button.type !== "submit") return;
    event.preventDefault();  // neither htmx nor the browser sends it now
    event.stopImmediatePropagation();
    var op = button.name === "op" ? button.value : "";
    // the order on its way, or waiting already: a second tap on its button is the same one
    if (op || (form.dataset.submitting !== "1" && waiting.indexOf("") < 0)) waiting.push(op);
    showBusy();
  }, true);
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!isFormTarget(event.detail) || !xhr) return;
    inFlight += 1;
    showBusy();
    // Counted off by the request itself: htmx tells a failure (no network, a timeout) only
    // to the element that sent it, and a refresh may have swapped that one out meanwhile.
    var placing = /\/checkout$/.test(event.detail.pathInfo && event.detail.pathInfo.requestPath || "");
    // A slow payment provider kept the diner looking at a grey button for 15 s and more:
    // after a few seconds the form says it is still working on it.
    var slow = placing ? setTimeout(function () { sayStill(); }, SLOW_MS) : 0;
    xhr.addEventListener("loadend", function () {
      clearTimeout(slow);
      if (placing) sayStill(false);  // answered: a new form, a problem said, or paying next
      inFlight = Math.max(0, inFlight - 1);
      showBusy();  // the new form stays busy while taps wait for it to settle
      if (xhr.status === 0 || xhr.status >= 400) {  // no new form: say why, then go on
        sayProblem(xhr.status, placing);
        setTimeout(drain, 0);
      }
    });
  });
  // A request the server did not answer with a form (429: too many orders from this
  // network; 5xx: unavailable; 0: no connection) used to leave the page as it was: the
  // diner tapped "Place order and pay" and nothing happened. The form says so instead.
  function sayProblem(status, placing) {
    var box = document.getElementById("form-problem");
    if (!box) return;
    // 403: the page's CSRF token is no longer valid (cookies cleared, a tab restored after
    // its session ended): "try again" would fail every time.
    var text = status === 403 ? box.dataset.expired
      : !placing ? box.dataset.basket
      : status === 429 ? box.dataset.limited
      : status === 0 ? box.dataset.offline : box.dataset.unavailable;
    box.textContent = text || "";
    box.hidden = !text;
    if (placing && text) {
      box.focus({ preventScroll: true });
      box.scrollIntoView({ block: "center" });
    }
  }
  // Said by "Place order and pay", where the diner is looking (at the top of the form it
  // was out of view on a phone), in its status region: read out without interrupting.
  function sayStill(still) {
    var line = document.getElementById("form-progress");
    if (!line || !line.dataset.slow) return;
    line.textContent = still === false ? "" : line.dataset.slow;
    if (line.textContent) line.scrollIntoView({ block: "nearest" });
  }
  // The server's new form comes without aria-busy; taps may still wait for it.
  document.body.addEventListener("htmx:afterSwap", showBusy);
  document.body.addEventListener("htmx:afterSettle", function () { drain(); });

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
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Redirect")) forget();  // placed: on to paying
  });

  // The basket survives a reload (a phone's pull-to-refresh, a tab the browser put to
  // sleep): this tab keeps the form's fields (sessionStorage: gone with the tab), and a
  // fresh page with an empty basket posts them back once, as the +/- buttons do. The
  // server prices them again, so a dish sold out meanwhile says so.
  var refresher = document.getElementById("menu-refresh");
  var KEY = refresher ? "orderpass:basket:" + refresher.getAttribute("hx-post") : "";
  var FRESH = { _csrf_token: 1, submit_key: 1, op: 1 };  // this page's own, never kept
  function keep() {
    var form = document.getElementById("order-form");
    if (!form || !KEY) return;
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (!FRESH[name] && typeof value === "string") pairs.push([name, value]);
    });
    try { sessionStorage.setItem(KEY, JSON.stringify(pairs)); } catch (e) { /* off or full */ }
  }
  function forget() {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* off */ }
  }
  function restore() {
    var form = document.getElementById("order-form");
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
    if (!form || !Array.isArray(saved) || !saved.length || form.querySelector(".cart-line")) return;
    var values = {};
    saved.forEach(function (pair) {
      if (Array.isArray(pair) && pair.length === 2 && !FRESH[pair[0]]) {
        (values[pair[0]] = values[pair[0]] || []).push(String(pair[1]));
      }
    });
    ["_csrf_token", "submit_key"].forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      if (input) values[name] = input.value;
    });
    htmx.ajax("POST", refresher.getAttribute("hx-post"),
              { target: "#order-form", swap: "outerHTML", values: values });
  }
  if (KEY) {
    document.addEventListener("DOMContentLoaded", restore);  // after htmx's own start
    document.body.addEventListener("htmx:afterSettle", keep);
    document.addEventListener("change", keep);
    document.addEventListener("input", keep);
  }
})();
