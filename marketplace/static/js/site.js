// Behaviour shared by every page (kept out of the HTML so the content security policy allows no inline script).
(function () {
  // <select data-autosubmit> / <input type="checkbox" data-autosubmit>: changing the value submits its form.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.form && el.hasAttribute && el.hasAttribute("data-autosubmit")) {
      el.form.submit();
    }
  });

  // On a phone, tables are shown as stacked rows (site.css); each cell is labelled with its column's
  // header so the row still reads as "Status: Open" without the header row.
  function labelTableCells() {
    var tables = document.querySelectorAll("main table.table:not(.table-keep)");
    Array.prototype.forEach.call(tables, function (table) {
      var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return (th.textContent || "").trim();
      });
      if (!headers.length) { return; }
      Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (!cell.hasAttribute("data-label") && headers[column]) { cell.setAttribute("data-label", headers[column]); }
          column += cell.colSpan || 1;
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", labelTableCells);
  } else {
    labelTableCells();
  }

  // <form data-busy-text="…">: long work (a batch release, an upload to import). Once sent, the buttons are
  // disabled so the work is not started twice, and a progress bar with the text says what is under way.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-busy-text") || event.defaultPrevented) { return; }
    if (form.getAttribute("data-busy") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-busy", "1");
    window.setTimeout(function () {  // after the browser has taken the submitter's name and value
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit], input[type=submit]"), function (b) {
        b.disabled = true;
      });
    }, 0);
    var box = document.createElement("div");
    box.className = "busy-progress mt-3";
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    var bar = document.createElement("div");
    bar.className = "progress";
    bar.setAttribute("aria-label", form.getAttribute("data-busy-text"));
    var fill = document.createElement("div");
    fill.className = "progress-bar progress-bar-striped progress-bar-animated w-100";
    bar.appendChild(fill);
    var text = document.createElement("p");
    text.className = "small text-muted mt-1 mb-0";
    text.textContent = form.getAttribute("data-busy-text");
    box.appendChild(bar);
    box.appendChild(text);
    form.appendChild(box);
  });
})();
