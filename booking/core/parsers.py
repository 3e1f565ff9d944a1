"""The parsers of the environment variables (booking.core.variables): each turns a variable's
text into its setting's value or refuses it with a message naming the variable; the defaults
computed from what was read before.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.core.crypto import Keyring
from booking.core.datadir import DATA_KEY_FILE, SECRET_KEY_FILE, read_secret

ENVIRONMENTS = ("development", "test", "production")


class Problem(ValueError):
    """A value (or a missing one) the service cannot start with; each message is a sentence
    naming its variable, never repeating a secret."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(slots=True)
class Known:
    """What is read so far: the environment, each earlier variable's text (given or default)
    and each earlier setting's value; defaults and production rules look back at them."""

    environ: Mapping[str, str]
    texts: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def env(self) -> str:
        return self.texts.get("BOOKING_ENV", "development").strip().lower()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def data_dir(self) -> Path:
        return data_directory(self.texts.get("BOOKING_DATA_DIR", "var"))

    @property
    def host(self) -> str:
        """The host of PUBLIC_BASE_URL (localhost when it has none): default addresses use it."""
        return urlsplit(self.texts.get("PUBLIC_BASE_URL", "")).hostname or "localhost"


# A parser takes the variable's name, its text and what is known, and returns the value or
# raises Problem. A computed default returns the text to parse (None: the setting stays unset).
Parse = Callable[[str, str, Known], Any]
Default = Callable[[Known], str | None]


def data_directory(text: str) -> Path:
    return Path(text).expanduser().resolve()


def parse_mailbox(value: str) -> Address:
    """Exactly one address (`a@b.org` or `Name <a@b.org>`), parsed by the email package's
    header parser; raises ValueError for a list, a group or anything malformed."""
    header = policy.default.header_factory("To", value)
    groups = header.groups
    if (
        header.defects
        or "\r" in value
        or "\n" in value
        or len(groups) != 1
        or groups[0].display_name is not None
        or len(groups[0].addresses) != 1
    ):
        raise ValueError("not one email address")
    address: Address = groups[0].addresses[0]
    if not address.username or not address.domain:
        raise ValueError("not one email address")
    return address


# --- parsers ---------------------------------------------------------------------------------


def text(name: str, text: str, known: Known) -> str:
    return text


def whole(at_least: int, what: str) -> Parse:
    """A whole number of at least `at_least`; refused as "NAME must be <what>, not 'text'"."""

    def parse(name: str, text: str, known: Known) -> int:
        # isascii: "²".isdigit() is true, and int() refuses it.
        if text.isascii() and text.isdigit() and int(text) >= at_least:
            return int(text)
        raise Problem(f"{name} must be {what}, not {text!r}")

    return parse


def one_of(*choices: str) -> Parse:
    def parse(name: str, text: str, known: Known) -> str:
        if text in choices:
            return text
        listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        raise Problem(f"{name} must be {listed}, not {text!r}")

    return parse


def environment(name: str, text: str, known: Known) -> str:
    mode = text.strip().lower()
    if mode not in ENVIRONMENTS:
        raise Problem(f"{name} must be one of {', '.join(ENVIRONMENTS)}, not {mode!r}")
    return mode


def data_dir(name: str, text: str, known: Known) -> Path:
    return data_directory(text)


def database_url(name: str, text: str, known: Known) -> str:
    scheme = urlsplit(text).scheme
    if scheme not in ("postgres", "postgresql"):
        raise Problem(
            f"{name} must be a postgresql:// URL (leave it unset for the SQLite "
            f"file in the data directory), not a {scheme or 'schemeless'} URL"
        )
    return text


def public_base_url(name: str, text: str, known: Known) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Problem(f"{name} must be an absolute http(s) URL, not {text!r}")
    if known.production and parts.scheme != "https":
        raise Problem(f"{name} must use https in production")
    return text.rstrip("/")


