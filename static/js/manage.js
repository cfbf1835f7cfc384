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

/* A photo over the limit is refused as it is chosen, before the form is sent: sent, a file
   past the server's body limit came back as a 413 with everything typed lost (an outside
   try: 45 MB). The field says why and is emptied; the rest of the form stays as typed. */
(function () {
  "use strict";
  var MB = 1024 * 1024;
  function mb(bytes) { return (bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0); }
  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-max-bytes]"), function (input) {
    var note = document.getElementById(input.id + "-size");
    if (!note) return;
    input.addEventListener("change", function () {
      var max = Number(input.dataset.maxBytes), file = input.files && input.files[0];
      var tooBig = !!file && max > 0 && file.size > max;
      note.hidden = !tooBig;
      if (!tooBig) {
        note.textContent = "";
        if (input.getAttribute("aria-describedby") === note.id) {
          input.removeAttribute("aria-describedby");
          input.removeAttribute("aria-invalid");
        }
        return;
      }
      note.textContent = "This photo is " + mb(file.size) + " MB; a photo can be up to " +
        mb(max) + " MB. Choose a smaller one: nothing else on the form is lost.";
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
    });
  });
})();

/* On a phone the navigation is one row that scrolls sideways (static/css/admin.css): the
   current page's link is brought into it, not left off-screen to the right. */
(function () {
  "use strict";
  var row = document.querySelector(".manage .admin-nav ul");
  if (!row) return;
  // Links hidden past an edge fade that edge out (admin.css): with the scrollbar hidden, an
  // outside try never found "Settings" right of the screen.
  function edges() {
    row.classList.toggle("more-right", row.scrollLeft + row.clientWidth < row.scrollWidth - 2);
    row.classList.toggle("more-left", row.scrollLeft > 2);
  }
  row.addEventListener("scroll", edges, { passive: true });
  window.addEventListener("resize", edges);
  var current = row.querySelector("a[aria-current=page]");
  if (current && row.scrollWidth > row.clientWidth) {
    var link = current.getBoundingClientRect(), box = row.getBoundingClientRect();
    row.scrollLeft += link.left - box.left - (box.width - link.width) / 2;
  }
  edges();
})();

/* The dish editor's option groups (templates/manage/menu_item.html): typing into the last
   group shown opens the next, so one empty group stays ready as the page first showed. */
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var group = event.target.closest && event.target.closest(".modifier-group");
    var next = group && group.nextElementSibling;
    if (next && next.classList.contains("more-groups")) next.open = true;
  });
})();
