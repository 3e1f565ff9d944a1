"""Settings read once from the environment, validated at start with clear messages.

The variables, their defaults and rules are one table (booking.core.variables, its parsers in
booking.core.parsers); this module turns it into the frozen `Settings` every part of the
service is handed, and runs the explicit init step that generates development secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from email.headerregistry import Address
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from booking.core.crypto import Keyring
from booking.core.datadir import Initialised, initialise
from booking.core.parsers import Known, Problem, parse_mailbox
from booking.core.variables import BY_NAME, VARIABLES


class SettingsError(ValueError):
    """The environment holds a value the service cannot start with."""


# Shown only as set or unset wherever settings are printed or logged.
SECRET_FIELDS = ("secret_key", "data_key", "stripe_secret_key", "stripe_webhook_secret")
# URLs that may carry a password (user:password@host or ?password=): shown without it.
URL_FIELDS = (
    "database_url",
    "broker_url",
    "smtp_url",
    "public_base_url",
    "staff_session_redis_url",
)
MASK = "***"


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    env: str
    data_dir: Path
    database_url: str | None
    public_base_url: str
    practice_name: str
    practice_timezone: str
    secret_key: str
    log_level: str
    log_format: str
    metrics_port: int | None
    worker_metrics_port: int | None
    metrics_host: str
    demo_data: bool
    data_key: str
    rate_limit_per_minute: int
    # Addresses or networks whose X-Forwarded-For is believed; empty: nobody's.
    trusted_proxies: tuple[str, ...]
    rate_limit_redis_url: str | None
    staff_require_totp: bool
    staff_idle_minutes: int
    staff_session_hours: int
    staff_session_redis_url: str | None
    bookings_per_email: int
    holds_per_address: int
    bookings_per_address_per_day: int
    support_file: str | None
    hold_sweep_seconds: int
    broker_url: str | None
    smtp_url: str | None
    mail_from: str
    mail_reply_to: str | None
    practice_alert_email: str
    practice_address: str
    reminder_hours: int
    outbox_poll_seconds: float
    embedded_worker: bool
    outbox_lease_seconds: int
    intake_retention_days: int
    stripe_secret_key: str | None
    stripe_publishable_key: str | None
    stripe_webhook_secret: str | None
    stripe_api_base: str | None
    stripe_js_url: str

    def __repr__(self) -> str:
        """Every setting, secrets masked and URLs without their passwords: safe to print."""
        shown: list[str] = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SECRET_FIELDS and value:
                value = MASK
            elif item.name in URL_FIELDS and value:
                value = _without_password(value)
            shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def mail_directory(self) -> Path:
        """Where messages go as .eml files when no SMTP_URL is set."""
        return self.data_dir / "mail"

    @property
    def sender(self) -> Address:
        """MAIL_FROM as one address: the From header, the SMTP envelope sender, the ORGANIZER."""
        return parse_mailbox(self.mail_from)

    @property
    def reply_to(self) -> Address | None:
        return parse_mailbox(self.mail_reply_to) if self.mail_reply_to else None

    @property
    def practice_alert(self) -> Address:
        """PRACTICE_ALERT_EMAIL: where the practice hears that an intake needs its follow-up."""
        return parse_mailbox(self.practice_alert_email)

    @property
    def domain(self) -> str:
        """The host of PUBLIC_BASE_URL: names calendar UIDs and Message-IDs."""
        return urlsplit(self.public_base_url).hostname or "localhost"

    @property
    def takes_payments(self) -> bool:
        """Whether deposits can be paid online: both Stripe keys are set."""
        return bool(self.stripe_secret_key and self.stripe_publishable_key)

    @property
    def stripe_emulated(self) -> bool:
        """Whether Stripe is an emulator (STRIPE_API_BASE set outside production): every
        payment page then says it is a test."""
        return self.stripe_api_base is not None and not self.is_production

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "booking.sqlite3"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    def keyring(self) -> Keyring:
        """The intake encryption keys: BOOKING_DATA_KEY, or outside production the keyring
        `booking init` generated into the data directory."""
        return Keyring.parse(self.data_key)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (the process environment by default), reading every
        variable of the table in booking.core.variables; writes nothing.

        Raises SettingsError naming every variable that is malformed or missing.
        """
        known = Known(os.environ if environ is None else environ)
        problems: list[str] = []
        for variable in VARIABLES:
            try:
                value = variable.read(known)
            except Problem as problem:
                problems.extend(problem.messages)
                continue
            if variable.setting is not None:
                known.values[variable.setting] = value
        if problems:
            raise SettingsError("Invalid configuration:\n  - " + "\n  - ".join(problems))
        return cls(**known.values)


def _without_password(url: str) -> str:
    """`url` with any password (in its user part or its query) replaced by the mask."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:{MASK}@{host}"
    query = [
        (name, MASK if name.lower() in ("password", "passwd", "pass") else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe=MASK)))


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()


def initialise_from_env(environ: Mapping[str, str] | None = None) -> Initialised:
    """The explicit init step (`booking init`): the data directory the environment names,
    and outside production the development secrets it leaves unset, generated once.

    Raises SettingsError when BOOKING_ENV or BOOKING_DATA_DIR cannot be read.
    """
    known = Known(os.environ if environ is None else environ)
    try:
        BY_NAME["BOOKING_ENV"].read(known)
        BY_NAME["BOOKING_DATA_DIR"].read(known)
    except Problem as problem:
        raise SettingsError(
            "Invalid configuration:\n  - " + "\n  - ".join(problem.messages)
        ) from None
    generate = not known.production
    return initialise(
        known.data_dir,
        secret_key=generate and not known.environ.get("BOOKING_SECRET_KEY"),
        data_key=generate and not known.environ.get("BOOKING_DATA_KEY"),
    )
