"""The examples in docs/*.md run, so the documentation cannot drift from the code.

Each Markdown file is one test. Its fenced blocks run in order in a fresh working directory
(holding a link to the repository's ``captures/``), sharing one Python namespace:

- ``python``: executed;
- any block whose info string has ``file=NAME`` (``toml file=scene.toml``): written to NAME;
- ``console``: every ``$ keyguard ...`` line runs the CLI in-process (other ``$`` lines run in
  bash). A trailing ``# exit N`` states the expected exit status (default 0); ``> FILE`` sends
  standard output to FILE. The lines shown after a command are its expected output: each must
  match some line of the real standard output or error, runs of spaces compared as one and
  ``...`` standing for any text.

Blocks that cannot run here (a real dongle, long renders, fragments) use another info string
(``console-norun``, ``text``, ``sh``) or the flag ``norun`` (``python norun``) and are not run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,})(?P<info>[^`]*)$")
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


@dataclass
class Block:
    """One fenced block: info-string language, attributes (``file=NAME``), body, first line."""

    lang: str
    attrs: dict
    body: str
    line: int
    norun: bool = False


@dataclass
class Command:
    argv: list[str]
    exit_status: int
    stdout_file: str | None
    expected: list[str] = field(default_factory=list)
    line: int = 0
    text: str = ""


def parse_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        words = info.split()
        lang = words[0] if words else ""
        attrs = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        norun = "norun" in words[1:]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j])
            j += 1
        blocks.append(Block(lang, attrs, "\n".join(body) + "\n", i + 2, norun))
        i = j + 1
    return blocks


def parse_console(block: Block) -> list[Command]:
    """The ``$`` commands of a console block with their expected output lines."""
    cmds: list[Command] = []
    lines = block.body.splitlines()
    k = 0
    while k < len(lines):
        line = lines[k]
        if not line.startswith("$ "):
            if cmds and line.strip():
                cmds[-1].expected.append(line)
            k += 1
            continue
        text, first = line[2:], k
        while text.endswith("\\") and k + 1 < len(lines):
            k += 1
            text = text[:-1] + " " + lines[k].strip()
        m = _EXIT.search(text)
        status = int(m.group(1)) if m else 0
        words = shlex.split(text, comments=True)
        out = None
        if ">" in words:
            at = words.index(">")
            out = words[at + 1]
            words = words[:at] + words[at + 2:]
        cmds.append(Command(words, status, out, line=block.line + first, text=text))
        k += 1
    return cmds


def _pattern(expected: str) -> re.Pattern:
    parts = [re.escape(" ".join(p.split())) for p in expected.strip().split("...")]
    return re.compile(".*".join(parts))


def check_output(cmd: Command, out: str, err: str, where: str) -> None:
    actual = [" ".join(x.split()) for x in (out + "\n" + err).splitlines()]
    for exp in cmd.expected:
        pat = _pattern(exp)
        if not any(pat.fullmatch(a) for a in actual):
            raise AssertionError(f"{where}: `{cmd.text}` printed no line like\n    {exp}\n"
                                 f"stdout:\n{out}\nstderr:\n{err}")


def run_console(block: Block, run_cli, doc: str) -> None:
    for cmd in parse_console(block):
        here = f"{doc}:{cmd.line}"
        if cmd.argv and cmd.argv[0] == "keyguard":
            status, out, err = run_cli(*cmd.argv[1:])
        else:
            proc = subprocess.run(["bash", "-c", shlex.join(cmd.argv)], capture_output=True,
                                  text=True, timeout=120)
            status, out, err = proc.returncode, proc.stdout, proc.stderr
        if cmd.stdout_file:
            Path(cmd.stdout_file).write_text(out, encoding="utf-8")
        assert status == cmd.exit_status, (
            f"{here}: `{cmd.text}` exited {status}, the docs say {cmd.exit_status}\n"
            f"stdout:\n{out}\nstderr:\n{err}")
        check_output(cmd, out, err, here)


def _doc_files() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md")
                  if any(_runs(b) for b in parse_blocks(p.read_text(encoding="utf-8"))))


def _runs(b: Block) -> bool:
    return not b.norun and (b.lang in ("python", "console") or "file" in b.attrs)


@pytest.mark.parametrize("doc", _doc_files(), ids=lambda p: p.name)
def test_doc_examples_run(doc: Path, tmp_path: Path, monkeypatch, run_cli) -> None:
    os.symlink(REPO / "captures", tmp_path / "captures")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs.{doc.stem}"}
    for block in parse_blocks(doc.read_text(encoding="utf-8")):
        where = f"docs/{doc.name}:{block.line}"
        if not _runs(block):
            continue
        if "file" in block.attrs:
            target = Path(block.attrs["file"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
        elif block.lang == "python":
            exec(compile(block.body, where, "exec"), namespace)
        elif block.lang == "console":
            run_console(block, run_cli, f"docs/{doc.name}")


# -- the runner itself --------------------------------------------------------------------
def test_parser_reads_commands_status_redirects_and_output() -> None:
    text = ("intro\n```console\n$ keyguard scan a.cu8 \\\n    --format jsonl > out.jsonl  # exit 1\n"
            "$ keyguard info a.cu8\n  format       cu8\n```\n\n```toml file=s.toml\nname = 'x'\n```\n"
            "```console-norun\n$ keyguard monitor --device 0\n```\n"
            "```python norun\nengine.observe(burst)\n```\n")
    blocks = parse_blocks(text)
    assert [(b.lang, b.attrs) for b in blocks] == [("console", {}), ("toml", {"file": "s.toml"}),
                                                    ("console-norun", {}), ("python", {})]
    assert [_runs(b) for b in blocks] == [True, True, False, False]
    scan, info = parse_console(blocks[0])
    assert scan.argv == ["keyguard", "scan", "a.cu8", "--format", "jsonl"]
    assert (scan.exit_status, scan.stdout_file, scan.line) == (1, "out.jsonl", 3)
    assert info.exit_status == 0 and info.expected == ["  format       cu8"]
    assert blocks[1].body == "name = 'x'\n"


def test_output_check_uses_ellipsis_and_fails_on_a_missing_line() -> None:
    cmd = Command(["keyguard"], 0, None, expected=["1 capture(s), ... in ... s"])
    check_output(cmd, "1 capture(s), 3 packet(s) in  0.4 s\n", "", "here")
    cmd.expected = ["2 capture(s), ... in ... s"]
    with pytest.raises(AssertionError, match="printed no line like"):
        check_output(cmd, "1 capture(s), 3 packet(s) in 0.4 s\n", "", "here")


def test_every_doc_link_points_at_a_file() -> None:
    missing = []
    for doc in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = (doc.parent / target).resolve()
            # links out of the repository (the shared contract) may be absent in a checkout
            if path.is_relative_to(REPO) and not path.exists():
                missing.append(f"{doc.name} -> {target}")
    assert not missing, "broken links: " + ", ".join(missing)
