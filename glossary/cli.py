"""``flask glossary ...``: import and export the termbase."""
from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from common.errors import DuizhaoError
from db import LOCKED_IMPORT, db_session
from glossary import service
from glossary.core.model import GlossaryFormatError


@click.group("glossary")
def glossary_cli():
    """Import and export the glossary."""


@glossary_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "file_format", type=click.Choice(service.IMPORT_FORMATS), default=None)
@click.option("--user", default=None)
@with_appcontext
def import_command(path: str, file_format: str | None, user: str | None):
    """Import a TBX (TBX-Basic 2008 or TBX v3), CSV or TSV glossary; all or nothing."""
    session = db_session()
    try:
        with open(path, "rb") as stream:
            report = service.import_entries(session, stream, filename=os.path.basename(path),
                                            file_format=file_format, user=user or os.environ.get("USER"))
    except (DuizhaoError, GlossaryFormatError) as err:
        session.rollback()
        raise click.ClickException(getattr(err, "message", None) or str(err)) from err
    except OperationalError as err:
        session.rollback()
        raise click.ClickException(f"{LOCKED_IMPORT} ({str(err.orig).strip()})") from err
    session.commit()
    click.echo(f"{report['added']} entries added, {report['updated']} updated.", err=True)


@glossary_cli.command("export")
@click.option("--format", "file_format", type=click.Choice(list(service.EXPORT_FORMATS)), default="tbx",
              show_default=True, help="tbx: TBX-Basic 2008 (martif); tbx3: TBX v3; csv; tsv.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@with_appcontext
def export_command(file_format: str, output: str | None):
    """Export the glossary (to standard output unless -o)."""
    if output:
        with open(output, "wb") as stream:
            service.export_entries(db_session(), stream, file_format=file_format)
    else:
        service.export_entries(db_session(), sys.stdout.buffer, file_format=file_format)
        sys.stdout.buffer.flush()
