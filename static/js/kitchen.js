/* Kitchen screen behaviour: timers (age, "late by", auto-reject countdown), connection
   indicator, selection = focus and the keyboard (bump bar), the new-order alarm (sound
   remembered per device, escalating before an auto-reject, "Tap to start service" when the
   browser blocks audio), the screen kept awake, the tab title, dense mode, a masonry layout
   with "+N more", reject with a confirmation dialog and a few seconds to undo, the "Menu &
   pause" dialog, and live patches from SSE. No inline scripts: everything hangs off ids and
   data attributes in the templates. */
(function () {
  "use strict";

  // --- ticket page: print on open ------------------------------------------------------
  if (document.body.classList.contains("ticket-page")) {
    var printNow = document.getElementById("print-now");
    if (printNow) printNow.addEventListener("click", function () { window.print(); });
    if (document.body.dataset.autoprint) window.setTimeout(function () { window.print(); }, 300);
    return;
  }
  var boardHost = document.getElementById("board");
  var page = document.querySelector(".kitchen-page");
  if (!boardHost || !page) return;
  // Cards carry their masonry span as an inline style set through the CSSOM (allowed by the
  // CSP); htmx does not copy style attributes when it settles a swap (blocked): the
  // htmx-config of templates/base.html, for every page.

  // Timing rules come from the server (app/kitchen/priority.py screen_thresholds): one source.
  var RULES = JSON.parse(page.dataset.thresholds || "{}");
  var CSRF = page.dataset.csrf || "";
  var ALARM_EVERY_MS = 2500, URGENT_EVERY_MS = 1000, UNDO_MS = 5000;
  var ACK_REFS_MAX = Number(page.dataset.ackMax) || 100;  // tickets per acknowledgement
  var SOUND_KEY = "orderpass:kitchen-sound", DENSE_KEY = "orderpass:kitchen-dense";
  var baseTitle = document.title;

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("#board .order-card")); }
  function cardOf(ref) { return document.getElementById("card-" + ref); }
  function stored(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ } }

  // --- timers ----------------------------------------------------------------------------
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }
  function timingFor(card, now) {
    var due = Number(card.dataset.dueAt);
    if (!due) return "on_time";
    if (now >= due) return "late";
    var prepMs = Number(card.dataset.prepMinutes || 15) * 60000;
    var start = card.dataset.status === "paid" ? Number(card.dataset.paidAt) : due - prepMs;
    var margin = Math.max(RULES.atRiskMinMs, (due - start) * RULES.atRiskFraction);
    return due - now <= margin ? "at_risk" : "on_time";
  }
  function lateMinutes(card, now) {
    var due = Number(card.dataset.dueAt);
    return due && now >= due ? Math.max(1, Math.ceil((now - due) / 60000)) : 0;
  }
  function autoRejectLeft(card, now) {
    var at = Number(card.dataset.autoRejectAt);
    return at && card.dataset.status === "paid" ? at - now : null;
  }
  function tick() {
    var now = Date.now();
    cards().forEach(function (card) {
      var age = card.querySelector("[data-age]");
      if (age) age.textContent = clock(now - Number(card.dataset.paidAt));
      var t = timingFor(card, now);
      ["on_time", "at_risk", "late"].forEach(function (name) {
        card.classList.toggle("timing-" + name, name === t);
      });
      var late = card.querySelector("[data-late]"), minutes = lateMinutes(card, now);
      if (late) late.textContent = minutes ? "late by " + minutes + " min" : "";
      var countdown = card.querySelector("[data-auto-reject]"), left = autoRejectLeft(card, now);
      if (countdown) {
        var show = left !== null && left <= RULES.autoRejectWarnMs;
        countdown.hidden = !show;
        if (show) countdown.textContent = left > 0 ? "Auto-reject in " + clock(left) + ": accept now"
                                                    : "Auto-rejecting…";
        card.classList.toggle("is-expiring", show);
      }
    });
    updatePending(now);
  }

  // --- connection indicator --------------------------------------------------------------
  var indicator = document.getElementById("connection");
  function setConnection(state, text) {
    if (!indicator) return;
    indicator.className = "connection is-" + state;
    indicator.textContent = text;
  }
  // "Live" only once the fresh board the stream sends first is on the screen: on the open
  // itself, a screen back from an outage showed green over the old board for a moment.
  // The outage banner's "back" is told with that board too (afterChange, once it settles).
  document.body.addEventListener("htmx:sseMessage", function (event) {
    if (!event.detail || event.detail.type !== "board") return;
    setConnection("live", "Live");
    if (offline) offline.back = true;
  });
  document.body.addEventListener("htmx:sseError", function () {
    setConnection("down", "Reconnecting…");
    wentOffline();
    checkSession();
  });
  document.body.addEventListener("htmx:sseClose", function () {
    setConnection("down", "Disconnected");
    wentOffline();
  });

  // A screen without its live feed shows an old board: new orders do not arrive, another
  // screen's moves do not show. The small "Reconnecting…" in the header was out of sight
  // once the board was scrolled, so a banner pinned to the top of the screen says it while
  // it lasts, and when the feed is back, for how long it was gone and which orders came in
  // meanwhile (they are on the board now; the fresh board is the server's).
  var banner = document.getElementById("offline-banner"), offline = null, bannerTimer = null;
  var BACK_SHOWN_MS = 15000;
  // A drop this short, the server the same process before and after: its own Wi-Fi, and
  // the payments' webhooks reached the server meanwhile; the fresh board has every order.
  // The server restarted (its `data-server-since` changed) or gone longer (a freeze): a
  // webhook refused meanwhile comes with Stripe's retry or the reconciliation job, minutes
  // later, so "the board is up to date" would be false.
  var BRIEF_OUTAGE_MS = 10000;
  function hhmm(ms) { var d = new Date(ms); return pad(d.getHours()) + ":" + pad(d.getMinutes()); }
  function serverSince() {
    var board = document.querySelector("#board .board");
    return board ? board.dataset.serverSince || "" : "";
  }
  // The server was last heard before the silence was noticed (2.5 heartbeats later).
  function lastHeard() {
    var at = window.liveHeardAt ? window.liveHeardAt() : Date.now();
    return Math.min(at, Date.now());
  }
  function bannerMoved() { if (placedOnce) notePlaces(); }  // the board below it moved
  function wentOffline() {
    if (!banner) return;
    window.clearTimeout(bannerTimer);
    if (!offline) {
      offline = { since: lastHeard(), server: serverSince(), refs: {}, back: false };
      cards().forEach(function (card) { offline.refs[card.dataset.ref] = true; });
    }
    offline.back = false;
    banner.className = "offline-banner is-down";
    banner.textContent = "No connection to the kitchen's server since " + hhmm(offline.since) +
      ": new orders and other screens' changes are not arriving. Reconnecting…";
    banner.hidden = false;
    document.body.classList.add("is-offline");
    bannerMoved();
  }
  function hideBanner() {
    window.clearTimeout(bannerTimer);
    banner.hidden = true;
    bannerMoved();
  }
  function backOnline() {
    if (!offline || !offline.back || !banner) return;
    var gone = offline, now = Date.now(), seconds = Math.round((now - gone.since) / 1000);
    offline = null;
    document.body.classList.remove("is-offline");
    var arrived = cards().filter(function (card) { return !gone.refs[card.dataset.ref]; })
      .map(function (card) { return "#" + card.dataset.number; });
    var brief = gone.server === serverSince() && now - gone.since <= BRIEF_OUTAGE_MS;
    banner.className = "offline-banner is-back";
    banner.textContent = "Back online: no connection from " + hhmm(gone.since) + " to " +
      hhmm(now) + " (" + seconds + " s, tap to close). " + (arrived.length
        ? arrived.length + (arrived.length === 1 ? " order" : " orders") + " arrived meanwhile: " + arrived.join(", ") + "."
        : brief ? "No new orders arrived meanwhile." : "No new orders so far.") +
      (brief ? " The board is up to date."
             : " Orders paid while the server was unreachable can still arrive in the next minutes.");
    bannerTimer = window.setTimeout(hideBanner, BACK_SHOWN_MS);
  }
  // Below the header, never over it ("Acknowledge" among it, while the orders that came
  // meanwhile ring): a tap on it puts it away, and does nothing else.
  if (banner) banner.addEventListener("click", function () {
    if (banner.classList.contains("is-back")) hideBanner();
  });
  // A stream that stalls without breaking is closed by live-watch.js after a few silent
  // heartbeats, through the error path above: "Reconnecting…", then a fresh board.

  // A stream refused because the session ended (the cook was removed, the role changed)
  // looks like any broken connection to the page; ask the server, and go to the login
  // rather than "Reconnecting…" forever.
  function toLogin() {
    window.location.href = "/login?next=" + encodeURIComponent(location.pathname);
  }
  var checking = false;
  function checkSession() {
    if (checking || !window.fetch) return;
    checking = true;
    fetch("/kitchen/" + boardHost.dataset.slug + "/board",
          {headers: {"HX-Request": "true"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.status === 401) toLogin();
      })
      .catch(function () { /* offline: the stream keeps retrying */ })
      .then(function () { checking = false; });
  }

  // --- selection is focus ----------------------------------------------------------------
  // One ticket is "where the cook is": it has the keyboard focus (on the card or on one of
  // its buttons) and the one selection marker. Keys act there.
  var selectedRef = null;
  function selected() { return selectedRef ? cardOf(selectedRef) : null; }
  function select(card, focus) {
    cards().forEach(function (c) { c.classList.toggle("is-selected", c === card); });
    selectedRef = card ? card.dataset.ref : null;
    if (!card) return;
    if (focus && !card.contains(document.activeElement)) card.focus({ preventScroll: true });
    if (focus) card.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || active.id === "main";
  }
  function restoreSelection() {
    var card = selected() || cards()[0] || null;
    select(card, false);
    if (card && focusLost() && !dialogOpen()) card.focus({ preventScroll: true });
  }
  function move(delta) {
    var list = cards();
    if (!list.length) return;
    var index = list.indexOf(selected());
    index = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + delta));
    select(list[index], true);
  }
  document.addEventListener("focusin", function (event) {
    var card = event.target.closest && event.target.closest("#board .order-card");
    if (card && card.dataset.ref !== selectedRef) select(card, false);
  });
  document.addEventListener("click", function (event) {
    var card = event.target.closest && event.target.closest("#board .order-card");
    if (card && !event.target.closest("button, a, input, label")) select(card, true);
  });

  // Number keys: the digits typed within a second name a ticket ("1", "2" → #12).
  var typed = "", typedTimer = null;
  function jump(digit) {
    window.clearTimeout(typedTimer);
    var wanted = typed + digit;
    var match = cards().filter(function (c) { return c.dataset.number === wanted; })[0];
    if (!match) {
      wanted = digit;
      match = cards().filter(function (c) { return c.dataset.number === wanted; })[0];
    }
    typed = wanted;
    typedTimer = window.setTimeout(function () { typed = ""; }, 1000);
    if (match) select(match, true);
  }

  function submitButton(button) {
    var form = button.form;
    if (form && form.requestSubmit) form.requestSubmit(button); else button.click();
  }
  function dialogOpen() { return !!document.querySelector("dialog[open]"); }
  function isControl(el) { return !!(el && el.closest && el.closest("button, a, input, select, textarea, summary, label")); }

  document.addEventListener("keydown", function (event) {
    if (!overlay.hidden) {
      // A key is the gesture audio needs: Enter or Space starts service; A (a bump bar's
      // acknowledge after a reload) starts it and acknowledges, as on a screen in service.
      if (event.key === "Enter" || event.key === " ") { startService(); event.preventDefault(); }
      else if (event.key === "a" || event.key === "A") { startService(); acknowledge(); event.preventDefault(); }
      return;
    }
    if (dialogOpen()) return;  // the dialog's own buttons, Escape closes it
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key, card = selected();
    if (/^[0-9]$/.test(key)) { jump(key); event.preventDefault(); }
    else if (key === "ArrowRight" || key === "ArrowDown") { move(1); event.preventDefault(); }
    else if (key === "ArrowLeft" || key === "ArrowUp") { move(-1); event.preventDefault(); }
    else if (key === "Enter" || key === " ") {
      if (isControl(event.target)) return;  // a focused button does its own job
      var primary = card && card.querySelector("[data-primary]");
      if (primary) { submitButton(primary); event.preventDefault(); }
    } else if (key === "x" || key === "X") {
      var reject = card && card.querySelector(".reject-open");
      if (reject) { openReject(reject); event.preventDefault(); }
    } else if (key === "r" || key === "R") {
      var recall = document.getElementById("recall-button");
      if (recall) submitButton(recall);
    } else if (key === "a" || key === "A") {
      acknowledge();
    } else if (key === "p" || key === "P") {
      var print = card && card.querySelector("a.print");
      if (print) window.open(print.href, "_blank", "noopener");
    } else if (key === "d" || key === "D") {
      setDense(!document.body.classList.contains("is-dense"));
    }
  });

  // --- sound and the new-order alarm -----------------------------------------------------
  var audio = null, lastBeep = 0;
  var acknowledged = {};
  var soundToggle = document.getElementById("sound-toggle");
  var ackButton = document.getElementById("alarm-ack");
  var overlay = document.getElementById("start-service");
  function soundOn() { return stored(SOUND_KEY) !== "off"; }  // on unless this device muted it
  function audioReady() { return !!audio && audio.state === "running"; }
  function makeAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    audio = audio || new Ctx();
    return audio;
  }
  function beep(urgent) {
    if (!soundOn() || !audioReady()) return;
    var offsets = urgent ? [0, 0.18, 0.36] : [0, 0.25];
    offsets.forEach(function (offset) {
      var osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime + offset;
      osc.type = "square";
      osc.frequency.value = urgent ? 1320 : 880;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(urgent ? 0.6 : 0.3, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.15);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.17);
    });
    document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
  }
  function renderSound() {
    if (!soundToggle) return;
    soundToggle.textContent = soundOn() ? "Sound on" : "Sound off";
    soundToggle.setAttribute("aria-pressed", soundOn() ? "true" : "false");
  }
  function checkAudio() {
    // Browsers start audio suspended until the page is touched: then one tap starts service.
    if (!soundOn()) { overlay.hidden = true; return; }
    var ctx = makeAudio();
    if (!ctx) { overlay.hidden = true; return; }
    overlay.hidden = ctx.state === "running";
    document.body.dataset.audio = ctx.state;
  }
  function startService() {
    var ctx = makeAudio();
    var done = function () {
      document.body.dataset.audio = ctx ? ctx.state : "none";
      overlay.hidden = true;
      restoreSelection();
    };
    keepAwake();
    if (ctx) ctx.resume().then(function () { done(); beep(false); }, done); else done();
  }
  if (soundToggle) soundToggle.addEventListener("click", function () {
    store(SOUND_KEY, soundOn() ? "off" : "on");
    renderSound();
    if (soundOn()) startService();  // a click is the gesture audio needs
  });
  document.getElementById("start-service-button").addEventListener("click", startService);

  // A new ticket rings until a cook acknowledges it on any screen: the press is local at
  // once and sent to the server, which marks the tickets (data-acknowledged) on every screen
  // of the restaurant and on screens opened later. A failed send still stops this screen.
  function isAcknowledged(c) { return !!acknowledged[c.dataset.ref] || c.dataset.acknowledged === "1"; }
  function ringing(c) { return c.dataset.status === "paid" && !isAcknowledged(c); }
  function unacknowledged() { return cards().filter(ringing); }
  function expiring() {
    var now = Date.now();
    return cards().filter(function (c) {
      var left = autoRejectLeft(c, now);
      return left !== null && left <= RULES.autoRejectWarnMs;
    });
  }
  function acknowledge() {
    var refs = unacknowledged().map(function (c) { return c.dataset.ref; });
    refs.forEach(function (ref) { acknowledged[ref] = true; });
    refreshAlarm();
    for (var start = 0; start < refs.length; start += ACK_REFS_MAX) {  // the route's limit
      var body = new URLSearchParams();
      refs.slice(start, start + ACK_REFS_MAX).forEach(function (ref) { body.append("ref", ref); });
      window.fetch("/kitchen/" + boardHost.dataset.slug + "/alarm/acknowledge", {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "x-csrftoken": CSRF, "HX-Request": "true" }
      }).then(function (response) {
        if (response.status === 401) toLogin();
      }, function () { /* offline: this screen is quiet; the others ring until pressed */ });
    }
  }
  function refreshAlarm() {
    var pending = unacknowledged();
    var urgent = expiring().length > 0;
    if (ackButton) ackButton.hidden = pending.length === 0;
    document.body.classList.toggle("has-alarm", pending.length > 0);
    cards().forEach(function (c) {
      c.classList.toggle("is-alarming", ringing(c));
    });
    var level = urgent ? "urgent" : pending.length ? "new" : "none";
    document.body.dataset.alarm = level;
    var newCount = cards().filter(function (c) { return c.dataset.status === "paid"; }).length;
    document.title = (newCount ? "(" + newCount + " new) " : "") + baseTitle;
    return level;
  }
  window.setInterval(function () {
    var level = refreshAlarm(), now = Date.now();
    if (level === "urgent" && now - lastBeep >= URGENT_EVERY_MS) { lastBeep = now; beep(true); }
    else if (level === "new" && now - lastBeep >= ALARM_EVERY_MS) { lastBeep = now; beep(false); }
  }, 250);
  if (ackButton) ackButton.addEventListener("click", acknowledge);

  // --- keep the screen awake -------------------------------------------------------------
  var wakeLock = null;
  function keepAwake() {
    if (!("wakeLock" in navigator)) { document.body.dataset.wakeLock = "unsupported"; return; }
    if (wakeLock || document.visibilityState !== "visible") return;
    navigator.wakeLock.request("screen").then(function (sentinel) {
      wakeLock = sentinel;
      document.body.dataset.wakeLock = "on";
      sentinel.addEventListener("release", function () {
        wakeLock = null;
        document.body.dataset.wakeLock = "off";
      });
    }, function () { document.body.dataset.wakeLock = "denied"; });
  }
  document.addEventListener("visibilitychange", keepAwake);  // the lock ends when hidden

  // --- dense mode and the masonry layout -------------------------------------------------
  var denseToggle = document.getElementById("dense-toggle");
  function setDense(on) {
    document.body.classList.toggle("is-dense", on);
    store(DENSE_KEY, on ? "on" : "off");
    if (denseToggle) denseToggle.setAttribute("aria-pressed", on ? "true" : "false");
    layout();
  }
  if (denseToggle) denseToggle.addEventListener("click", function () {
    setDense(!document.body.classList.contains("is-dense"));
  });
  // Cards keep their own height: each spans as many small grid rows as its content needs,
  // in priority order left to right, so a short ticket never stretches to a tall one.
  var ROW = 4;
  var resizer = "ResizeObserver" in window ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { span(entry.target); });
    countHidden();
    fitSide();
    notePlaces();  // a ticket grew (a late pill, a refund line): those below it moved
  }) : null;
  function span(card) {
    var tickets = card.parentNode;
    if (!tickets || !tickets.classList || !tickets.classList.contains("tickets")) return;
    var gap = parseFloat(getComputedStyle(tickets).getPropertyValue("--card-gap")) || 12;
    card.style.gridRowEnd = "span " + Math.ceil((card.getBoundingClientRect().height + gap) / ROW);
  }
  function layout() {
    var tickets = boardHost.querySelector(".tickets");
    if (!tickets) return;
    tickets.classList.add("is-masonry");
    cards().forEach(function (card) { span(card); if (resizer) resizer.observe(card); });
    var top = boardHost.querySelector(".board-top");
    if (top && resizer) resizer.observe(top);  // notices come and go above the side column
    countHidden();
    fitSide();
  }
  // Beside the tickets the side column sticks and scrolls on its own. Notices above the
  // board push its top down: its height is what is left of the screen below its top, so its
  // foot (the last scheduled order) is on screen without scrolling the page as well.
  function fitSide() {
    var side = boardHost.querySelector(".side");
    if (!side) return;
    if (getComputedStyle(side).position !== "sticky") { side.style.maxHeight = ""; return; }
    var top = Math.max(side.getBoundingClientRect().top, 8);
    var height = Math.max(Math.round(window.innerHeight - top - 8), 160) + "px";
    if (side.style.maxHeight !== height) side.style.maxHeight = height;  // no reflow per scroll
  }
  // On one column (a portrait tablet) the page scrolls in the body, which ends above "+N more"
  // while it shows (kitchen.css): the board is seen down to the body's foot, not the screen's.
  var more = document.getElementById("more-below");
  function countHidden() {
    var bottom = Math.min(window.innerHeight, document.body.getBoundingClientRect().bottom);
    var below = cards().filter(function (c) { return c.getBoundingClientRect().bottom > bottom + 1; });
    more.hidden = below.length === 0;
    document.body.classList.toggle("has-more-below", below.length > 0);
    more.textContent = "+" + below.length + " more ↓";
    more.dataset.count = String(below.length);
    return below;
  }
  more.addEventListener("click", function () {
    var below = countHidden();
    if (below.length) select(below[0], true);
  });
  window.addEventListener("resize", layout);
  // the page's scroll, the body's (one column) and the side column's: scroll events do not
  // bubble, so they are heard on their way down
  document.addEventListener("scroll", function () { countHidden(); fitSide(); },
                            { passive: true, capture: true });

  // --- reject: confirm in a modal, then a few seconds to undo ----------------------------
  var rejectDialog = document.getElementById("reject-dialog");
  var rejectForm = document.getElementById("reject-form");
  var rejectConfirm = document.getElementById("reject-confirm");
  var rejectOther = document.getElementById("reject-other");
  var rejectError = document.getElementById("reject-error");
  // "An item is sold out": which of the ticket's dishes (its Reject button's data-dishes),
  // ticked ones sent as `sold_out` so the diner is told which ("Sorry, Tiramisu is sold out")
  var rejectDishes = document.getElementById("reject-dishes");
  var rejectDishList = document.getElementById("reject-dish-list");
  var markSoldOut = document.getElementById("reject-mark-sold-out");  // 86 them on the menu too
  var rejecting = null;  // the Reject button whose ticket the dialog is about
  var pending = {};      // ref → a reject waiting out its undo window
  var problems = {};     // ref → a press the server refused, shown on its card (noteProblem)
  function chosenReason() {
    var choice = rejectForm.querySelector("input[name='reason-choice']:checked");
    if (!choice) return "";
    return choice.value === "other" ? rejectOther.value.trim() : choice.value;
  }
  function checkReason() {
    rejectConfirm.disabled = !chosenReason();
    if (rejectDishes) rejectDishes.hidden = chosenReason() !== rejectDishes.dataset.reason;
  }
  function chosenDishes() {
    if (!rejectDishes || rejectDishes.hidden) return [];
    return Array.from(rejectDishList.querySelectorAll("input:checked")).map(function (box) {
      return box.value;
    });
  }
  function listDishes(button) {  // built as the dialog opens; a redraw keeps the ticks
    if (!rejectDishList) return;
    var dishes = [], out = [];
    try {
      dishes = JSON.parse(button.dataset.dishes || "[]");
      out = JSON.parse(button.dataset.dishesOut || "[]");
    } catch (e) { /* no dishes offered: the reason alone, as before */ }
    rejectDishList.textContent = "";
    dishes.forEach(function (name) {
      var label = document.createElement("label"), box = document.createElement("input");
      label.className = "reject-dish";
      box.type = "checkbox";
      box.name = "sold-out-dish";
      box.value = name;
      box.checked = out.indexOf(name) !== -1;  // the ticket marks it 86'd already
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + name));
      rejectDishList.appendChild(label);
    });
  }
  // Why the server would refuse the reason typed under "Other", or "": its rules come with the
  // field (data-pattern, data-max-chars and their messages, rendered from
  // app/kitchen/controller.py REJECT_REASON_RULES), in the order the server checks them. The
  // preset reasons are the server's own text. Length counts characters as Python does
  // (code points), not UTF-16 units.
  function reasonProblem() {
    var choice = rejectForm.querySelector("input[name='reason-choice']:checked");
    if (!choice || choice.value !== "other") return "";
    var text = rejectOther.value.trim(), rules = rejectOther.dataset, pattern = null;
    try { pattern = rules.pattern ? new RegExp(rules.pattern, "u") : null; } catch (e) { /* the server still checks */ }
    if (pattern && !pattern.test(text)) return rules.badText || "This reason cannot be sent.";
    var max = Number(rules.maxChars || 0);
    if (max && Array.from(text).length > max) return rules.tooLong || "This reason is too long.";
    return "";
  }
  function showReasonProblem(text) {
    rejectError.textContent = text;
    rejectError.hidden = !text;
    if (text) rejectOther.setAttribute("aria-invalid", "true");
    else rejectOther.removeAttribute("aria-invalid");
  }
  function recheckReason() { if (!rejectError.hidden) showReasonProblem(reasonProblem()); }
  var rejectingRef = null;  // the ticket the dialog is about (its card may be replaced)
  function openReject(button) {
    rejecting = button;
    rejectForm.reset();
    showReasonProblem("");
    var opened = button.closest(".order-card");
    if (opened) clearProblem(opened.dataset.ref);  // trying again: the last refusal is past
    rejectingRef = opened ? opened.dataset.ref : null;
    listDishes(button);
    describeReject(button);
    checkReason();
    rejectDialog.showModal();
  }
  // What the dialog says the customer gets back, from the ticket's Reject button as it is.
  function describeReject(button) {
    var voiding = button.dataset.moneyBack === "void";
    document.getElementById("reject-title").textContent = "Reject #" + button.dataset.number + "?";
    document.getElementById("reject-money").textContent = voiding
      ? "The hold of " + button.dataset.amount + " on the customer's card is released: nothing is charged."
      : button.dataset.refunded  // an earlier partial refund: this press refunds the rest
        ? "The customer gets the remaining " + button.dataset.amount + " back (refund); " +
          button.dataset.refunded + " was refunded earlier."
        : "The customer gets " + button.dataset.amount + " back (refund).";
    rejectConfirm.textContent = voiding ? "Reject & release hold" : "Reject & refund";
  }
  // The ticket changed while its dialog was open (another screen, the manager's refund): the
  // dialog said "The customer gets €11.50 back" after a full refund, and its countdown then
  // ended in a refusal. It follows the ticket as it is now, and closes, saying why, when
  // the ticket can no longer be rejected. The reason chosen stays.
  function followReject() {
    if (!rejecting || !rejectDialog.open) return;
    var card = rejectingRef && cardOf(rejectingRef);
    var now = card && card.querySelector(".reject-open");
    if (!now) {
      rejecting = null;
      rejectDialog.close();
      showToast("#" + rejectDialogNumber() + " changed meanwhile and can no longer be rejected: " +
                "nothing was done.");
      return;
    }
    if (now !== rejecting) { rejecting = now; describeReject(now); }
  }
  function rejectDialogNumber() {
    return (document.getElementById("reject-title").textContent.match(/#(\d+)/) || ["", "?"])[1];
  }
  rejectForm.addEventListener("change", function () { checkReason(); recheckReason(); });
  rejectOther.addEventListener("input", function () {
    var other = rejectForm.querySelector("input[value='other']");
    if (other && rejectOther.value) other.checked = true;
    checkReason();
    recheckReason();  // a message already shown follows the typing (gone once fixed)
  });
  document.getElementById("reject-cancel").addEventListener("click", function () {
    rejectDialog.close();
  });
  rejectDialog.addEventListener("close", function () {
    var card = rejecting && rejecting.closest(".order-card");
    if (card) select(card, true);
  });
  rejectForm.addEventListener("submit", function (event) {
    var reason = chosenReason(), button = rejecting;
    if (!reason || !button) return;
    var problem = reasonProblem();
    if (problem) {  // refused here, before any countdown: the dialog stays open with the text
      event.preventDefault();
      showReasonProblem(problem);
      rejectOther.focus();
      return;
    }
    var card = button.closest(".order-card");
    var ref = card.dataset.ref;
    pending[ref] = {
      url: button.dataset.reject, from: button.dataset.from, reason: reason,
      dishes: chosenDishes(),
      markSoldOut: !!(markSoldOut && markSoldOut.checked),
      number: button.dataset.number, deadline: Date.now() + UNDO_MS,
      timer: window.setTimeout(function () { sendReject(ref); }, UNDO_MS)
    };
    showPending();
  });
  document.addEventListener("click", function (event) {
    var open = event.target.closest && event.target.closest(".reject-open");
    if (open) { openReject(open); return; }
    var undo = event.target.closest && event.target.closest("[data-undo]");
    if (undo) undoReject(undo.dataset.undo);
  });
  function showPending() {
    Object.keys(pending).forEach(function (ref) {
      var card = cardOf(ref);
      if (!card || card.querySelector(".undo-bar")) return;
      var bar = document.createElement("div");
      bar.className = "undo-bar";
      bar.setAttribute("role", "status");
      var text = document.createElement("span");
      text.className = "undo-text";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "undo";
      button.dataset.undo = ref;
      button.textContent = "Undo";
      bar.appendChild(text);
      bar.appendChild(button);
      card.appendChild(bar);
      card.classList.add("is-rejecting");
      if (card.contains(document.activeElement) || focusLost()) button.focus({ preventScroll: true });
    });
    updatePending(Date.now());
  }
  function updatePending(now) {
    Object.keys(pending).forEach(function (ref) {
      var card = cardOf(ref), text = card && card.querySelector(".undo-text");
      if (text) text.textContent = "Rejecting #" + pending[ref].number + " in " +
        Math.max(0, Math.ceil((pending[ref].deadline - now) / 1000)) + " s";
    });
  }
  function clearPending(ref) {
    var entry = pending[ref];
    if (entry) window.clearTimeout(entry.timer);
    delete pending[ref];
    var card = cardOf(ref);
    if (card) {
      card.classList.remove("is-rejecting");
      card.removeAttribute("aria-busy");
      var bar = card.querySelector(".undo-bar");
      if (bar) bar.remove();
    }
    return card;
  }
  function undoReject(ref) {
    var card = clearPending(ref);
    if (card) select(card, true);
  }
  function sendReject(ref) {
    var entry = pending[ref];
    if (!entry) return;
    window.clearTimeout(entry.timer);
    var body = new URLSearchParams({ from: entry.from, reason: entry.reason });
    (entry.dishes || []).forEach(function (dish) { body.append("sold_out", dish); });
    if (entry.markSoldOut && (entry.dishes || []).length) body.append("mark_sold_out", "1");
    var card = cardOf(ref);
    if (card) card.setAttribute("aria-busy", "true");
    window.fetch(entry.url, {
      method: "POST", body: body, keepalive: true, credentials: "same-origin",
      headers: { "x-csrftoken": CSRF, "HX-Request": "true" }
    }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          if (response.status === 401) { clearPending(ref); toLogin(); return; }
          notRejected(ref, "#" + entry.number + " was not rejected: " +
                      refusal(response.status, text), entry.from, response.status === 409);
        });
      }
      delete pending[ref];
      var outcome = {};
      try { outcome = JSON.parse(response.headers.get("HX-Trigger") || "{}")["orderpass:rejected"] || {}; } catch (e) { /* none */ }
      showResult(outcome.message || ("#" + entry.number + " rejected."), outcome.ok !== false);
      var gone = cardOf(ref);
      if (gone) gone.remove();
      afterChange();
    }, function () {
      notRejected(ref, "#" + entry.number + " was not rejected: " + NO_SERVER, entry.from, false);
    });
  }
  // What the server said, as a sentence for the cook: its `detail` when it is one (the route
  // words its refusals for people), never a raw JSON or HTML body.
  // A 5xx is the system's trouble, not the cook's: its detail names infrastructure ("Postgres
  // is unavailable…"), so it is never shown; the cook reads that the system is busy.
  var NO_SERVER = "the screen lost the kitchen's server. Try again.";
  function refusal(status, body) {
    if (status === 503) return "the kitchen's system is busy or unavailable. Try again.";
    if (status >= 500) return "the kitchen's system could not do it just now. Try again.";
    var detail = "";
    try { detail = JSON.parse(body).detail; } catch (e) { /* not JSON: an error page */ }
    if (typeof detail === "string" && detail && detail.length <= 200 && !/[{}<>]/.test(detail)) {
      return /[.!?]$/.test(detail) ? detail : detail + ".";
    }
    if (status === 409) return "the order changed on another screen.";
    return "the server refused it (error " + status + "). Try again.";
  }
  // The reject did not happen: the ticket is back as it was (no undo bar, not dimmed) and says
  // why on the card, until the cook tries again or the order moves on.
  function notRejected(ref, text, from, conflict) {
    var card = clearPending(ref);
    if (!card || !noteProblem(card, from, text, conflict)) showToast(text);
  }
  // A refusal is about the ticket in one state, and goes once the ticket has left it (a note
  // that another screen accepted it, on a ticket since started or ready, told the cook
  // something no longer true). Which state: the one the press was made in, for a failure of
  // the press itself (the network, the server down); for a refusal because the order had
  // moved on (409), the state it moved to: the ticket as the frame has already drawn it, else
  // the next one a frame brings. A note already stale when its answer comes is not put on the
  // ticket (false: the caller says it in the toast).
  function noteProblem(card, from, text, conflict) {
    var now = card.dataset.status;
    if (!conflict && from && now !== from) return false;
    var entry = { text: text, keep: [conflict && from === now ? from : now],
                  waiting: conflict && from === now, said: false };
    problems[card.dataset.ref] = entry;
    showProblems();
    return entry;
  }
  function clearProblem(ref) {
    delete problems[ref];
    var card = cardOf(ref), shown = card && card.querySelector(".card-problem");
    if (shown) shown.remove();
  }
  function showProblems() {  // again after a frame replaced the card
    Object.keys(problems).forEach(function (ref) {
      var card = cardOf(ref), entry = problems[ref];
      var status = card && card.dataset.status;
      if (card && entry.waiting && entry.keep.indexOf(status) < 0) {
        entry.keep = [status];  // the move the refusal spoke of has reached this screen
        entry.waiting = false;
      }
      if (!card || entry.keep.indexOf(status) < 0) { clearProblem(ref); return; }
      var shown = card.querySelector(".card-problem");
      if (!shown) {
        shown = document.createElement("p");
        shown.className = "card-problem";
        // read out once, when it comes: not again each time a frame redraws its ticket
        if (!entry.said) shown.setAttribute("role", "alert");
        entry.said = true;
        card.insertBefore(shown, card.querySelector(".actions"));
      }
      if (shown.textContent !== entry.text) shown.textContent = entry.text;
    });
  }
  // Leaving the page inside the undo window still sends the reject the cook confirmed.
  window.addEventListener("pagehide", function () { Object.keys(pending).forEach(sendReject); });

  var result = document.getElementById("result"), resultTimer = null;
  function showResult(text, ok) {
    document.getElementById("result-text").textContent = text;
    result.classList.toggle("is-problem", !ok);
    result.hidden = false;
    window.clearTimeout(resultTimer);
    resultTimer = window.setTimeout(function () { result.hidden = true; }, 20000);
  }
  document.getElementById("result-close").addEventListener("click", function () { result.hidden = true; });

  // --- "Menu & pause": 86, pause new orders, busy time -----------------------------------
  var controlsDialog = document.getElementById("controls-dialog");
  document.getElementById("controls-open").addEventListener("click", function () {
    controlsDialog.showModal();
    htmx.ajax("GET", "/kitchen/" + boardHost.dataset.slug + "/controls",
              { target: "#controls", swap: "outerHTML" });  // fresh every time it opens
  });
  document.getElementById("controls-close").addEventListener("click", function () { controlsDialog.close(); });

  // --- what a screen reader hears: a new order, a new notice, once -----------------------
  // The board is no live region (a frame replaces tickets and notices, which were read out
  // again each time); the page's one polite region (kitchen_announcer.html, outside the
  // board) says what is new since the page opened: a ticket arriving new ("New order #46:
  // 3 items, pickup"), a notice (its own words). What was on the first board is not news,
  // nor are the orders the "Back online" banner lists (it is read out itself).
  var announcer = document.getElementById("announcer"), heard = {};
  function newsBlocks() { return boardHost.querySelectorAll(".notices [data-keys]"); }
  function hearAll() {
    cards().forEach(function (card) { heard["ticket " + card.dataset.ref] = true; });
    Array.prototype.forEach.call(newsBlocks(), function (block) {
      block.dataset.keys.split(" ").forEach(function (key) { if (key) heard["notice " + key] = true; });
    });
  }
  function filled(message, values) {
    return Object.keys(values).reduce(function (text, name) {
      return text.split("{" + name + "}").join(values[name]);
    }, message || "");
  }
  function newOrderSaid(card) {
    var said = announcer.dataset, items = 0;
    card.querySelectorAll(".lines .qty").forEach(function (qty) { items += parseInt(qty.textContent, 10) || 0; });
    var badge = card.querySelector(".fulfilment");
    var how = (/(?:^|\s)f-(\w+)/.exec(badge ? badge.className : "") || [])[1] || "";
    var names = { pickup: said.pickup, delivery: said.delivery, dine_in: said.dineIn };
    return filled(card.classList.contains("has-allergy") ? said.newOrderAllergy : said.newOrder, {
      number: card.dataset.number, fulfilment: names[how] || how,
      items: filled(items === 1 ? said.itemOne : said.itemOther, { count: String(items) })
    });
  }
  function announceNews() {
    if (!announcer) return;
    var news = [];
    cards().forEach(function (card) {
      var key = "ticket " + card.dataset.ref;
      if (heard[key]) return;
      heard[key] = true;
      if (card.dataset.status === "paid" && !offline) news.push(newOrderSaid(card));
    });
    Array.prototype.forEach.call(newsBlocks(), function (block) {
      var fresh = block.dataset.keys.split(" ").filter(function (key) { return key && !heard["notice " + key]; });
      if (!fresh.length) return;
      fresh.forEach(function (key) { heard["notice " + key] = true; });
      var words = block.querySelector("p");
      news.push((words ? words.textContent : "").replace(/\s+/g, " ").trim());
    });
    if (news.length) announcer.textContent = news.join(" ");
  }
  hearAll();

  // --- after every board swap / action ---------------------------------------------------
  function afterChange() {
    followReject();
    noteStatuses();
    announceNews();  // before backOnline: the orders the banner lists are not said twice
    backOnline();
    restoreSelection();
    showPending();
    showProblems();
    tick();
    layout();
    notePlaces();
    refreshAlarm();
  }
  document.body.addEventListener("htmx:afterSettle", afterChange);

  // --- `tickets` events: only the changed tickets, placed by their data-sort key ----------
  // Keys are whole numbers compared left to right (app/kitchen/priority.py screen_sort_key).
  function sortKey(card) { return (card.dataset.sort || "").split(" ").map(Number); }
  function before(a, b) {
    for (var i = 0; i < Math.max(a.length, b.length); i++) {
      if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) < (b[i] || 0);
    }
    return false;
  }
  function place(tickets, card) {
    var key = sortKey(card);
    var next = cards().filter(function (c) { return before(key, sortKey(c)); })[0] || null;
    tickets.insertBefore(card, next && next.parentNode === tickets ? next : null);
    htmx.process(card);
  }
  function replacePanel(selector, template) {
    var panel = boardHost.querySelector(selector);
    if (!panel || !template) return;
    panel.replaceWith(document.importNode(template.content, true));
    var fresh = boardHost.querySelector(selector);
    if (fresh) htmx.process(fresh);
  }
  function applyChanges(html) {
    keepPrep();
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var changes = holder.content.querySelector(".board-changes");
    var tickets = boardHost.querySelector(".tickets");
    if (!changes || !tickets) return;
    changes.querySelectorAll("template[data-ticket]").forEach(function (item) {
      var old = cardOf(item.dataset.ticket);
      var card = item.content.querySelector(".order-card");
      var hadFocus = old && old.contains(document.activeElement);
      if (old) old.remove();
      if (card) {
        var fresh = document.importNode(card, true);
        place(tickets, fresh);
        if (hadFocus) fresh.focus({ preventScroll: true });
      }
    });
    var empty = tickets.querySelector(".empty");
    if (cards().length && empty) empty.remove();
    if (!cards().length && !empty) {
      empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "No open orders.";
      tickets.appendChild(empty);
    }
    var side = boardHost.querySelector(".side");
    var panels = changes.querySelector("template[data-side]");
    if (side && panels) {
      side.replaceChildren(document.importNode(panels.content, true));
      htmx.process(side);
    }
    replacePanel(".notices", changes.querySelector("template[data-notices]"));
    var board = boardHost.querySelector(".board");
    if (board) {
      board.dataset.newCount = changes.dataset.newCount;
      board.dataset.generatedAt = changes.dataset.generatedAt;
    }
    restorePrep();
  }
  // A prep time the cook typed on a new ticket, not yet accepted, is what the diner will be
  // promised: no frame puts the default back under the cook's fingers. Before a frame
  // replaces cards, each prep field the cook changed (its value differs from the server's
  // default, its value attribute) or is in is kept; after it, that same field (its value, its
  // caret, its focus) takes the place of the fresh card's, as long as the ticket is still
  // new. A field the cook did not change follows the server (a busy time's new default).
  var keptPrep = {};  // ref → the prep field as the cook left it
  var prepFocused = null;  // the ref whose prep field had the focus
  function prepField(card) { return card ? card.querySelector("input[name='prep_minutes']") : null; }
  function keepPrep() {
    var active = document.activeElement;
    keptPrep = {};
    prepFocused = null;
    cards().forEach(function (card) {
      var field = prepField(card);
      if (!field) return;
      if (field === active) prepFocused = card.dataset.ref;
      if (field === active || field.value !== field.defaultValue) keptPrep[card.dataset.ref] = field;
    });
  }
  // Typed prep times also outlive a reload of the page (a tablet's browser restarted, a
  // pull to refresh): this tab keeps them (sessionStorage) until the ticket is accepted.
  var TYPED_KEY = "orderpass:typed-prep:" + location.pathname;
  function typedPrep() {
    try { return JSON.parse(window.sessionStorage.getItem(TYPED_KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function keepTyped(typed) {
    var refs = Object.keys(typed);
    refs.slice(0, Math.max(0, refs.length - 100)).forEach(function (ref) { delete typed[ref]; });
    try { window.sessionStorage.setItem(TYPED_KEY, JSON.stringify(typed)); } catch (e) { /* off */ }
  }
  boardHost.addEventListener("input", function (event) {
    var field = event.target, card = field.closest && field.closest(".order-card");
    if (!card || field !== prepField(card)) return;
    var typed = typedPrep();
    if (field.value === field.defaultValue) delete typed[card.dataset.ref];
    else typed[card.dataset.ref] = field.value;
    keepTyped(typed);
  });
  function restoreTyped() {
    var typed = typedPrep(), changed = false;
    Object.keys(typed).forEach(function (ref) {
      var card = cardOf(ref), field = prepField(card);
      if (!card) return;  // not on this board (yet): kept for when it is
      if (card.dataset.status !== "paid" || !field) { delete typed[ref]; changed = true; return; }
      if (field.value === field.defaultValue && field !== document.activeElement) field.value = typed[ref];
    });
    if (changed) keepTyped(typed);
  }
  function restorePrep() {
    restoreTyped();  // first: a field kept across this frame below wins over the tab's copy
    var focusRef = prepFocused;
    prepFocused = null;
    Object.keys(keptPrep).forEach(function (ref) {
      var kept = keptPrep[ref], card = cardOf(ref), fresh = prepField(card);
      delete keptPrep[ref];
      if (!fresh || card.dataset.status !== "paid") return;  // gone, or accepted meanwhile
      if (fresh !== kept) {
        var typed = kept.value !== kept.defaultValue;
        Array.prototype.forEach.call(fresh.attributes, function (attr) {  // the server's now:
          kept.setAttribute(attr.name, attr.value);  // value (the default), min, max, label
        });
        if (!typed && kept.value !== fresh.defaultValue) kept.value = fresh.defaultValue;
        fresh.replaceWith(kept);
      }
      var active = document.activeElement;
      if (ref === focusRef && active !== kept && (focusLost() || active === card)) {
        kept.focus({ preventScroll: true });  // the caret is where the cook left it
      }
    });
  }
  // A whole board (on connect, on a resync after a reconnect) replaces the side column: the
  // cook's place in a long "Scheduled" list is kept, not thrown back to its top.
  var sideScroll = null;
  function keepSidePlace() {
    var side = boardHost.querySelector(".side");
    sideScroll = side ? side.scrollTop : null;
  }
  boardHost.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail && event.detail.target === boardHost) keepSidePlace();
    keepPrep();  // a whole board, or one card (an action's answer)
  });
  boardHost.addEventListener("htmx:afterSwap", function () {
    var side = boardHost.querySelector(".side");
    if (side && sideScroll) side.scrollTop = sideScroll;
    sideScroll = null;
    restorePrep();
  });
  boardHost.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (!event.detail) return;
    if (event.detail.type === "board") { keepSidePlace(); keepPrep(); return; }
    if (event.detail.type !== "tickets") return;
    event.preventDefault();  // not swapped as a whole: patched in place
    applyChanges(event.detail.data);
    afterChange();
  });

  // --- a ticket that has just changed takes no press for SETTLE_MS: the button under the
  // cook's finger changes with it (Start becomes Ready), and a double tap or a double Enter,
  // its second press after the first one's answer, moved the order two steps and told the
  // diner "ready" while it was being made. Also when another screen moved it. ------------
  // A ticket's arrival is no change: its first press goes through at once.
  var SETTLE_MS = 800, seen = {};
  function noteStatuses() {
    var now = Date.now();
    document.querySelectorAll("#board .order-card").forEach(function (card) {
      var ref = card.dataset.ref, last = seen[ref];
      if (!last || last.status !== card.dataset.status) {
        seen[ref] = { status: card.dataset.status, at: last ? now : 0 };
      }
    });
  }
  noteStatuses();

  // --- nor does a ticket that has just arrived or moved on the screen, for MOVED_MS: a new
  // order sorting first pushed the others along, and the cook's tap aimed at one ticket's
  // Ready landed on the newcomer's Accept (an outside try: the diner was told "accepted").
  // Nobody aims at a button that was not there a moment ago. Where each ticket sits on the
  // page (scrolling aside) is noted after every change; the page's first board is not new.
  var MOVED_MS = 700, placedAt = {}, movedAt = {}, placedOnce = false;
  function notePlaces() {
    var now = Date.now(), body = document.body;  // the body scrolls on one column (kitchen.css)
    var x = window.scrollX + body.scrollLeft, y = window.scrollY + body.scrollTop;
    cards().forEach(function (card) {
      var box = card.getBoundingClientRect(), ref = card.dataset.ref;
      var place = Math.round(box.left + x) + "," + Math.round(box.top + y);
      if (placedAt[ref] === place) return;
      if (placedOnce) movedAt[ref] = now;
      placedAt[ref] = place;
    });
    placedOnce = true;
  }
  function pressRefused(card) {
    var now = Date.now(), ref = card.dataset.ref, last = seen[ref];
    if (last && now - last.at < SETTLE_MS) return "just changed";
    if (now - (movedAt[ref] || 0) < MOVED_MS) return "just moved under your finger";
    return "";
  }
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM" || !/(?:^|\s)act-/.test(form.className)) return;
    var card = form.closest("#board .order-card"), why = card && pressRefused(card);
    if (!why) return;
    event.preventDefault();  // not sent, and said: a press that did nothing is not silent
    showToast("#" + card.dataset.number + " " + why + ": nothing was done. " +
              "Press again if you meant it.");
  });

  // --- a press on its way: its form is busy until the answer (hx-disabled-elt disables its
  // buttons, so a second tap sends nothing) --------------------------------------------------
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt, config = event.detail.requestConfig || {};
    if (event.defaultPrevented || !form || form.tagName !== "FORM") return;
    form.setAttribute("aria-busy", "true");
    var pressed = config.triggeringEvent && config.triggeringEvent.submitter;
    if (pressed) pressed.setAttribute("data-pressed", "");  // the one that says "…"
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM") return;
    form.removeAttribute("aria-busy");
    form.querySelectorAll("[data-pressed]").forEach(function (b) { b.removeAttribute("data-pressed"); });
  });

  // --- errors from actions ---------------------------------------------------------------
  var toast = document.getElementById("toast");
  var toastTimer = null;
  function showToast(text) {
    if (!toast) return;
    toast.textContent = text;
    toast.hidden = false;
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { toast.hidden = true; }, 6000);
  }
  // On a portrait tablet the toast lies over the board's foot: a tap on it puts it away
  // (and reaches no ticket under it).
  if (toast) toast.addEventListener("click", function () { toast.hidden = true; });
  // A press on a ticket that failed (no answer, a timeout, the server refusing or down) says
  // so on that ticket, with the words the reject uses ("#7 was not accepted: … Try again."):
  // nothing floats over another ticket, the ticket keeps its buttons for the next try.
  var DONE = { accept: "accepted", start: "started", ready: "marked ready", complete: "completed" };
  // Refused because another screen moved the order first (409), the note stays through that
  // move (the frame of the other screen's accept often redraws the ticket before the refusal
  // arrives, and it is the news: "promised 13:48, your 40 min were not used"), while the
  // ticket stays there, for STICKY_MS at most. Any failure leaves with the status it was
  // about (noteProblem).
  var STICKY_MS = 30000;
  function failedOnCard(elt, why, sticky) {
    var form = elt && elt.closest ? elt.closest("form") : null;
    var pressed = form && form.closest(".order-card");  // as pressed: maybe replaced since
    var card = pressed && cardOf(pressed.dataset.ref);
    if (!card) return false;
    var action = (/(?:^|\s)act-(\w+)/.exec(form.className) || [])[1];
    var ref = card.dataset.ref;
    var text = "#" + card.dataset.number + " was not " + (DONE[action] || "done") + ": " + why;
    var entry = noteProblem(card, pressed.dataset.status, text, sticky);
    if (!entry) { showToast(text); return true; }
    if (sticky) {
      window.setTimeout(function () { if (problems[ref] === entry) clearProblem(ref); }, STICKY_MS);
    }
    return true;
  }
  function actionFailed(elt, why, sticky) {
    if (!failedOnCard(elt, why, sticky)) showToast("Not done: " + why);
  }
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.defaultPrevented) return;
    var card = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("#board .order-card");
    if (card) clearProblem(card.dataset.ref);  // trying again: the last failure is past
  });
  // The server did something else than the cook asked and says what (an accept whose card
  // hold had lapsed: the order left the board instead), in the banner a reject's outcome uses.
  // Read from the answer's HX-Trigger header, not as the event htmx makes of it: htmx fires
  // that on the form that sent the request, and the live feed usually takes the ticket (form
  // and all) off the board before the answer arrives, so the event reached no listener here.
  // Hooked on the request itself when it leaves, while its form is still on the board.
  function showOutcome() {
    var outcome = null;
    try { outcome = JSON.parse(this.getResponseHeader("HX-Trigger") || "{}")["orderpass:outcome"]; } catch (e) { /* not ours */ }
    if (outcome && outcome.message) showResult(outcome.message, outcome.ok !== false);
  }
  document.body.addEventListener("htmx:beforeSend", function (event) {
    var xhr = event.detail.xhr, elt = event.detail.elt;
    if (!xhr) return;
    xhr.addEventListener("load", showOutcome);
    // A failure whose ticket a frame redrew meanwhile (another screen's accept, the whole
    // board after a reconnect): htmx's error event goes to the old, detached form and
    // reaches no listener here, so it is read from the request itself.
    function redrawn() { return elt && !document.body.contains(elt); }
    xhr.addEventListener("load", function () {
      if (xhr.status < 400 || xhr.status === 401 || !redrawn()) return;
      actionFailed(elt, refusal(xhr.status, xhr.responseText), xhr.status === 409);
    });
    ["error", "timeout"].forEach(function (kind) {
      xhr.addEventListener(kind, function () { if (redrawn()) actionFailed(elt, NO_SERVER); });
    });
  });
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 401) { toLogin(); return; }
    actionFailed(event.detail.elt, refusal(xhr.status, xhr.responseText), xhr.status === 409);
  });
  function lostServer(event) { actionFailed(event.detail.elt, NO_SERVER); }
  document.body.addEventListener("htmx:sendError", lostServer);
  document.body.addEventListener("htmx:timeout", lostServer);

  // Ages, "late by", the timing colours and the auto-reject countdown move with the clock,
  // not only when a frame redraws the board (a quiet board, or one whose stream is down,
  // showed a countdown up to a minute behind).
  window.setInterval(tick, 1000);

  // --- start ------------------------------------------------------------------------------
  if (stored(DENSE_KEY) === "on") setDense(true);
  renderSound();
  checkAudio();
  keepAwake();
  restoreSelection();
  tick();
  layout();
  refreshAlarm();
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(layout);
  window.addEventListener("load", function () { notePlaces(); });
})();
