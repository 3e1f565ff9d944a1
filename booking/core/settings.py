"""Settings read once from the environment, validated at start with clear messages."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from email import policy
from email.headerregistry import Address
from email.utils import formataddr
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.core.crypto import Keyring, development_keyring
from booking.core.private_files import read_or_create_secret

ENVIRONMENTS = ("development", "test", "production")


class SettingsError(ValueError):
    """The environment holds a value the service cannot start with."""


# Shown only as set or unset wherever settings are printed or logged.
SECRET_FIELDS = ("secret_key", "data_key")
# URLs that may carry a password (user:password@host or ?password=): shown without it.
URL_FIELDS = ("database_url", "broker_url", "smtp_url", "public_base_url")
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
    demo_data: bool
    data_key: str | None
    rate_limit_per_minute: int
    # Addresses or networks whose X-Forwarded-For is believed; empty: nobody's.
    trusted_proxies: tuple[str, ...]
    rate_limit_redis_url: str | None
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
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "booking.sqlite3"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    def keyring(self) -> Keyring:
        """The intake encryption keys: BOOKING_DATA_KEY, else a generated development key."""
        if self.data_key:
            return Keyring.parse(self.data_key)
        return development_keyring(self.data_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (the process environment by default).

        Raises SettingsError naming every variable that is malformed or missing.
        """
        env = os.environ if environ is None else environ
        problems: list[str] = []

        mode = env.get("BOOKING_ENV", "development").strip().lower()
        if mode not in ENVIRONMENTS:
            problems.append(f"BOOKING_ENV must be one of {', '.join(ENVIRONMENTS)}, not {mode!r}")

        data_dir = Path(env.get("BOOKING_DATA_DIR", "var")).expanduser().resolve()

        database_url = env.get("DATABASE_URL") or None
        if database_url is not None:
            scheme = urlsplit(database_url).scheme
            if scheme not in ("postgres", "postgresql"):
                problems.append(
                    "DATABASE_URL must be a postgresql:// URL (leave it unset for the SQLite "
                    f"file in the data directory), not a {scheme or 'schemeless'} URL"
                )

        port = env.get("PORT", "8000")
        base_url = env.get("PUBLIC_BASE_URL") or f"http://localhost:{port}"
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"PUBLIC_BASE_URL must be an absolute http(s) URL, not {base_url!r}")
        elif mode == "production" and parts.scheme != "https":
            problems.append("PUBLIC_BASE_URL must use https in production")

        practice_tz = env.get("PRACTICE_TIMEZONE", "America/Toronto")
        try:
            ZoneInfo(practice_tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"PRACTICE_TIMEZONE must be an IANA time zone name, not {practice_tz!r}"
            )

        secret_key = env.get("BOOKING_SECRET_KEY", "")
        if secret_key and len(secret_key) < 32:
            problems.append("BOOKING_SECRET_KEY must be at least 32 characters long")
        if not secret_key and mode == "production":
            problems.append("BOOKING_SECRET_KEY is required in production")

        log_level = env.get("LOG_LEVEL", "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {log_level!r}")

        demo = env.get("BOOKING_DEMO_DATA", "1" if mode == "development" else "0")
        if demo not in ("0", "1"):
            problems.append(f"BOOKING_DEMO_DATA must be 0 or 1, not {demo!r}")

        data_key = env.get("BOOKING_DATA_KEY") or None
        if data_key is not None:
            try:
                Keyring.parse(data_key)
            except ValueError as exc:
                problems.append(f"BOOKING_DATA_KEY: {exc}")
        elif mode == "production":
            problems.append("BOOKING_DATA_KEY is required in production (id:base64key,...)")

        rate = env.get("RATE_LIMIT_PER_MINUTE", "20")
        if not rate.isdigit() or int(rate) < 1:
            problems.append(f"RATE_LIMIT_PER_MINUTE must be a positive whole number, not {rate!r}")

        trusted_proxies = tuple(
            p.strip() for p in env.get("TRUSTED_PROXIES", "").split(",") if p.strip()
        )
        for proxy in trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                problems.append(
                    "TRUSTED_PROXIES must be a comma-separated list of IP addresses or networks "
                    f"(like 10.0.0.5,192.168.0.0/24), not {proxy!r}"
                )

        rate_limit_redis_url = env.get("RATE_LIMIT_REDIS_URL") or None
        if rate_limit_redis_url is not None and urlsplit(rate_limit_redis_url).scheme not in (
            "redis",
            "rediss",
        ):
            problems.append("RATE_LIMIT_REDIS_URL must be a redis:// URL (unset: the database)")

        limits: dict[str, int] = {}
        for name, default in (
            ("BOOKING_LIMIT_PER_EMAIL", "2"),
            ("HOLD_LIMIT_PER_ADDRESS", "2"),
            ("BOOKING_LIMIT_PER_ADDRESS_PER_DAY", "6"),
        ):
            given = env.get(name, default)
            if not given.isdigit() or int(given) < 1:
                problems.append(f"{name} must be a positive whole number, not {given!r}")
            limits[name] = int(given) if given.isdigit() else int(default)

        sweep = env.get("HOLD_SWEEP_SECONDS", "60")
        if not sweep.isdigit():
            problems.append(f"HOLD_SWEEP_SECONDS must be a whole number (0: off), not {sweep!r}")

        broker_url = env.get("BROKER_URL") or None
        if broker_url is not None and urlsplit(broker_url).scheme not in (
            "redis",
            "rediss",
            "amqp",
            "amqps",
        ):
            problems.append(
                "BROKER_URL must be a redis:// or amqp:// URL (unset: in-process worker)"
            )

        smtp_url = env.get("SMTP_URL") or None
        if smtp_url is not None:
            smtp = urlsplit(smtp_url)
            if smtp.scheme not in ("smtp", "smtps") or not smtp.hostname:
                problems.append(
                    "SMTP_URL must look like smtp://user:pass@host:587?starttls=1 or smtps://host:465"
                )
        elif mode == "production":
            problems.append(
                "SMTP_URL is required in production (emails would only be written to files)"
            )

        practice_name = env.get("PRACTICE_NAME", "Harbour Couples Counselling")
        sender_host = urlsplit(base_url).hostname or "localhost"
        # formataddr quotes a practice name holding a comma, so the default stays one address.
        mail_from = env.get("MAIL_FROM") or formataddr((practice_name, f"bookings@{sender_host}"))
        reply_to = env.get("MAIL_REPLY_TO") or None
        alert_email = env.get("PRACTICE_ALERT_EMAIL") or None
        if alert_email is None and mode == "production":
            problems.append(
                "PRACTICE_ALERT_EMAIL is required in production (the practice's intake address)"
            )
        alert_email = alert_email or f"intake@{sender_host}"
        for name, value in (
            ("MAIL_FROM", mail_from),
            ("MAIL_REPLY_TO", reply_to),
            ("PRACTICE_ALERT_EMAIL", alert_email),
        ):
            if value is not None and not _is_address(value):
                problems.append(
                    f"{name} must be one email address, optionally with a name: Name <a@b.org>"
                )

        reminder = env.get("REMINDER_HOURS", "24")
        if not reminder.isdigit():
            problems.append(
                f"REMINDER_HOURS must be a whole number of hours (0: none), not {reminder!r}"
            )

        poll = env.get("OUTBOX_POLL_SECONDS", "0.5")
        try:
            poll_seconds = float(poll)
            if not 0.01 <= poll_seconds <= 60:
                raise ValueError
        except ValueError:
            poll_seconds = 0.5
            problems.append(f"OUTBOX_POLL_SECONDS must be between 0.01 and 60, not {poll!r}")

        lease = env.get("OUTBOX_LEASE_SECONDS", "300")
        if not lease.isdigit() or int(lease) < 1:
            problems.append(f"OUTBOX_LEASE_SECONDS must be a positive whole number, not {lease!r}")

        retention = env.get("INTAKE_RETENTION_DAYS", "180")
        if not retention.isdigit() or int(retention) < 1:
            problems.append(
                f"INTAKE_RETENTION_DAYS must be a positive whole number of days, not {retention!r}"
            )

        support_file = env.get("SUPPORT_RESOURCES_FILE") or None
        if support_file is not None and not Path(support_file).is_file():
            problems.append(f"SUPPORT_RESOURCES_FILE names no file: {support_file}")

        if problems:
            raise SettingsError("Invalid configuration:\n  - " + "\n  - ".join(problems))

        return cls(
            env=mode,
            data_dir=data_dir,
            database_url=database_url,
            public_base_url=base_url.rstrip("/"),
            practice_name=practice_name,
            practice_timezone=practice_tz,
            secret_key=secret_key or _development_secret(data_dir),
            log_level=log_level,
            demo_data=demo == "1",
            data_key=data_key,
            rate_limit_per_minute=int(rate) if rate.isdigit() else 20,
            trusted_proxies=trusted_proxies,
            rate_limit_redis_url=rate_limit_redis_url,
            bookings_per_email=limits["BOOKING_LIMIT_PER_EMAIL"],
            holds_per_address=limits["HOLD_LIMIT_PER_ADDRESS"],
            bookings_per_address_per_day=limits["BOOKING_LIMIT_PER_ADDRESS_PER_DAY"],
            support_file=support_file,
            hold_sweep_seconds=int(sweep) if sweep.isdigit() else 60,
            broker_url=broker_url,
            smtp_url=smtp_url,
            mail_from=mail_from,
            mail_reply_to=reply_to,
            practice_alert_email=alert_email,
            practice_address=env.get(
                "PRACTICE_ADDRESS", "Suite 210, 100 Harbour Street, Toronto, ON M5J 0A1"
            ),
            reminder_hours=int(reminder) if reminder.isdigit() else 24,
            outbox_poll_seconds=poll_seconds,
            embedded_worker=env.get("BOOKING_EMBEDDED_WORKER", "1") != "0",
            outbox_lease_seconds=int(lease) if lease.isdigit() else 300,
            intake_retention_days=int(retention),
        )


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


def _is_address(value: str) -> bool:
    try:
        parse_mailbox(value)
    except ValueError:
        return False
    return True


def _development_secret(data_dir: Path) -> str:
    """A secret generated once into the data directory (mode 0600), for development and tests."""
    key, _ = read_or_create_secret(data_dir / "secret_key", lambda: secrets.token_urlsafe(48))
    return key


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
