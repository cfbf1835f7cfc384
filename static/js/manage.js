/* The owner's pages: a form the server refused (a 4xx page: fields to correct, a dish
   changed in another tab meanwhile) says what is wrong in its error box; the focus goes
   there, so a keyboard or screen-reader user hears it and goes on from it, not from the
   top of the page. Without JavaScript the box is still the form's first line. */
(function () {
  "use strict";
  var box = document.querySelector("main .form-errors[role=alert]");
  if (!box) return;
  if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "-1");
  box.focus({ preventScroll: true });
  box.scrollIntoView({ block: "center" });
})();
