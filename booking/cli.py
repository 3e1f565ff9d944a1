"""The `booking` command: serve, migrate, demo data, links, configuration check."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from booking.core.logs import configure_logging
from booking.core.settings import Settings, SettingsError, get_settings
from booking.core.variables import BY_NAME

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _run_with_database(work: Callable[[], Awaitable[T]]) -> T:
    from booking.core.db import close_pool, make_engine, open_pool
    from booking.piccolo_app import use_engine

    engine = make_engine(_settings())
    use_engine(engine)

    async def run() -> T:
        await open_pool(engine)
        try:
            return await work()
        finally:
            await close_pool(engine)

    return asyncio.run(run())


@click.group()
def main() -> None:
    """Consultation booking and couples intake."""
    configure_logging("INFO")


@main.command()
def init() -> None:
    """Prepare the data directory: outside production, generate the development secrets that
    the environment leaves unset (once; existing ones are kept). Then check the configuration."""
    from booking.core.settings import initialise_from_env

    try:
        initialised = initialise_from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    made = ", ".join(initialised.created) or "nothing new"
    click.echo(f"Data directory {initialised.data_dir}: generated {made}.")
    _report_configuration()


@main.command()
def migrate() -> None:
    """Apply the database migrations that have not run yet."""
    from booking.core.db import make_engine
    from booking.piccolo_app import migrate as apply_migrations

    engine = make_engine(_settings())
    asyncio.run(apply_migrations(engine))
    click.echo("Database is up to date.")


@main.command()
def demo() -> None:
    """Add the fictional demo practice where it is missing (safe to run again)."""
    from booking.scheduling.demo import seed_demo

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("Demo data is not added to a production database.")
    if not settings.demo_data:
        click.echo("BOOKING_DEMO_DATA=0: no demo data added.")
        return
    from booking.staff.demo import seed_demo_staff

    today = datetime.now().astimezone().date()
    created = _run_with_database(lambda: seed_demo(today))
    click.echo("Added " + ", ".join(created) + "." if created else "Demo data already present.")
    accounts = _run_with_database(lambda: seed_demo_staff(_staff_accounts()))
    for email, role, password in accounts:
        click.echo(
            f"Demo staff account {email} ({role}), one-time password (shown once, to be "
            f"changed at first sign-in): {password}"
        )


@main.command()
def sweep() -> None:
    """Expire unpaid holds whose time has run out (also done by every booking that needs it)."""
    from booking.bookings.holds import sweep_expired_holds
    from booking.core.timezones import utc_now

    expired = _run_with_database(lambda: sweep_expired_holds(utc_now()))
    click.echo(f"Expired {expired} unpaid hold{'s' if expired != 1 else ''}.")


@main.command()
def purge() -> None:
    """Delete the intake answers of consultations that never took place, once
    INTAKE_RETENTION_DAYS have passed (workers also do it daily; safe to run again)."""
    from booking.core.timezones import utc_now
    from booking.intake.retention import purge_expired_intakes

    days = _settings().intake_retention_days
    purged = _run_with_database(lambda: purge_expired_intakes(utc_now(), days))
    click.echo(
        f"Purged the intake answers of {purged} booking{'s' if purged != 1 else ''} "
        f"(older than {days} days)."
    )


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt stored intake answers, cancel reasons, internal notes and time-off notes (and
    re-seal staff TOTP secrets) under the first key of BOOKING_DATA_KEY.

    Put the new key first and keep the old ones after it until this has run; then the old
    keys can be removed.
    """
    from booking.intake.services import rotate_intake_keys
    from booking.scheduling.hours_editor import rotate_time_off_note_keys
    from booking.staff.notes import rotate_note_keys
    from booking.staff.two_factor import rotate_second_factor_keys

    keyring = _settings().keyring()
    rotated = _run_with_database(lambda: rotate_intake_keys(keyring))
    rotated += _run_with_database(lambda: rotate_note_keys(keyring))
    rotated += _run_with_database(lambda: rotate_time_off_note_keys(keyring))
    staff = _run_with_database(lambda: rotate_second_factor_keys(keyring))
    click.echo(
        f"Re-encrypted {rotated} record{'s' if rotated != 1 else ''} under key "
        f"{keyring.primary_key_id}."
    )
    click.echo(f"Re-sealed the second factor of {staff} staff account{'s' if staff != 1 else ''}.")


