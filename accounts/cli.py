"""``flask user ...``: make the first admin, and tokens for scripts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from accounts import service
from accounts.models import ROLES
from common.errors import DuizhaoError
from db import db_session


@click.group("user")
def user_cli():
    """Manage users and their API tokens."""


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="translator", show_default=True)
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_command(username: str, role: str, password: str):
    """Create a user (the first one is usually --role admin)."""
    session = db_session()
    try:
        service.create_user(session, username, password, role)
    except DuizhaoError as err:
        raise click.ClickException(err.message) from err
    session.commit()
    click.echo(f"Created {role} {username}.")


@user_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True)
@click.option("--scope", type=click.Choice(service.TOKEN_SCOPES), default="read", show_default=True)
@with_appcontext
def token_command(username: str, name: str, scope: str):
    """Create an API token for USERNAME and print it (shown only this once)."""
    session = db_session()
    user = service.user_by_name(session, username)
    if user is None:
        raise click.ClickException(f"No user called {username!r}.")
    _token, secret = service.create_token(session, user, name=name, scope=scope)
    session.commit()
    click.echo(secret)


@user_cli.command("password")
@click.argument("username")
@click.password_option(help="Asked for when not given.")
@with_appcontext
def password_command(username: str, password: str):
    """Set USERNAME's password; their browser sessions end (API tokens stay valid)."""
    session = db_session()
    user = service.user_by_name(session, username)
    if user is None:
        raise click.ClickException(f"No user called {username!r}.")
    try:
        service.set_password(user, password)
    except DuizhaoError as err:
        raise click.ClickException(err.message) from err
    session.commit()
    click.echo(f"Password of {username} changed; their browser sessions have ended.")
