#!/usr/bin/env python3
"""Unit tests for perf/compare and perf/record.py on synthetic result files."""
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def load_module(name, path):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


compare = load_module("compare", os.path.join(HERE, "compare"))
record = load_module("record", os.path.join(HERE, "record.py"))


def result(**figures):
    """figures: name -> (shoal samples, peer samples or None, better)."""
    raw = []
    for name, (shoal, peer, better) in figures.items():
        for v in shoal:
            raw.append(f"{name} u {better} shoal {v}")
        for v in peer or []:
            raw.append(f"{name} u {better} qemu {v}")
    return {"schema": 1, "figures": record.build(raw)}


class CompareTest(unittest.TestCase):
    def run_cli(self, old, new):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, data in enumerate((old, new)):
                p = os.path.join(d, f"{i}.json")
                with open(p, "w", encoding="utf-8") as f:
                    if isinstance(data, str):
                        f.write(data)
                    else:
                        json.dump(data, f)
                paths.append(p)
            r = subprocess.run([sys.executable, os.path.join(HERE, "compare"), *paths],
                               capture_output=True, text=True, check=False)
            return r.returncode, r.stdout + r.stderr

    def test_five_percent_beyond_spread_is_flagged(self):
        old = result(mips=([100, 101, 99], [200, 200, 200], "higher"))
        new = result(mips=([95, 95.5, 94.5], [200, 200, 200], "higher"))
        rows = compare.compare(old, new)
        self.assertEqual(len(rows), 1)
        self.assertTrue(rows[0][5], rows)
        code, out = self.run_cli(old, new)
        self.assertEqual(code, 1, out)
        self.assertIn("REGRESSION", out)

    def test_change_within_spread_is_not_flagged(self):
        old = result(mips=([100, 110, 90], [200, 200, 200], "higher"))
        new = result(mips=([95, 105, 92], [200, 200, 200], "higher"))
        self.assertFalse(compare.compare(old, new)[0][5])
        code, out = self.run_cli(old, new)
        self.assertEqual(code, 0, out)

    def test_peer_slowdown_is_not_a_regression(self):
        # Both slowed down by 10% (a noisy machine): the ratio is unchanged.
        old = result(mips=([100, 100, 100], [200, 200, 200], "higher"))
        new = result(mips=([90, 90, 90], [180, 180, 180], "higher"))
        self.assertFalse(compare.compare(old, new)[0][5])

    def test_lower_is_better_orientation(self):
        old = result(rtt=([100, 100, 100], [1, 1, 1], "lower"))
        worse = result(rtt=([110, 110, 110], [1, 1, 1], "lower"))
        better = result(rtt=([90, 90, 90], [1, 1, 1], "lower"))
        self.assertTrue(compare.compare(old, worse)[0][5])
        self.assertFalse(compare.compare(old, better)[0][5])

    def test_figure_without_peer(self):
        old = result(boot=([2.0, 2.0, 2.01], None, "lower"))
        new = result(boot=([2.2, 2.2, 2.21], None, "lower"))
        self.assertTrue(compare.compare(old, new)[0][5])

    def test_bad_input(self):
        good = result(mips=([1], [1], "higher"))
        code, out = self.run_cli("{not json", good)
        self.assertEqual(code, 2)
        self.assertIn("cannot read", out)
        code, out = self.run_cli({"schema": 7}, good)
        self.assertEqual(code, 2)
        self.assertIn("not a schema-1", out)

    def test_record_rejects_malformed_raw(self):
        with self.assertRaises(ValueError):
            record.build(["mips MIPS sideways shoal 1"])
        with self.assertRaises(ValueError):
            record.build(["mips MIPS higher qemu 1"])


if __name__ == "__main__":
    unittest.main()
