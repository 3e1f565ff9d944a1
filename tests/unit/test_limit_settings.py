"""The settings of the rate limit, the trusted proxies and the booking limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.core.settings import Settings, SettingsError


@pytest.mark.usefixtures("initialised")
def test_by_default_no_proxy_is_trusted_and_the_limits_are_small(tmp_path: Path) -> None:
    settings = Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path)})

    assert settings.trusted_proxies == ()
    assert settings.rate_limit_redis_url is None
    assert settings.bookings_per_email == 2
    assert settings.holds_per_address == 2
    assert settings.bookings_per_address_per_day == 6


@pytest.mark.usefixtures("initialised")
def test_trusted_proxies_are_addresses_and_networks(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"BOOKING_DATA_DIR": str(tmp_path), "TRUSTED_PROXIES": " 10.0.0.5, 192.168.0.0/24,::1 "}
    )

    assert settings.trusted_proxies == ("10.0.0.5", "192.168.0.0/24", "::1")


def test_bad_limit_settings_are_each_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {
                "BOOKING_DATA_DIR": str(tmp_path),
                "TRUSTED_PROXIES": "10.0.0.5,proxy.internal",
                "RATE_LIMIT_REDIS_URL": "http://user:hunter2@cache:6379",
                "BOOKING_LIMIT_PER_EMAIL": "0",
                "HOLD_LIMIT_PER_ADDRESS": "two",
                "BOOKING_LIMIT_PER_ADDRESS_PER_DAY": "-1",
            }
        )
    message = str(raised.value)
    assert "TRUSTED_PROXIES must be a comma-separated list of IP addresses or networks" in message
    assert "'proxy.internal'" in message
    assert "RATE_LIMIT_REDIS_URL must be a redis:// URL" in message
    assert "hunter2" not in message
    assert "BOOKING_LIMIT_PER_EMAIL must be a positive whole number" in message
    assert "HOLD_LIMIT_PER_ADDRESS must be a positive whole number" in message
    assert "BOOKING_LIMIT_PER_ADDRESS_PER_DAY must be a positive whole number" in message
