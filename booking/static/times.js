// Show times in the visitor's own zone: when the page was not asked for a zone, use the
// browser's and reload once. Without JavaScript the practice's zone is shown, changeable in
// the form.
(function () {
  var select = document.getElementById("tz");
  if (!select || select.dataset.given !== "no") return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
  if (zone && known && select.value !== zone) {
    var url = new URL(window.location.href);
    url.searchParams.set("tz", zone);
    window.location.replace(url.toString());
  }
})();
