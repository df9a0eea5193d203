"""``flask tm ...``: import, export and search the translation memory from a terminal."""
from __future__ import annotations

import json
import os
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from common.errors import DuizhaoError
from common.languages import UnsupportedLanguage
from db import LOCKED_IMPORT, db_session
from tm import service
from tm.formats.records import ImportFormatError
from tm.webutil import lookup_answers, snapshot_after_import, train_fragments_after_import
from web.extensions import fragment_models, fragment_term_pairs, index_snapshots, live_index


def _fail(err: Exception) -> click.ClickException:
    return click.ClickException(getattr(err, "message", None) or str(err))


@click.group("tm")
def tm_cli():
    """Import, export and search the translation memory."""


@tm_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--memory", required=True, help="Memory to import into (made if new).")
@click.option("--format", "file_format", type=click.Choice(service.IMPORT_FORMATS), default=None,
              help="File format; guessed from the name and content when omitted.")
@click.option("--user", default=None, help="Recorded as the importer.")
@with_appcontext
def import_command(path: str, memory: str, file_format: str | None, user: str | None):
    """Import a TMX, TSV or CSV file; all or nothing."""
    session = db_session()
    size = os.path.getsize(path)
    with open(path, "rb") as stream, click.progressbar(
        length=size, label=f"Importing {os.path.basename(path)}", file=sys.stderr,
        show_pos=False, show_percent=True,
    ) as bar:
        def progress(_units: int) -> None:
            # A UTF-16 table's reader closes the file once it has read it all (tm.jobs, the same).
            bar.update((size if stream.closed else stream.tell()) - bar.pos)

        try:
            report = service.import_file(session, memory_name=memory, stream=stream,
                                         filename=os.path.basename(path), file_format=file_format,
                                         user=user or os.environ.get("USER"), progress=progress)
        except (DuizhaoError, ImportFormatError, UnsupportedLanguage) as err:
            session.rollback()
            raise _fail(err) from err
        except OperationalError as err:
            session.rollback()
            raise click.ClickException(f"{LOCKED_IMPORT} ({str(err.orig).strip()})") from err
        session.commit()
        bar.update(size - bar.pos)
    if train_fragments_after_import(session):
        click.echo("Training the fragment model in the background.", err=True)
    if snapshot_after_import(session, report.added):
        click.echo("Building a snapshot of the lookup index in the background.", err=True)
    click.echo(f"{report.added} units added to {report.memory!r}, {report.duplicates} duplicates "
               f"skipped ({report.read} read).", err=True)


@tm_cli.command("export")
@click.option("--memory", "memories", multiple=True, help="Memory to export (repeat; all when omitted).")
@click.option("--format", "file_format", type=click.Choice(service.EXPORT_FORMATS), default="tmx",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here instead of standard output.")
@with_appcontext
def export_command(memories: tuple[str, ...], file_format: str, output: str | None):
    """Export units as TMX 1.4b, TSV or CSV."""
    session = db_session()
    try:
        if output:
            with open(output, "wb") as stream:
                count = service.export_units(session, memory_names=memories or None,
                                             file_format=file_format, stream=stream)
        else:
            count = service.export_units(session, memory_names=memories or None,
                                         file_format=file_format, stream=sys.stdout.buffer)
            sys.stdout.buffer.flush()
    except DuizhaoError as err:
        raise _fail(err) from err
    click.echo(f"{count} units exported.", err=True)


@tm_cli.command("pretranslate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here instead of standard output.")
@click.option("--memory", "memories", multiple=True, help="Memory to take matches from (repeat; all when omitted).")
@click.option("--min-score", default=75.0, show_default=True, help="Fill (and offer) matches from this score.")
@click.option("--mode", type=click.Choice(["fill", "candidates", "both"]), default="both", show_default=True,
              help="Fill the empty targets, offer candidates beside them, or both.")
@with_appcontext
def pretranslate_command(path: str, output: str | None, memories: tuple[str, ...], min_score: float, mode: str):
    """Pre-translate an XLIFF 1.2 or 2.x file: its empty targets filled from the memory, the
    same file byte for byte elsewhere. Nothing is stored."""
    from tm import lookup, pretranslate

    session = db_session()
    with open(path, "rb") as stream:
        data = stream.read()
    try:
        service.resolve_memories(session, memories or None)
        run = lookup.segment_lookup(session, live_index(), memories=memories or None, min_score=min(min_score, 100),
                                    limit=pretranslate.DEFAULT_CANDIDATES)
        pieces = lookup.segment_fragments(session, live_index(), fragment_models(), memories=memories or None)
        body, report = pretranslate.pretranslate_file(data, run, min_score=min_score, mode=mode, fragments=pieces)
    except (ImportFormatError, DuizhaoError) as err:
        raise click.ClickException(f"{os.path.basename(path)}: {getattr(err, 'message', err)}") from err
    if report.segments == report.skipped_translated:
        raise click.ClickException(f"Every segment of {os.path.basename(path)} has a target already "
                                   f"({report.segments} segments): nothing to pre-translate.")
    if output:
        with open(output, "wb") as stream:
            stream.write(body)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    click.echo(f"{report.segments} segments ({report.direction}): {report.filled_exact} filled exact, "
               f"{report.filled_fuzzy} fuzzy, {report.skipped_translated} had a target, {report.left_empty} "
               f"left empty ({report.codes_not_placed} whose codes could not be placed), "
               f"{report.with_candidates} with candidates.", err=True)


@tm_cli.command("concordance")
@click.argument("text")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None)
@click.option("--memory", "memories", multiple=True)
@click.option("--page", default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@with_appcontext
def concordance_command(text: str, lang: str | None, memories: tuple[str, ...], page: int, as_json: bool):
    """Find units whose Chinese or English contains TEXT."""
    try:
        result = service.concordance(db_session(), q=text, lang=lang, memory_names=memories or None, page=page,
                                     index=live_index())
    except DuizhaoError as err:
        raise _fail(err) from err
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.total} units contain {text!r} ({result.lang}); page {result.page}.")
    for hit in result.hits:
        source = getattr(hit.unit, hit.lang)
        other = hit.unit.en if hit.lang == "zh" else hit.unit.zh
        marked = source
        for start, end in reversed(hit.spans):
            marked = marked[:start] + click.style(marked[start:end], bold=True, fg="yellow") + marked[end:]
        click.echo(f"[{hit.unit.id}] {marked}\n      {other}")