@main.command()
@click.option("--processes", default=1, type=int, show_default=True)
@click.option("--threads", default=4, type=int, show_default=True)
def worker(processes: int, threads: int) -> None:
    """Run Dramatiq worker processes for BROKER_URL (they also run the outbox relay)."""
    settings = _settings()
    if settings.broker_url is None:
        raise click.ClickException(
            "BROKER_URL is not set: the web server runs the in-process worker itself."
        )
    configure_logging(settings.log_level, settings.log_format)  # the supervisor's own lines
    if settings.worker_metrics_port is not None:
        _serve_metrics(settings, settings.worker_metrics_port, "worker", with_database=False)
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    from booking.worker import QUEUE

    # Dramatiq's main() takes parsed arguments, not a list of strings.
    sys.exit(
        dramatiq_main(  # type: ignore[no-untyped-call]
            make_argument_parser().parse_args(  # type: ignore[no-untyped-call]
                [
                    "booking.worker_process:setup",
                    "--processes",
                    str(processes),
                    "--threads",
                    str(threads),
                    "--queues",
                    QUEUE,
                ]
            )
        )
    )


def _serve_metrics(settings: Settings, port: int, command: str, with_database: bool) -> None:
    """Answer Prometheus scrapes on `port` for this command and every process it starts
    (their counts meet in one directory under the data directory: booking.core.metrics)."""
    import shutil

    from booking.core.private_files import private_directory

    # One directory per metrics port (one command on it at a time), emptied at the start; set
    # before booking.core.metrics is first imported, here and in the processes started below.
    directory = settings.data_dir / "metrics" / f"{command}-{port}"
    shutil.rmtree(directory, ignore_errors=True)
    private_directory(settings.data_dir / "metrics")
    private_directory(directory)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    from booking.core.metrics import DatabaseState, scrape_registry, serve_metrics

    registry = scrape_registry(DatabaseState.of(settings) if with_database else None)
    serve_metrics(settings.metrics_host, port, registry)
    logging.getLogger("booking.metrics").info(
        "metrics on http://%s:%s/metrics", settings.metrics_host, port
    )


@main.group()
def outbox() -> None:
    """Messages that could not be sent."""


@outbox.command("failed")
def outbox_failed() -> None:
    """List messages that gave up, with their last error."""
    from booking.notifications.outbox import failed_messages

    rows = _run_with_database(failed_messages)
    if not rows:
        click.echo("No failed messages.")
    for row in rows:
        click.echo(
            f"{row.id}\t{row.reference}\t{row.kind}\t{row.recipient}\t"
            f"attempts={row.attempts}\t{row.last_error}"
        )


@outbox.command("redrive")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Every failed message.")
def outbox_redrive(ids: tuple[int, ...], everything: bool) -> None:
    """Send failed messages again (by id, or --all)."""
    from booking.core.timezones import utc_now
    from booking.notifications.outbox import redrive

    if not ids and not everything:
        raise click.UsageError("Give message ids, or --all.")
    count = _run_with_database(lambda: redrive(None if everything else list(ids), utc_now()))
    click.echo(f"Queued {count} message{'s' if count != 1 else ''} again.")


@main.group()
def payments() -> None:
    """Deposits at Stripe beside the local records."""


@payments.command("reconcile")
def payments_reconcile() -> None:
    """Compare Stripe's payments and refunds with the records, repair what is safe (a missed
    webhook), and list what needs a person; exits 1 when something does."""
    from booking.core.timezones import utc_now
    from booking.payments.assembly import payment_parts
    from booking.payments.gateway import GatewayUnavailable
    from booking.payments.reconcile import report_lines

    reconciler = payment_parts(_settings(), utc_now).reconciler
    if reconciler is None:
        raise click.ClickException("This service takes no payments: no Stripe keys are set.")
    try:
        found = _run_with_database(reconciler.run)
    except GatewayUnavailable as exc:
        message = f"Stripe could not be reached ({exc}); nothing changed."
        raise click.ClickException(message) from None
    for line in report_lines(found, utc_now()):
        click.echo(line)
    if found.attention:
        sys.exit(1)


@main.group()
def links() -> None:
    """A booking's manage and intake links."""


