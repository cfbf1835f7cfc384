/* A live stream that stalls without breaking (Wi-Fi gone quiet, a proxy holding the
   connection) raises no error: the page would wait forever for news that never comes. The
   server sends something at least every heartbeat (a `ping` event when nothing happens),
   so after STALL_BEATS heartbeats of silence this closes the stream and takes the sse
   extension's own error path: the page shows it is reconnecting, and the new connection
   brings a fresh snapshot. For the element with `sse-connect` and `data-heartbeat-s`
   (seconds); `data-live-events` names the events that count as heard, besides `ping`. */
(function () {
  "use strict";
  var STALL_BEATS = 2.5;
  var host = document.querySelector("[sse-connect][data-heartbeat-s]");
  if (!host || !window.EventSource) return;
  var heartbeatMs = (parseFloat(host.dataset.heartbeatS) || 15) * 1000;
  var events = ["ping"].concat((host.dataset.liveEvents || "").split(" ").filter(Boolean));
  var source = null, lastHeard = Date.now();
  function heard() { lastHeard = Date.now(); }
  // When the server was last heard: an outage began then, not when the silence was noticed
  // (kitchen.js counts it from here; a 16 s freeze was told as "4 s").
  window.liveHeardAt = function () { return lastHeard; };
  document.body.addEventListener("htmx:sseOpen", function (event) {
    source = event.detail && event.detail.source;
    if (!source) return;
    heard();
    events.forEach(function (name) { source.addEventListener(name, heard); });
  });
  window.setInterval(function () {
    if (!source || source.readyState !== EventSource.OPEN) return;
    if (Date.now() - lastHeard < heartbeatMs * STALL_BEATS) return;
    var stalled = source;
    source = null;
    stalled.close();
    if (stalled.onerror) stalled.onerror(new Event("error"));
    document.body.dataset.liveReconnects = String(Number(document.body.dataset.liveReconnects || 0) + 1);
  }, 1000);
})();
