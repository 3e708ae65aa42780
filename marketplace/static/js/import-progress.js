// An import run's page: shows the job's progress while it runs, then reloads to show the row report.
(function () {
  var box = document.getElementById("import-run");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-poll-url");
  if (!url) { return; }
  var bar = document.getElementById("import-progress");
  var done = document.getElementById("import-rows-done");
  var total = document.getElementById("import-rows-total");

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 5000); return; }
        if (data.finished) { window.location.assign(data.report_url); return; }
        if (data.rows_total) {
          bar.max = data.rows_total;
          total.textContent = data.rows_total;
        }
        bar.value = data.rows_done;
        done.textContent = data.rows_done;
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
