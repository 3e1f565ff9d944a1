// The booking and intake forms: move focus to the error summary after a refused submit, and
// warn (without blocking) when both partners give the same email address.
(function () {
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  var mine = document.getElementById("f-partners-0-email");
  var theirs = document.getElementById("f-partners-1-email");
  var warning = document.getElementById("shared-inbox-warning");
  if (!mine || !theirs || !warning) return;
  function normal(input) { return input.value.trim().toLowerCase(); }
  // The live region stays in place and only its content changes, so screen readers announce it.
  function check() {
    var shared = normal(mine) !== "" && normal(mine) === normal(theirs);
    if (shared && !warning.firstChild) {
      var note = document.createElement("p");
      note.className = "notice";
      note.textContent = warning.dataset.message;
      warning.appendChild(note);
    } else if (!shared) {
      warning.textContent = "";
    }
  }
  mine.addEventListener("input", check);
  theirs.addEventListener("input", check);
  check();
})();
