// Events: fills each .viewer-time[data-time] with the time in the viewer's own time zone.
(function () {
  var label = document.documentElement.lang === "en" ? "Your time" : "您的时间";
  document.querySelectorAll(".viewer-time[data-time]").forEach(function (el) {
    var d = new Date(el.dataset.time);
    if (isNaN(d)) { return; }
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    el.textContent = label + ": " + d.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"}) + " (" + zone + ")";
  });
})();
