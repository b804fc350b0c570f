/* The demo shop's page script: what a merchant writes around gateway.js. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var shop = document.getElementById("shop");
    var gateway = Gateway(shop.dataset.publishableKey);
    var headers = { "X-CSRFToken": shop.dataset.csrf, "Accept": "application/json" };

    document.getElementById("hosted-form").addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(shop.dataset.sessionUrl, { method: "POST", headers: headers, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (session) { return gateway.redirectToCheckout({ sessionId: session.id }); })
        .then(function (result) { if (result && result.error) alert(result.error.message); });
    });

    var embed = document.getElementById("embed-button");
    var embedStatus = document.getElementById("embed-status");
    if (embed) embed.addEventListener("click", function () {
      embedStatus.textContent = "";
      fetch(shop.dataset.sessionUrl, { method: "POST", headers: headers, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (session) {
          var result = gateway.embedCheckout({
            sessionId: session.id,
            onComplete: function (done) {
              // Paid: the shop's server looks the session up before it thanks the customer.
              embedStatus.textContent = "Payment complete: checkout session " + done.sessionId + ".";
              location.assign(location.pathname + "?session_id=" + encodeURIComponent(done.sessionId));
            },
            onCancel: function () { embedStatus.textContent = "Checkout closed: nothing was charged."; }
          });
          if (result.error) embedStatus.textContent = result.error.message;
        });
    });

    var form = document.getElementById("own-form");
    var error = document.getElementById("own-error");
    var status = document.getElementById("own-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      var exp = form.querySelector("#own-exp").value.replace(/\D/g, "");
      var card = {
        number: form.querySelector("#own-number").value.replace(/\s/g, ""),
        exp_month: exp.slice(0, 2), exp_year: exp.slice(2), cvc: form.querySelector("#own-cvc").value
      };
      status.textContent = "Processing…";
      gateway.createPaymentMethod({ type: "card", card: card }).then(function (result) {
        if (result.error) throw result.error;
        status.textContent = "Card tokenized as " + result.paymentMethod.id + " (" +
          result.paymentMethod.card.brand + " ending " + result.paymentMethod.card.last4 + ")…";
        return fetch(shop.dataset.intentUrl, { method: "POST", headers: headers, credentials: "same-origin" })
          .then(function (response) { return response.json(); });
      }).then(function (intent) {
        // The CVC was dropped with the payment method, so the card goes with the confirm.
        return gateway.confirmCardPayment(intent.client_secret, {
          payment_method_data: { type: "card", card: card },
          return_url: location.origin + location.pathname
        });
      }).then(function (result) {
        if (result.error) throw result.error;
        status.textContent = "Payment " + result.paymentIntent.id + " is " + result.paymentIntent.status + ".";
      }).catch(function (err) {
        status.textContent = "";
        error.textContent = err.message || String(err);
      });
    });
  });
})();
