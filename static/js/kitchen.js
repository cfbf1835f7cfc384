/* Kitchen screen behaviour: age timers, connection indicator, keyboard (bump bar) control,
   new-order alarm (WebAudio beep, repeats until acknowledged), error toasts, ticket printing.
   No inline scripts: everything hangs off data attributes and ids in the templates. */
(function () {
  "use strict";

  // Same thresholds as app/kitchen/priority.py (timing()).
  var AT_RISK_FRACTION = 0.25;
  var AT_RISK_MIN_MS = 120000;
  var ALARM_EVERY_MS = 2500;

  // --- ticket page: print on open ------------------------------------------------------
  if (document.body.classList.contains("ticket-page")) {
    var printNow = document.getElementById("print-now");
    if (printNow) printNow.addEventListener("click", function () { window.print(); });
    if (document.body.dataset.autoprint) window.setTimeout(function () { window.print(); }, 300);
    return;
  }
  var boardHost = document.getElementById("board");
  if (!boardHost) return;

  // --- age timers ------------------------------------------------------------------------
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function formatAge(ms) {
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
    var margin = Math.max(AT_RISK_MIN_MS, (due - start) * AT_RISK_FRACTION);
    return due - now <= margin ? "at_risk" : "on_time";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".order-card").forEach(function (card) {
      var age = card.querySelector("[data-age]");
      if (age) age.textContent = formatAge(now - Number(card.dataset.paidAt));
      var t = timingFor(card, now);
      ["on_time", "at_risk", "late"].forEach(function (name) {
        card.classList.toggle("timing-" + name, name === t);
      });
    });
  }
  window.setInterval(tick, 1000);

  // --- connection indicator --------------------------------------------------------------
  var indicator = document.getElementById("connection");
  function setConnection(state, text) {
    if (!indicator) return;
    indicator.className = "connection is-" + state;
    indicator.textContent = text;
  }
  document.body.addEventListener("htmx:sseOpen", function () { setConnection("live", "Live"); });
  document.body.addEventListener("htmx:sseError", function () {
    setConnection("down", "Reconnecting…");
  });
  document.body.addEventListener("htmx:sseClose", function () {
    setConnection("down", "Disconnected");
  });

  // --- selection and keyboard ------------------------------------------------------------
  var selectedRef = null;
  function cards() { return Array.prototype.slice.call(document.querySelectorAll(".order-card")); }
  function select(card) {
    cards().forEach(function (c) { c.classList.toggle("is-selected", c === card); });
    selectedRef = card ? card.dataset.ref : null;
    if (card) card.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  function selected() {
    return selectedRef ? document.getElementById("card-" + selectedRef) : null;
  }
  function restoreSelection() {
    var card = selected() || cards()[0] || null;
    select(card);
  }
  function move(delta) {
    var list = cards();
    if (!list.length) return;
    var index = list.indexOf(selected());
    index = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + delta));
    select(list[index]);
  }
  function submitForm(button) {
    var form = button.form;
    if (form && form.requestSubmit) form.requestSubmit(button); else button.click();
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    if (key === "ArrowRight" || key === "ArrowDown") { move(1); event.preventDefault(); }
    else if (key === "ArrowLeft" || key === "ArrowUp") { move(-1); event.preventDefault(); }
    else if (key === "Enter" || key === " ") {
      var card = selected();
      var primary = card && card.querySelector("[data-primary]");
      if (primary) { submitForm(primary); event.preventDefault(); }
    } else if (key === "r" || key === "R") {
      var recall = document.getElementById("recall-button");
      if (recall) submitForm(recall);
    } else if (key === "a" || key === "A") {
      acknowledge();
    } else if (key === "p" || key === "P") {
      var print = selected() && selected().querySelector("a.print");
      if (print) window.open(print.href, "_blank", "noopener");
    }
  });
  document.addEventListener("click", function (event) {
    var card = event.target.closest && event.target.closest(".order-card");
    if (card) select(card);
  });

  // --- new-order alarm -------------------------------------------------------------------
  var audio = null;
  var acknowledged = {};
  var soundButton = document.getElementById("sound-enable");
  var ackButton = document.getElementById("alarm-ack");
  function beep() {
    if (!audio || audio.state !== "running") return;
    [0, 0.25].forEach(function (offset) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, audio.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, audio.currentTime + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + offset + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + offset);
      osc.stop(audio.currentTime + offset + 0.2);
    });
  }
  function unacknowledged() {
    return cards().filter(function (c) {
      return c.dataset.status === "paid" && !acknowledged[c.dataset.ref];
    });
  }
  function acknowledge() {
    cards().forEach(function (c) { if (c.dataset.status === "paid") acknowledged[c.dataset.ref] = true; });
    refreshAlarm();
  }
  function refreshAlarm() {
    var pending = unacknowledged();
    if (ackButton) ackButton.hidden = pending.length === 0;
    document.body.classList.toggle("has-alarm", pending.length > 0);
    pending.forEach(function (c) { c.classList.add("is-alarming"); });
    return pending.length > 0;
  }
  window.setInterval(function () { if (refreshAlarm()) beep(); }, ALARM_EVERY_MS);
  if (soundButton) {
    soundButton.addEventListener("click", function () {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { soundButton.textContent = "No sound on this device"; return; }
      audio = audio || new Ctx();
      audio.resume().then(function () {
        soundButton.textContent = "Sound on";
        soundButton.disabled = true;
        beep();
      });
    });
  }
  if (ackButton) ackButton.addEventListener("click", acknowledge);

  // --- after every board swap / action ---------------------------------------------------
  function afterChange() {
    restoreSelection();
    tick();
    if (refreshAlarm()) beep();
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
  function busyWith(card) {
    // A cook typing a prep time or a reject reason keeps the card they are typing in.
    var active = document.activeElement;
    return active && card.contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName);
  }
  function applyChanges(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var changes = holder.content.querySelector(".board-changes");
    var tickets = boardHost.querySelector(".tickets");
    if (!changes || !tickets) return;
    changes.querySelectorAll("template[data-ticket]").forEach(function (item) {
      var old = document.getElementById("card-" + item.dataset.ticket);
      var card = item.content.querySelector(".order-card");
      if (old && card && busyWith(old) && old.dataset.status === card.dataset.status) return;
      if (old) old.remove();
      if (card) place(tickets, document.importNode(card, true));
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
    var board = boardHost.querySelector(".board");
    if (board) {
      board.dataset.newCount = changes.dataset.newCount;
      board.dataset.generatedAt = changes.dataset.generatedAt;
    }
  }
  boardHost.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (!event.detail || event.detail.type !== "tickets") return;
    event.preventDefault();  // not swapped as a whole: patched in place
    applyChanges(event.detail.data);
    afterChange();
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
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr, text = "The action failed (" + xhr.status + ").";
    try { text = JSON.parse(xhr.responseText).detail || text; } catch (e) { /* not JSON */ }
    if (xhr.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
    showToast(text);
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("No connection: the action was not sent.");
  });

  restoreSelection();
  tick();
  refreshAlarm();
})();
