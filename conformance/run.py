"""`python -m conformance.run`: Autobahn|Testsuite's fuzzing client (cases 1-10) against our echo route.

Steps, each under a timeout so the whole run is bounded (a few minutes at most, ~36 s of it the first
install):

1. Set up `.venv-autobahn/` if missing or stale: a small Python 3 helper venv holding `virtualenv<20.22`
   (the last line that creates 2.7 environments), then a CPython 2.7.18 virtualenv (pyenv's) with the pinned
   `autobahntestsuite==25.10.1` (the suite is Python 2 code; on Python 3 `wstest` dies at import). No
   Python 2.7: a clear error and exit status 2, never a silent pass.
2. Start `conformance.echo_server` (our `NetworkServer`, echo route on) on a free loopback port.
3. Run `wstest -m fuzzingclient -s spec.json`; `wstest` exits 0 even when cases fail, so:
4. read `reports/servers/index.json`, print the counts per behavior and behaviorClose, write
   `reports/summary.md`, and exit 1 on any FAILED behavior or FAILED / WRONG CODE / UNCLEAN (or FAILED BY
   CLIENT) close.

The server is always stopped. Logs: `conformance/reports/{server,wstest}.log`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "conformance"
VENV = ROOT / ".venv-autobahn"
HELPER = VENV / "helper"  # Python 3, holds virtualenv<20.22
PY27 = VENV / "py27"  # Python 2.7, holds autobahntestsuite
STAMP = PY27 / ".installed"
REPORTS = HERE / "reports"
OUTDIR = REPORTS / "servers"
PYTHON27_VERSION = "2.7.18"

INSTALL_TIMEOUT_S = 300.0  # one pip install
STEP_TIMEOUT_S = 120.0  # creating a venv
SERVER_START_TIMEOUT_S = 15.0
SERVER_STOP_TIMEOUT_S = 10.0
WSTEST_TIMEOUT_S = 300.0  # cases 1-10 take ~20-30 s

BEHAVIORS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
CLOSE_BEHAVIORS = ("OK", "INFORMATIONAL", "FAILED", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT")
#: The gate is an allow-list: FAILED, and FAILED / WRONG CODE / UNCLEAN / FAILED BY CLIENT closes (the client
#: had to drop TCP itself), or anything Autobahn might add, fail the run.
GOOD_BEHAVIORS = frozenset({"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED"})
GOOD_CLOSE_BEHAVIORS = frozenset({"OK", "INFORMATIONAL"})


class SetupError(Exception):
    """The run could not happen (no Python 2.7, an install failed, the server did not start)."""


def say(text: str = "") -> None:
    """One line on stdout, at once (make shows it as it comes)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def run_step(cmd: list[str], *, timeout: float, what: str, **kwargs: Any) -> None:
    """Run one setup command; raise SetupError (with its output's tail) if it fails or times out."""
    say(f"  {what}")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise SetupError(f"{what}: timed out after {timeout:.0f} s ({' '.join(cmd)})") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise SetupError(f"{what}: failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")


# ------------------------------------------------------------------------------------------ setup


