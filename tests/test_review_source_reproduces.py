"""`pystage review ID --source DIR|REF`: does the staged tarball reproduce from source?

Versions are staged on one embedded registry (as CI stages them: `pystage publish` in a
checkout, or, for the pack corpus, pystage's own pack posted as-is) and reviewed by
`python -m pystage review` in a subprocess against the maintainer's tree, which is left
untouched. A staged tarball that differs from its source in any way fails the review at
--fail-on high (exit 8) and names what differs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import escaped, publish_document, requires_npm, run_npm, start_registry
from packcorpus import CORPUS, Tree

SOURCE_RULES = {
    "source-differs",
    "only-staged",
    "only-source",
    "source-version-mismatch",
    "source-name-mismatch",
    "not-checked",
    "source-scripts-not-run",
}
HAVE_NODE = shutil.which("node") is not None


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    server = start_registry(tmp_path_factory.mktemp("source-registry") / "storage")
    try:
        yield server, server.add_user("maintainer")
    finally:
        server.stop()


@pytest.fixture
def env(tmp_path, registry, run_pystage):
    server, user = registry
    npmrc = server.write_npmrc(tmp_path / "npmrc", user)
    first_versions: set[str] = set()

    class Env:
        tmpdir = tmp_path / "tmpdir"

        def pystage(self, *args, cwd=None):
            # the command's temporary files go to a directory of the test's own: each test
            # can see that none is left behind
            return run_pystage(
                *args,
                "--registry",
                server.url,
                "--userconfig",
                npmrc,
                cwd=cwd or tmp_path,
                env={"TMPDIR": str(self.tmpdir)},
            )

        def temporary_files_left(self) -> list[str]:
            return sorted(p.name for p in self.tmpdir.iterdir())

        def stage(self, pkg: Path, *extra) -> str:
            """Stage ``pkg`` as CI does (`pystage publish` in the checkout)."""
            manifest = json.loads((pkg / "package.json").read_text())
            name = manifest["name"]
            if name not in first_versions:
                # staging needs a published first version; one with the same package.json
                # fields, so that the review's own rules find nothing new in them
                fields = {k: v for k, v in manifest.items() if k not in ("name", "version")}
                server.publish(user, name, "0.0.1", manifest=fields)
                first_versions.add(name)
            result = self.pystage("publish", "--json", *extra, cwd=pkg)
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout)[name]["stageId"]

        def stage_with_npm(self, pkg: Path, npm_env: dict) -> str:
            """Stage ``pkg`` with the real `npm stage publish`, as a CI job on npm does."""
            manifest = json.loads((pkg / "package.json").read_text())
            fields = {k: v for k, v in manifest.items() if k not in ("name", "version")}
            server.publish(user, manifest["name"], "0.0.1", manifest=fields)
            result = run_npm(
                ["stage", "publish", "--json", "--registry", server.url],
                cwd=pkg,
                env={**npm_env, "npm_config_userconfig": str(npmrc)},
            )
            assert result.returncode == 0, result.stderr
            # npm lets a script's output onto stdout before its JSON document
            document = result.stdout[result.stdout.index("{\n") :]
            return json.loads(document)[manifest["name"]]["stageId"]

        def review(self, stage_id, source, *extra, cwd=None):
            result = self.pystage("review", stage_id, "--source", source, *extra, cwd=cwd)
            return result

        def review_json(self, stage_id, source, *extra, cwd=None):
            result = self.review(stage_id, source, "--json", *extra, cwd=cwd)
            assert result.stdout, result.stderr
            return result, json.loads(result.stdout)

    Env.tmpdir.mkdir()
    return Env()


def write_package(root: Path, name: str, version: str = "1.0.0", **fields) -> Path:
    """A small package as a maintainer's checkout holds it."""
    t = Tree(root)
    t.pkg(name=name, version=version, main="index.js", bin={name: "bin/cli.js"}, **fields)
    t.write("index.js", "module.exports = require('./lib/util');\n")
    t.write("lib/util.js", "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\n")
    t.write("bin/cli.js", "#!/usr/bin/env node\nconsole.log(require('..').add(1, 2));\n", 0o755)
    t.write("README.md", f"# {name}\n\nAdds numbers.\n")
    t.write("LICENSE", "ISC\n")
    t.write("data/table.bin", bytes(range(256)) * 4)
    return root


