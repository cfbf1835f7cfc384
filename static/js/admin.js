// Admin pages: let htmx swap in the error fragments our admin actions return with 4xx/5xx
// (a refused fix explains itself in place), for elements marked data-swap-errors.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var status = detail.xhr ? detail.xhr.status : 0;
    if (status < 400 || !detail.xhr.responseText) { return; }
    var source = detail.requestConfig && detail.requestConfig.elt;
    var marked = (source && source.closest && source.closest("[data-swap-errors]")) ||
      (detail.target && detail.target.closest && detail.target.closest("[data-swap-errors]"));
    if (marked) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
