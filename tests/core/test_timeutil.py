"""The one reader of ISO dates and the one writer of API times."""
from __future__ import annotations

import datetime as dt

import pytest

from common import params
from common.errors import DuizhaoError
from common.timeutil import isoformat, parse_date


def test_isoformat_writes_what_the_api_always_wrote():
    moment = dt.datetime(2024, 5, 1, 8, 30)
    assert isoformat(moment) == moment.isoformat() + "Z" == "2024-05-01T08:30:00Z"
    with_micro = dt.datetime(2024, 5, 1, 8, 30, 0, 250000)
    assert isoformat(with_micro) == with_micro.isoformat() + "Z" == "2024-05-01T08:30:00.250000Z"
    assert isoformat(None) is None
    # A time with a zone is written in UTC with a Z, never as "+00:00Z".
    aware = dt.datetime(2024, 5, 1, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert isoformat(aware) == "2024-05-01T08:30:00Z"


def test_parse_date_reads_iso_dates_and_refuses_the_rest():
    assert parse_date("2024-05-31") == dt.date(2024, 5, 31)
    assert parse_date("20240531") == dt.date(2024, 5, 31)  # as date.fromisoformat always did
    for bad in ("May", "2024-13-01", "2024-05-31T08:00", "", 20240531, None):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_date_parameters_and_fields_name_themselves():
    assert params.date(None, "date") is None and params.date("", "date") is None
    assert params.date("2024-05-31", "date") == dt.date(2024, 5, 31)
    with pytest.raises(DuizhaoError) as info:
        params.date("May", "since")
    assert info.value.details == {"parameter": "since"}
    assert str(info.value.message) == "Parameter 'since' must be YYYY-MM-DD, not 'May'."
    with pytest.raises(DuizhaoError) as info:
        params.date(["2024-05-31"], "date")  # a parameter must be a string first
    assert "must be a string" in str(info.value.message)
    with pytest.raises(DuizhaoError) as info:
        params.date(20240531, "valid_from", field=True)
    assert info.value.details == {"field": "valid_from"}
    assert str(info.value.message) == "Field 'valid_from' must be a date as YYYY-MM-DD, not 20240531."
