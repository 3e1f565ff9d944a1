"""The `booking` command: serve, migrate, demo data, links, configuration check."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

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
    today = datetime.now().astimezone().date()
    created = _run_with_database(lambda: seed_demo(today))
    click.echo("Added " + ", ".join(created) + "." if created else "Demo data already present.")


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
    """Re-encrypt stored intake answers under the first key of BOOKING_DATA_KEY.

    Put the new key first and keep the old ones after it until this has run; then the old
    keys can be removed.
    """
    from booking.intake.services import rotate_intake_keys

    keyring = _settings().keyring()
    rotated = _run_with_database(lambda: rotate_intake_keys(keyring))
    click.echo(
        f"Re-encrypted {rotated} record{'s' if rotated != 1 else ''} under key "
        f"{keyring.primary_key_id}."
    )


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
    click.echo(f"Serving {settings.practice_name} on http://{host}:{port}")
    configure_logging(settings.log_level)
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


@main.command("check")
def check_config() -> None:
    """Validate the configuration and report where data lives (reads only, writes nothing)."""
    _report_configuration()


def _report_configuration() -> None:
    settings = _settings()
    database = "PostgreSQL" if settings.uses_postgres else f"SQLite at {settings.sqlite_path}"
    click.echo(f"Configuration is valid ({settings.env}). Database: {database}.")
