"""The shared yes/no question (pystage/cli/confirm.py): default No, only y/yes is yes,
Ctrl-D is No, the question goes to stderr; run in a real interpreter with real stdin."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = (
    "import sys; from pystage.cli.confirm import confirm; "
    "print(confirm('Go on?', default=sys.argv[1] == 'yes'))"
)


def ask(answer: str | None, default: str = "no") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, default],
        input=answer if answer is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("y\n", "True"),
        ("YES\n", "True"),
        (" yes \n", "True"),
        ("\n", "False"),
        ("n\n", "False"),
        ("sure\n", "False"),
        (None, "False"),
    ],
)
def test_only_y_or_yes_is_yes_and_the_default_is_no(answer, expected):
    result = ask(answer)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    assert result.stderr.startswith("Go on? [y/N] ")  # on stderr, not stdout


def test_enter_takes_a_yes_default_and_ctrl_d_is_still_no():
    assert ask("\n", default="yes").stdout.strip() == "True"
    assert "[Y/n]" in ask("\n", default="yes").stderr
    assert ask(None, default="yes").stdout.strip() == "False"
