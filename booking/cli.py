"""The `booking` command: serve, migrate, demo data, configuration check."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import click

from booking.logs import configure_logging
from booking.settings import Settings, SettingsError, get_settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _run_with_database(work: Callable[[], Awaitable[T]]) -> T:
    from booking.db import close_pool, make_engine, open_pool, use_engine

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
def migrate() -> None:
    """Apply the database migrations that have not run yet."""
    from booking.db import make_engine
    from booking.db import migrate as apply_migrations

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
    today = datetime.now().astimezone().date()
    created = _run_with_database(lambda: seed_demo(today))
    click.echo("Added " + ", ".join(created) + "." if created else "Demo data already present.")


@main.command()
def sweep() -> None:
    """Expire unpaid holds whose time has run out (also done by every booking that needs it)."""
    from booking.bookings.services import sweep_expired_holds
    from booking.timezones import utc_now

    expired = _run_with_database(lambda: sweep_expired_holds(utc_now()))
    click.echo(f"Expired {expired} unpaid hold{'s' if expired != 1 else ''}.")


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
@click.option("--host", default="127.0.0.1", envvar="HOST", show_default=True)
@click.option("--port", default=8000, type=int, envvar="PORT", show_default=True)
@click.option("--workers", default=1, type=int, show_default=True, help="Web processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the web service."""
    import uvicorn

    settings = _settings()
    click.echo(f"Serving {settings.practice_name} on http://{host}:{port}")
    configure_logging(settings.log_level)
    uvicorn.run(
        "booking.asgi:app",
        log_config=None,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
    )


@main.command("check")
def check_config() -> None:
    """Validate the configuration and report where data lives."""
    settings = _settings()
    database = "PostgreSQL" if settings.uses_postgres else f"SQLite at {settings.sqlite_path}"
    click.echo(f"Configuration is valid ({settings.env}). Database: {database}.")
