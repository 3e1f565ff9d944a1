"""Settings are read from the environment and refused with a clear message when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.core.settings import Settings, SettingsError


@pytest.mark.usefixtures("initialised")
def test_no_environment_means_development_on_sqlite_in_var(tmp_path: Path) -> None:
    settings = Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path)})
    assert settings.env == "development"
    assert settings.database_url is None
    assert settings.sqlite_path == tmp_path / "booking.sqlite3"
    assert settings.public_base_url == "http://localhost:8000"
    assert settings.practice_timezone == "America/Toronto"


@pytest.mark.usefixtures("initialised")
def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path)}).secret_key
    second = Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path)}).secret_key
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {
                "BOOKING_DATA_DIR": str(tmp_path),
                "BOOKING_ENV": "production",
                "PUBLIC_BASE_URL": "http://book.example.org",
                "LOG_LEVEL": "LOUD",
            }
        )
    message = str(raised.value)
    assert "BOOKING_SECRET_KEY is required in production" in message
    assert "PUBLIC_BASE_URL must use https in production" in message
    assert "LOG_LEVEL must be" in message
    assert "BOOKING_DATA_KEY is required in production" in message
    assert "PRACTICE_ALERT_EMAIL is required in production" in message


def test_a_malformed_data_key_is_named_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path), "BOOKING_DATA_KEY": "k1:c2VjcmV0"})
    assert "BOOKING_DATA_KEY" in str(raised.value)
    assert "c2VjcmV0" not in str(raised.value)


def test_production_with_its_secrets_is_accepted(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "BOOKING_DATA_DIR": str(tmp_path),
            "BOOKING_ENV": "production",
            "PUBLIC_BASE_URL": "https://book.example.org/",
            "BOOKING_SECRET_KEY": "k" * 40,
            "DATABASE_URL": "postgresql://booking@db/booking",
            "BOOKING_DATA_KEY": "k2:" + "A" * 43 + "=",
            "SMTP_URL": "smtp://mail.example.org:587?starttls=1",
            "PRACTICE_ALERT_EMAIL": "intake@example.org",
        }
    )
    assert settings.is_production
    assert settings.public_base_url == "https://book.example.org"
    assert settings.uses_postgres
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("secret", ["short", "x" * 31])
def test_a_short_secret_key_is_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path), "BOOKING_SECRET_KEY": secret})


def test_printed_settings_show_no_secret_and_no_password(tmp_path: Path) -> None:
    secret_key = "s3cret-signing-key-" + "x" * 20
    data_key = "k1:" + "Q" * 43 + "="
    settings = Settings.from_env(
        {
            "BOOKING_DATA_DIR": str(tmp_path),
            "BOOKING_SECRET_KEY": secret_key,
            "BOOKING_DATA_KEY": data_key,
            "SMTP_URL": "smtps://bookings%40example.org:smtp-pass-1@smtp.example.org:465",
            "DATABASE_URL": "postgresql://booking:pg-pass-2@db/booking?password=pg-pass-3",
            "BROKER_URL": "redis://:redis-pass-4@127.0.0.1:6379/0",
        }
    )

    for shown in (repr(settings), str(settings), f"{settings}"):
        for secret in (
            secret_key,
            "Q" * 43,
            "smtp-pass-1",
            "pg-pass-2",
            "pg-pass-3",
            "redis-pass-4",
        ):
            assert secret not in shown
        assert "smtp.example.org:465" in shown
        assert "secret_key='***'" in shown
        assert "practice_timezone='America/Toronto'" in shown


@pytest.mark.usefixtures("initialised")
def test_intake_retention_defaults_to_180_days(tmp_path: Path) -> None:
    assert Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path)}).intake_retention_days == 180


@pytest.mark.parametrize("days", ["0", "-5", "half a year"])
def test_a_retention_period_that_is_not_a_positive_number_of_days_is_refused(
    tmp_path: Path, days: str
) -> None:
    with pytest.raises(SettingsError, match="INTAKE_RETENTION_DAYS must be a positive whole"):
        Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path), "INTAKE_RETENTION_DAYS": days})


@pytest.mark.usefixtures("initialised")
def test_the_practice_alert_address_defaults_to_intake_at_the_public_host(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"BOOKING_DATA_DIR": str(tmp_path), "PUBLIC_BASE_URL": "https://book.example.org"}
    )
    assert settings.practice_alert.addr_spec == "intake@book.example.org"


@pytest.mark.parametrize("variable", ["MAIL_FROM", "MAIL_REPLY_TO", "PRACTICE_ALERT_EMAIL"])
@pytest.mark.parametrize(
    "value",
    [
        "bookings@example.org, spy@attacker.example",
        "Jamie <spy@attacker.example>, Jamie <bookings@example.org>",
        "undisclosed: bookings@example.org;",
        "not an address",
    ],
)
def test_a_mail_setting_must_be_exactly_one_address(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=f"{variable} must be one email address"):
        Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path), variable: value})


@pytest.mark.usefixtures("initialised")
def test_a_practice_name_with_a_comma_still_makes_one_sender(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "BOOKING_DATA_DIR": str(tmp_path),
            "PRACTICE_NAME": "Harbour Counselling, Toronto",
            "PUBLIC_BASE_URL": "https://book.example.org",
        }
    )
    assert settings.sender.display_name == "Harbour Counselling, Toronto"
    assert settings.sender.addr_spec == "bookings@book.example.org"
