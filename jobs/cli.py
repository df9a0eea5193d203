"""``flask jobs``: list jobs; ``flask jobs worker`` runs a worker (``make run`` starts one)."""
from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from common.messages import from_data
from common.timeutil import isoformat
from db import db_session
from jobs import repository as repo
from jobs import service
from jobs.webutil import clean_files, results_retention
from web.extensions import job_queue, job_signals

#: Seconds between two clean-ups of a running worker: files are kept for days, so an hour
#: late is nothing, and the scan is a few directory listings.
CLEAN_INTERVAL = 3600.0


@click.group("jobs", invoke_without_command=True)
@click.pass_context
def jobs_cli(ctx: click.Context):
    """List jobs (newest first), or run a worker: ``flask jobs worker``."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command)


@jobs_cli.command("list")
@click.option("--user", default=None, help="Only this user's jobs.")
@click.option("--limit", default=repo.LIST_LIMIT, show_default=True)
@with_appcontext
def list_command(user: str | None, limit: int):
    """List jobs: id, kind, state, progress, who, when, and the result or error."""
    signals = job_signals()
    for job in repo.jobs_of(db_session(), user, limit=limit):
        view = service.view(job, signals)
        done, total = view["progress"]["done"], view["progress"]["total"]
        progress = f"{done}/{total}" if total else str(done)
        outcome = ""
        if job.error:
            outcome = str(from_data(job.error.get("message")))
        elif job.result:
            outcome = ", ".join(f"{k}={v}" for k, v in job.result.items() if not isinstance(v, (dict, list)))
        click.echo("\t".join([str(job.id), job.kind, job.state, progress, job.user or "-",
                              isoformat(job.created_at) or "", outcome]))


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True,
              help="Jobs run at once (threads): two, so that a long training does not hold up imports.")
@click.option("--drain", is_flag=True, help="Run the jobs waiting now, then exit.")
@with_appcontext
def worker_command(workers: int, drain: bool):
    """Run jobs from the queue until stopped (SIGINT or SIGTERM).

    First the jobs a dead worker left running are failed (nothing of them was stored), and the
    queued jobs are queued again, in case their message went with that worker.
    """
    session = db_session()
    failed = service.recover_interrupted(session)
    queued = repo.queued_ids(session)
    session.commit()
    session.close()
    if failed:
        click.echo(f"Failed {len(failed)} job(s) interrupted by a stopped worker: {failed}", err=True)
    queue = job_queue()
    for job_id in queued:
        queue.enqueue(job_id)
    if drain:
        ran = queue.run_pending()
        click.echo(f"Ran {ran} job(s).", err=True)
        return
    click.echo(f"Worker for {current_app.config['DATABASE_URL'].split('@')[-1]} on queue {queue.url} "
               f"({workers} at a time).", err=True)
    _clean_periodically(current_app._get_current_object())  # type: ignore[attr-defined]
    queue.work(workers=workers)


def _clean_periodically(app) -> None:
    """Remove job files past their retention now and every CLEAN_INTERVAL, in a thread beside
    the worker's (it dies with the worker). Several workers may all do it: removing is idempotent."""
    def loop() -> None:
        while True:
            try:
                removed = clean_files(app)
                if any(removed.values()):
                    click.echo(f"Removed old job files: {removed}", err=True)
            except Exception as err:  # a clean-up that fails is retried at the next interval
                click.echo(f"Cleaning job files failed: {err}", err=True)
            stop.wait(CLEAN_INTERVAL)

    stop = threading.Event()
    threading.Thread(target=loop, name="jobs-cleanup", daemon=True).start()


@jobs_cli.command("cleanup")
@with_appcontext
def cleanup_command():
    """Remove the files of jobs finished more than JOB_RESULTS_DAYS ago (their downloads then
    answer 410), result folders of jobs that did not finish, and uploads no job waits for. A
    running worker does this every hour by itself."""
    removed = clean_files()
    days = results_retention().total_seconds() / 86400
    click.echo(f"Removed {removed['results']} result file(s) older than {days:g} days, {removed['orphans']} "
               f"unfinished job folder(s) and {removed['uploads']} stale upload(s).")
