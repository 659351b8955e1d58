from typing import Dict, List, Optional, Tuple, Union, Set, Text
from collections import namedtuple
import datetime

Slot = namedtuple("Slot", ["start", "end", "label"])

Minutes = Union[int, float]


class Calendar(object):
    def __init__(self, name):
        # type: (str) -> None
        self.name = name
        self.slots = []  # type: List[Slot]

    def add(self, start: int, end: int, label: Text) -> "Calendar":
        if end <= start:
            raise ValueError("empty slot %s" % label)
        for s in self.slots:
            if s.start < end and start < s.end:
                raise ValueError("%s overlaps %s" % (label, s.label))
        self.slots.append(Slot(start, end, label))
        self.slots.sort()
        return self

    def free(self, day_start: int = 0, day_end: int = 24 * 60) -> List[Tuple[int, int]]:
        result = []  # type: List[Tuple[int, int]]
        cursor = day_start
        for s in self.slots:
            if s.start > cursor:
                result.append((cursor, s.start))
            cursor = max(cursor, s.end)
        if cursor < day_end:
            result.append((cursor, day_end))
        return result

    def find(self, label: str) -> Optional[Slot]:
        for s in self.slots:
            if s.label == label:
                return s
        return None


def duration(slot: Slot) -> Minutes:
    return slot.end - slot.start


def total_by_label(calendars: List[Calendar]) -> Dict[str, int]:
    totals = {}  # type: Dict[str, int]
    for cal in calendars:
        for s in cal.slots:
            totals[s.label] = totals.get(s.label, 0) + duration(s)
    return totals


def labels(calendar: Calendar) -> Set[str]:
    return set(s.label for s in calendar.slots)


def hhmm(minutes: Union[int, float]) -> str:
    minutes = int(minutes)
    return "%02d:%02d" % (minutes // 60, minutes % 60)


def parse_hhmm(text: str) -> Optional[int]:
    try:
        t = datetime.datetime.strptime(text.strip(), "%H:%M")
    except ValueError:
        return None
    return t.hour * 60 + t.minute


def agenda(calendar: "Calendar") -> List[str]:
    return ["%s-%s %s" % (hhmm(s.start), hhmm(s.end), s.label) for s in calendar.slots]
