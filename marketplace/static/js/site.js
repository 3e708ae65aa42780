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
})();
