/* Hosted checkout: card number spacing and brand, expiry formatting, and the same checks
   as the server (Luhn, expiry in the future, CVC length) before anything is sent. First
   party, no dependencies; the page works without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var BRANDS = [
    ["amex", /^3[47]/, 4], ["diners", /^3(0[0-5]|[689])/, 3], ["jcb", /^35(2[89]|[3-8])/, 3],
    ["discover", /^(6011|64[4-9]|65)/, 3], ["unionpay", /^62/, 3],
    ["mastercard", /^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/, 3], ["visa", /^4/, 3]
  ];

  function digits(value) { return (value || "").replace(/\D/g, ""); }
  function brandOf(number) {
    for (var i = 0; i < BRANDS.length; i++) if (BRANDS[i][1].test(number)) return BRANDS[i];
    return null;
  }
  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = +number[number.length - 1 - i];
      if (i % 2) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return number.length >= 12 && number.length <= 19 && sum % 10 === 0;
  }
  function spaced(number, brand) {
    if (brand && brand[0] === "amex") {
      return [number.slice(0, 4), number.slice(4, 10), number.slice(10, 15)].filter(Boolean).join(" ");
    }
    return number.replace(/(\d{4})(?=\d)/g, "$1 ");
  }

  function setError(form, name, message) {
    var input = form.querySelector("#" + name);
    var slot = form.querySelector("#" + name + "-error");
    if (!input || !slot) return;
    slot.textContent = message || "";
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  // The server's last word (a decline) is about the card as it was sent: once the customer
  // edits the form, or the browser finds a new problem, it no longer applies.
  function clearBanner(form) {
    var banner = form.querySelector("#form-error");
    if (banner && banner.textContent) banner.textContent = "";
  }

  function check(form) {
    var number = digits(form.number.value);
    var exp = digits(form.exp.value);
    var cvc = digits(form.cvc.value);
    var errors = {};
    if (!luhn(number)) errors.number = form.dataset.msgNumber;
    var month = +exp.slice(0, 2), year = 2000 + +exp.slice(2, 4);
    if (exp.length !== 4 || month < 1 || month > 12) errors.exp = form.dataset.msgExp;
    else {
      var now = new Date();
      if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1)) {
        errors.exp = form.dataset.msgExpPast;
      }
    }
    var brand = brandOf(number);
    if (cvc.length !== (brand ? brand[2] : 3) && !(cvc.length >= 3 && !brand)) errors.cvc = form.dataset.msgCvc;
    ["number", "exp", "cvc"].forEach(function (name) { setError(form, name, errors[name]); });
    var first = ["number", "exp", "cvc"].filter(function (n) { return errors[n]; })[0];
    if (first) { clearBanner(form); form.querySelector("#" + first).focus(); return false; }
    return true;
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    var form = input.form;
    if (!form || form.id !== "card-form") return;
    clearBanner(form);
    if (input.id === "number") {
      var number = digits(input.value).slice(0, 19);
      var brand = brandOf(number);
      input.value = spaced(number, brand);
      var use = form.querySelector("#card-brand use");
      var href = use.getAttribute("href");
      use.setAttribute("href", href.replace(/#.*$/, "#" + (brand ? brand[0] : "card")));
      form.querySelector("#card-brand").setAttribute("aria-label", brand ? brand[0] : "");
      form.cvc.maxLength = brand && brand[0] === "amex" ? 4 : 3;
    } else if (input.id === "exp") {
      var exp = digits(input.value).slice(0, 4);
      if (exp.length === 1 && +exp > 1) exp = "0" + exp;
      input.value = exp.length > 2 ? exp.slice(0, 2) + " / " + exp.slice(2) : exp;
    } else if (input.id === "cvc") {
      input.value = digits(input.value).slice(0, 4);
    }
    if (input.getAttribute("aria-invalid")) setError(form, input.id, "");
  });

  // Without htmx: the plain submit. With htmx: its request is cancelled the same way.
  document.addEventListener("submit", function (event) {
    if (event.target.id === "card-form" && !check(event.target)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.id === "card-form" && !check(form)) event.preventDefault();
  });
  // Local methods: copy the virtual account number; count down to the payment's expiry.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      button.textContent = button.dataset.done;
    });
  });
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var time = document.getElementById("countdown");
    if (!time) return;
    var left = Math.max(0, Math.round(+time.dataset.expires - Date.now() / 1000));
    var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    time.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  }
  function startLocal() {
    var copy = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < copy.length; i++) if (navigator.clipboard) copy[i].hidden = false;
    if (document.getElementById("countdown")) {
      tick();
      setInterval(tick, 1000);
      document.getElementById("time-left").hidden = false;
    }
  }
  // Embedded mode (gateway.js embedCheckout): tell the parent page that the payment is
  // complete or that the customer left. The target is the one origin the gateway checked
  // against the merchant's registered origins (never to any origin): a page of another origin
  // framing this one gets nothing.
  function tell(type) {
    var body = document.body;
    window.parent.postMessage(
      { source: "gateway-checkout", type: type, sessionId: body.dataset.session },
      body.dataset.parentOrigin
    );
  }
  function startEmbedded() {
    var body = document.body;
    if (!body.dataset.parentOrigin) return;
    if (window.parent === window) {
      // Back from the bank's page in the whole window: no parent to tell, so go on to the
      // shop as the ordinary page does.
      var back = document.getElementById("return-link");
      if (back && body.dataset.state === "complete") setTimeout(function () { location.assign(back.href); }, 3000);
      return;
    }
    if (body.dataset.state === "complete") tell("complete");
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-embed-cancel]");
      if (!link) return;
      event.preventDefault();
      tell("cancel");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") tell("close");
    });
  }
  function start() { startLocal(); startEmbedded(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  // After a swap, put the keyboard on the first field the server refused, or the message.
  document.addEventListener("htmx:afterSwap", function (event) {
    var region = event.detail.target;
    if (!region || region.id !== "checkout-region") return;
    var invalid = region.querySelector("[aria-invalid=true]");
    var message = region.querySelector("#form-error");
    if (invalid) invalid.focus();
    else if (message && message.textContent.trim()) {
      message.setAttribute("tabindex", "-1");
      message.focus();
    }
  });
})();
