"""`bench.jsonlines.JsonLines`: the reports a child process writes on stdout, read with bounded waits."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.jsonlines import JsonLines

CHILD = "import sys; print('{\"a\": 1}'); print(); print('{\"b\": 2}'); sys.stdout.flush(); sys.stdin.read()"


def test_reports_in_order_blank_lines_skipped_then_none_when_the_child_exits():
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdin is not None
    lines = JsonLines(child.stdout, name="test-child")
    try:
        assert lines.next(10.0) == {"a": 1}
        assert lines.next(10.0) == {"b": 2}
        with pytest.raises(TimeoutError):  # the child waits on its stdin: nothing more comes
            lines.next(0.05)
        child.stdin.close()
        assert lines.next(10.0) is None  # its stdout ended
    finally:
        child.kill()
        child.wait(10.0)
        lines.join(10.0)
    assert not lines.alive
