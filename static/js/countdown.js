// Counts down to a payment link's expiry: <span data-countdown="ISO-8601 time">, in the
// page's language (data-countdown-label "{time} left", data-countdown-expired).
(function () {
  function render() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.floor((new Date(el.dataset.countdown) - new Date()) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = el.dataset.countdownExpired || "expired"; return; }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      var time = (h ? h + " h " : "") + m + " min" + (h ? "" : " " + s + " s");
      el.textContent = (el.dataset.countdownLabel || "{time} left").replace("{time}", time);
    });
  }
  render();
  setInterval(render, 1000);
})();
