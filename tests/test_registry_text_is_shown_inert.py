"""Registry text reaches the terminal only through ``render.safe`` (control characters,
terminal escapes, bidi overrides shown escaped) and, for Rich, as ``Text`` (never read
as markup or emoji codes). One test per output path, each fed the same hostile strings;
the end-to-end versions over sockets are in test_hostile_registry.py."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from types import SimpleNamespace

import pytest

from pystage.errors import PystageError
from pystage.render import print_error, print_json, print_traceback, registry_text, safe
from pystage.render.auth import AuthRenderer
from pystage.render.escape import escape_json_text, escape_registry_text
from pystage.render.stage import StageRenderer

ESC = "\x1b[2J\x1b[1;1H"
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
CR = "fine\rEVIL"
BIDI = "abc\u202eexe.txt\u2066x\u2069"
C1 = "\x9b31m\x85"
MARKUP = "github-actions[bot] [link=http://evil.example/]click[/link] [bold red]x[/] :smile:"
HOSTILE = [ESC, OSC8, CR, BIDI, C1, "\ud800", "tag\U000e0041", "zero\u200bwidth", "\u2028"]
# what a terminal acts on or what reorders/hides text
ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> bool:
    return not ACTIVE.search(text) and not re.search("[\ud800-\udfff\U000e0000-\U000e007f]", text)


# -- the escaping rule ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", HOSTILE, ids=["esc", "osc8", "cr", "bidi", "c1", "surrogate", "tag", "zwsp", "ls"]
)
def test_hostile_text_is_escaped_visibly(text):
    shown = escape_registry_text(text)
    assert inert(shown)
    assert shown != text and "\\" in shown  # visible, not silently dropped
    assert escape_registry_text(shown) == shown  # escaping twice changes nothing


def test_the_escapes_read_as_python_escapes():
    assert escape_registry_text(f"a{ESC}{CR}\t\n") == "a\\x1b[2J\\x1b[1;1Hfine\\rEVIL\\t\\n"
    assert escape_registry_text(BIDI) == "abc\\u202eexe.txt\\u2066x\\u2069"
    assert escape_registry_text("\U000e0041") == "\\U000e0041"


@pytest.mark.parametrize(
    "text", ["plain", "café 中文 🎉 naïve", MARKUP, "\\x1b literal", "tab-free é"]
)
def test_ordinary_text_is_kept(text):
    assert escape_registry_text(text) == text


def test_every_control_and_format_character_of_this_python_is_escaped():
    """The escape table is written out (start-up); it must cover the running Unicode."""
    missed = [
        f"U+{cp:04X}"
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        and escape_registry_text(chr(cp)) == chr(cp)
    ]
    assert missed == []


def test_a_very_long_string_is_kept_whole_or_cut_with_a_note():
    long = "x\x1b" * 500_000
    assert escape_registry_text(long) == "x\\x1b" * 500_000
    cut = escape_registry_text(long, limit=100)
    assert cut.startswith("x\\x1bx") and cut.endswith("… (2499900 more characters)")
    assert len(cut) < 130


def test_non_strings_are_shown_as_text():
    assert escape_registry_text(12) == "12"
    assert escape_registry_text(None) == "None"


def test_json_output_keeps_the_value_and_escapes_what_a_terminal_acts_on(capsys):
    data = {"actor": "".join(HOSTILE), "key\u202e": ["é", "中文"]}
    print_json(data)
    out = capsys.readouterr().out
    assert json.loads(out) == data
    assert inert(out.replace("\n", ""))
    assert "é" in out and "中文" in out  # readable, as npm writes it
    assert escape_json_text(json.dumps("plain")) == '"plain"'


# -- each output path -------------------------------------------------------------------


def item(**fields):
    return {
        "id": "0f3c2a4e-1111-4222-8333-944445555666",
        "packageName": "pkg",
        "version": "1.0.0",
        "actor": "github-actions[bot]",
        "actorType": "bot",
        **fields,
    }


@pytest.mark.parametrize("hostile", HOSTILE + [MARKUP], ids=lambda h: ascii(h)[:20])
def test_view_escapes_field_names_and_values(capsys, hostile):
    StageRenderer(color=False).item(item(**{f"key{hostile}": f"value{hostile}", "tag": hostile}))
    out = capsys.readouterr().out
    assert inert(out.replace("\n", ""))
    assert f"key{safe(hostile)}: value{safe(hostile)}" in out
    assert "staged by: github-actions[bot] (bot)" in out


@pytest.mark.parametrize("color", [False, True])
def test_list_shows_markup_as_text_and_escapes_controls(capsys, color):
    items = [item(tag=MARKUP), item(id="1f3c2a4e-1111-4222-8333-944445555666", actor=OSC8 + CR)]
    StageRenderer(color=color).items_table(items, None)
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # our own colours
    assert inert(out.replace("\n", ""))
    assert "github-actions[bot] (bot)" in out
    assert MARKUP in out
    assert "\\x1b]8;;http://evil.example/" in out and "fine\\rEVIL" in out


def test_the_summary_before_approve_escapes_registry_text(capsys):
    StageRenderer(color=False).item_summary(item(packageName=f"pkg{ESC}", version=MARKUP))
    err = capsys.readouterr().err
    assert inert(err.replace("\n", ""))
    assert f"Staged pkg\\x1b[2J\\x1b[1;1H@{MARKUP}:" in err


def test_notices_and_warnings_escape_each_line(capsys):
    render = StageRenderer(color=False)
    render.notice(f"first {ESC}\nsecond [bold]x[/bold]")
    render.warn(f"package says {OSC8}\nand {BIDI}")
    err = capsys.readouterr().err
    assert inert(err.replace("\n", ""))
    assert "first \\x1b[2J" in err and "second [bold]x[/bold]" in err
    assert "warning and abc\\u202eexe.txt" in err


def test_publish_summary_escapes_what_it_prints(capsys):
    outcome = SimpleNamespace(contents=SimpleNamespace(id=f"pkg@1.0.0{ESC}"), stage_id=f"id{CR}")
    StageRenderer(color=False).staged(outcome)
    captured = capsys.readouterr()
    assert inert((captured.out + captured.err).replace("\n", ""))
    assert "+ pkg@1.0.0\\x1b[2J\\x1b[1;1H (staged with id idfine\\rEVIL)" in captured.out


def test_download_file_list_escapes_paths_and_names(capsys):
    from pystage.render.pack import render_tarball_report

    files = [SimpleNamespace(path=f"{p}.js", size=1) for p in (ESC, OSC8, BIDI, MARKUP)]
    result = SimpleNamespace(
        name=f"pkg{ESC}",
        version=MARKUP,
        files=files,
        bundled=[f"dep{CR}"],
        filename=None,
        size=1,
        unpacked_size=4,
        shasum="0" * 40,
        integrity="sha512-" + "A" * 88,
        entry_count=5,
    )
    from pystage.render import stdout_console

    render_tarball_report(result, stdout_console(False, stderr=True))
    err = capsys.readouterr().err
    assert inert(err.replace("\n", ""))
    assert f"{MARKUP}.js" in err and "\\x1b]8;;http://evil.example/" in err
    assert "depfine\\rEVIL" in err


@pytest.mark.parametrize("json_mode", [False, True])
def test_whoami_escapes_the_user_name(capsys, json_mode):
    AuthRenderer(json_mode=json_mode).whoami(f"eve{ESC}{OSC8}{MARKUP}")
    out = capsys.readouterr().out
    assert inert(out.replace("\n", ""))
    if json_mode:
        assert json.loads(out) == f"eve{ESC}{OSC8}{MARKUP}"
    else:
        assert out == safe(f"eve{ESC}{OSC8}{MARKUP}") + "\n"


def test_login_logout_and_instructions_escape_registry_text(capsys):
    render = AuthRenderer()
    render.logged_in("http://127.0.0.1/", "keyring", f"eve{CR}")
    render.instruction(f"Login at:\nhttp://x/{OSC8}")
    render.logged_out(
        SimpleNamespace(
            registry="http://127.0.0.1/",
            revoke_error=f"404 {BIDI}",
            left_in=None,
            revoked=False,
            removed_from=[],
        )
    )
    captured = capsys.readouterr()
    assert inert((captured.out + captured.err).replace("\n", ""))
    assert "Logged in as evefine\\rEVIL on" in captured.out
    assert "Login at:\nhttp://x/\\x1b]8;;" in captured.err
    assert "(404 abc\\u202eexe.txt" in captured.err


def test_an_error_line_is_one_escaped_line_of_bounded_length(capsys):
    print_error(PystageError("E400", f"bad {ESC}\nforged: line {'x' * 1_000_000}", f"hint{CR}"))
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("pystage error E400: bad \\x1b[2J")
    assert "\\nforged: line" in lines[0]
    assert len(lines[0]) < 1100 and lines[0].endswith("more characters)")
    assert lines[1] == "pystage hint: hintfine\\rEVIL"


def test_a_traceback_is_redacted_and_escaped(capsys):
    try:
        raise PystageError("E400", f"registry said {ESC} to Bearer abcdefghijkl")
    except PystageError:
        print_traceback()
    err = capsys.readouterr().err
    assert err.startswith("Traceback")
    assert inert(err.replace("\n", ""))
    assert "registry said \\x1b[2J" in err and "abcdefghijkl" not in err


def test_registry_text_for_rich_is_a_text_never_markup():
    from rich.console import Console

    console = Console(markup=True, emoji=True, force_terminal=False, width=200)
    with console.capture() as captured:
        console.print(registry_text(MARKUP))
    assert captured.get() == MARKUP + "\n"