@links.command("revoke")
@click.argument("reference")
@click.option(
    "--partner", type=click.IntRange(1, 2), help="Replace this partner's intake link instead."
)
def links_revoke(reference: str, partner: int | None) -> None:
    """Replace a booking's manage link (sent anew to both partners), or with --partner N that
    partner's intake link (sent to them only); the old link stops working at once."""
    from booking.bookings.links import LinkService
    from booking.core.audit import SYSTEM
    from booking.core.errors import ServiceError
    from booking.core.timezones import utc_now
    from booking.notifications.announcer import OutboxAnnouncer

    service = LinkService(_settings(), utc_now, OutboxAnnouncer())
    try:
        revoked = _run_with_database(lambda: service.revoke(reference, partner, SYSTEM))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    if revoked.partner is None:
        click.echo(
            f"Replaced the manage link of {revoked.reference}; "
            "the new one is being sent to both partners."
        )
    else:
        click.echo(
            f"Replaced the intake link of partner {revoked.partner} of {revoked.reference}; "
            "the new one is being sent to that partner."
        )


@main.group()
def feed() -> None:
    """Therapists' private calendar feeds."""


@feed.command("url")
@click.argument("therapist")
def feed_url(therapist: str) -> None:
    """Print a therapist's feed URL (to subscribe from their calendar app)."""
    from booking.notifications.feeds import FeedService

    service = FeedService(_settings())
    click.echo(_run_with_database(lambda: service.url_for(therapist)))


@feed.command("rotate")
@click.argument("therapist")
def feed_rotate(therapist: str) -> None:
    """Give a therapist a new feed URL; the old one stops working at once."""
    from booking.notifications.feeds import FeedService

    service = FeedService(_settings())
    click.echo(_run_with_database(lambda: service.rotate(therapist)))


@feed.command("invitations")
@click.argument("therapist")
@click.argument("choice", type=click.Choice(["on", "off"]))
def feed_invitations(therapist: str, choice: str) -> None:
    """Turn a therapist's invitation emails on, or off in favour of their feed."""
    from booking.scheduling.tables import Therapist

    async def change() -> int:
        changed = await (
            Therapist.update({Therapist.email_invitations: choice == "on"})
            .where(Therapist.slug == therapist)
            .returning(Therapist.slug)
        )
        return len(changed)

    if not _run_with_database(change):
        raise click.ClickException(f"No therapist '{therapist}'.")
    click.echo(f"Invitation emails for {therapist}: {choice}.")


@main.group()
def staff() -> None:
    """Staff accounts: add, list, set a password, disable, enable, reset (audited as the
    system)."""


def _staff_accounts() -> Any:
    from booking.core.timezones import utc_now
    from booking.staff.accounts import StaffAccounts
    from booking.staff.sessions import Sessions, session_store

    settings = _settings()
    return StaffAccounts(Sessions(settings, session_store(settings), utc_now), utc_now)


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _staff_call(work: Callable[[], Awaitable[T]]) -> T:
    from booking.core.errors import ServiceError

    try:
        return _run_with_database(work)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None


@staff.command("add")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "therapist"]))
@click.option("--therapist", "therapist", default=None, help="The therapist's slug.")
@click.option("--name", default="", help="Display name (default: the email's local part).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(
    email: str, role: str, therapist: str | None, name: str, password_stdin: bool
) -> None:
    """Create a staff account with its own password (asked for twice, or one line on stdin)."""
    from booking.core.audit import SYSTEM
    from booking.staff.principal import Role

    password = _new_password(password_stdin)
    accounts = _staff_accounts()
    created = _staff_call(
        lambda: accounts.create(
            email, Role(role), actor=SYSTEM, name=name, therapist=therapist, password=password
        )
    )
    click.echo(f"Added {created.account.email} ({role}).")


@staff.command("list")
def staff_list() -> None:
    """One line per account: email, role, therapist slug or -, state."""
    from booking.core.timezones import utc_now

    accounts = _staff_call(_staff_accounts().accounts)
    now = utc_now()
    for account in accounts:
        click.echo(
            f"{account.email}\t{account.role}\t{account.therapist_slug or '-'}\t"
            f"{account.state(now)}"
        )


@staff.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_password(email: str, password_stdin: bool) -> None:
    """Set the account's own password; its sessions end."""
    from booking.core.audit import SYSTEM
    from booking.staff.accounts import account_by_email

    password = _new_password(password_stdin)
    accounts = _staff_accounts()

    async def change() -> None:
        account = await account_by_email(email)
        await accounts.set_password(account.id, password, actor=SYSTEM)

    _staff_call(change)
    click.echo(f"Password set for {email.strip().lower()}; its sessions ended.")


@staff.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """The account can no longer sign in; its sessions end."""
    from booking.core.audit import SYSTEM
    from booking.staff.accounts import account_by_email

    accounts = _staff_accounts()

    async def disable() -> None:
        account = await account_by_email(email)
        await accounts.disable(account.id, actor=SYSTEM)

    _staff_call(disable)
    click.echo(f"Disabled {email.strip().lower()}; its sessions ended.")


