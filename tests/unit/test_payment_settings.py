"""The Stripe settings: optional everywhere (production starts without them), checked when
given, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.core.settings import Settings, SettingsError

PRODUCTION = {
    "BOOKING_ENV": "production",
    "PUBLIC_BASE_URL": "https://book.example.org/",
    "BOOKING_SECRET_KEY": "k" * 40,
    "BOOKING_DATA_KEY": "k2:" + "A" * 43 + "=",
    "SMTP_URL": "smtp://mail.example.org:587?starttls=1",
    "PRACTICE_ALERT_EMAIL": "intake@example.org",
}


def test_production_starts_without_stripe_keys_and_takes_no_payments(tmp_path: Path) -> None:
    settings = Settings.from_env({"BOOKING_DATA_DIR": str(tmp_path), **PRODUCTION})
    assert not settings.takes_payments
    assert not settings.stripe_emulated
    assert settings.stripe_js_url == "https://js.stripe.com/v3/"


def test_keys_turn_payments_on_and_stay_masked(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "BOOKING_DATA_DIR": str(tmp_path),
            **PRODUCTION,
            "STRIPE_SECRET_KEY": "sk_test_" + "s" * 24,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_" + "p" * 24,
            "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 24,
        }
    )
    assert settings.takes_payments
    assert "s" * 24 not in repr(settings)
    assert "w" * 24 not in repr(settings)
    assert "p" * 24 in repr(settings)  # publishable: it is on every payment page anyway


@pytest.mark.usefixtures("initialised")
def test_a_key_in_the_wrong_place_is_named_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {
                "BOOKING_DATA_DIR": str(tmp_path),
                "STRIPE_SECRET_KEY": "pk_live_oops_a_publishable_key",
                "STRIPE_API_BASE": "localhost:8420",
            }
        )
    message = str(raised.value)
    assert "STRIPE_SECRET_KEY must be a Stripe key starting with sk_ or rk_" in message
    assert "STRIPE_API_BASE must be an absolute http:// or https:// URL" in message
    assert "oops" not in message


@pytest.mark.usefixtures("initialised")
def test_an_api_base_outside_production_is_the_emulator(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "BOOKING_DATA_DIR": str(tmp_path),
            "STRIPE_SECRET_KEY": "sk_test_emulator",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_emulator",
            "STRIPE_API_BASE": "http://127.0.0.1:8420",
        }
    )
    assert settings.takes_payments
    assert settings.stripe_emulated