def ci_copy(source: Path, dest: Path) -> Path:
    """The CI job's checkout of the same source (the maintainer's tree stays as it is)."""
    shutil.copytree(source, dest, symlinks=True)
    return dest


def tree_snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mode, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def source_findings(report: dict) -> set[tuple[str, str, str]]:
    return {
        (f["rule"], f["severity"], f["path"])
        for f in report["findings"]
        if f["rule"] in SOURCE_RULES
    }


def test_a_version_staged_from_a_clean_tree_reproduces(env, tmp_path):
    source = write_package(tmp_path / "checkout", "repro-clean")
    stage_id = env.stage(ci_copy(source, tmp_path / "ci"))
    before = tree_snapshot(source)

    result, report = env.review_json(stage_id, source)
    assert result.returncode == 0, result.stderr
    checked = report["source"]
    assert checked["reproduced"] is True
    assert (checked["differs"], checked["only_staged"], checked["only_source"]) == ([], [], [])
    assert checked["not_checked"] == [] and checked["manifest"] == {}
    assert checked["identical"] == 7  # every file of the package, package.json included
    assert source_findings(report) == set()

    # the human report answers first; a relative --source is read from the cwd
    human = env.review(stage_id, "checkout", cwd=tmp_path)
    assert human.returncode == 0, human.stderr
    first = human.stdout.splitlines()[0]
    assert first.startswith("Reproduces from source: yes · 7 file(s) identical"), first
    assert "Review of repro-clean@1.0.0 against 0.0.1" in human.stdout
    assert tree_snapshot(source) == before  # nothing written into the source
    assert env.temporary_files_left() == []  # the spooled tarball and the rebuild are gone


def test_a_line_appended_to_a_shipped_file_fails_the_review_naming_it(env, tmp_path):
    source = write_package(tmp_path / "checkout", "repro-appended")
    ci = ci_copy(source, tmp_path / "ci")
    line = "require('https').get('https://evil.example/x');\n"
    with open(ci / "lib" / "util.js", "a") as fh:
        fh.write(line)
    stage_id = env.stage(ci)

    result, report = env.review_json(stage_id, source, "--fail-on", "high")
    assert result.returncode == 8
    assert json.loads(result.stderr)["error"]["code"] == "EREVIEW"
    checked = report["source"]
    assert checked["reproduced"] is False
    assert [d["path"] for d in checked["differs"]] == ["lib/util.js"]
    differ = checked["differs"][0]
    assert differ["what"] == ["content", "size"]
    assert "+require('https').get('https://evil.example/x');" in differ["diff"]
    assert differ["staged"]["size"] == differ["source"]["size"] + len(line)
    assert checked["identical"] == 6
    assert source_findings(report) == {("source-differs", "high", "lib/util.js")}

    human = env.review(stage_id, source)
    assert human.returncode == 8
    lines = human.stdout.splitlines()
    assert lines[0].startswith("Reproduces from source: NO"), lines[0]
    assert "6 identical, 1 differ" in lines[0]
    assert re.search(r"~ lib/util\.js\s+differs: content \d+ B → \d+ B", human.stdout)
    assert "+require('https').get('https://evil.example/x');" in human.stdout
    assert "pystage error EREVIEW" in human.stderr
    assert env.review(stage_id, source, "--fail-on", "never").returncode == 0


