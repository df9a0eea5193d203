"""Where the app finds its SECRET_KEY: the environment, else the file `make run` keeps in instance/."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.cli import FlaskGroup


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An instance folder of our own and an environment without SECRET_KEY."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'duizhao.sqlite3'}")
    return folder


def test_the_cli_finds_the_key_make_run_keeps(instance):
    from app import create_app

    (instance / "secret_key").write_text("0123abcd" * 8 + "\n")
    seen = {}

    def factory():
        app = create_app()
        seen["key"] = app.config["SECRET_KEY"]
        return app

    result = FlaskGroup(create_app=factory).main(["db", "upgrade"], standalone_mode=False)
    assert result is None
    assert seen["key"] == "0123abcd" * 8


def test_without_key_or_file_the_app_refuses_to_start(instance):
    from app import ConfigError, create_app

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    (instance / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
