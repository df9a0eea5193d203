"""Login, logout, and the page where a user manages API tokens."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts import ratelimit, service
from common import params
from common.errors import DuizhaoError
from db import db_session
from web.i18n import translate_message

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login is a phishing aid.
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        # Over the limit the password is not checked at all: the right one is refused too.
        ratelimit.check_login(username)
        session = db_session()
        user = service.authenticate(session, username, request.form.get("password", ""))
        if user is not None:
            service.start_session(user)
            session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        ratelimit.count_failed_login(username)
        error = _("Unknown user name or wrong password.")
    return render_template("accounts/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Server-side: a copy of this session's cookie must not outlive the logout.
        service.end_sessions(current_user._get_current_object())
        db_session().commit()
    logout_user()
    return redirect(url_for("home.index"))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    session = db_session()
    new_secret = None
    status = 200
    if request.method == "POST":
        try:
            if "revoke" in request.form:
                token_id = params.whole_number(request.form["revoke"], "revoke", low=1, high=2**63 - 1)
                service.revoke_token(session, current_user, token_id)
                flash(_("Token revoked."))
            else:
                _token, new_secret = service.create_token(
                    session, current_user, name=request.form.get("name", ""),
                    scope=request.form.get("scope", "read"))
            session.commit()
        except DuizhaoError as err:
            session.rollback()
            flash(translate_message(err.message), "error")
            status = err.status
    return render_template("accounts/tokens.html", tokens=service.tokens_of(session, current_user),
                           new_secret=new_secret), status