def test_an_added_a_missing_a_chmodded_file_and_a_changed_field_each_show_as_such(env, tmp_path):
    source = write_package(tmp_path / "checkout", "repro-kinds")
    ci = ci_copy(source, tmp_path / "ci")
    (ci / "lib" / "extra.js").write_text("module.exports = 'injected';\n")  # only staged
    (ci / "LICENSE").unlink()  # only in the rebuild
    os.chmod(ci / "index.js", 0o755)  # same bytes, another mode
    manifest = json.loads((ci / "package.json").read_text())
    manifest["description"] = "now with telemetry"
    (ci / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    stage_id = env.stage(ci)

    result, report = env.review_json(stage_id, source)
    assert result.returncode == 8
    checked = report["source"]
    assert checked["reproduced"] is False
    assert [e["path"] for e in checked["only_staged"]] == ["lib/extra.js"]
    assert [e["path"] for e in checked["only_source"]] == ["LICENSE"]
    differs = {d["path"]: d for d in checked["differs"]}
    assert set(differs) == {"index.js", "package.json"}
    assert differs["index.js"]["what"] == ["mode"]
    assert (differs["index.js"]["source"]["mode"], differs["index.js"]["staged"]["mode"]) == (
        "0644",
        "0755",
    )
    assert "content" in differs["package.json"]["what"]
    assert checked["manifest"] == {"description": {"change": "added", "to": "now with telemetry"}}
    assert source_findings(report) == {
        ("only-staged", "high", "lib/extra.js"),
        ("only-source", "high", "LICENSE"),
        ("source-differs", "high", "index.js"),
        ("source-differs", "high", "package.json"),
    }
    messages = {f["path"]: f["message"] for f in report["findings"] if f["rule"] in SOURCE_RULES}
    assert "mode 0644 from source, 0755 staged" in messages["index.js"]
    assert "fields description" in messages["package.json"]

    human = env.review(stage_id, source).stdout
    assert "+ lib/extra.js  (only staged)" in human
    assert "- LICENSE  (only in source)" in human
    assert "~ index.js  differs: mode 0644 → 0755" in human


def test_a_long_difference_is_cut_short_unless_diff_is_given(env, tmp_path):
    source = write_package(tmp_path / "checkout", "repro-long-diff")
    ci = ci_copy(source, tmp_path / "ci")
    (ci / "lib" / "util.js").write_text("".join(f"exports.f{i} = {i};\n" for i in range(60)))
    stage_id = env.stage(ci)

    short = env.review_json(stage_id, source)[1]["source"]["differs"][0]
    assert short["path"] == "lib/util.js" and short.get("diff_truncated") is True
    whole = env.review_json(stage_id, source, "--diff")[1]["source"]["differs"][0]
    assert "diff_truncated" not in whole
    assert "+exports.f59 = 59;" in whole["diff"] and "+exports.f59 = 59;" not in short["diff"]
    assert len(whole["diff"]) > len(short["diff"])


def test_a_source_at_another_version_is_its_own_finding(env, tmp_path):
    source = write_package(tmp_path / "checkout", "repro-version", version="1.0.0")
    ci = write_package(tmp_path / "ci", "repro-version", version="1.0.1")
    stage_id = env.stage(ci)

    result, report = env.review_json(stage_id, source)
    assert result.returncode == 8
    checked = report["source"]
    assert checked["reproduced"] is False and checked["source_version"] == "1.0.0"
    assert checked["manifest"] == {"version": {"change": "changed", "from": "1.0.0", "to": "1.0.1"}}
    findings = source_findings(report)
    assert ("source-version-mismatch", "high", "version") in findings
    message = next(
        f["message"] for f in report["findings"] if f["rule"] == "source-version-mismatch"
    )
    assert "version 1.0.0, the staged tarball 1.0.1" in message
    human = env.review(stage_id, source).stdout.splitlines()
    assert human[0].startswith("Reproduces from source: NO")
    assert (
        human[1].strip()
        == "! the source is repro-version@1.0.0, the staged tarball repro-version@1.0.1"
    )


# -- a package with a build step --------------------------------------------------------
BUILD_JS = """\
// a stand-in for tsc: src/*.ts -> dist/*.js (types stripped) and dist/*.d.ts
const fs = require("fs");
console.log("compiling src/ into dist/"); // on stdout: never into review's --json
fs.mkdirSync("dist", { recursive: true });
for (const name of fs.readdirSync("src")) {
  const ts = fs.readFileSync("src/" + name, "utf8");
  const base = name.replace(/\\.ts$/, "");
  const js = ts.replace(/: number/g, "").replace(/^export function/gm, "exports.$fn = function");
  fs.writeFileSync("dist/" + base + ".js", "\\"use strict\\";\\n" + js);
  fs.writeFileSync("dist/" + base + ".d.ts", "export declare function add(a: number, b: number): number;\\n");
}
"""


def write_ts_package(root: Path, name: str) -> Path:
    t = Tree(root)
    t.pkg(
        name=name,
        main="dist/index.js",
        types="dist/index.d.ts",
        files=["dist"],
        scripts={"prepare": "node build.js"},
    )
    t.write("src/index.ts", "export function add(a: number, b: number) {\n  return a + b;\n}\n")
    t.write("build.js", BUILD_JS)
    t.write("README.md", "# ts\n")
    t.write(".gitignore", "dist/\nnode_modules/\n")
    return root


@pytest.mark.skipif(not HAVE_NODE, reason="the build script needs node")
def test_built_files_are_not_checked_without_source_scripts_and_compared_with_them(env, tmp_path):
    source = write_ts_package(tmp_path / "checkout", "repro-ts")
    ci = ci_copy(source, tmp_path / "ci")
    stage_id = env.stage(ci)  # CI's publish runs prepare: dist/ is built there
    staged_paths = {"dist/index.js", "dist/index.d.ts"}
    before = tree_snapshot(source)

    result, report = env.review_json(stage_id, source)
    assert result.returncode == 0, report["findings"]  # nothing differs: no high finding
    checked = report["source"]
    assert checked["reproduced"] is False  # not proof either
    assert checked["scripts_run"] is False and checked["build_scripts"] == ["prepare"]
    assert {(n["path"], n["reason"], n["in"]) for n in checked["not_checked"]} == {
        (p, "built", "staged") for p in staged_paths
    }
    assert (checked["differs"], checked["only_staged"], checked["only_source"]) == ([], [], [])
    assert checked["identical"] == 2  # package.json and README.md, straight from source
    assert source_findings(report) == {("not-checked", "medium", "")}
    assert env.review(stage_id, source, "--fail-on", "medium").returncode == 8
    human = env.review(stage_id, source).stdout
    assert human.startswith("Reproduces from source: not fully checked")
    assert "? dist/index.js  (not checked: built by prepare; --source-scripts runs it)" in human

    result, report = env.review_json(stage_id, source, "--source-scripts")
    assert result.returncode == 0, result.stderr
    checked = report["source"]
    assert checked["reproduced"] is True and checked["scripts_run"] is True
    assert checked["identical"] == 4 and checked["not_checked"] == []
    assert "> repro-ts@1.0.0 prepare" in result.stderr  # the build's banner, on stderr
    assert tree_snapshot(source) == before  # built in a temporary copy, not in the checkout
    assert not (source / "dist").exists()
    assert env.temporary_files_left() == []  # and the copy is gone


@pytest.mark.skipif(not HAVE_NODE, reason="the build script needs node")
def test_a_tampered_build_is_caught_only_when_the_build_runs(env, tmp_path):
    source = write_ts_package(tmp_path / "checkout", "repro-ts-tampered")
    ci = ci_copy(source, tmp_path / "ci")
    # the build machine is poisoned: its build step adds a line to the output
    with open(ci / "build.js", "a") as fh:
        fh.write('fs.appendFileSync("dist/index.js", "require(\\"child_process\\");\\n");\n')
    stage_id = env.stage(ci)

    result, report = env.review_json(stage_id, source)
    assert result.returncode == 0
    assert "dist/index.js" in {n["path"] for n in report["source"]["not_checked"]}

    result, report = env.review_json(stage_id, source, "--source-scripts")
    assert result.returncode == 8
    checked = report["source"]
    assert [d["path"] for d in checked["differs"]] == ["dist/index.js"]
    assert '+require("child_process");' in checked["differs"][0]["diff"]
    assert source_findings(report) == {("source-differs", "high", "dist/index.js")}


@requires_npm()
@pytest.mark.skipif(not HAVE_NODE, reason="the build script needs node")
@pytest.mark.parametrize("shape", ["plain", "built by prepare"])
def test_a_version_staged_by_npm_itself_reproduces_from_source(env, npm_env, tmp_path, shape):
    name = f"repro-npm-{shape.split()[0]}"
    make = write_package if shape == "plain" else write_ts_package
    source = make(tmp_path / "checkout", name)
    stage_id = env.stage_with_npm(ci_copy(source, tmp_path / "ci"), npm_env)

    extra = ("--source-scripts",) if shape != "plain" else ()
    result, report = env.review_json(stage_id, source, *extra)
    assert result.returncode == 0, result.stderr
    assert report["source"]["reproduced"] is True, report["source"]
    assert report["source"]["identical"] == (7 if shape == "plain" else 4)


# -- a git ref --------------------------------------------------------------------------
def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "m",
        "GIT_AUTHOR_EMAIL": "m@example.com",
        "GIT_COMMITTER_NAME": "m",
        "GIT_COMMITTER_EMAIL": "m@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout


def test_a_git_ref_is_archived_and_compared_without_touching_the_work_tree(env, tmp_path):
    repo = write_package(tmp_path / "repo", "repro-git")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "1.0.0")
    git(repo, "tag", "v1.0.0")
    stage_id = env.stage(ci_copy(repo, tmp_path / "ci"))
    # the maintainer's work tree has moved on: a new commit and an uncommitted edit
    (repo / "lib" / "util.js").write_text("exports.add = (a, b) => a + b + 0;\n")
    git(repo, "commit", "-q", "-am", "next")
    (repo / "index.js").write_text("// work in progress\n")
    status = git(repo, "status", "--porcelain")
    before = tree_snapshot(repo)

    result, report = env.review_json(stage_id, "v1.0.0", cwd=repo)
    assert result.returncode == 0, result.stderr
    checked = report["source"]
    assert checked["reproduced"] is True and checked["identical"] == 7
    assert re.fullmatch(r"git ref v1\.0\.0 at [0-9a-f]{12}", checked["source"])

    # HEAD is the next commit: it does not reproduce what was staged from v1.0.0
    result, report = env.review_json(stage_id, "HEAD", cwd=repo)
    assert result.returncode == 8
    assert [d["path"] for d in report["source"]["differs"]] == ["lib/util.js"]
    # the work tree itself (with its uncommitted edit) differs in index.js too
    result, report = env.review_json(stage_id, ".", cwd=repo)
    assert {d["path"] for d in report["source"]["differs"]} == {"index.js", "lib/util.js"}

    assert tree_snapshot(repo) == before and git(repo, "status", "--porcelain") == status
    assert env.temporary_files_left() == []  # the archives are gone
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


