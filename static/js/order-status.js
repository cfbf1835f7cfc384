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

  // The stream's first message says the order's state as it is when the stream opens,
  // which is most often the state the page was rendered with: fetching and swapping the
  // section for it replaced "Pay now" under a diner's finger (a tap lost). That message is
  // skipped when it repeats the rendered version (status and last change); any other, and
  // every later one, is read.
  var firstRefresher = document.querySelector("[hx-trigger='sse:order-updated']");
  var section = document.getElementById("order-progress");
  var rendered = section ? section.dataset.version : null;
  document.body.addEventListener("htmx:confirm", function (event) {
    if (rendered === null || event.detail.elt !== firstRefresher) return;
    var version = rendered;
    rendered = null;  // only the first message may be skipped
    // htmx's "sse:order-updated" event carries the stream's MessageEvent as its detail
    var trigger = event.detail.triggeringEvent;
    var message = trigger && trigger.detail;
    if (!message || typeof message.data !== "string") return;
    try {
      var state = JSON.parse(message.data);
      if (state.status + " " + (state.updated_at || "") === version) event.preventDefault();
    } catch (ignored) { /* not the status JSON: read the order as usual */ }
  });

  // A phone that lost its connection kept showing "waiting for the kitchen" while the order
  // was being cooked, with nothing to say the page had stopped updating (an outside try).
  // After a short grace (a reconnect within it is not worth a word) a notice says so; when
  // the stream is back, the order is read again, and once that read has landed (not when the
  // stream opens: a slow network can take seconds more) the notice says it is up to date.
  // The browser's own "online" reads the order at once: the stream's reconnect can take
  // several seconds more after a long cut.
  var notice = document.getElementById("live-offline");
  var refresher = document.querySelector("[hx-trigger='sse:order-updated']");
  var GRACE_MS = 2000, BACK_SHOWN_MS = 6000;
  var down = false, downTimer = null, backTimer = null, catchingUp = false;
  if (!notice) return;
  function show(state) {
    notice.textContent = notice.dataset[state];
    notice.className = "live-offline is-" + state;
    notice.hidden = false;
  }
  function refresh() {
    if (refresher && window.htmx) window.htmx.trigger(refresher, "sse:order-updated");
  }
  function wentDown() {
    if (down) return;
    down = true;
    window.clearTimeout(backTimer);
    downTimer = window.setTimeout(function () { show("down"); }, GRACE_MS);
  }
  function cameBack() {
    if (!down) return;
    down = false;
    window.clearTimeout(downTimer);
    if (notice.hidden) return;  // back within the grace: nothing was said
    catchingUp = true;
    refresh();
  }
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (!catchingUp || down || event.detail.elt !== refresher) return;
    if (!event.detail.successful) return;  // still not updating: the next message reads again
    catchingUp = false;
    show("back");
    backTimer = window.setTimeout(function () { notice.hidden = true; }, BACK_SHOWN_MS);
  });
  document.body.addEventListener("htmx:sseError", wentDown);
  document.body.addEventListener("htmx:sseClose", wentDown);
  document.body.addEventListener("htmx:sseOpen", cameBack);
  window.addEventListener("offline", wentDown);
  // Back online, the stream may never have broken (a phone's network gone a while, its
  // connection kept): no reopen would come to clear the notice, so this is the way back too.
  window.addEventListener("online", function () {
    if (!down) return;
    var said = !notice.hidden;
    cameBack();
    if (!said) refresh();  // within the grace nothing is said, but the order is read again
  });
})();
