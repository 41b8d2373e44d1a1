// zonegate console: optional progressive enhancement. Everything works without it.
// Forms with data-confirm ask before they are sent (e.g. revoking a certificate).
"use strict";
document.addEventListener("submit", function (ev) {
  var msg = ev.target && ev.target.getAttribute && ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
