"""The table of environment variables: for each, its parser, its default, its rule in
production and its help text, written once.

`Settings.from_env` reads the table in order (a default may depend on variables read before
it), the README's configuration table is rendered from it (`markdown_table`), and the
commands that read a variable themselves (`booking serve`: HOST, PORT) take their defaults
from it. Reading the table never writes: outside production the two secrets are read from the
files `booking init` generates (booking.core.datadir).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formataddr
from typing import Any

from booking.core import parsers
from booking.core.datadir import DATA_KEY_FILE, SECRET_KEY_FILE
from booking.core.parsers import Default, Known, Parse, Problem


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable.

    `default` is literal text (an empty value is then parsed like any other), None (unset, or
    empty: no value) or a function of what is known (unset or empty: computed). `shown` is the
    default as the README puts it, when it is not literal. `production` is why the variable is
    required in production (None: it is not).
    """

    name: str
    setting: str | None  # the Settings field it fills; None: read by a command itself
    parse: Parse
    default: str | Default | None
    help: str
    shown: str | None = None
    production: str | None = None

    def read(self, known: Known) -> Any:
        """The variable's value in `known.environ` (its text recorded in `known`)."""
        given = known.environ.get(self.name)
        literal = isinstance(self.default, str)
        if given is None or (given == "" and not literal):
            if self.production is not None and known.production:
                reason = f" ({self.production})" if self.production else ""
                raise Problem(f"{self.name} is required in production{reason}")
            text = self.default(known) if callable(self.default) else self.default
            if text is None:
                return None
        else:
            text = given
        known.texts[self.name] = text
        return self.parse(self.name, text, known)

    @property
    def default_text(self) -> str:
        if self.shown is not None:
            return self.shown
        return f"`{self.default}`" if isinstance(self.default, str) and self.default else "none"

    @property
    def meaning(self) -> str:
        return self.help + ("; required in production" if self.production is not None else "")


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "BOOKING_ENV",
        "env",
        parsers.environment,
        "development",
        "`development`, `test` or `production` (production refuses to start without its secrets)",
    ),
    Variable(
        "BOOKING_DATA_DIR",
        "data_dir",
        parsers.data_dir,
        "var",
        "where the SQLite file, the development secrets and unsent mail live (created 0700 by "
        "`booking init`, its files 0600)",
    ),
    Variable(
        "DATABASE_URL",
        "database_url",
        parsers.database_url,
        None,
        "`postgresql://user@host:5432/name` to use PostgreSQL",
        shown="unset: SQLite",
    ),
    Variable("HOST", None, parsers.text, "127.0.0.1", "where `booking serve` listens"),
    Variable(
        "PORT", None, parsers.whole(1, "a port number"), "8000", "the port `booking serve` uses"
    ),
    Variable(
        "PUBLIC_BASE_URL",
        "public_base_url",
        parsers.public_base_url,
        lambda known: f"http://localhost:{known.texts['PORT']}",
        "absolute base for links the service gives out (https in production)",
        shown="`http://localhost:$PORT`",
    ),
    Variable(
        "PRACTICE_NAME",
        "practice_name",
        parsers.text,
        "Harbour Couples Counselling",
        "shown on every page",
        shown="Harbour Couples Counselling",
    ),
    Variable(
        "PRACTICE_TIMEZONE",
        "practice_timezone",
        parsers.time_zone,
        "America/Toronto",
        'zone for "any available therapist" and the practice\'s own dates',
    ),
    Variable(
        "BOOKING_SECRET_KEY",
        "secret_key",
        parsers.secret_key,
        parsers.development_secret(SECRET_KEY_FILE),
        "signs and derives tokens; 32+ characters",
        shown="outside production, generated into the data directory by `booking init`",
        production="",
    ),
    Variable(
        "LOG_LEVEL", "log_level", parsers.level, "INFO", "`DEBUG`, `INFO`, `WARNING` or `ERROR`"
    ),
    Variable(
        "LOG_FORMAT",
        "log_format",
        parsers.one_of("plain", "json"),
        lambda known: "json" if known.production else "plain",
        "`plain` lines, or `json`: one object a line, naming the `request_id` of the request "
        "it was logged in (the response's `X-Request-ID`)",
        shown="`json` in production, else `plain`",
    ),
    Variable(
        "METRICS_PORT",
        "metrics_port",
        parsers.whole(1, "a port number"),
        None,
        "the port `booking serve` answers Prometheus scrapes on (`/metrics`, requests, bookings, "
        "outbox); never the public port",
        shown="unset: no metrics served",
    ),
    Variable(
        "WORKER_METRICS_PORT",
        "worker_metrics_port",
        parsers.whole(1, "a port number"),
        None,
        "the port `booking worker` answers Prometheus scrapes on (its deliveries)",
        shown="unset: no metrics served",
    ),
    Variable(
        "METRICS_HOST",
        "metrics_host",
        parsers.text,
        "127.0.0.1",
        "the address the metrics ports listen on (keep it off the public network)",
    ),
    Variable(
        "BOOKING_DEMO_DATA",
        "demo_data",
        parsers.flag,
        lambda known: "1" if known.env == "development" else "0",
        "whether `make run` may add the demo practice (`booking demo` refuses in production)",
        shown="`1` in development",
    ),
    Variable(
        "BOOKING_DATA_KEY",
        "data_key",
        parsers.keyring,
        parsers.development_secret(DATA_KEY_FILE),
        "intake encryption keys, `id:base64key,id2:base64key2` (32-byte AES keys; the first "
        "encrypts, all decrypt)",
        shown="outside production, generated into the data directory by `booking init`",
        production="id:base64key,...",
    ),
    Variable(
        "RATE_LIMIT_PER_MINUTE",
        "rate_limit_per_minute",
        parsers.whole(1, "a positive whole number"),
        "20",
        "write requests (bookings, cancel, reschedule, intake) a client address may make a "
        "minute; more get `429` with `Retry-After`; counted in the database (or "
        "`RATE_LIMIT_REDIS_URL`), so shared by every web process",
    ),
    Variable(
        "RATE_LIMIT_REDIS_URL",
        "rate_limit_redis_url",
        parsers.url(("redis", "rediss"), "must be a redis:// URL (unset: the database)"),
        None,
        "`redis://…` to keep the rate-limit counters in Redis instead",
        shown="unset: the database",
    ),
    # --- Staff: sign-in and sessions of the staff side (booking.staff) ---
    Variable(
        "STAFF_REQUIRE_TOTP",
        "staff_require_totp",
        parsers.flag,
        lambda known: "1" if known.production else "0",
        "whether therapists must sign in with a second factor (TOTP) too; admins always must",
        shown="`1` in production, else `0`",
    ),
    Variable(
        "STAFF_IDLE_MINUTES",
        "staff_idle_minutes",
        parsers.whole(1, "a positive whole number of minutes"),
        "15",
        "a staff session unused this long ends (sign in again)",
    ),
    Variable(
        "STAFF_SESSION_HOURS",
        "staff_session_hours",
        parsers.whole(1, "a positive whole number of hours"),
        "12",
        "a staff session ends this long after signing in, however busy",
    ),
    Variable(
        "STAFF_SESSION_REDIS_URL",
        "staff_session_redis_url",
        parsers.url(("redis", "rediss"), "must be a redis:// URL (unset: the database)"),
        None,
        "`redis://…` to keep staff sessions in Redis instead of the database",
        shown="unset: the database",
    ),
    Variable(
        "TRUSTED_PROXIES",
        "trusted_proxies",
        parsers.proxies,
        "",
        "addresses or networks (`10.0.0.5,192.168.0.0/24`) whose `X-Forwarded-For` names the "
        "client; from anyone else it is ignored (`booking serve` passes it to uvicorn, "
        "whatever `FORWARDED_ALLOW_IPS` says)",
    ),
    Variable(
        "BOOKING_LIMIT_PER_EMAIL",
        "bookings_per_email",
        parsers.whole(1, "a positive whole number"),
        "2",
        "upcoming live bookings an email address may be in (as either partner); one more is "
        "refused with `409 booking_limit`",
    ),
    Variable(
        "HOLD_LIMIT_PER_ADDRESS",
        "holds_per_address",
        parsers.whole(1, "a positive whole number"),
        "2",
        "unpaid holds a client address may have at once",
    ),
    Variable(
        "BOOKING_LIMIT_PER_ADDRESS_PER_DAY",
        "bookings_per_address_per_day",
        parsers.whole(1, "a positive whole number"),
        "6",
        "bookings (cancelled ones included) a client address may make in 24 hours",
    ),
    Variable(
        "HOLD_SWEEP_SECONDS",
        "hold_sweep_seconds",
        parsers.whole(0, "a whole number (0: off)"),
        "60",
        "how often the web process marks unpaid holds past their time as expired (`0`: never; "
        "`booking sweep` does it once)",
    ),
    Variable(
        "SUPPORT_RESOURCES_FILE",
        "support_file",
        parsers.file,
        None,
        "the practice's own crisis resources shown after a safety flag (same JSON shape)",
        shown="the shipped `booking/intake/support.json`",
    ),
    Variable(
        "BROKER_URL",
        "broker_url",
        parsers.url(
            ("redis", "rediss", "amqp", "amqps"),
            "must be a redis:// or amqp:// URL (unset: in-process worker)",
        ),
        None,
        "`redis://…` or `amqp://…`; then `booking worker` runs the workers",
        shown="unset: in-process worker",
    ),
    Variable(
        "BOOKING_EMBEDDED_WORKER",
        "embedded_worker",
        parsers.not_zero,
        "1",
        "with no `BROKER_URL`, whether the web process runs the in-process worker",
    ),
    Variable(
        "SMTP_URL",
        "smtp_url",
        parsers.smtp_url,
        None,
        "`smtp://user:password@host:587?starttls=1` or `smtps://host:465`",
        shown="unset: `.eml` files in `<data dir>/mail/`",
        production="emails would only be written to files",
    ),
    Variable(
        "MAIL_FROM",
        "mail_from",
        parsers.mailbox,
        # formataddr quotes a practice name holding a comma, so the default stays one address.
        lambda known: formataddr((known.texts["PRACTICE_NAME"], f"bookings@{known.host}")),
        "the sender (also the invitation's ORGANIZER and the SMTP envelope sender); exactly "
        "one address",
        shown="`<practice> <bookings@<host>>`",
    ),
    Variable(
        "MAIL_REPLY_TO",
        "mail_reply_to",
        parsers.mailbox,
        None,
        "the Reply-To of every email; exactly one address",
    ),
    Variable(
        "PRACTICE_ALERT_EMAIL",
        "practice_alert_email",
        parsers.mailbox,
        lambda known: f"intake@{known.host}",
        "the practice's intake address: told at once (reference and time only; the practice "
        "looks the booking up by its reference) when an intake needs a follow-up, and when such "
        "a booking moves or is cancelled",
        shown="`intake@<host of PUBLIC_BASE_URL>`",
        production="the practice's intake address",
    ),
    Variable(
        "PRACTICE_ADDRESS",
        "practice_address",
        parsers.text,
        "Suite 210, 100 Harbour Street, Toronto, ON M5J 0A1",
        "the location of in-person consultations",
        shown="a fictional Toronto address",
    ),
    Variable(
        "REMINDER_HOURS",
        "reminder_hours",
        parsers.whole(0, "a whole number of hours (0: none)"),
        "24",
        "reminders go this long before a consultation (`0`: none)",
    ),
    Variable(
        "OUTBOX_POLL_SECONDS",
        "outbox_poll_seconds",
        parsers.poll_seconds,
        "0.5",
        "how often workers look for due messages",
    ),
    Variable(
        "OUTBOX_LEASE_SECONDS",
        "outbox_lease_seconds",
        parsers.whole(1, "a positive whole number"),
        "300",
        "how long a claimed message stays with its worker before another may take it",
    ),
    Variable(
        "INTAKE_RETENTION_DAYS",
        "intake_retention_days",
        parsers.whole(1, "a positive whole number of days"),
        "180",
        "days after a cancelled, expired or no-show booking ended before its intake answers "
        "and cancel reason are deleted (workers do it daily; `booking purge` once)",
    ),
    # --- Payments: deposits through Stripe (booking.payments) ---
    Variable(
        "STRIPE_SECRET_KEY",
        "stripe_secret_key",
        parsers.stripe_key(("sk_", "rk_")),
        None,
        "the Stripe secret key (`sk_test_…` in test mode); without it and the publishable key, "
        "types with a deposit are shown but not bookable (in development `booking serve` "
        "starts the localstripe emulator instead)",
        shown="unset: no online payment (development: the emulator)",
    ),
    Variable(
        "STRIPE_PUBLISHABLE_KEY",
        "stripe_publishable_key",
        parsers.stripe_key(("pk_",)),
        None,
        "the publishable key the payment page's Stripe.js uses (`pk_test_…`)",
        shown="unset: as `STRIPE_SECRET_KEY`",
    ),
    Variable(
        "STRIPE_WEBHOOK_SECRET",
        "stripe_webhook_secret",
        parsers.stripe_key(("whsec_",)),
        None,
        "the signing secret of the webhook endpoint `/api/v1/payments/stripe/webhook` (`whsec_…`)",
        shown="unset: webhooks refused (development: generated for the emulator)",
    ),
    Variable(
        "STRIPE_API_BASE",
        "stripe_api_base",
        parsers.http_url,
        None,
        "where the Stripe API is reached (the emulator: `http://127.0.0.1:<port>`)",
        shown="unset: Stripe's own",
    ),
    Variable(
        "STRIPE_JS_URL",
        "stripe_js_url",
        parsers.http_url,
        "https://js.stripe.com/v3/",
        "the Stripe.js the payment page loads (the emulator's is "
        "`<STRIPE_API_BASE>/js.stripe.com/v3/`); only that page's Content-Security-Policy "
        "allows its origin",
    ),
)

BY_NAME: Mapping[str, Variable] = {variable.name: variable for variable in VARIABLES}


def markdown_table() -> str:
    """The README's configuration table, one row per variable."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {v.default_text} | {v.meaning} |" for v in VARIABLES]
    return "\n".join(rows)
