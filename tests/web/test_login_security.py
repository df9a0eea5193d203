"""Logins and browser sessions under attack: guessing, enumeration, stolen cookies, framing,
and what an anonymous visitor sees when anonymous reading is off."""
from __future__ import annotations

import re

import pytest


def _csrf(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _login(client, username: str, password: str, address: str = "198.51.100.7"):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(client)},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_passwords_are_limited_per_name_and_address_then_even_the_right_one_waits(client, make_user):
    username, password = make_user("guessed", "editor")
    make_user("bystander", "editor")
    assert [_login(client, username, f"wrong-{i}").status_code for i in range(5)] == [401] * 5
    refused = _login(client, username, password)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    # Someone else, and the same name from another address, are not locked out.
    assert _login(client, "bystander", "correct horse battery").status_code == 302
    assert _login(client, username, password, address="203.0.113.9").status_code == 302


def test_the_per_account_limit_holds_across_addresses_and_workers(app, client, make_user, database_url):
    """A second app on the same database stands for another gunicorn worker."""
    from app import create_app
    from web.extensions import db_engine

    app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"] = "3 per hour"
    username, password = make_user("target", "translator")
    other_worker = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                               "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT_PER_ACCOUNT": "3 per hour"})
    try:
        other = other_worker.test_client()
        assert _login(client, username, "nope", "192.0.2.1").status_code == 401
        assert other.post("/login", data={"username": username, "password": "nope"},
                          environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 401
        assert _login(client, username, "nope", "192.0.2.3").status_code == 401
        refused = other.post("/login", data={"username": username, "password": password},
                             environ_base={"REMOTE_ADDR": "192.0.2.4"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 60
    finally:
        db_engine(other_worker).dispose()


def test_the_limit_speaks_the_readers_language(client, make_user):
    username, _password = make_user("zh-user", "translator")
    client.get("/lang/zh?next=/")
    for _ in range(5):
        _login(client, username, "wrong")
    refused = _login(client, username, "wrong")
    assert refused.status_code == 429 and "密码错误次数过多" in refused.get_data(as_text=True)


def test_an_unknown_user_costs_a_password_check_like_a_wrong_password(app, monkeypatch, make_user):
    """The answer for a user that does not exist must take as long as a wrong password: the same
    scrypt check runs (against a dummy hash) either way."""
    import accounts.service as service
    from db import new_session

    make_user("known", "translator")
    checked = []
    real = service.check_password_hash
    monkeypatch.setattr(service, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    with app.app_context():
        session = new_session()
        assert service.authenticate(session, "known", "wrong password") is None
        assert service.authenticate(session, "nobody-of-that-name", "wrong password") is None
        session.close()
    assert len(checked) == 2
    assert checked[0].split("$")[0] == checked[1].split("$")[0]  # same method and cost


def _copy_session(source, target) -> None:
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value)


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, make_user):
    username, password = make_user("victim", "editor")
    browser, thief = app.test_client(), app.test_client()
    assert _login(browser, username, password).status_code == 302
    _copy_session(browser, thief)
    assert thief.get("/tokens").status_code == 200  # the copy works while the session lives
    browser.post("/logout", data={"csrf_token": _csrf(browser)})
    assert thief.get("/tokens").status_code == 302
    assert "/login" in thief.get("/tokens").headers["Location"]
    # Logging in again makes a new session; the stolen copy stays dead.
    assert _login(browser, username, password).status_code == 302
    assert browser.get("/tokens").status_code == 200
    assert thief.get("/tokens").status_code == 302


def test_a_password_change_ends_every_session(app, runner, make_user):
    username, password = make_user("changer", "editor")
    browser = app.test_client()
    assert _login(browser, username, password).status_code == 302
    result = runner.invoke(args=["user", "password", username, "--password", "another long one"])
    assert result.exit_code == 0, result.output
    assert browser.get("/tokens").status_code == 302
    assert _login(browser, username, "another long one", address="203.0.113.50").status_code == 302


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/memories", "/static/style.css", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_template_has_inline_script_or_style():
    """The CSP allows scripts and styles from files only: an inline one would silently stop working."""
    from tests.helpers import ROOT

    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler in {template}"
        assert not re.search(r"\sstyle\s*=", html), f"inline style in {template}"
        assert "<style" not in html, f"<style> in {template}"
        for script in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in script or 'type="application/json"' in script, f"inline script in {template}"


def test_the_session_cookie_is_samesite_httponly_and_secure_when_configured(app, client, make_user, monkeypatch,
                                                                            database_url):
    from app import create_app
    from web.extensions import db_engine

    username, password = make_user("cookie", "translator")
    cookie = _login(client, username, password).headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    secure_app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                             "WTF_CSRF_ENABLED": False})
    try:
        response = secure_app.test_client().post("/login", data={"username": username, "password": password},
                                                 base_url="https://localhost")
        assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]
    finally:
        db_engine(secure_app).dispose()


#: What anyone may see with ANONYMOUS_READ=0: the way in, the language switch, the API's
#: description, static files (the favicon at /favicon.ico is one).
#: And what probes ask, which tells no data: whether the process is alive, and (without the
#: index's figures, tests/web/test_ops.py) whether it is ready.
PUBLIC_ENDPOINTS = {"accounts.login", "static", "home.favicon", "i18n.switch_language", "apiref.reference",
                    "apiref.openapi_json", "ops.healthz", "ops.readyz"}


def test_with_anonymous_read_off_no_page_or_feed_shows_data_to_a_stranger(app, client, token_for):
    client.post("/api/v1/memories", json={"name": "secret-memory"}, headers={
        "Authorization": f"Bearer {token_for('admin')}"})
    app.config["ANONYMOUS_READ"] = False
    leaks = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments - set(rule.defaults or {}) or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.get(rule.rule)
        if response.status_code < 300 or "secret-memory" in response.get_data(as_text=True):
            leaks.append(f"{rule.rule} -> {response.status_code}")
    assert not leaks
    home = client.get("/")
    assert home.status_code == 302 and "/login" in home.headers["Location"]
