import typing
import unittest

import schedule as sch


class ScheduleTest(unittest.TestCase):
    def make(self):
        cal = sch.Calendar("work")
        cal.add(600, 660, "standup").add(540, 570, "mail").add(720, 780, "lunch")
        return cal

    def test_add(self):
        cal = self.make()
        self.assertEqual([s.label for s in cal.slots], ["mail", "standup", "lunch"])
        with self.assertRaisesRegex(ValueError, "review overlaps standup"):
            cal.add(650, 700, "review")
        cal.add(660, 700, "adjacent")
        self.assertEqual(cal.find("adjacent").start, 660)
        with self.assertRaisesRegex(ValueError, "empty slot x"):
            cal.add(5, 5, "x")

    def test_free_find(self):
        cal = self.make()
        self.assertEqual(cal.free(480, 800), [(480, 540), (570, 600), (660, 720), (780, 800)])
        self.assertEqual(cal.free(600, 700), [(660, 720)])
        self.assertEqual(sch.Calendar("x").free(), [(0, 1440)])
        self.assertEqual(cal.find("lunch"), (720, 780, "lunch"))
        self.assertIsNone(cal.find("gym"))

    def test_helpers(self):
        cal = self.make()
        other = sch.Calendar("home").add(1000, 1030, "lunch")
        self.assertEqual(sch.total_by_label([cal, other]),
                         {"mail": 30, "standup": 60, "lunch": 90})
        self.assertEqual(sch.labels(cal), {"mail", "standup", "lunch"})
        self.assertEqual(sch.duration(cal.slots[0]), 30)
        self.assertEqual(sch.hhmm(605.7), "10:05")
        self.assertEqual(sch.parse_hhmm(" 09:30 "), 570)
        self.assertIsNone(sch.parse_hhmm("25:00"))
        self.assertEqual(sch.agenda(cal), ["09:00-09:30 mail", "10:00-11:00 standup",
                                           "12:00-13:00 lunch"])

    def test_annotations_resolve(self):
        hints = typing.get_type_hints(sch.Calendar.free)
        self.assertIn("return", hints)
        self.assertEqual(typing.get_type_hints(sch.agenda)["calendar"], sch.Calendar)
        self.assertEqual(typing.get_type_hints(sch.parse_hhmm)["return"], typing.Optional[int])


if __name__ == "__main__":
    unittest.main()
