"""The payment page of a held booking (`/manage/<token>/pay`): what the deposit is, how much,
until when cancelling refunds it, and the card field of Stripe.js (booking/static/pay.js).

The page's Content-Security-Policy allows STRIPE_JS_URL's origin (booking.web.headers); no
other page's does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking.bookings.manage import BookingManagement
from booking.bookings.statuses import BookingStatus
from booking.core.settings import Settings
from booking.core.timezones import zone
from booking.payments.policy import refund_sentence
from booking.payments.service import PaymentService
from booking.scheduling.services import DirectoryService
from booking.web.headers import STRIPE_JS
from booking.web.manage_pages import booking_context


class PaymentPages(Controller):
    path = "/manage/{token:str}/pay"
    include_in_schema = False

    @get("/", name="pay", opt={STRIPE_JS: True})
    async def page(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        payments: NamedDependency[PaymentService],
        management: NamedDependency[BookingManagement],
        directory: NamedDependency[DirectoryService],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        view = await management.view(token)
        if view.status is not BookingStatus.PENDING_PAYMENT:
            # Paid (or no longer payable): the booking's own page says where it stands.
            return Redirect(request.app.route_reverse("manage", token=token), status_code=303)
        payment = await payments.page(token)
        context = await booking_context(view, directory)
        consultation_type = await directory.consultation_type(view.consultation_type)
        tz = zone(view.timezone)
        start: datetime = context["start"]
        expires = (
            datetime.fromisoformat(payment.expires_at).astimezone(tz)
            if payment.expires_at
            else None
        )
        return Template(
            "public/pay.html",
            context={
                **context,
                "token": token,
                "payment": payment,
                "price": consultation_type.price,
                "refund_policy": refund_sentence(
                    start, await payments.refund_window_hours(view.consultation_type), tz
                ),
                "expires": expires,
                "stripe_js_url": settings.stripe_js_url,
                "api_url": request.app.route_reverse("payment-api", manage_token=token),
                "manage_url": request.app.route_reverse("manage", token=token),
            },
        )
