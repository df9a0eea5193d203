"""What the glossary's pages and its JSON API share (the web layer: it may use Flask)."""
from __future__ import annotations

from web.i18n import translate_message


def issues_for_reader(issues: list[dict]) -> list[dict]:
    """QA issues with their sentences in the reader's language; what programs read (kind,
    severity, spans, terms) stays as it is."""
    return [dict(issue, message=translate_message(issue["message"])) for issue in issues]
