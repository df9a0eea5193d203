"""What the TM's pages and its JSON APIs share (the web layer: it may use Flask)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.auth import check_permission
from common.errors import Forbidden
from common.messages import N_, Message
from tm import repository as repo


def check_may_write_into(session: Session, name: object, *, field: str = "memory") -> None:
    """Writing into a memory that does not exist creates it, and creating memories is the
    admin's: an editor (or an editor's write token) gets 403 naming the memory instead.
    The CLI is the operator and does not ask."""
    if not isinstance(name, str) or not name.strip() or repo.memory_by_name(session, name.strip()) is not None:
        return
    try:
        check_permission("admin")
    except Forbidden:
        raise Forbidden(Message(N_("There is no memory called {name!r}, and only an admin may create one: "
                                   "choose an existing memory or ask an admin to create it."),
                                name=name.strip()), field=field) from None
