"""repo.unit_texts, which a lookup's fragment step reads its sampled units with: the units
asked that exist, with their memory's name, however many statements the ids take; the ids go
as a list on SQLite and as one array on PostgreSQL."""
from __future__ import annotations

import pytest

from db import new_session
from tm import repository as repo


@pytest.mark.parametrize("per_query", [30_000, 2])
def test_unit_texts_gives_the_units_asked_that_exist(app, monkeypatch, per_query):
    monkeypatch.setattr(repo, "_IDS_PER_QUERY", per_query)
    with app.app_context(), new_session() as session:  # closed even when an assert fails
        news, other = repo.get_or_create_memory(session, "news"), repo.get_or_create_memory(session, "other")
        made = [repo.create_unit(session, memory, {"zh": f"第{k}句。", "en": f"Sentence {k}."}, user="me")[0]
                for k, memory in enumerate([news, news, other, news, other])]
        not_asked = repo.create_unit(session, other, {"zh": "别的句子。", "en": "Another sentence."}, user="me")[0]
        session.flush()
        gone = made[3].id
        repo.delete_unit(session, made[3], user="me")
        session.commit()
        asked = sorted([unit.id for unit in made] + [max(unit.id for unit in made) + 100])
        rows = sorted(repo.unit_texts(session, asked))
        assert rows == [(unit.id, unit.zh, unit.en, name)
                        for unit, name in zip(made, ["news", "news", "other", "news", "other"], strict=True)
                        if unit.id != gone]
        assert not_asked.id not in {row[0] for row in rows}
        assert repo.unit_texts(session, []) == []