@pytest.mark.skipif(not HAVE_NODE, reason="the build script needs node")
def test_a_git_ref_of_a_package_with_a_build_leaves_untracked_output_unchecked(env, tmp_path):
    repo = write_ts_package(tmp_path / "repo", "repro-git-ts")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "1.0.0")
    git(repo, "tag", "v1.0.0")
    stage_id = env.stage(ci_copy(repo, tmp_path / "ci"))
    subprocess.run(["node", "build.js"], cwd=repo, check=True)  # a stale local build
    (repo / "dist" / "index.js").write_text("// an older build\n")

    # the checkout: dist/ is there but git does not track it, so it is build output; the
    # stale dist/index.js is left unchecked, dist/index.d.ts happens to match
    result, report = env.review_json(stage_id, ".", cwd=repo)
    assert result.returncode == 0, result.stderr
    checked = report["source"]
    assert [(n["path"], n["in"]) for n in checked["not_checked"]] == [("dist/index.js", "both")]
    assert checked["differs"] == [] and checked["identical"] == 3
    result, report = env.review_json(stage_id, "v1.0.0", "--source-scripts", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert report["source"]["reproduced"] is True
    assert (repo / "dist" / "index.js").read_text() == "// an older build\n"


# -- bad --source -----------------------------------------------------------------------
def test_a_bad_source_is_a_one_line_error_before_anything_is_downloaded(env, tmp_path):
    source = write_package(tmp_path / "checkout", "repro-bad")
    stage_id = env.stage(ci_copy(source, tmp_path / "ci"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.tgz").write_bytes(b"x")
    repo = tmp_path / "repo"
    write_package(repo, "repro-bad")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "x")
    cases = [
        ("missing", tmp_path / "plain", "ENOENT", 1, "--source missing: no such directory"),
        ("v9.9.9", repo, "ENOENT", 1, "--source v9.9.9: no such directory, and no such git ref"),
        ("empty", tmp_path, "ENOENT", 1, "--source empty: no package.json in"),
        ("file.tgz", tmp_path, "ENOTDIR", 1, "--source file.tgz: not a directory"),
        ("--output=/tmp/x", repo, "EUSAGE", 2, "--source --output=/tmp/x: not a directory, nor"),
    ]
    (tmp_path / "plain").mkdir()
    for spec, cwd, code, exit_code, message in cases:
        result = env.pystage("review", stage_id, f"--source={spec}", cwd=cwd)
        assert result.returncode == exit_code, (spec, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith(f"pystage error {code}: {message}"), (spec, lines)
        assert "Traceback" not in result.stderr and result.stdout == ""
    alone = env.pystage("review", stage_id, "--source-scripts")
    assert alone.returncode == 2
    assert "pystage error EUSAGE: --source-scripts needs --source" in alone.stderr
    assert env.temporary_files_left() == []


# -- the pack corpus --------------------------------------------------------------------
@pytest.fixture(scope="module")
def staged_corpus(registry, tmp_path_factory):
    """Every corpus tree, staged as pystage packs it for a publish (a version of its own
    per tree: versions are unique across staged ones)."""
    from pystage.packing import pack

    server, user = registry
    root = tmp_path_factory.mktemp("corpus")
    staged: dict[str, tuple[str, Path, int]] = {}
    published: set[str] = set()
    for name in sorted(CORPUS):
        pkg = root / name / "pkg"
        CORPUS[name](Tree(pkg))
        text = (pkg / "package.json").read_text()
        version = "1.0.0-" + name.replace("_", "-")
        (pkg / "package.json").write_text(
            re.sub(r'"version": "[^"]*"', f'"version": "{version}"', text, count=1)
        )
        manifest = json.loads((pkg / "package.json").read_text())
        out = root / name / "out"
        out.mkdir()
        packed = pack(pkg, out, ignore_scripts=True, command="publish")
        tgz = packed.path.read_bytes()
        package = manifest["name"]
        if package not in published:
            server.publish(user, package, "0.0.1")
            published.add(package)
        response = server.request(
            "POST",
            f"-/stage/package/{escaped(package)}",
            user,
            json=publish_document(server.url, package, version, tgz, manifest=manifest),
        )
        assert response.status_code == 201, (name, response.text)
        staged[name] = (response.json()["stageId"], pkg, packed.entry_count)
    return staged


@pytest.mark.slow  # ~40 s for the whole corpus: a review subprocess per tree
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_pack_corpus_tree_reproduces_from_itself(name, staged_corpus, env):
    stage_id, pkg, entries = staged_corpus[name]
    result, report = env.review_json(stage_id, pkg, "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    checked = report["source"]
    assert checked["reproduced"] is True, checked
    assert source_findings(report) == set()
    assert checked["identical"] == entries  # every entry compared: files and hardlinks


@pytest.mark.parametrize("python", ["this", "without tarfile.data_filter"])
def test_a_ref_with_links_out_of_the_tree_is_archived_without_them(tmp_path, monkeypatch, python):
    from pystage.reproduce import open_source, workdir

    if python != "this":  # Python 3.10 before 3.10.12 has no data filter: ours stands in
        monkeypatch.delattr(workdir.tarfile, "data_filter", raising=False)
        monkeypatch.setattr(workdir, "_NO_FILTER", {})
    repo = write_package(tmp_path / "repo", "repro-links")
    os.symlink("/etc/passwd", repo / "absolute")
    os.symlink("../../outside", repo / "lib" / "climbs")
    os.symlink("util.js", repo / "lib" / "inside")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    with open_source("HEAD", repo) as source:
        assert source.temporary and source.path != repo
        assert not os.path.lexists(source.path / "absolute")
        assert not os.path.lexists(source.path / "lib" / "climbs")
        assert os.readlink(source.path / "lib" / "inside") == "util.js"
        assert (source.path / "bin" / "cli.js").stat().st_mode & 0o777 == 0o755
        assert "lib/util.js" in source.tracked and "absolute" not in source.tracked
        archive = source.path
    assert not archive.exists()  # the temporary directory is gone


@pytest.mark.skipif(not HAVE_NODE, reason="the build script needs node")
def test_a_failing_build_is_a_one_line_error_and_leaves_nothing_behind(env, tmp_path):
    source = write_ts_package(tmp_path / "checkout", "repro-ts-broken")
    stage_id = env.stage(ci_copy(source, tmp_path / "ci"))
    (source / "build.js").write_text("process.exit(3);\n")  # the maintainer's tree is broken

    result = env.review(stage_id, source, "--source-scripts", "--json")
    assert result.returncode == 1 and result.stdout == ""
    error = json.loads(result.stderr[result.stderr.index("{") :])["error"]
    assert error["code"] == "ELIFECYCLE"
    assert "repro-ts-broken@1.0.0 prepare script failed with exit code 3" in error["summary"]
    assert "Traceback" not in result.stderr
    assert env.temporary_files_left() == []


def test_a_workspace_package_is_rebuilt_from_its_place_in_the_ref(env, tmp_path):
    repo = tmp_path / "mono"
    root = Tree(repo)
    root.pkg(name="mono-root", private=True, workspaces=["packages/*"])
    root.write(".gitignore", "*.log\n")  # npm applies the root's ignore file to a workspace
    package = write_package(repo / "packages" / "core", "repro-mono-core")
    write_package(repo / "packages" / "other", "repro-mono-other")
    (package / "debug.log").write_text("a log kept out by the root .gitignore\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A", "-f")  # the log too: git archive has it, the rule must drop it
    git(repo, "commit", "-q", "-m", "monorepo")
    git(repo, "tag", "v1.0.0")
    ci = ci_copy(repo, tmp_path / "ci")
    stage_id = env.stage(ci / "packages" / "core")  # CI publishes from the package's directory

    result, report = env.review_json(stage_id, "v1.0.0", cwd=package)
    assert result.returncode == 0, result.stderr
    assert report["source"]["reproduced"] is True and report["source"]["identical"] == 7
    # only what packing reads is archived: the package, and its ancestors' package.json
    # and ignore files, not the other packages of the monorepo
    from pystage.reproduce import open_source

    with open_source("v1.0.0", package) as archived:
        top = archived.path.parent.parent
        assert sorted(
            str(p.relative_to(top)) for p in top.rglob("*") if p.is_file() and "core" not in p.parts
        ) == [".gitignore", "package.json"]
        assert archived.tracked == frozenset(tree_snapshot(package))
    # from the root, the ref's root package is rebuilt: another package altogether
    result, report = env.review_json(stage_id, "v1.0.0", cwd=repo)
    assert result.returncode == 8
    assert ("source-name-mismatch", "high", "name") in source_findings(report)


@pytest.mark.skipif(not HAVE_NODE, reason="the build script needs node")
def test_ctrl_c_during_a_build_exits_130_and_removes_every_temporary_file(env, registry, tmp_path):
    import signal
    import sys
    import time

    server, _ = registry
    source = write_ts_package(tmp_path / "checkout", "repro-ts-interrupted")
    stage_id = env.stage(ci_copy(source, tmp_path / "ci"))
    started = tmp_path / "build-started"
    (source / "build.js").write_text(
        f"require('fs').writeFileSync({json.dumps(str(started))}, 'x');\n"
        "setTimeout(() => {}, 60000);\n"
    )
    npmrc = server.write_npmrc(tmp_path / "npmrc-interrupt", registry[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "pystage", "review", stage_id, "--source", str(source)]
        + ["--source-scripts", "--registry", server.url, "--userconfig", str(npmrc)],
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(env.tmpdir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():  # the build runs: the spool and the copy exist now
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        assert env.temporary_files_left() != []
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole job gets it, the build too
        out, err = proc.communicate(timeout=30)
    finally:
        try:  # whatever of the job is left (nothing, when all went well)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
    assert proc.returncode == 130, err
    assert "pystage error EINTR: interrupted" in err and "Traceback" not in err
    assert out == ""
    assert env.temporary_files_left() == []
