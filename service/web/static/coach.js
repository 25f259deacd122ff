// Live coaching on the intake form: after the submitter pauses typing, send the answers (not the files) and
// show the server-rendered, escaped panel. Without JavaScript the form still submits normally.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  var body = document.getElementById("coach-body");
  if (!form || !body) { return; }
  var timer = null;
  var latest = 0;
  function refresh() {
    var data = new FormData(form);
    data.delete("attachments");
    var token = form.querySelector("input[name=csrf_token]").value;
    var sent = ++latest;
    fetch("/submit/coach", {method: "POST", body: data, headers: {"X-CSRF-Token": token}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && sent === latest) {
          body.innerHTML = html;
          form.setAttribute("data-coached", String(sent));
        }
      })
      .catch(function () { /* coaching is a help, never a blocker */ });
  }
  form.addEventListener("input", function (event) {
    if (!event.target.hasAttribute("data-coach")) { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  });
  var named = document.getElementById("identity-named");
  var fields = document.getElementById("named-fields");
  function toggle() { fields.hidden = !named.checked; }
  form.addEventListener("change", toggle);
  toggle();
})();
