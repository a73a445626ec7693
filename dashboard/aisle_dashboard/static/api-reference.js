// Shows the app's OpenAPI document with Swagger UI (served from static/vendor, built from
// its npm package): a file of its own because the page's CSP allows no inline script.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const element = document.getElementById("api-reference");
  window.SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    domNode: element,
    deepLinking: true,
    // The public validator badge would call out to swagger.io.
    validatorUrl: null,
    tryItOutEnabled: false,
  });
});
