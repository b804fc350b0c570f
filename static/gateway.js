/* gateway.js: the browser side of the gateway, served by the gateway itself.
 *
 *   <script src="https://YOUR-GATEWAY/static/gateway.js"></script>
 *   const gateway = Gateway("pk_test_...");
 *   gateway.redirectToCheckout({ sessionId: "cs_..." });           // hosted checkout
 *   gateway.embedCheckout({ sessionId: "cs_...",                    // the same page in a
 *     onComplete: function (r) {}, onCancel: function (r) {} });     // modal on this page
 *   const { paymentMethod, error } = await gateway.createPaymentMethod({
 *     type: "card", card: { number, exp_month, exp_year, cvc } });  // the CVC is dropped
 *   const { paymentIntent, error } = await gateway.confirmCardPayment(clientSecret, {
 *     payment_method_data: { type: "card", card: { number, exp_month, exp_year, cvc } },
 *     return_url: location.href });                                 // 3-D Secure redirects
 *
 * Results never throw: they resolve to {paymentMethod} / {paymentIntent} or {error} with
 * the API's error object (type, code, decline_code, message, param), as Stripe.js does.
 * The publishable key can only tokenize cards and confirm an intent with its
 * client_secret; amounts are set by the merchant's server.
 *
 * embedCheckout needs this page's origin registered with the gateway (dashboard, Settings,
 * "Checkout branding"): the checkout page may be framed only by registered origins, and it
 * reports completion only to the origin that framed it. Messages are trusted only from the
 * gateway's origin and from the modal's own frame.
 */
