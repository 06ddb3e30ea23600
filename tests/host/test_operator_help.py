"""Every operator tool answers --help: exit 0, each option explained, the description whole,
and nothing made in the folder it runs in (no broker, plot folder or report)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from host_tools.paths import ROOT

TOOLS = ["host_tools.monitor", "host_tools.plan", "host_tools.report",
         "host_tools.report.dispatch", "host_tools.fleet"]
OPTION = re.compile(r"^  (-\w, )?--[\w-]+")


@pytest.mark.parametrize("module", TOOLS)
def test_help(module, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", module, "--help"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(tmp_path.iterdir()) == [], f"{module} --help made files"
    out = r.stdout
    assert out.startswith(f"usage: python -m {module}"), out
    # the description: the docstring's first paragraph, whole (it ends a sentence)
    description = out.split("\n\n")[1]
    assert description.rstrip().endswith("."), description
    # every option has its help text, on its line or the next (indented further)
    lines = out.split("options:")[1].splitlines()
    for i, line in enumerate(lines):
        if OPTION.match(line) and "--help" not in line:
            rest = OPTION.sub("", line).split(None, 1)
            has_text = len(rest) > 1 or (
                i + 1 < len(lines) and lines[i + 1].startswith(" " * 8)
                and not OPTION.match(lines[i + 1]))
            assert has_text, f"{module}: no help for {line.strip()}"
