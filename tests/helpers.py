"""Small things tests share."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WMT = SHARED / "data" / "parallel" / "wmt_newstest_zh_en"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_shared(path: Path = SHARED) -> None:
    """Tests on real data read it in place from ../shared. Without it a test skips on a
    developer's machine and FAILS under CI=true, as the PostgreSQL and browser tests do, so a
    green CI always means the real-data tests ran."""
    if path.exists():
        return
    if IN_CI:
        pytest.fail(f"../shared data is required under CI=true: {path} not found")
    pytest.skip(f"shared data not found at {path}")


#: Marks a test that reads ../shared (see ``require_shared``).
needs_shared = pytest.mark.usefixtures("shared_data")


def make_memory(app, name: str) -> None:
    """An empty memory called ``name`` (only an admin may create one through the web)."""
    from db import new_session
    from tm import repository

    with app.app_context():
        session = new_session()
        repository.get_or_create_memory(session, name)
        session.commit()
        session.close()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def wmt_pairs(limit: int, name: str = "newstest2019.zho-eng") -> list[tuple[str, str]]:
    """Real news sentence pairs, read in place from ../shared (never copied into the repo)."""
    require_shared(WMT)
    zh = (WMT / f"{name}.zh").read_text(encoding="utf-8").splitlines()
    en = (WMT / f"{name}.en").read_text(encoding="utf-8").splitlines()
    return [(z.strip(), e.strip()) for z, e in zip(zh, en) if z.strip() and e.strip()][:limit]