(function (global) {
  "use strict";

  var current = document.currentScript;
  var DEFAULT_BASE = current && current.src ? new URL(current.src).origin : location.origin;

  function encode(value, prefix, out) {
    if (value === undefined || value === null) return out;
    if (typeof value === "object") {
      Object.keys(value).forEach(function (key) {
        encode(value[key], prefix ? prefix + "[" + key + "]" : key, out);
      });
    } else {
      out.push(encodeURIComponent(prefix) + "=" + encodeURIComponent(String(value)));
    }
    return out;
  }

  var openCheckout = null;  // the one embedded checkout dialog on this page, if any

  function connectionError() {
    return { error: { type: "api_connection_error", message: "Could not reach the payment gateway. Check your connection and try again." } };
  }

  function Gateway(publishableKey, options) {
    if (!(this instanceof Gateway)) return new Gateway(publishableKey, options);
    if (!/^pk_(test|live)_[A-Za-z0-9]+$/.test(publishableKey || "")) {
      throw new Error("Gateway(): pass your publishable key (pk_test_... or pk_live_...).");
    }
    this.publishableKey = publishableKey;
    this.base = ((options && options.baseUrl) || DEFAULT_BASE).replace(/\/$/, "");
  }

  Gateway.prototype._post = function (path, params) {
    return fetch(this.base + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: {
        "Authorization": "Bearer " + this.publishableKey,
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: encode(params, "", []).join("&")
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: { type: "api_error", message: "Unexpected answer (" + response.status + ")." } };
      });
    }, connectionError);
  };

  /* Send the customer to the hosted checkout page of a session the server created. */
  Gateway.prototype.redirectToCheckout = function (options) {
    var id = options && options.sessionId;
    if (!/^cs_[A-Za-z0-9]+$/.test(id || "")) {
      return Promise.resolve({ error: { type: "invalid_request_error", message: "redirectToCheckout needs a sessionId (cs_...)." } });
    }
    global.location.assign(this.base + "/checkout/" + id);
    return new Promise(function () {});  // the page is leaving
  };

  /* Tokenize a card: POST /v1/payment_methods. The CVC is checked for shape and dropped. */
  Gateway.prototype.createPaymentMethod = function (data) {
    var params = { type: (data && data.type) || "card", card: data && data.card };
    if (data && data.billing_details) params.billing_details = data.billing_details;
    return this._post("/v1/payment_methods", params).then(function (body) {
      return body.error ? { error: body.error } : { paymentMethod: body };
    });
  };

  /* Confirm a PaymentIntent with its client_secret and a card (payment_method_data) or a
     payment method id. When the bank asks for 3-D Secure, the browser goes to its page and
     comes back to return_url. */
  Gateway.prototype.confirmCardPayment = function (clientSecret, data) {
    var match = /^(pi_[A-Za-z0-9]+)_secret_/.exec(clientSecret || "");
    if (!match) {
      return Promise.resolve({ error: { type: "invalid_request_error", message: "confirmCardPayment needs the PaymentIntent's client_secret." } });
    }
    data = data || {};
    var params = { client_secret: clientSecret, return_url: data.return_url || global.location.href };
    if (typeof data.payment_method === "string") params.payment_method = data.payment_method;
    else if (data.payment_method_data) params.payment_method_data = data.payment_method_data;
    return this._post("/v1/payment_intents/" + match[1] + "/confirm", params).then(function (body) {
      if (body.error) return { error: body.error, paymentIntent: body.error.payment_intent };
      var next = body.next_action && body.next_action.redirect_to_url;
      if (body.status === "requires_action" && next && next.url) {
        global.location.assign(next.url);
        return new Promise(function () {});
      }
      return { paymentIntent: body };
    });
  };

  /* The hosted checkout in a modal dialog on this page. Focus stays in the dialog, Esc and
     the close button close it (onCancel), the page behind is inert; onComplete({sessionId})
     is called when the customer has paid. Returns {close()}, or {error}. */
  Gateway.prototype.embedCheckout = function (options) {
    options = options || {};
    var id = options.sessionId;
    if (!/^cs_[A-Za-z0-9]+$/.test(id || "")) {
      return { error: { type: "invalid_request_error", message: "embedCheckout needs a sessionId (cs_...)." } };
    }
    if (openCheckout) openCheckout.close();  // one dialog at a time
    var gatewayOrigin = new URL(this.base).origin;
    var doc = global.document;
    var opener = doc.activeElement;
    var overlay = doc.createElement("div");
    var dialog = doc.createElement("div");
    var close = doc.createElement("button");
    var frame = doc.createElement("iframe");
    var first = doc.createElement("span");
    var last = doc.createElement("span");
    var inerted = [];
    var done = false;

    // Styles through the CSSOM: allowed under a strict style-src, unlike style attributes.
    function css(el, styles) { Object.keys(styles).forEach(function (k) { el.style[k] = styles[k]; }); }
    css(overlay, { position: "fixed", inset: "0", zIndex: "2147483000", display: "flex",
      alignItems: "center", justifyContent: "center", background: "rgba(17, 24, 39, 0.6)", padding: "0" });
    css(dialog, { position: "relative", width: "100%", maxWidth: "60rem", height: "100%",
      maxHeight: "48rem", background: "#f3f4f6", borderRadius: "12px", overflow: "hidden",
      boxShadow: "0 10px 40px rgba(0, 0, 0, 0.35)" });
    css(close, { position: "absolute", top: "0.5rem", right: "0.5rem", width: "2.75rem",
      height: "2.75rem", border: "0", borderRadius: "50%", background: "#fff", color: "#111827",
      font: "700 1.5rem/1 system-ui, sans-serif", cursor: "pointer", zIndex: "1" });
    css(frame, { display: "block", width: "100%", height: "100%", border: "0" });

    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", options.title || "Secure checkout");
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", options.closeLabel || "Close checkout");
    frame.title = options.title || "Secure checkout";
    frame.src = this.base + "/checkout/" + encodeURIComponent(id) +
      "?embedded=1&origin=" + encodeURIComponent(global.location.origin);
    frame.setAttribute("allow", "clipboard-write");
    first.tabIndex = 0;
    last.tabIndex = 0;
    dialog.appendChild(first);
    dialog.appendChild(close);
    dialog.appendChild(frame);
    dialog.appendChild(last);
    overlay.appendChild(dialog);

    // Focus trap: Tab past the frame comes back to the close button, Shift+Tab before the
    // close button goes to the frame.
    first.addEventListener("focus", function () { frame.focus(); });
    last.addEventListener("focus", function () { close.focus(); });

    function finish(callback) {
      if (done) return;
      done = true;
      openCheckout = null;
      global.removeEventListener("message", onMessage);
      doc.removeEventListener("keydown", onKey, true);
      inerted.forEach(function (el) { el.inert = false; });
      doc.documentElement.style.overflow = previousOverflow;
      if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
      if (opener && opener.focus) opener.focus();
      if (typeof callback === "function") callback({ sessionId: id });
    }
    function onMessage(event) {
      // Only the gateway's page in our own frame is believed.
      if (event.origin !== gatewayOrigin || event.source !== frame.contentWindow) return;
      var data = event.data;
      if (!data || data.source !== "gateway-checkout" || data.sessionId !== id) return;
      if (data.type === "complete") finish(options.onComplete);
      else if (data.type === "cancel" || data.type === "close") finish(options.onCancel);
    }
    function onKey(event) {
      if (event.key === "Escape") { event.preventDefault(); finish(options.onCancel); }
    }
    close.addEventListener("click", function () { finish(options.onCancel); });
    global.addEventListener("message", onMessage);
    doc.addEventListener("keydown", onKey, true);

    var previousOverflow = doc.documentElement.style.overflow;
    doc.documentElement.style.overflow = "hidden";
    Array.prototype.forEach.call(doc.body.children, function (el) {
      if (!el.inert) { el.inert = true; inerted.push(el); }
    });
    doc.body.appendChild(overlay);
    frame.focus();
    openCheckout = { close: function () { finish(options.onCancel); }, frame: frame };
    return openCheckout;
  };

  global.Gateway = Gateway;
})(window);
