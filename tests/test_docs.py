"""The user guide must not drift from the code.

- every command in ``pystage.cli.main.COMMANDS`` that exists has a section in
  docs/commands.md (one that does not exist yet must be marked "not yet available");
- every option of every command (and subcommand) appears in its section, and every
  option a section's tables or examples name really exists;
- the exit-code table matches ``pystage.errors``;
- every ``pystage ...`` command line in the guide and the README uses real
  commands and options;
- the guide builds with Sphinx ``-W`` (skipped when the docs extra is not installed).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from pystage.cli.main import ALIASES, COMMANDS, cli
from pystage.cli.options import _declarations
from pystage.errors import DEFAULT_EXIT_CODE, EXIT_CODES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
COMMANDS_MD = DOCS / "commands.md"
README = ROOT / "README.md"
NOT_YET = "not yet available"


def _opts(param: click.Parameter) -> list[str]:
    return [*param.opts, *getattr(param, "secondary_opts", [])]


def _global_option_names() -> set[str]:
    @click.command()
    def probe():
        pass

    for decl in _declarations():
        probe = decl(probe)
    return {o for p in probe.params for o in _opts(p)} | {"--version", "-h", "--help"}


GLOBAL_OPTS = _global_option_names()


def _command(name: str) -> click.Command | None:
    return cli.get_command(None, name)


def _available() -> list[str]:
    return [name for name in COMMANDS if _command(name) is not None]


def _walk(cmd: click.Command, path: tuple[str, ...]):
    """(path, command) for a command and, for a group, each of its subcommands."""
    yield path, cmd
    if isinstance(cmd, click.Group):
        for sub_name in cmd.list_commands(None):
            yield from _walk(cmd.get_command(None, sub_name), (*path, sub_name))


def _own_options(cmd: click.Command) -> list[str]:
    names = []
    for p in cmd.params:
        if isinstance(p, click.Option):
            names += [o for o in _opts(p) if o not in GLOBAL_OPTS]
    return names


def _sections(text: str, level: int) -> dict[str, str]:
    """'## `pystage name`' heading -> its text up to the next heading of that level or above."""
    marks = "#" * level
    pattern = re.compile(rf"^{marks} `pystage ([a-z ]+)`\s*$", re.M)
    out = {}
    heads = list(pattern.finditer(text))
    for m in heads:
        end = len(text)
        stop = re.compile(rf"^#{{1,{level}}} ", re.M).search(text, m.end())
        if stop:
            end = stop.start()
        out[m.group(1).strip()] = text[m.end() : end]
    return out


def _mentions(section: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section) is not None


COMMANDS_TEXT = COMMANDS_MD.read_text(encoding="utf-8")
TOP_SECTIONS = _sections(COMMANDS_TEXT, 2)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_a_section(name):
    if _command(name) is None:
        section = TOP_SECTIONS.get(name)
        assert section is None or NOT_YET in section, (
            f"`pystage {name}` is not importable, yet commands.md documents it as available"
        )
        return
    assert name in TOP_SECTIONS, f"docs/commands.md has no '## `pystage {name}`' section"


def _documented_commands():
    for name in _available():
        yield from _walk(_command(name), (name,))


@pytest.mark.parametrize(
    "path,cmd", [pytest.param(p, c, id=" ".join(p)) for p, c in _documented_commands()]
)
def test_every_option_is_documented(path, cmd):
    section = TOP_SECTIONS.get(path[0], "")
    if len(path) > 1:  # a subcommand has its own '###' section inside its group's
        section = _sections(section, 3).get(" ".join(path), "")
        assert section, f"docs/commands.md has no '### `pystage {' '.join(path)}`' section"
    missing = [o for o in _own_options(cmd) if not _mentions(section, o)]
    assert not missing, f"`pystage {' '.join(path)}` options missing from its section: {missing}"
    for p in cmd.params:
        if isinstance(p, click.Option) and isinstance(p.type, click.Choice):
            for choice in p.type.choices:
                assert _mentions(section, choice), (
                    f"choice {choice!r} of {p.opts[0]} is not documented for pystage {' '.join(path)}"
                )


def test_global_options_are_documented():
    section = COMMANDS_TEXT.split("## Global options", 1)[1].split("\n## ", 1)[0]
    missing = [o for o in sorted(GLOBAL_OPTS) if not _mentions(section, o)]
    assert not missing, f"global options missing from commands.md: {missing}"


def _known_options(path: tuple[str, ...]) -> set[str]:
    known = set(GLOBAL_OPTS)
    cmd = _command(path[0])
    for sub_path, sub in _walk(cmd, (path[0],)):
        if sub_path[: len(path)] == path[: len(sub_path)]:
            known |= {o for p in sub.params if isinstance(p, click.Option) for o in _opts(p)}
    return known


def test_option_tables_name_only_real_options():
    """A row of an options table ('| `--x ...` | ...') must name options the command has."""
    for name, section in TOP_SECTIONS.items():
        if _command(name) is None:
            continue
        known = _known_options((name,))
        for row in re.findall(r"^\| `(-[^|]*)\|", section, re.M):
            for opt in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", row):
                assert opt in known, (
                    f"commands.md documents {opt} for pystage {name}, which has no such option"
                )


def _exit_code_rows() -> dict[str, int]:
    section = COMMANDS_TEXT.split("## Exit codes", 1)[1]
    rows = {}
    for code, number in re.findall(r"^\| `(E[A-Z0-9]+)`[^|]*\| (\d+) \|", section, re.M):
        rows[code] = int(number)
    return rows


def test_exit_code_table_matches_errors_module():
    rows = _exit_code_rows()
    assert {k: v for k, v in rows.items() if k != "E5xx"} == EXIT_CODES
    assert re.search(rf"any code not listed below \| {DEFAULT_EXIT_CODE} \|", COMMANDS_TEXT)
    from pystage.errors import exit_code_for

    e5 = re.search(r"^\| `E5xx`[^|]*\| (\d+) \|", COMMANDS_TEXT, re.M)
    assert e5 and int(e5.group(1)) == exit_code_for("E502") == exit_code_for("E500")


def _command_lines(text: str):
    """`pystage ...` lines inside fenced code blocks (console prompts stripped)."""
    for lang, block in re.findall(r"^```([^\n]*)\n(.*?)^```", text, re.M | re.S):
        for line in block.splitlines():
            line = line.strip()
            if lang.strip() == "text":  # sample output, not commands
                continue
            if lang.strip() == "console":  # only the prompt lines are commands
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            for part in re.split(r"\s*(?:\|\||&&|\||;|\$\()\s*", line):
                if part.startswith("pystage "):
                    yield part.rstrip(")")


def _inline_command_spans(text: str):
    """`pystage ...` inline code spans in prose and tables (\\| is a table's escaped pipe)."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    for span in re.findall(r"(?<!`)`(pystage [^`]+)`(?!`)", prose):
        if not span.startswith(("pystage error", "pystage hint", "pystage notice")):  # output
            yield span.replace("\\|", "|")


def _doc_files():
    return sorted(DOCS.glob("*.md")) + [README, ROOT / "PYPI.md"]


@pytest.mark.parametrize("doc", _doc_files(), ids=lambda p: p.name)
def test_command_lines_in_examples_are_real(doc):
    """Every `pystage ...` example names real commands and options (or is marked not yet available)."""
    text = doc.read_text(encoding="utf-8")
    for line in [*_command_lines(text), *_inline_command_spans(text)]:
        try:
            words = shlex.split(line.split(" #", 1)[0])[1:]
        except ValueError:
            words = line.split()[1:]
        # synopsis lines: "[-f|--force]" names two options
        words = [w for word in words for w in word.strip("[]").split("|") if w]
        args = [w for w in words if not w.startswith("-")]
        if not args:
            continue
        name = ALIASES.get(args[0], args[0])
        if name in ("[DIRECTORY]",) or not re.match(r"^[a-z]+$", name):
            continue
        assert name in COMMANDS, f"{doc.name}: unknown command in example: {line}"
        cmd = _command(name)
        if cmd is None:
            continue  # documented as not yet available (checked above)
        path = [name]
        if isinstance(cmd, click.Group) and len(args) > 1:
            assert cmd.get_command(None, args[1]) is not None, (
                f"{doc.name}: unknown subcommand in example: {line}"
            )
            path.append(args[1])
        known = _known_options(tuple(path))
        for w in words:
            if w.startswith("-") and not re.match(r"^-\d", w):
                opt = w.split("=", 1)[0]
                if opt in ("-", "--"):
                    continue
                assert opt in known, (
                    f"{doc.name}: `pystage {' '.join(path)}` has no option {opt}: {line}"
                )


def test_readme_lists_every_command():
    section = README.read_text(encoding="utf-8").split("## Commands", 1)[1].split("\n## ", 1)[0]
    for name in _available():
        assert re.search(rf"`pystage {name}\b|/ `{name}`", section), (
            f"README's Commands section does not mention pystage {name}"
        )


def test_every_guide_page_is_in_the_toctree():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    toctree = index.split("```{toctree}", 1)[1].split("```", 1)[0]
    entries = {
        line.strip()
        for line in toctree.splitlines()
        if line.strip() and not line.strip().startswith(":")
    }
    pages = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    assert pages == entries


@pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None
    or importlib.util.find_spec("myst_parser") is None
    or importlib.util.find_spec("furo") is None,
    reason="the docs extra (sphinx, myst-parser, furo) is not installed",
)
@pytest.mark.timeout(120)
def test_docs_build_without_warnings(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-W",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "site"),
        ],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "site" / "commands.html").exists()


