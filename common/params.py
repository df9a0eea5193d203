"""Numbers and strings from requests (query strings, forms, JSON alike), checked in one place.

Every door parses its parameters with these, so an odd value gets the same clear 400 naming
the parameter wherever it is sent: infinities and NaN (``limit=inf``, ``1e999``, JSON
``Infinity``), digits Python's ``int`` reads but nobody types (``²``, ``١٢``), numbers too
large for a database column, JSON values of the wrong type, and lone surrogates (``"\\ud800"``
is valid JSON, but no database stores it and no encoder writes it). Request objects are not
touched here: the views pass values in, and the lookup service parses with these too.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from common.errors import DuizhaoError
from common.messages import N_, Message
from common.timeutil import parse_date

#: Whole numbers as people and programs write them: ASCII digits, an optional sign.
_WHOLE = re.compile(r"[+-]?[0-9]+")
#: Decimal numbers likewise; no "inf", "nan", "Infinity", underscores or other scripts' digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: More digits than any range a parameter accepts: reported as out of range without parsing.
_MAX_DIGITS = 30
#: What an error quotes of the value sent.
_SHOWN = 40
_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _SHOWN:
        return value[:_SHOWN] + "…"
    return value


def _error(template_parameter: str, template_field: str, name: str, field: bool, **values: Any) -> DuizhaoError:
    if field:
        return DuizhaoError(Message(template_field, field=name, **values), field=name)
    return DuizhaoError(Message(template_parameter, parameter=name, **values), parameter=name)


def _out_of_range(name: str, low: Any, high: Any, field: bool) -> DuizhaoError:
    return _error(N_("Parameter {parameter!r} must be between {low} and {high}."),
                  N_("Field {field!r} must be between {low} and {high}."), name, field, low=low, high=high)


def whole_number(value: Any, name: str, *, default: Any = None, low: int | None = None,
                 high: int | None = None, field: bool = False) -> Any:
    """``value`` (an int, a whole finite float, or a string of ASCII digits) as an int within
    [low, high]; ``default`` when absent (None or ""). ``field``: name it as a JSON field."""
    if value is None or value == "":
        return default
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, float) and math.isinf(value):
        raise _out_of_range(name, low, high, field)
    elif isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        digits = value.strip().lstrip("+-")
        if len(digits) > _MAX_DIGITS:
            raise _out_of_range(name, low, high, field)
        number = int(value.strip())
    if number is None:
        raise _error(N_("Parameter {parameter!r} must be a whole number, not {value!r}."),
                     N_("Field {field!r} must be a whole number, not {value!r}."), name, field,
                     value=_shown(value))
    if (low is not None and number < low) or (high is not None and number > high):
        raise _out_of_range(name, low, high, field)
    return number


def decimal_number(value: Any, name: str, *, default: Any = None, low: float, high: float,
                   field: bool = False) -> Any:
    """``value`` (an int, a float, or a decimal string) as a finite float within [low, high];
    ``default`` when absent (None or "")."""
    if value is None or value == "":
        return default
    number = math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value) if not isinstance(value, int) or abs(value) < 10**_MAX_DIGITS else math.inf
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()) and len(value.strip()) <= 2 * _MAX_DIGITS:
        number = float(value.strip())
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = math.inf
    if math.isnan(number):
        raise _error(N_("Parameter {parameter!r} must be a number, not {value!r}."),
                     N_("Field {field!r} must be a number, not {value!r}."), name, field, value=_shown(value))
    if not low <= number <= high:
        raise _error(N_("Parameter {parameter!r} must be between {low:g} and {high:g}."),
                     N_("Field {field!r} must be between {low:g} and {high:g}."), name, field, low=low, high=high)
    return number


def text(value: Any, name: str, *, default: Any = None, field: bool = False) -> Any:
    """``value`` if it is a string of valid Unicode text; ``default`` when None."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise _error(N_("Parameter {parameter!r} must be a string."), N_("Field {field!r} must be a string."),
                     name, field)
    check_unicode(value, name, field=field)
    return value


def date(value: Any, name: str, *, field: bool = False) -> dt.date | None:
    """``value`` as a date (ISO 8601, ``2024-05-31``); None when absent (None or "").

    A query or form parameter must be a string first (the usual 400 otherwise); a JSON field
    of another type (``20240531`` as a number) is answered as a date it is not.
    """
    if value is None or value == "":
        return None
    if not field:
        text(value, name)
    try:
        return parse_date(value)
    except ValueError:
        raise _error(N_("Parameter {parameter!r} must be YYYY-MM-DD, not {value!r}."),
                     N_("Field {field!r} must be a date as YYYY-MM-DD, not {value!r}."), name, field,
                     value=value) from None


def check_unicode(value: str, name: str, *, field: bool = False) -> None:
    """A 400 naming ``name`` when ``value`` holds a lone surrogate (not text: it cannot be
    stored or encoded)."""
    bad = _SURROGATE.search(value)
    if bad is not None:
        raise _error(N_("Parameter {parameter!r} is not valid Unicode: it holds a lone surrogate "
                        "(U+{code:04X}) at offset {offset}."),
                     N_("Field {field!r} is not valid Unicode: it holds a lone surrogate "
                        "(U+{code:04X}) at offset {offset}."),
                     name, field, code=ord(bad.group()), offset=bad.start())


def check_json_text(value: Any) -> None:
    """Every string of a parsed JSON document (keys too) is valid Unicode; the 400 names the
    field (its top-level key) and, in the message, where below it."""
    stack: list[tuple[str, str, Any]] = [("", "", value)]
    while stack:
        top, where, item = stack.pop()
        if isinstance(item, str):
            try:
                check_unicode(item, where or "body", field=True)
            except DuizhaoError as err:
                err.details["field"] = top or "body"
                raise
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                stack.append((top or str(key), name, key))
                stack.append((top or str(key), name, child))
        elif isinstance(item, list):
            stack.extend((top, f"{where}[{i}]", child) for i, child in enumerate(item))


def lenient_page(value: Any, *, most: int) -> int:
    """A page number for an HTML page: junk means the first page, and a page past ``most``
    the last one it serves (a link someone edited need not be an error page)."""
    try:
        page: int = whole_number(value, "page", default=1, low=1, high=most)
        return page
    except DuizhaoError:
        parsed = str(value).strip()
        return most if _WHOLE.fullmatch(parsed) and not parsed.startswith("-") else 1
