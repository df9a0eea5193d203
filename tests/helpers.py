"""Small things tests share."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WMT = SHARED / "data" / "parallel" / "wmt_newstest_zh_en"


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def wmt_pairs(limit: int, name: str = "newstest2019.zho-eng") -> list[tuple[str, str]]:
    """Real news sentence pairs, read in place from ../shared (never copied into the repo)."""
    zh = (WMT / f"{name}.zh").read_text(encoding="utf-8").splitlines()
    en = (WMT / f"{name}.en").read_text(encoding="utf-8").splitlines()
    return [(z.strip(), e.strip()) for z, e in zip(zh, en) if z.strip() and e.strip()][:limit]
