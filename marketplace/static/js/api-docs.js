// Starts Swagger UI on the API reference page (kept out of the HTML so the CSP needs no inline script).
(function () {
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({ url: root.getAttribute("data-spec-url"), dom_id: "#swagger-ui", deepLinking: true });
})();
