"""Smoke test of ``python -m bench --quick``: it runs, and reports both targets and scenarios.

No timing assertions: figures on shared machines are noise; only that something was delivered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(out.read_text())["results"]
    seen = {(row["target"], row["scenario"]) for row in rows}
    assert seen == {(t, s) for t in ("baseline", "hearth") for s in ("S1", "S2")}
    assert all(row["delivered"] > 0 for row in rows)