@staff.command("enable")
@click.argument("email")
def staff_enable(email: str) -> None:
    """A disabled account may sign in again, with its own password and second factor."""
    from booking.core.audit import SYSTEM
    from booking.staff.accounts import account_by_email

    accounts = _staff_accounts()

    async def enable() -> None:
        account = await account_by_email(email)
        await accounts.enable(account.id, actor=SYSTEM)

    _staff_call(enable)
    click.echo(f"Enabled {email.strip().lower()}; it may sign in again.")


@staff.command("reset")
@click.argument("email")
def staff_reset(email: str) -> None:
    """A new one-time password (printed once), the second factor cleared, sessions ended."""
    from booking.core.audit import SYSTEM
    from booking.staff.accounts import account_by_email

    accounts = _staff_accounts()

    async def reset() -> str:
        account = await account_by_email(email)
        password: str = await accounts.reset(account.id, actor=SYSTEM)
        return password

    password = _staff_call(reset)
    click.echo(
        f"Reset {email.strip().lower()}. One-time password (shown once; to be changed at "
        f"first sign-in): {password}"
    )


@main.command()
@click.option("--host", default=BY_NAME["HOST"].default, envvar="HOST", show_default=True)
@click.option("--port", default=BY_NAME["PORT"].default, type=int, envvar="PORT", show_default=True)
@click.option("--workers", default=1, type=int, show_default=True, help="Web processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the web service."""
    import os

    import uvicorn

    if "PUBLIC_BASE_URL" not in os.environ and "PORT" not in os.environ:
        # Links in answers and emails point at the port actually served.
        os.environ["PORT"] = str(port)
        get_settings.cache_clear()
    settings = _settings()
    emulator = _stripe_emulator(settings)
    if emulator is not None:
        settings = _settings()
    click.echo(f"Serving {settings.practice_name} on http://{host}:{port}")
    configure_logging(settings.log_level, settings.log_format)
    if settings.metrics_port is not None:
        _serve_metrics(settings, settings.metrics_port, "serve", with_database=True)
    if emulator is not None:
        import signal

        # uvicorn shuts down on SIGTERM and then raises it again: end here, through the
        # `finally` below, so the emulator stops with the service.
        signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        _run(uvicorn, settings, host, port, workers)
    finally:
        if emulator is not None:
            emulator.stop()


def _exit_on_signal(number: int, frame: Any) -> None:
    raise SystemExit(128 + number)


def _run(uvicorn: Any, settings: Settings, host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "booking.asgi:app",
        log_config=None,
        host=host,
        port=port,
        workers=workers,
        # X-Forwarded-For is believed only from TRUSTED_PROXIES (none by default); passed
        # explicitly, so uvicorn's own FORWARDED_ALLOW_IPS never widens it.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        log_level=settings.log_level.lower(),
        server_header=False,  # no `server: uvicorn` on answers: the stack is nobody's business
    )


def _stripe_emulator(settings: Settings) -> Any:
    """In development without Stripe keys: start localstripe, point this process (and the
    server processes it starts) at it, and register the webhook; None otherwise."""
    import os

    if settings.env != "development" or settings.takes_payments or settings.stripe_api_base:
        return None
    from booking.payments.emulator import (
        EmulatorUnavailable,
        new_webhook_secret,
        register_webhook,
        start_localstripe,
    )

    try:
        emulator = start_localstripe()
        secret = settings.stripe_webhook_secret or new_webhook_secret()
        register_webhook(
            emulator, f"{settings.public_base_url}/api/v1/payments/stripe/webhook", secret
        )
    except EmulatorUnavailable as problem:
        click.echo(f"No Stripe emulator ({problem}); deposit types cannot be booked.", err=True)
        return None
    os.environ.update(emulator.environment(secret))
    get_settings.cache_clear()
    click.echo(
        f"Stripe emulator (localstripe) at {emulator.api_base}: payments are tests, "
        "no money moves; the card 4242 4242 4242 4242 pays."
    )
    return emulator


@main.command("check")
def check_config() -> None:
    """Validate the configuration and report where data lives (reads only, writes nothing)."""
    _report_configuration()


def _report_configuration() -> None:
    settings = _settings()
    database = "PostgreSQL" if settings.uses_postgres else f"SQLite at {settings.sqlite_path}"
    click.echo(f"Configuration is valid ({settings.env}). Database: {database}.")
