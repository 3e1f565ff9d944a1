// The payment page: save the card on the booking's SetupIntent with Stripe.js
// (confirmCardSetup runs any 3-D Secure step), then ask the service to charge it; when the
// bank asks for a second check (requires_action), confirmCardPayment runs it and the service
// is asked again. The form stays as typed after any refusal, so another try needs no retyping.
(function () {
  "use strict";
  var form = document.getElementById("payment");
  if (!form || typeof Stripe !== "function") {
    var missing = document.getElementById("payment-error");
    if (missing && form) {
      missing.textContent = "The card form could not be loaded. Check your connection and " +
        "reload the page; nothing has been charged.";
    }
    return;
  }
  var button = document.getElementById("pay-button");
  var statusBox = document.getElementById("payment-status");
  var errorBox = document.getElementById("payment-error");
  var stripe = Stripe(form.dataset.key);
  var card = stripe.elements().create("card", { hidePostalCode: false });
  var setupSecret = form.dataset.setupSecret;
  var setupIntentId = null;
  var busy = false;

  var NETWORK = "The connection dropped before the payment could be checked. Nothing has " +
    "been charged twice: check your connection and press Pay again.";
  var DECLINED = "The card was declined. Nothing was charged: please try another card.";

  card.mount("#card-element");
  // The test emulator's card field is plain inputs named only by their placeholders: give
  // each a label a screen reader reads out (Stripe's own field labels itself).
  var names = { number: "Card number", exp_month: "Expiry month (MM)",
    exp_year: "Expiry year (YY)", cvc: "Security code", postal_code: "Postal code" };
  Array.prototype.forEach.call(
    document.querySelectorAll("#card-element input"), function (input) {
      var name = names[input.getAttribute("placeholder")];
      if (name) {
        input.setAttribute("aria-label", name);
        input.setAttribute("autocomplete", "off");
        input.setAttribute("inputmode", "numeric");
      }
    });

  function say(text) { statusBox.textContent = text; }
  function fail(text) {
    say("");
    errorBox.textContent = text;
    setBusy(false);
  }
  function setBusy(on) {
    busy = on;
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  function plain(error) {
    // Stripe's error, in words for the couple; never the card number.
    if (!error) return DECLINED;
    var code = error.code || "";
    if (code === "card_declined" || code === "expired_card" || code === "insufficient_funds") {
      return error.message ? error.message + " Nothing was charged: please try another card." : DECLINED;
    }
    if (code.indexOf("incorrect") === 0 || code.indexOf("invalid") === 0 || code === "incomplete_number") {
      return "Please check the card number, expiry date and security code.";
    }
    if (/authenticat/i.test(error.message || "")) {
      return "The card's security check did not complete. Nothing was charged: press Pay to try again.";
    }
    return (error.message || "The card could not be used.") + " Nothing was charged.";
  }

  async function ask(id) {
    var response = await fetch(form.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ setup_intent: id }),
    });
    var body = await response.json().catch(function () { return {}; });
    if (response.ok) return body;
    var error = body.error || {};
    if (error.code === "already_paid") return { status: "succeeded" };
    return { status: "refused", code: error.code, message: error.message || NETWORK };
  }

  async function charge(id) {
    say("Taking the deposit…");
    var answer = await ask(id);
    for (var round = 0; round < 3 && answer.status === "requires_action"; round++) {
      say("Your bank asks you to confirm the payment.");
      await stripe.confirmCardPayment(answer.client_secret);
      say("Checking the payment…");
      answer = await ask(id);  // the service reads the outcome from Stripe, not from here
    }
    for (var wait = 0; wait < 5 && answer.status === "processing"; wait++) {
      await new Promise(function (done) { setTimeout(done, 1000); });
      answer = await ask(id);
    }
    if (answer.status === "succeeded") {
      say("Paid. Your consultation is booked.");
      window.location.assign(form.dataset.done);
      return;
    }
    if (answer.setup_client_secret) {
      setupSecret = answer.setup_client_secret;  // another card goes on a fresh SetupIntent
      setupIntentId = null;
    }
    if (answer.code === "too_late") {
      button.hidden = true;
    }
    fail(answer.message || DECLINED);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy) return;  // a second click while the first is under way does nothing
    setBusy(true);
    errorBox.textContent = "";
    try {
      if (setupIntentId === null) {
        say("Checking your card…");
        var result = await stripe.confirmCardSetup(setupSecret, { payment_method: { card: card } });
        if (result.error) {
          fail(plain(result.error));
          return;
        }
        setupIntentId = result.setupIntent.id;
      }
      await charge(setupIntentId);
    } catch (error) {
      fail(NETWORK);
    }
  });
})();