def time_zone(name: str, text: str, known: Known) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise Problem(f"{name} must be an IANA time zone name, not {text!r}") from None
    return text


def secret_key(name: str, text: str, known: Known) -> str:
    if len(text) < 32:
        raise Problem(f"{name} must be at least 32 characters long")
    return text


def keyring(name: str, text: str, known: Known) -> str:
    try:
        Keyring.parse(text)
    except ValueError as exc:  # its messages name the entry, never the key material
        raise Problem(f"{name}: {exc}") from None
    return text


def level(name: str, text: str, known: Known) -> str:
    return str(one_of("DEBUG", "INFO", "WARNING", "ERROR")(name, text.upper(), known))


def flag(name: str, text: str, known: Known) -> bool:
    if text not in ("0", "1"):
        raise Problem(f"{name} must be 0 or 1, not {text!r}")
    return text == "1"


def proxies(name: str, text: str, known: Known) -> tuple[str, ...]:
    proxies = tuple(p.strip() for p in text.split(",") if p.strip())
    refused = []
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            refused.append(
                f"{name} must be a comma-separated list of IP addresses or networks "
                f"(like 10.0.0.5,192.168.0.0/24), not {proxy!r}"
            )
    if refused:
        raise Problem(*refused)
    return proxies


def url(schemes: tuple[str, ...], rule: str) -> Parse:
    """A URL of one of `schemes`; refused as "NAME <rule>", never echoing it (a password)."""

    def parse(name: str, text: str, known: Known) -> str:
        if urlsplit(text).scheme not in schemes:
            raise Problem(f"{name} {rule}")
        return text

    return parse


def stripe_key(prefixes: tuple[str, ...]) -> Parse:
    """A Stripe key starting with one of `prefixes`; refused without echoing it (a secret)."""

    def parse(name: str, text: str, known: Known) -> str:
        key = text.strip()
        if not key.startswith(prefixes) or len(key) < 8 or any(c.isspace() for c in key):
            raise Problem(f"{name} must be a Stripe key starting with {' or '.join(prefixes)}")
        return key

    return parse


def http_url(name: str, text: str, known: Known) -> str:
    """An absolute http(s) URL with a host (STRIPE_API_BASE, STRIPE_JS_URL)."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Problem(f"{name} must be an absolute http:// or https:// URL")
    return text


def smtp_url(name: str, text: str, known: Known) -> str:
    smtp = urlsplit(text)
    if smtp.scheme not in ("smtp", "smtps") or not smtp.hostname:
        raise Problem(
            f"{name} must look like smtp://user:pass@host:587?starttls=1 or smtps://host:465"
        )
    return text


def mailbox(name: str, text: str, known: Known) -> str:
    try:
        parse_mailbox(text)
    except ValueError:
        raise Problem(
            f"{name} must be one email address, optionally with a name: Name <a@b.org>"
        ) from None
    return text


def file(name: str, text: str, known: Known) -> str:
    if not Path(text).is_file():
        raise Problem(f"{name} names no file: {text}")
    return text


def poll_seconds(name: str, text: str, known: Known) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0.01 <= seconds <= 60:  # NaN compares false too
        raise Problem(f"{name} must be between 0.01 and 60, not {text!r}")
    return seconds


def not_zero(name: str, text: str, known: Known) -> bool:
    return text != "0"


# --- defaults computed from what is known ----------------------------------------------------


def development_secret(file: str) -> Default:
    """Outside production: the secret `booking init` wrote to the data directory's `file`."""

    def default(known: Known) -> str:
        path = known.data_dir / file
        secret = read_secret(path)
        if secret is None:
            raise Problem(
                f"{VARIABLE_OF[file]} is unset and {path} does not exist: run `booking init` "
                "to generate the development secrets"
            )
        return secret

    return default


VARIABLE_OF = {SECRET_KEY_FILE: "BOOKING_SECRET_KEY", DATA_KEY_FILE: "BOOKING_DATA_KEY"}
