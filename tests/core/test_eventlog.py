"""The event cursor keeps asking for ids a slow transaction has not committed yet."""
from common.eventlog import EventCursor


def test_an_id_committed_late_is_still_read():
    cursor = EventCursor(10, patience=60)
    cursor.advance([11, 14], now=0.0)  # 12 and 13 belong to transactions not yet committed
    assert cursor.wanted() == (14, [12, 13])
    cursor.advance([13, 15], now=5.0)  # 13 commits late: it is read and no longer wanted
    assert cursor.wanted() == (15, [12])


def test_a_hole_is_given_up_after_the_patience():
    cursor = EventCursor(0, patience=60)
    cursor.advance([2], now=0.0)  # 1 was rolled back and will never come
    cursor.advance([], now=61.0)
    assert cursor.wanted() == (2, [])
