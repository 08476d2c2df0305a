"""The README's code blocks, and running them as a new user would: in a folder where the README's
demo command has run (``data`` is the demo root), with ``.venv/bin/`` meaning this interpreter's
bin folder. Used by the tests that hold the README to "every command runs as written"
(tests/e2e/test_readme_commands.py, test_readme_finance.py) and by the browser test, which runs
the README's UI command.

A block is marked by the HTML comment on the line above its fence: ``<!-- demo-command -->`` and
``<!-- test-command -->`` are the two setup commands (CI runs them as written), and
``<!-- not-run: why; what runs it instead -->`` a block a test cannot run as a step (it starts a
server, or runs the test suite).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import copy_demo

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SETUP_MARKERS = ("demo-command", "test-command")
_FENCE = re.compile(r"^( *)```(\w*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of the README: its language, its text (dedented), the line of its
    opening fence, the heading it is under, and the marker comment above it ("" if none)."""

    lang: str
    body: str
    line: int
    section: str
    marker: str

    @property
    def not_run(self) -> str | None:
        """Why the block is not run as a step (the text after ``not-run:``), else None."""
        return self.marker.removeprefix("not-run:").strip() if self.is_not_run else None

    @property
    def is_not_run(self) -> bool:
        return self.marker.startswith("not-run:")

    @property
    def is_setup(self) -> bool:
        return self.marker in SETUP_MARKERS


def readme_blocks(text: str | None = None) -> list[Block]:
    """Every fenced block of the README, in order."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks, section, i = [], "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        opening = _FENCE.match(line)
        if not opening:
            i += 1
            continue
        indent, lang = opening.groups()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        above = _MARKER.match(lines[i - 1]) if i else None
        body = textwrap.dedent("\n".join(lines[i + 1 : end])) + "\n"
        blocks.append(Block(lang, body, i + 1, section, above.group(1) if above else ""))
        i = end + 1
    return blocks


def between(blocks: list[Block], first: str, last: str) -> list[Block]:
    """The blocks from the heading that starts with ``first`` up to (not including) ``last``."""
    text = README.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(text, 1) if line.startswith(first))
    stop = next(n for n, line in enumerate(text, 1) if line.startswith(last) and n > start)
    return [b for b in blocks if start < b.line < stop]


def demo_workdir(demo_folder: Path, work: Path) -> Path:
    """``work`` after the README's demo command: a copy of the shared demo folder (the
    ``demo_folder`` fixture: ``data`` is the demo root, ``.dagster`` its instance); the README's
    relative paths to the repository's files (requirements.lock, pyproject.toml) resolve."""
    copy_demo(demo_folder, work)
    for name in ("requirements.lock", "pyproject.toml"):
        (work / name).symlink_to(REPO / name)
    return work


def bin_dir() -> str:
    """This interpreter's bin folder, with a trailing slash: what ``.venv/bin/`` stands for."""
    return str(Path(sys.executable).parent) + "/"


def environment() -> dict[str, str]:
    """The user's environment without ``$DAGSTER_HOME`` (the CLI then uses ``.dagster/`` beside
    the root, as after the README's setup), running this checkout's code. The venv is not on
    PATH, as after the README's setup: a block says ``.venv/bin/``."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["PYTHONPATH"] = str(REPO)
    return env


def shell_script(body: str) -> str:
    """A block as a script for this machine: ``.venv/bin/`` is this interpreter's bin folder; a
    ``pip install`` is only resolved (``--dry-run``), never installed into the test's venv."""
    script = body.replace(".venv/bin/", bin_dir())
    if "pip install" in script:
        script = script.replace("pip install", "pip install --dry-run --no-deps").replace(
            "-e '.[", f"-e '{REPO}["
        )
    return script


def run_block(lang: str, body: str, workdir: Path, timeout: float = 600):
    """Run one block as written in ``workdir``; the finished process (output captured)."""
    if lang == "python":
        command = [sys.executable, "-c", body]
    else:
        command = ["bash", "-euo", "pipefail", "-c", shell_script(body)]
    return subprocess.run(
        command,
        cwd=workdir,
        capture_output=True,
        text=True,
        env=environment(),
        timeout=timeout,
    )


def shown_output(body: str) -> list[str]:
    """The output a sh block shows as comments after its last command (``# 2026-09 USD: …``)."""
    lines = body.rstrip("\n").splitlines()
    shown = []
    for line in reversed(lines):
        if not line.startswith("# "):
            break
        shown.append(line.removeprefix("# "))
    return shown[::-1]
