"""The terminal tests' tools are installed where the suite runs: pexpect (a pty) and
pyte (the screen a terminal shows), both in the test extra that ``make test`` installs.
This test does not skip: a machine without them fails here, loudly, instead of the
terminal tests quietly skipping (under CI=true they fail themselves too)."""

from __future__ import annotations

import sys


def test_pexpect_and_pyte_are_importable_and_a_pty_works():
    import pexpect
    import pyte

    child = pexpect.spawn(
        sys.executable, ["-c", "print('x' * 100)"], dimensions=(5, 40), encoding="utf-8"
    )
    child.expect(pexpect.EOF)
    screen = pyte.Screen(40, 5)
    screen.set_mode(pyte.modes.LNM)
    pyte.Stream(screen).feed(child.before)
    # the terminal wraps 100 characters at 40 columns: 40, 40, 20
    assert [row.rstrip() for row in screen.display[:3]] == ["x" * 40, "x" * 40, "x" * 20]
