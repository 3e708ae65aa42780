// An introduction's conversation: new messages appear while the page is open (polling; text only, never HTML).
(function () {
  var section = document.getElementById("conversation");
  if (!section || !window.fetch) { return; }
  var list = document.getElementById("message-list");
  var url = section.getAttribute("data-poll-url");
  var seconds = parseInt(section.getAttribute("data-poll-seconds"), 10) || 10;
  var lastId = parseInt(section.getAttribute("data-last-id"), 10) || 0;

  function add(message) {
    if (list.querySelector('[data-id="' + message.id + '"]')) { return; }
    var empty = document.getElementById("no-messages");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "message border rounded p-2 mb-2 text-break " + (message.mine ? "bg-light ms-4" : "bg-white me-4");
    item.setAttribute("data-id", message.id);
    item.setAttribute("data-side", message.side);
    var meta = document.createElement("div");
    meta.className = "small text-muted";
    meta.textContent = message.author + " · " + new Date(message.created_at).toLocaleString();
    item.appendChild(meta);
    if (message.body) {
      var body = document.createElement("div");
      body.className = "text-pre-line message-body";
      body.textContent = message.body;
      item.appendChild(body);
    }
    if (message.file) {
      var link = document.createElement("a");
      link.className = "message-file small";
      link.href = message.file.url;
      link.textContent = section.getAttribute("data-file-label") + ": " + message.file.name;
      item.appendChild(link);
    }
    list.appendChild(item);
  }

  function poll() {
    fetch(url + "?after=" + lastId, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {messages: []}; })
      .then(function (data) {
        (data.messages || []).forEach(function (message) {
          add(message);
          lastId = Math.max(lastId, message.id);
        });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { window.setTimeout(poll, seconds * 1000); });
  }
  window.setTimeout(poll, seconds * 1000);
})();
