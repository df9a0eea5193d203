"""``flask demo load``: the demo memories (and demo users) the README's first command starts with."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from accounts import service as accounts
from db import db_session
from glossary import repository as glossary_repo
from glossary import service as glossary
from tm import repository as repo
from tm import service as tm

DEMO_DIR = Path(__file__).resolve().parent

#: (file, memory, description) of the shipped demo memories; see demo/README.md for sources.
DEMO_MEMORIES = (
    ("seed_article.tsv", "people-daily-seed",
     "The People's Daily commentary the project started from, with our Chinese version."),
    ("public_health_cc0.tsv", "public-health", "TICO-19 public-health sentences (CC0)."),
    ("everyday_ccby.tsv", "everyday", "Tatoeba everyday sentences (CC-BY 2.0 FR, attribution kept per unit)."),
)
DEMO_USERS = (("admin", "admin"), ("editor", "editor"), ("translator", "translator"))


@click.group("demo")
def demo_cli():
    """Demo data."""


@demo_cli.command("load")
@click.option("--password", envvar="DEMO_PASSWORD", default="duizhao-demo", show_default=True,
              help="Password of the demo users (admin, editor, translator).")
@with_appcontext
def load_command(password: str):
    """Load the demo memories, glossary and users into an empty database; otherwise do nothing."""
    session = db_session()
    # `make run` calls this at every start: re-importing would revert what editors changed in
    # demo entries and bring back what they deleted, so the demo goes only into an empty store.
    if repo.memories(session) or glossary_repo.has_entries(session):
        click.echo("The database holds memories or glossary entries already: the demo is not loaded again.")
        return
    for filename, memory_name, description in DEMO_MEMORIES:
        with open(DEMO_DIR / filename, "rb") as stream:
            report = tm.import_file(session, memory_name=memory_name, stream=stream,
                                    filename=filename, user="demo")
        repo.get_or_create_memory(session, memory_name).description = description
        click.echo(f"{memory_name}: {report.added} units added, {report.duplicates} already there.")
    glossary_file = DEMO_DIR.parent / "glossary" / "demo" / "termbase.tsv"
    with open(glossary_file, "rb") as stream:
        terms = glossary.import_entries(session, stream, filename="demo-termbase.tsv", file_format="tsv",
                                        user="demo")
    click.echo(f"glossary: {terms['added']} entries added, {terms['updated']} refreshed.")
    for username, role in DEMO_USERS:
        if accounts.user_by_name(session, username) is None:
            accounts.create_user(session, username, password, role)
            click.echo(f"user {username} ({role}) created")
    session.commit()