# -- output samples: the ones that need no registry are re-run and compared --------------

SAMPLE_PACKAGE = {
    "package.json": '{\n  "name": "@acme/greet",\n  "version": "1.1.0",\n'
    '  "description": "Says hello",\n  "main": "index.js",\n'
    '  "bin": { "greet": "bin/greet.js" },\n  "license": "MIT"\n}\n',
    "index.js": "module.exports = (n) => `hello ${n}`\n",
    "bin/greet.js": '#!/usr/bin/env node\nconsole.log(require("..")(process.argv[2]))\n',
    "README.md": "# greet\n\nSays hello.\n",
    "LICENSE": "MIT\n",
}
# compressed bytes depend on the zlib build, so these values are not compared
_VOLATILE = re.compile(r"^(shasum|integrity|package size): .*$", re.M)


def _sample_package(tmp_path) -> Path:
    pkg = tmp_path / "greet"
    for name, text in SAMPLE_PACKAGE.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    return pkg


def _console_sample(command: str) -> str:
    match = re.search(
        rf"^```console\n\$ {re.escape(command)}\n(.*?)^```", COMMANDS_TEXT, re.M | re.S
    )
    assert match, f"commands.md has no console sample of `{command}`"
    return match.group(1)


def test_pack_sample_is_real_output(tmp_path, run_pystage):
    pkg = _sample_package(tmp_path)
    result = run_pystage("pack", "--dry-run", cwd=pkg, env={"COLUMNS": "110"})
    assert result.returncode == 0, result.stderr
    shown = result.stderr + result.stdout  # the report is on stderr, the file name on stdout
    assert _VOLATILE.sub(r"\1: -", shown) == _VOLATILE.sub(
        r"\1: -", _console_sample("pystage pack")
    )


