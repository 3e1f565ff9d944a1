"""The settings are one table of variables; reading them writes nothing, and the development
secrets come from the explicit init step only."""

from __future__ import annotations

import os
import stat
from dataclasses import fields
from pathlib import Path

import pytest

from booking.core.settings import Settings, SettingsError, initialise_from_env
from booking.core.variables import VARIABLES, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_filled_by_exactly_one_variable() -> None:
    filled = [v.setting for v in VARIABLES if v.setting is not None]

    assert sorted(filled) == sorted(f.name for f in fields(Settings))
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)


def test_the_readme_configuration_table_is_the_variables_table() -> None:
    assert markdown_table() in README.read_text(), (
        "README.md's configuration table differs from booking/core/variables.py; paste:\n"
        + markdown_table()
    )


@pytest.mark.parametrize("exists", [True, False], ids=["empty-dir", "no-dir"])
def test_without_the_init_step_development_refuses_to_start_and_writes_nothing(
    tmp_path: Path, exists: bool
) -> None:
    data_dir = tmp_path / "var"
    if exists:
        data_dir.mkdir()

    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BOOKING_DATA_DIR": str(data_dir)})

    message = str(raised.value)
    assert "BOOKING_SECRET_KEY is unset" in message
    assert "BOOKING_DATA_KEY is unset" in message
    assert message.count("run `booking init`") == 2
    if exists:
        assert os.listdir(data_dir) == []
    else:
        assert not data_dir.exists()


def test_init_generates_the_development_secrets_once_and_settings_read_them(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    environ = {"BOOKING_DATA_DIR": str(data_dir)}

    first = initialise_from_env(environ)
    kept = {name: (data_dir / name).read_text() for name in ("secret_key", "data_key")}
    second = initialise_from_env(environ)
    settings = Settings.from_env(environ)

    assert first.created == ("secret_key", "data_key")
    assert second.created == ()
    assert {name: (data_dir / name).read_text() for name in kept} == kept
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in data_dir.iterdir()} == {
        "secret_key": 0o600,
        "data_key": 0o600,
    }
    assert settings.secret_key == kept["secret_key"].strip()
    assert settings.keyring().key_ids == ("dev1",)


def test_init_generates_only_what_the_environment_leaves_unset(tmp_path: Path) -> None:
    environ = {"BOOKING_DATA_DIR": str(tmp_path), "BOOKING_SECRET_KEY": "k" * 40}

    assert initialise_from_env(environ).created == ("data_key",)
    assert Settings.from_env(environ).secret_key == "k" * 40


def test_init_in_production_generates_no_secret(tmp_path: Path) -> None:
    environ = {"BOOKING_DATA_DIR": str(tmp_path / "var"), "BOOKING_ENV": "production"}

    assert initialise_from_env(environ).created == ()
    assert os.listdir(tmp_path / "var") == []
    with pytest.raises(SettingsError, match="BOOKING_SECRET_KEY is required in production"):
        Settings.from_env(environ)


def test_init_refuses_an_unknown_environment_name(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="BOOKING_ENV must be one of"):
        initialise_from_env({"BOOKING_DATA_DIR": str(tmp_path / "var"), "BOOKING_ENV": "prod"})
    assert not (tmp_path / "var").exists()
