"""The headers every response carries, and the private ones of every private audience.

Added once, as each response starts (Litestar's `before_send`), so pages, API answers, static
files, calendar files, errors of any status and the OpenAPI document all get them; a router's
`response_headers` would miss its error responses.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

from booking.core.logs import TOKEN
from booking.web.audiences import PRIVATE, STRICT_TRANSPORT, route_opt

# Scripts and styles come from /static only: no inline script, no other origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# A route whose opt holds this loads Stripe.js (the payment page): its CSP allows STRIPE_JS_URL's
# origin for the script, its frames (the card field, 3-D Secure) and its calls.
STRIPE_JS = "stripe_js"
# What Stripe's own Stripe.js reaches besides its script's origin (Stripe's CSP guidance).
STRIPE_ORIGINS = ("https://js.stripe.com", "https://api.stripe.com", "https://hooks.stripe.com")


def stripe_content_security_policy(js_url: str, api_base: str | None) -> str:
    """The payment page's CSP: the site's own, plus Stripe.js's origin (and, against the
    emulator, the API origin its stand-in calls)."""
    origins = [_origin(js_url)]
    if api_base:
        origins.append(_origin(api_base))
    else:
        origins.extend(STRIPE_ORIGINS)
    allowed = " ".join(dict.fromkeys(origins))
    return (
        f"default-src 'self'; script-src 'self' {allowed}; style-src 'self'; "
        f"img-src 'self' data:; frame-src {allowed}; connect-src 'self' {allowed}; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


EVERY_RESPONSE = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Pages and answers of a private audience: never cached, indexed or leaked onwards.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
# Two years, as the HSTS preload list asks; only on HTTPS deployments (production).
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def is_private(scope: Scope) -> bool:
    """Whether the answer is private: its route's audience says so, or (whatever the route, and
    when none matched) a link token is in the path, which must not be referred onwards."""
    opt = route_opt(scope)
    return bool(opt and opt.get(PRIVATE)) or bool(TOKEN.search(scope["path"]))


async def security_headers(message: Message, scope: Scope) -> None:
    """Adds the headers every response carries (a route's own value wins), and to a private
    answer the private ones (which win over everything, errors included)."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    opt = route_opt(scope)
    if opt is not None and opt.get(STRIPE_JS):
        settings = scope["litestar_app"].state.get("settings")
        if settings is not None and "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = stripe_content_security_policy(
                settings.stripe_js_url, settings.stripe_api_base
            )
    for name, value in EVERY_RESPONSE.items():
        if name not in headers:
            headers[name] = value
    if is_private(scope):
        for name, value in PRIVATE_HEADERS.items():
            headers[name] = value
    if opt is not None and opt.get(STRICT_TRANSPORT) and _production(scope):
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY


def _production(scope: Scope) -> bool:
    settings = scope["litestar_app"].state.get("settings")
    return bool(getattr(settings, "is_production", False))


async def allow_every_method(message: Message, scope: Scope) -> None:
    """Names every method of the path in the automatic OPTIONS answer's `Allow`.

    Litestar 2.25 makes that answer when a controller's first handler for a path is registered,
    so it leaves out the methods of the path's later handlers (GET beside POST on an intake link).
    """
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    handler = scope.get("route_handler")
    if handler is None or handler.handler_name != "options_handler":
        return
    template = scope.get("path_template")
    for route in scope["litestar_app"].routes:
        if isinstance(route, HTTPRoute) and route.path_format == template:
            headers = MutableScopeHeaders.from_message(message)
            headers["Allow"] = ", ".join(sorted(route.methods))
            return
