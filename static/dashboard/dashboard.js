// The dashboard's only script besides htmx: nothing the pages need to work, only comfort.
// (No inline scripts: the CSP allows scripts with the page's nonce only.)
document.addEventListener("htmx:responseError", function (event) {
  // A refused action (403, 409, 500) answered with no fragment: say so where the user looks.
  var target = event.detail.target;
  var xhr = event.detail.xhr;
  if (target && xhr && !xhr.responseText) {
    target.insertAdjacentHTML("afterbegin", '<p class="error">The action failed (' + xhr.status + ").</p>");
  }
});
