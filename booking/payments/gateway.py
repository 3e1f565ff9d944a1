"""The Stripe gateway: the few calls deposits make, behind an interface of our own.

`PaymentGateway` is what the payments service asks of a payment provider, in its own plain
records (`SetupIntentInfo`, `IntentInfo`, `RefundInfo`); `StripeGateway` answers it with the
official `stripe` client, pointed at `STRIPE_API_BASE` when one is set (the localstripe
emulator in development and tests). Each StripeClient carries its own key and base address:
no global `stripe.api_key` or `stripe.api_base` is touched.

Failures reach the service as two exceptions of this module: `GatewayUnavailable` (Stripe
could not be reached or answered with its own error: nothing is known to have happened) and
`CardDeclined` (Stripe answered: this card cannot pay; its message is the couple's to read).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import stripe
from stripe.params import PaymentIntentCreateParams

# Seconds a Stripe call may take before it counts as unreachable.
STRIPE_TIMEOUT = 20
# Retries of a call that could not reach Stripe (safe: every write carries an idempotency key).
STRIPE_RETRIES = 1


class GatewayUnavailable(Exception):
    """Stripe could not be reached, or failed on its side: try again later."""


class CardDeclined(Exception):
    """Stripe refused the card; `message` says why in words the couple can read."""

    def __init__(self, message: str, payment_intent_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.payment_intent_id = payment_intent_id


@dataclass(frozen=True, slots=True)
class SetupIntentInfo:
    id: str
    client_secret: str
    # requires_payment_method | requires_confirmation | requires_action | processing |
    # canceled | succeeded
    status: str
    payment_method: str | None
    # metadata.reference: the booking reference the intent was made for.
    reference: str


@dataclass(frozen=True, slots=True)
class IntentInfo:
    """A PaymentIntent as Stripe reports it."""

    id: str
    # requires_payment_method | requires_confirmation | requires_action | processing |
    # requires_capture | canceled | succeeded
    status: str
    amount: int
    currency: str
    client_secret: str
    reference: str
    # The last payment error's message, if any (a decline, a failed 3-D Secure step).
    failure_message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True, slots=True)
class RefundInfo:
    id: str
    payment_intent_id: str
    amount: int
    currency: str
    # pending | requires_action | succeeded | failed | canceled
    status: str


class PaymentGateway(Protocol):
    """What the payments domain asks of Stripe. Every write takes an idempotency key."""

    async def create_setup_intent(self, reference: str, idempotency_key: str) -> SetupIntentInfo:
        """A SetupIntent for a card to be saved off-session, `metadata.reference` set."""
        ...

    async def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo | None:
        """The SetupIntent, or None when Stripe has none of that id."""
        ...

    async def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        reference: str,
        idempotency_key: str,
    ) -> IntentInfo:
        """Create and confirm, off session, a PaymentIntent charging `payment_method`.

        Raises CardDeclined when the card is refused, GatewayUnavailable when Stripe is not
        reachable.
        """
        ...

    async def retrieve_payment_intent(self, payment_intent_id: str) -> IntentInfo: ...

    async def cancel_payment_intent(
        self, payment_intent_id: str, idempotency_key: str
    ) -> IntentInfo: ...

    async def list_payment_intents(self, limit: int = 100) -> list[IntentInfo]:
        """The most recent PaymentIntents (newest first), up to `limit`."""
        ...

    async def create_refund(
        self, payment_intent_id: str, amount: int, idempotency_key: str
    ) -> RefundInfo: ...

    async def list_refunds(self, payment_intent_id: str) -> list[RefundInfo]: ...


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain dicts and lists (stripe 16's objects are not dicts)."""
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    return dict(obj)


def _reference(metadata: Any) -> str:
    if isinstance(metadata, Mapping):
        return str(metadata.get("reference", ""))
    return ""


def _setup_info(stripe_obj: Any) -> SetupIntentInfo:
    obj = _plain(stripe_obj)
    payment_method = obj.get("payment_method")
    if payment_method is not None and not isinstance(payment_method, str):
        payment_method = payment_method.get("id")
    return SetupIntentInfo(
        id=obj["id"],
        client_secret=obj.get("client_secret") or "",
        status=obj["status"],
        payment_method=payment_method,
        reference=_reference(obj.get("metadata") or {}),
    )


def _intent_info(stripe_obj: Any) -> IntentInfo:
    obj = _plain(stripe_obj)
    error = obj.get("last_payment_error") or {}
    return IntentInfo(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]),
        client_secret=obj.get("client_secret") or "",
        reference=_reference(obj.get("metadata") or {}),
        failure_message=str(error.get("message") or "") if error else "",
    )


