"""`graphport` subprocesses as a user runs them (dev, serve, worker): output in files (no
pipe to fill up), bounded waits for start-up, SIGINT to stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx

from graphport.server.settings import Settings, env_names

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "langgraph.json"
START_TIMEOUT = 90.0  # importing langgraph on a busy 2-core machine takes a while
STOP_TIMEOUT = 30.0
T = TypeVar("T")
SETTING_VARIABLES = frozenset(n for field in Settings.model_fields for n in env_names(field))


def graphport_command() -> list[str]:
    exe = Path(sys.executable).with_name("graphport")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "graphport.server.cli"]


class Graphport:
    """One `graphport <command>` subprocess."""

    def __init__(
        self,
        command: str,
        args: list[str],
        workdir: Path,
        name: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.out_path = workdir / f"{name}.stdout"
        self.err_path = workdir / f"{name}.stderr"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for inherited in SETTING_VARIABLES:  # each test says what it means to set
            full_env.pop(inherited, None)
        # A stopped test process hands its runs back at once unless a test asks for a
        # grace period (the default of 30 s would only slow teardowns).
        full_env.setdefault("GRAPHPORT_SHUTDOWN_GRACE_SECONDS", "0")
        if command == "serve":  # binds every interface by default; tests stay on loopback
            full_env["GRAPHPORT_HOST"] = "127.0.0.1"
        full_env.update(env or {})
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [*graphport_command(), command, *args],
                stdout=out,
                stderr=err,
                cwd=workdir,
                env=full_env,
            )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def _until(self, found: Callable[[], T | None], timeout: float, what: str) -> T:
        """Poll `found` until it returns something, the process exits, or time is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = found()
            if value is not None:
                return value
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}: {self.stderr}")
            time.sleep(0.1)
        raise AssertionError(f"{what} in {timeout}s: {self.stdout} {self.stderr}")

    def url(self, timeout: float = START_TIMEOUT) -> str:
        """The URL it printed, once printed."""

        def printed() -> str | None:
            for line in self.stdout.splitlines():
                if line.startswith("Graphport http"):
                    return line.split()[1]
            return None

        return self._until(printed, timeout, "no URL printed")

    def wait_for_output(self, text: str, timeout: float = START_TIMEOUT) -> None:
        """Until `text` appears in its stderr (logs) or stdout."""
        self._until(
            lambda: True if text in self.stderr or text in self.stdout else None,
            timeout,
            f"{text!r} not printed",
        )

    def wait_ok(self, url: str, timeout: float = START_TIMEOUT) -> None:
        def ok() -> bool | None:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    return True
            return None

        self._until(ok, timeout, "/ok not reachable")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        return self.proc.returncode

    def kill(self) -> None:
        """Die without a word, as a crashed machine would: no lease released."""
        self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def graphport(
    command: str, args: list[str], workdir: Path, name: str, env: dict[str, str] | None = None
) -> Iterator[Graphport]:
    p = Graphport(command, args, workdir, name, env)
    try:
        yield p
    finally:
        p.stop()


def dev(args: list[str], workdir: Path, name: str) -> contextlib.AbstractContextManager[Graphport]:
    return graphport("dev", args, workdir, name)
