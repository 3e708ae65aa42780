// Results while typing: under any input with data-instant-url, a short list of links (offers, needs,
// organisations) and a "did you mean" correction, from the JSON endpoint. Text is set, never parsed as HTML.
(function () {
  document.querySelectorAll("input[data-instant-url]").forEach(function (input) {
    var box = document.getElementById(input.getAttribute("aria-controls"));
    if (!box) { return; }
    var timer = null;
    var latest = 0;
    function clear() { box.textContent = ""; box.classList.add("d-none"); }
    function link(href, text, small) {
      var a = document.createElement("a");
      a.className = "list-group-item list-group-item-action instant-result";
      a.href = href;
      a.textContent = text;
      if (small) {
        var tag = document.createElement("span");
        tag.className = "badge text-bg-light ms-2";
        tag.textContent = small;
        a.appendChild(tag);
      }
      return a;
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { clear(); return; }
      timer = setTimeout(function () {
        var ticket = ++latest;
        fetch(input.dataset.instantUrl + "?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
          .then(function (r) { return r.ok ? r.json() : {results: []}; })
          .then(function (data) {
            if (ticket !== latest) { return; }  // an older answer arriving late
            box.textContent = "";
            if (data.did_you_mean) {
              box.appendChild(link(data.did_you_mean_url, box.dataset.didYouMean + ": " + data.did_you_mean));
            }
            (data.results || []).forEach(function (row) { box.appendChild(link(row.url, row.title, row.scope)); });
            box.classList.toggle("d-none", !box.children.length);
          })
          .catch(function () {});
      }, 200);
    });
  });
})();
