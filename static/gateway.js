/* gateway.js: the browser side of the gateway, served by the gateway itself.
 *
 *   <script src="https://YOUR-GATEWAY/static/gateway.js"></script>
 *   const gateway = Gateway("pk_test_...");
 *   gateway.redirectToCheckout({ sessionId: "cs_..." });           // hosted checkout
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

  global.Gateway = Gateway;
})(window);