def _refund_info(stripe_obj: Any) -> RefundInfo:
    obj = _plain(stripe_obj)
    intent = obj.get("payment_intent")
    if intent is not None and not isinstance(intent, str):
        intent = intent.get("id")
    return RefundInfo(
        id=obj["id"],
        payment_intent_id=intent or "",
        amount=int(obj["amount"]),
        currency=str(obj.get("currency") or ""),
        status=str(obj.get("status") or ""),
    )


class StripeGateway:
    """`PaymentGateway` over the official client (`stripe` 16, its async calls).

    The client's HTTP connections belong to an event loop, so each loop (the web server's,
    an in-process worker's, a test's) gets a client of its own.
    """

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        self.secret_key = secret_key
        self.api_base = api_base.rstrip("/") if api_base else None
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, stripe.StripeClient] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def client(self) -> stripe.StripeClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            bases: dict[str, str] = {}
            if self.api_base:
                bases = {"api": self.api_base}
            client = stripe.StripeClient(
                self.secret_key,
                base_addresses=bases,  # type: ignore[arg-type]
                http_client=stripe.HTTPXClient(timeout=STRIPE_TIMEOUT),
                max_network_retries=STRIPE_RETRIES,
            )
            self._clients[loop] = client
        return client

    async def create_setup_intent(self, reference: str, idempotency_key: str) -> SetupIntentInfo:
        async with _translated():
            obj = await self.client.v1.setup_intents.create_async(
                {"usage": "off_session", "metadata": {"reference": reference}},
                {"idempotency_key": idempotency_key},
            )
        return _setup_info(obj)

    async def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo | None:
        try:
            async with _translated():
                obj = await self.client.v1.setup_intents.retrieve_async(setup_intent_id)
        except _NoSuchObject:
            return None
        return _setup_info(obj)

    async def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        reference: str,
        idempotency_key: str,
    ) -> IntentInfo:
        async with _translated():
            params: PaymentIntentCreateParams = {
                "amount": amount,
                "currency": currency,
                "payment_method": payment_method,
                "confirm": True,
                "off_session": True,
                "metadata": {"reference": reference},
            }
            if self.api_base is None:
                # Stripe's own: a saved card charged from the server never redirects (the
                # emulator knows no such parameter and charges cards only).
                params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
            obj = await self.client.v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return _intent_info(obj)

    async def retrieve_payment_intent(self, payment_intent_id: str) -> IntentInfo:
        async with _translated():
            obj = await self.client.v1.payment_intents.retrieve_async(payment_intent_id)
        return _intent_info(obj)

    async def cancel_payment_intent(
        self, payment_intent_id: str, idempotency_key: str
    ) -> IntentInfo:
        async with _translated():
            obj = await self.client.v1.payment_intents.cancel_async(
                payment_intent_id, None, {"idempotency_key": idempotency_key}
            )
        return _intent_info(obj)

    async def list_payment_intents(self, limit: int = 100) -> list[IntentInfo]:
        async with _translated():
            page = await self.client.v1.payment_intents.list_async({"limit": min(limit, 100)})
            found = [_intent_info(obj) for obj in page.data]
        return found[:limit]

    async def create_refund(
        self, payment_intent_id: str, amount: int, idempotency_key: str
    ) -> RefundInfo:
        async with _translated():
            obj = await self.client.v1.refunds.create_async(
                {"payment_intent": payment_intent_id, "amount": amount},
                {"idempotency_key": idempotency_key},
            )
        return _refund_info(obj)

    async def list_refunds(self, payment_intent_id: str) -> list[RefundInfo]:
        async with _translated():
            page = await self.client.v1.refunds.list_async(
                {"payment_intent": payment_intent_id, "limit": 100}
            )
            found = [_refund_info(obj) for obj in page.data]
        return found


class NotAtStripe(Exception):
    """Stripe has no object of the id asked for."""


class _NoSuchObject(NotAtStripe):
    pass


class _translated:
    """Stripe's exceptions as the gateway's: a card error is the couple's to read, a missing
    object is None to the caller, anything else means Stripe is not available."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, kind: Any, error: BaseException | None, traceback: Any) -> bool:
        if error is None or not isinstance(error, stripe.StripeError):
            return False
        if isinstance(error, stripe.CardError):
            intent = None
            body = error.json_body if isinstance(error.json_body, dict) else {}
            found = (body.get("error") or {}).get("payment_intent")
            if isinstance(found, dict):
                intent = found.get("id")
            raise CardDeclined(error.user_message or "The card was declined.", intent) from error
        if isinstance(error, stripe.InvalidRequestError) and error.http_status == 404:
            raise _NoSuchObject() from error
        raise GatewayUnavailable(type(error).__name__) from error
