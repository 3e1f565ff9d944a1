// The workspace's pages: move focus to the error summary after a refused save, and copy the
// calendar feed's address with one button (shown only where a script runs; without it the
// address is still there to select and copy).
(function () {
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var target = document.getElementById(button.dataset.copy);
    var said = document.querySelector('[data-copied="' + button.dataset.copy + '"]');
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.value).then(
        function () { if (said) said.textContent = "Copied."; },
        function () {
          target.select();
          if (said) said.textContent = "Select the address and copy it.";
        }
      );
    });
  });
})();
