"""The batch's pure rules: dependency order (cycles, versions of one package) and the
picker's answers."""

from __future__ import annotations

import pytest

from pystage import batch
from pystage.errors import PystageError


def _entries(*specs):
    out = []
    for n, spec in enumerate(specs):
        name, version = spec.rsplit("@", 1)
        stage_id = f"00000000-0000-4000-8000-{n:012d}"
        out.append(batch.BatchEntry(stage_id, stage_id, {"packageName": name, "version": version}))
    return out


def _names(entries):
    return [e.spec for e in entries]


def test_dependencies_first_otherwise_as_given():
    graph = {"app": {"lib", "util"}, "lib": {"util"}, "other": set()}
    entries = _entries("app@1.0.0", "other@1.0.0", "lib@1.0.0", "util@1.0.0")
    assert _names(batch.dependency_order(entries, graph)) == [
        "other@1.0.0",
        "util@1.0.0",
        "lib@1.0.0",
        "app@1.0.0",
    ]


def test_a_cycle_keeps_the_given_order_and_loses_nothing():
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    entries = _entries("c@1.0.0", "b@1.0.0", "a@1.0.0")
    ordered = batch.dependency_order(entries, graph)
    assert sorted(_names(ordered)) == sorted(_names(entries))
    assert _names(ordered).index("c@1.0.0") > _names(ordered).index("a@1.0.0")


def test_every_version_of_a_dependency_goes_before_its_dependent():
    graph = {"app": {"lib"}}
    entries = _entries("app@2.0.0", "lib@1.0.0", "lib@1.1.0")
    assert _names(batch.dependency_order(entries, graph)) == [
        "lib@1.0.0",
        "lib@1.1.0",
        "app@2.0.0",
    ]


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("1 3", [0, 2]),
        ("2,1", [1, 0]),
        ("1-3", [0, 1, 2]),
        ("all", [0, 1, 2]),
        ("", []),
        ("2 2 1-2", [1, 0]),
    ],
)
def test_picker_answers(answer, expected):
    assert batch.parse_selection(answer, 3) == expected


@pytest.mark.parametrize("answer", ["0", "4", "1-9", "x", "3-1", "-1"])
def test_picker_refuses_what_it_cannot_pick(answer):
    with pytest.raises(PystageError) as info:
        batch.parse_selection(answer, 3)
    assert info.value.code == "EUSAGE"