def find_python27(explicit: str | None) -> Path:
    """The CPython 2.7 to build the Autobahn venv with: `--python27`, $AUTOBAHN_PYTHON27, or pyenv's."""
    candidates: list[Path] = []
    chosen = explicit or os.environ.get("AUTOBAHN_PYTHON27")
    if chosen:
        candidates.append(Path(chosen))
    else:
        pyenv_root = os.environ.get("PYENV_ROOT")
        if not pyenv_root and shutil.which("pyenv"):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                pyenv_root = subprocess.run(
                    ["pyenv", "root"], capture_output=True, text=True, timeout=10, check=True
                ).stdout.strip()
        for root in filter(None, (pyenv_root, str(Path.home() / ".pyenv"))):
            candidates.append(Path(root) / "versions" / PYTHON27_VERSION / "bin" / "python2.7")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                version = subprocess.run(
                    [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                    capture_output=True,
                    text=True,
                    timeout=10,
                    check=True,
                ).stdout.strip()
                if version == "2.7":
                    return candidate
    looked = ", ".join(str(c) for c in candidates) or "nowhere"
    raise SetupError(
        "Python 2.7 not found: Autobahn|Testsuite is Python 2 code and needs CPython 2.7 "
        f"(looked at: {looked}). Install it (`pyenv install {PYTHON27_VERSION}`) or point "
        "AUTOBAHN_PYTHON27 (or --python27) at a python2.7 executable. The conformance run did NOT pass."
    )


def fingerprint(python27: Path) -> str:
    """What the Autobahn venv was built from: the interpreter and both pin files."""
    digest = hashlib.sha256(str(python27).encode())
    for name in ("requirements-helper.txt", "requirements-autobahn.txt"):
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def ensure_autobahn(python27: Path) -> Path:
    """Create or refresh `.venv-autobahn/`; returns the `wstest` executable."""
    wstest = PY27 / "bin" / "wstest"
    stamp = fingerprint(python27)
    if wstest.exists() and STAMP.exists() and STAMP.read_text().strip() == stamp:
        return wstest
    say(f"setting up {VENV.relative_to(ROOT)}/ (Python 2.7 from {python27})")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    if not (HELPER / "bin" / "python").exists():
        run_step([sys.executable, "-m", "venv", str(HELPER)], timeout=STEP_TIMEOUT_S, what="helper venv")
    run_step(
        [
            str(HELPER / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            str(HERE / "requirements-helper.txt"),
        ],
        timeout=INSTALL_TIMEOUT_S,
        what="virtualenv<20.22 into the helper venv",
        env=env,
    )
    if PY27.exists():
        shutil.rmtree(PY27)
    run_step(
        [str(HELPER / "bin" / "virtualenv"), "--no-download", "-p", str(python27), str(PY27)],
        timeout=STEP_TIMEOUT_S,
        what="Python 2.7 virtualenv",
        env=env,
    )
    run_step(
        [str(PY27 / "bin" / "pip"), "install", "-q", "-r", str(HERE / "requirements-autobahn.txt")],
        timeout=INSTALL_TIMEOUT_S,
        what="autobahntestsuite==25.10.1 (pinned set) into the 2.7 venv",
        env=env,
    )
    if not wstest.exists():
        raise SetupError(f"the install finished but {wstest} does not exist")
    STAMP.write_text(stamp + "\n")
    return wstest


# ------------------------------------------------------------------------------------------ server


@contextlib.contextmanager
def echo_server(log: Path) -> Iterator[int]:
    """Our server in echo mode in a child process; yields its port; always stopped on the way out."""
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.echo_server", "--max-seconds", str(WSTEST_TIMEOUT_S + 120)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], SERVER_START_TIMEOUT_S)
            line = proc.stdout.readline() if ready else ""
            if not line.startswith("port "):
                raise SetupError(
                    f"the echo server did not start within {SERVER_START_TIMEOUT_S:.0f} s; see {log}"
                )
            yield int(line.split()[1])
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(SERVER_STOP_TIMEOUT_S)


def run_wstest(wstest: Path, port: int, timeout: float) -> None:
    """Write the spec for `port` and run the fuzzing client; raise SetupError if it dies or hangs."""
    spec = json.loads((HERE / "spec.json").read_text())
    spec["outdir"] = str(OUTDIR)
    spec["servers"][0]["url"] = f"ws://127.0.0.1:{port}/ws/autobahn?client_type=echo"
    spec_path = REPORTS / "spec.json"
    spec_path.write_text(json.dumps(spec, indent=2) + "\n")
    with (REPORTS / "wstest.log").open("w") as log:
        proc = subprocess.Popen(
            [str(wstest), "-m", "fuzzingclient", "-s", str(spec_path)],
            cwd=REPORTS,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SetupError(
                f"wstest did not finish within {timeout:.0f} s; see {REPORTS / 'wstest.log'}"
            ) from exc
    if code != 0:
        raise SetupError(f"wstest exited with {code}; see {REPORTS / 'wstest.log'}")


# ------------------------------------------------------------------------------------------ report


def case_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in case_id.split("."))


def read_results() -> dict[str, dict[str, Any]]:
    """{case id: result} from the one agent in `index.json` (with each non-OK case's own report merged)."""
    index_path = OUTDIR / "index.json"
    if not index_path.exists():
        raise SetupError(f"wstest wrote no report ({index_path} is missing)")
    index = json.loads(index_path.read_text())
    if len(index) != 1:
        raise SetupError(f"expected one agent in {index_path}, found {sorted(index)}")
    (cases,) = index.values()
    for result in cases.values():
        if (result["behavior"], result["behaviorClose"]) != ("OK", "OK") and result.get("reportfile"):
            detail = OUTDIR / result["reportfile"]
            if detail.exists():
                case = json.loads(detail.read_text())
                result["result"] = case.get("result", "")
                result["resultClose"] = case.get("resultClose", "")
    return dict(sorted(cases.items(), key=lambda item: case_key(item[0])))


def summarize(cases: dict[str, dict[str, Any]], seconds: float) -> tuple[str, bool]:
    """The markdown summary, and whether the run passes the gate."""
    behavior = Counter(r["behavior"] for r in cases.values())
    close = Counter(r["behaviorClose"] for r in cases.values())
    bad = {
        case_id: r
        for case_id, r in cases.items()
        if r["behavior"] not in GOOD_BEHAVIORS or r["behaviorClose"] not in GOOD_CLOSE_BEHAVIORS
    }
    passed = bool(cases) and not bad
    lines = [
        "# Autobahn|Testsuite: cases 1-10 against `client_type=echo`",
        "",
        f"{len(cases)} cases in {seconds:.1f} s (wstest run). Gate: **{'PASS' if passed else 'FAIL'}**",
        "",
        "| behavior | cases |",
        "|---|---:|",
        *(
            f"| {name} | {behavior.get(name, 0)} |"
            for name in (*BEHAVIORS, *sorted(set(behavior) - set(BEHAVIORS)))
        ),
        "",
        "| behaviorClose | cases |",
        "|---|---:|",
        *(
            f"| {name} | {close.get(name, 0)} |"
            for name in (*CLOSE_BEHAVIORS, *sorted(set(close) - set(CLOSE_BEHAVIORS)))
        ),
        "",
    ]
    odd = {case_id: r for case_id, r in cases.items() if (r["behavior"], r["behaviorClose"]) != ("OK", "OK")}
    if odd:
        lines += ["| case | behavior | behaviorClose | why (Autobahn's words) |", "|---|---|---|---|"]
        for case_id, r in odd.items():
            why = " / ".join(filter(None, (r.get("result", ""), r.get("resultClose", ""))))
            lines.append(f"| {case_id} | {r['behavior']} | {r['behaviorClose']} | {why.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines), passed


def main(argv: list[str] | None = None) -> int:
    """0: every case passes the gate; 1: some case does not; 2: the run could not happen."""
    parser = argparse.ArgumentParser(description="Autobahn|Testsuite cases 1-10 against the echo route.")
    parser.add_argument("--python27", help="a python2.7 executable (default: pyenv's 2.7.18)")
    parser.add_argument("--timeout", type=float, default=WSTEST_TIMEOUT_S, help="seconds for wstest")
    args = parser.parse_args(argv)
    try:
        wstest = ensure_autobahn(find_python27(args.python27))
        if REPORTS.exists():
            shutil.rmtree(REPORTS)
        REPORTS.mkdir(parents=True)
        with echo_server(REPORTS / "server.log") as port:
            say(f"echo server on 127.0.0.1:{port}; running wstest -m fuzzingclient (cases 1-10)")
            start = time.monotonic()
            run_wstest(wstest, port, args.timeout)
            seconds = time.monotonic() - start
        cases = read_results()
    except SetupError as exc:
        say(f"conformance: ERROR: {exc}")
        return 2
    summary, passed = summarize(cases, seconds)
    (REPORTS / "summary.md").write_text(summary)
    say(summary)
    where = (REPORTS / "summary.md").relative_to(ROOT), (OUTDIR / "index.html").relative_to(ROOT)
    say(f"summary: {where[0]}; full report: {where[1]}")
    if not passed:
        say("conformance: FAIL (a FAILED behavior, or a close other than OK / INFORMATIONAL)")
        return 1
    say("conformance: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