@tm_cli.command("lookup")
@click.argument("text")
@click.option("--src", default=None, help="Language of TEXT (detected when omitted).")
@click.option("--tgt", default=None)
@click.option("--min-score", default=70.0, show_default=True)
@click.option("--limit", default=10, show_default=True)
@click.option("--memory", "memories", multiple=True)
@click.option("--fragments/--no-fragments", "with_fragments", default=True, show_default=True,
              help="Also the fragments of TEXT the memory holds translations of.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@with_appcontext
def lookup_command(text: str, src, tgt, min_score: float, limit: int, memories, with_fragments: bool,
                   as_json: bool):
    """Fuzzy matches for TEXT, best first, then its fragments."""
    from tm import lookup

    session = db_session()
    try:
        request = lookup.make_request(q=text, src=src, tgt=tgt, min_score=min_score, limit=limit,
                                      memories=list(memories) or None, fragments=with_fragments)
        matches = lookup.lookup(session, live_index(), request)
        answer = lookup_answers(session, [request], [matches])[0]
    except DuizhaoError as err:
        raise _fail(err) from err
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    if not matches:
        click.echo(f"No match ≥ {min_score:g}.")
    for match in matches:
        penalties = ", ".join(f"{p['reason']} −{p['points']:g}" for p in match["penalties"])
        click.echo(click.style(f"{match['score']:6.2f}", bold=True) + f"  [{match['memory']}] {match['source']}")
        click.echo(f"        → {match.get('adapted_target') or match['target']}"
                   + (click.style("  (numbers adapted)", fg="green") if match["adapted"] else ""))
        if penalties:
            click.echo(f"        penalties: {penalties}")
    _print_fragments(text, answer.get("fragments"))


def _print_fragments(text: str, fragments: list[dict] | None) -> None:
    if fragments is None:
        return
    if not fragments:
        click.echo("No fragments.")
        return
    click.echo("Fragments:")
    for fragment in fragments:
        marked = (text[: fragment["start"]] + click.style(fragment["source"], bold=True, fg="yellow")
                  + text[fragment["end"]:])
        click.echo(f"  [{fragment['start']}:{fragment['end']}] {marked}  ({fragment['units']} units)")
        for rendering in fragment["translations"]:
            click.echo(f"        → {rendering['text']}  ({rendering['units']} units, "
                       f"confidence {rendering['confidence']:.2f}, e.g. unit {rendering['example']['unit_id']})")


@tm_cli.group("fragments")
def fragments_cli():
    """The word-alignment model behind fragment translations."""


@fragments_cli.command("train")
@click.option("--force", is_flag=True, help="Train even when the model covers the memory already.")
@with_appcontext
def train_fragments_command(force: bool):
    """Train the model on the whole memory (with the glossary's term pairs as priors) and save
    it; waits for a training already running, and returns once the model covers the memory."""
    from tm import fragments

    store = fragment_models()
    outcome = fragments.train_model(db_session(), store.directory, priors=fragment_term_pairs(),
                                    force=force, log=lambda message: click.echo(message, err=True))
    if outcome.trained:
        click.echo(f"Trained on {outcome.units} units with {outcome.priors} term pairs in {outcome.seconds:g} s.")
    else:
        click.echo(f"The model is current: it covers all {outcome.units} units.")


@tm_cli.group("index")
def index_cli():
    """The lookup index's snapshots, which every worker of this machine maps."""


@index_cli.command("snapshot")
@click.option("--force", is_flag=True, help="Build even when the newest snapshot covers the event log.")
@with_appcontext
def snapshot_command(force: bool):
    """Build the lookup index from the database and save it as the newest snapshot, in the
    foreground (the job tm.index.snapshot does the same after large imports). Workers switch to
    it within seconds; waits for a build already running."""
    from tm.live_index import write_snapshot

    store = index_snapshots()
    if store is None:
        raise click.ClickException("INDEX_SNAPSHOTS is off: there is nowhere to save a snapshot.")
    session = db_session()
    manifest, built = write_snapshot(session, store, force=force)
    session.rollback()
    where = store.directory / manifest.name
    if built:
        click.echo(f"Saved {manifest.units} units at event {manifest.last_event_id} in "
                   f"{manifest.build_seconds:.1f} s: {where}")
    else:
        click.echo(f"The newest snapshot is current (event {manifest.last_event_id}, {manifest.units} units): {where}")
