// Behaviour shared by every page (kept out of the HTML so the content security policy allows no inline script).
(function () {
  // <select data-autosubmit> / <input type="checkbox" data-autosubmit>: changing the value submits its form.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.form && el.hasAttribute && el.hasAttribute("data-autosubmit")) {
      el.form.submit();
    }
  });
})();
