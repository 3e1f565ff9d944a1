"""The Stripe emulator for tests: localstripe as a subprocess on a free port.

`stripe_emulator` (session-scoped) starts `localstripe --from-scratch --port P`, waits until it
says it is listening and answers, and stops it after the session. `StripeEmulator.settings` are
the test settings pointed at it; `save_card` saves a card on a SetupIntent the way the
emulator's Stripe.js does in a browser (`confirmCardSetup`, with its 3-D Secure step), and
`authenticate_payment` does what its `confirmCardPayment` does. Started by the same code as
`booking serve`'s emulator (booking.payments.emulator).

Suites that use it add `pytest_plugins = ["tests.stripe_emulator"]` to their conftest (or
import the fixtures).
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from booking.core.settings import Settings
from booking.payments.emulator import LocalStripe, start_localstripe

PUBLISHABLE_KEY = "pk_test_emulator"
SECRET_KEY = "sk_test_emulator"
WEBHOOK_SECRET = "whsec_emulator_tests"

# Test cards (localstripe knows them as Stripe documents them).
CARD_OK = "4242424242424242"
CARD_3DS = "4000002760003184"
# Refused when saved (confirmCardSetup fails) and when charged (the PaymentIntent fails).
CARD_DECLINED_ON_SAVE = "4000000000000002"
CARD_DECLINED_ON_CHARGE = "4000000000000341"


@dataclass(frozen=True, slots=True)
class StripeEmulator:
    """A running localstripe: its API base (also STRIPE_API_BASE) and its Stripe.js URL."""

    api_base: str
    # None for an emulator this test did not start (`booking serve`'s own).
    process: subprocess.Popen[bytes] | None = None

    @property
    def js_url(self) -> str:
        return f"{self.api_base}/js.stripe.com/v3/"

    def settings(self, base: Settings | None = None, **changes: Any) -> Settings:
        """`base` (the test environment's settings by default) pointed at this emulator."""
        return dataclasses.replace(
            base or Settings.from_env(),
            stripe_secret_key=SECRET_KEY,
            stripe_publishable_key=PUBLISHABLE_KEY,
            stripe_webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=self.api_base,
            stripe_js_url=self.js_url,
            **changes,
        )

    def environment(self) -> dict[str, str]:
        """The variables that point a `booking serve` process at this emulator."""
        return {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_JS_URL": self.js_url,
        }

    # -- what the browser's Stripe.js does, over HTTP ---------------------------------------

    def save_card(
        self, setup_client_secret: str, number: str, *, authenticate: bool = True
    ) -> dict[str, Any]:
        """`stripe.confirmCardSetup(client_secret, {payment_method: {card}})` as the emulator's
        Stripe.js runs it: confirm with the card, then (3-D Secure) confirm again or cancel.
        Returns the SetupIntent (or the error body, for a declined card)."""
        setup_intent = setup_client_secret.split("_secret_")[0]
        url = f"{self.api_base}/v1/setup_intents/{setup_intent}/confirm"
        body = {
            "key": PUBLISHABLE_KEY,
            "use_stripe_sdk": True,
            "client_secret": setup_client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
                "billing_details": {"address": {"postal_code": "M5J 0A1"}},
            },
        }
        answer = httpx.post(url, json=body, timeout=10).json()
        if answer.get("status") == "requires_action":
            step = "confirm" if authenticate else "cancel"
            answer = httpx.post(
                f"{self.api_base}/v1/setup_intents/{setup_intent}/{step}",
                json={
                    "key": PUBLISHABLE_KEY,
                    "use_stripe_sdk": True,
                    "client_secret": setup_client_secret,
                },
                timeout=10,
            ).json()
        return dict(answer)

    def authenticate_payment(
        self, payment_client_secret: str, *, success: bool = True
    ) -> dict[str, Any]:
        """`stripe.confirmCardPayment(client_secret)`: the 3-D Secure step of a charge."""
        intent = payment_client_secret.split("_secret_")[0]
        answer = httpx.post(
            f"{self.api_base}/v1/payment_intents/{intent}/_authenticate",
            params={"success": "true" if success else "false"},
            json={"key": PUBLISHABLE_KEY, "client_secret": payment_client_secret},
            timeout=10,
        )
        return dict(answer.json())

    def payment_intents(self, reference: str | None = None) -> list[dict[str, Any]]:
        """Every PaymentIntent the emulator holds (for `reference` only, when given)."""
        found: list[dict[str, Any]] = []
        params = {"limit": "100"}
        while True:
            answer = httpx.get(
                f"{self.api_base}/v1/payment_intents",
                params=params,
                headers={"Authorization": f"Bearer {SECRET_KEY}"},
                timeout=10,
            ).json()
            found.extend(answer.get("data", []))
            if not answer.get("has_more") or not answer.get("data"):
                break
            params = {"limit": "100", "starting_after": answer["data"][-1]["id"]}
        if reference is None:
            return found
        return [pi for pi in found if (pi.get("metadata") or {}).get("reference") == reference]

    def charges(self, reference: str) -> list[dict[str, Any]]:
        """The succeeded PaymentIntents of `reference`: the charges that took money."""
        return [pi for pi in self.payment_intents(reference) if pi["status"] == "succeeded"]


def start_emulator(port: int | None = None) -> StripeEmulator:
    """Start localstripe on `port` (a free one by default) and return once it answers."""
    started = start_localstripe(port)
    return StripeEmulator(api_base=started.api_base, process=started.process)


def stop_emulator(emulator: StripeEmulator) -> None:
    if emulator.process is not None:
        LocalStripe(emulator.api_base, emulator.process).stop()


@pytest.fixture(scope="session")
def stripe_emulator() -> Iterator[StripeEmulator]:
    emulator = start_emulator()
    try:
        yield emulator
    finally:
        stop_emulator(emulator)
