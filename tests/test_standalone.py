"""The repository stands alone: no tracked file points a reader at notes kept outside it.

Private working notes (and a sibling ``shared`` directory) are not part of this repository, so a comment or
document that cites them sends the reader nowhere. Facts belong in place, or cite an upstream source.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Built from pieces so that this file does not match its own check.
FORBIDDEN = ("STACK" + "_NOTES", "HOUSE" + "_STYLE", "../" + "shared")


def _tracked_files() -> list[Path]:
    """Every file git tracks in this checkout (skips the test when git or the repository is absent)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    done = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / name for name in done.stdout.decode().split("\0") if name]


def test_no_tracked_file_cites_notes_outside_the_repository() -> None:
    offenders = []
    for path in _tracked_files():
        if not path.is_file():
            continue  # deleted in the working tree but still in the index
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if any(name in line for name in FORBIDDEN):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "cites notes that are not in this repository:\n" + "\n".join(offenders)
