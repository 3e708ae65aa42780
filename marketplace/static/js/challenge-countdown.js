// Challenge pages: counts down to the submission deadline (an instant; the page also shows it in the challenge's zone).
(function () {
  var box = document.getElementById("challenge-countdown");
  var out = document.getElementById("countdown-remaining");
  if (!box || !out || out.textContent.trim()) { return; }
  var deadline = new Date(box.dataset.deadline);
  if (isNaN(deadline)) { return; }
  function tick() {
    var left = Math.floor((deadline - new Date()) / 60000);
    if (left <= 0) { out.textContent = box.dataset.passed; return; }
    var days = Math.floor(left / 1440), hours = Math.floor((left % 1440) / 60), minutes = left % 60;
    out.textContent = days + " " + box.dataset.days + " " + hours + " " + box.dataset.hours + " " +
      minutes + " " + box.dataset.minutes;
    setTimeout(tick, 30000);
  }
  tick();
})();