def test_pack_json_sample_has_the_real_keys(tmp_path, run_pystage):
    import json

    pkg = _sample_package(tmp_path)
    result = run_pystage("pack", "--dry-run", "--json", cwd=pkg)
    assert result.returncode == 0, result.stderr
    real = json.loads(result.stdout)[0]
    section = TOP_SECTIONS["pack"]
    block = re.search(r"^```js\n(\[.*?)^```", section, re.M | re.S).group(1)
    documented = re.findall(r'^    "(\w+)":', block, re.M)
    assert documented == list(real)
    for key in ("id", "name", "version", "unpackedSize", "filename", "entryCount"):
        assert re.search(rf'^    "{key}": {re.escape(json.dumps(real[key]))},?$', block, re.M), key


_NORMALIZE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<ID>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<DATE>"),
    (re.compile(r"sha512-[A-Za-z0-9+/=]+(\[\.\.\.\][A-Za-z0-9+/=]+)?"), "<SRI>"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "<SHA>"),
    (re.compile(r"http://127\.0\.0\.1:\d+/"), "<REGISTRY>"),
    (re.compile(r"^(package size): .*$", re.M), r"\1: -"),
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r" +$", re.M), ""),
]


def _normalize(text: str) -> str:
    for pattern, replacement in _NORMALIZE:
        text = pattern.sub(replacement, text)
    return text


def test_stage_command_samples_are_real_output(tmp_path, registry_server):
    """publish, list, view, download, approve and reject print what commands.md shows."""
    import os

    user = registry_server.add_user()
    registry_server.publish(user, "@acme/greet", "1.0.0")
    # enrolled after the first publish: three codes (enrol, approve, reject) fit in the
    # three steps the server accepts, so the test does not wait for the clock
    user = registry_server.enrol_2fa(user)
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    pkg = _sample_package(tmp_path)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "110", "npm_config_userconfig": str(npmrc)}
    env.pop("CI", None)

    def shown(*args, cwd=tmp_path) -> str:
        # stderr merged into stdout, in the order a terminal shows them
        result = subprocess.run(
            [sys.executable, "-m", "pystage", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout
        return result.stdout

    def same(command: str, real: str) -> None:
        assert _normalize(real) == _normalize(_console_sample(command))

    same("pystage publish", shown("publish", cwd=pkg))
    stage_id = re.search(r'"id": "([^"]+)"', shown("list", "--json")).group(1)
    same("pystage list", shown("list"))
    documented_id = re.search(r"^\$ pystage view (\S+)$", COMMANDS_TEXT, re.M).group(1)
    same(f"pystage view {documented_id}", shown("view", stage_id))
    same(f"pystage download {documented_id}", shown("download", stage_id))
    same(
        f"pystage approve {documented_id} --otp 123456",
        shown("approve", stage_id, "--otp", registry_server.totp_code(user)),
    )
    (pkg / "package.json").write_text(SAMPLE_PACKAGE["package.json"].replace("1.1.0", "1.2.0"))
    shown("publish", "--quiet", cwd=pkg)
    second = re.search(r'"id": "([^"]+)"', shown("list", "--json")).group(1)
    reject_cmd = re.search(r"^\$ (pystage reject \S+ --otp 123456)$", COMMANDS_TEXT, re.M).group(1)
    same(reject_cmd, shown("reject", second, "--otp", registry_server.totp_code(user)))
