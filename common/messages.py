"""Sentences for people, written in the Flask-free layers and translated at the edge.

The service layer and the format readers raise errors the user reads, but they cannot translate
them: they run without a request (the CLI, tests, benchmarks) and import nothing of Flask. So a
raise site marks its English template with ``N_`` (which only tells ``pybabel extract -k N_`` to
collect it) and passes a :class:`Message`::

    raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field="zh"))

A ``Message`` *is* the English sentence (a ``str``), so logs, ``str(err)``, the CLI and
comparisons in tests are unchanged; it also keeps its template and parameters, from which
``web.i18n.translate_message`` builds the sentence in the reader's language. Templates use
``str.format`` fields (``{name}``, ``{name!r}``, ``{count:,}``); a literal brace is doubled.

A parameter may itself be a ``Message`` (a phrase such as "the Chinese text", translated
first), or a :class:`Word`: a stored vocabulary value such as a role, shown through
``web.i18n.word``. Anything else is inserted as it is (names, numbers, what the user sent).

A message kept for later (an alignment job's warnings, stored in a JSON column) is stored as
``to_data(message)``, ``{"template": ..., "params": {...}}``, and read back with ``from_data``,
so it is translated when it is shown rather than in the language of whoever made it.

This module imports nothing but the standard library, so even the pure cores may use it.
"""
from __future__ import annotations

from typing import Any

__all__ = ["N_", "Message", "Word", "to_data", "from_data"]


def N_(template: str) -> str:
    """Mark ``template`` for extraction into the catalogue; returns it unchanged."""
    return template


class Message(str):
    """The English sentence ``template.format(**params)``, keeping ``template`` and ``params``."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Message:
        self = super().__new__(cls, template.format(**params))
        self.template = template
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # str's own pickling would rebuild from the finished sentence, treating it as a template
        # (a brace in a file name would then break it): rebuild from the parts instead.
        return _rebuild, (type(self), self.template, self.params)


class Word(str):
    """A stored vocabulary value (a role, a token scope, a status): the edge shows it through
    ``web.i18n.word``, so ``"editor"`` reads “编辑” in Chinese; in English it stays the value."""


def _rebuild(cls: type[Message], template: str, params: dict[str, Any]) -> Message:
    return cls(template, **params)


def to_data(text: str) -> dict[str, Any] | str:
    """``text`` in a JSON-ready form: a :class:`Message` as ``{"template", "params"}`` (a parameter
    that is a Message nested the same way, a :class:`Word` as ``{"word": value}``); any other
    string as it is. Parameters must be strings, numbers, booleans or None."""
    if isinstance(text, Message):
        params = {name: _param_data(value) for name, value in text.params.items()}
        return {"template": text.template, "params": params}
    return str(text)


def _param_data(value: Any) -> Any:
    if isinstance(value, Message):
        return to_data(value)
    if isinstance(value, Word):
        return {"word": str(value)}
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f"cannot store a message parameter of type {type(value).__name__}")


def from_data(data: Any) -> str:
    """The message ``to_data`` stored: a :class:`Message` again. A plain string (stored before
    messages were, or never one) comes back as it is; a dict that no longer makes a sentence
    (its template changed shape) as its template, which is better than no text."""
    if isinstance(data, dict) and isinstance(data.get("template"), str):
        stored = data.get("params")
        params = {name: _param_from_data(value) for name, value in stored.items()} if isinstance(stored, dict) else {}
        try:
            return Message(data["template"], **params)
        except (IndexError, KeyError, ValueError, TypeError):
            return str(data["template"])
    return "" if data is None else str(data)


def _param_from_data(value: Any) -> Any:
    if isinstance(value, dict):
        if isinstance(value.get("word"), str) and "template" not in value:
            return Word(value["word"])
        return from_data(value)
    return value
