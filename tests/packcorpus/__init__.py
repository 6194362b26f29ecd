"""Package trees for the pack tests: one builder per tree, each exercising some
of npm-packlist's and node-tar's rules. Builders write every file with an
explicit mode, so the expected tarballs do not depend on the umask."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path


class Tree:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def write(self, rel: str, content: str | bytes = "", mode: int = 0o644) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(path, mode)
        return path

    def json(self, rel: str, data: dict) -> Path:
        return self.write(rel, json.dumps(data, indent=2) + "\n")

    def pkg(self, **fields) -> Path:
        return self.json("package.json", {"name": "corpus-pkg", "version": "1.0.0", **fields})

    def mkdir(self, rel: str) -> None:
        (self.root / rel).mkdir(parents=True, exist_ok=True)

    def symlink(self, rel: str, target: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)

    def hardlink(self, rel: str, existing: str) -> None:
        os.link(self.root / existing, self.root / rel)


CORPUS: dict[str, Callable[[Tree], None]] = {}


def tree(fn):
    CORPUS[fn.__name__] = fn
    return fn


@tree
def minimal(t: Tree):
    t.pkg()


@tree
def readme_license_variants(t: Tree):
    t.pkg(files=["index.js"])
    t.write("index.js", "module.exports = 1\n")
    for name in [
        "README.md",
        "readme.txt",
        "LICENSE",
        "LICENCE.md",
        "COPYING",
        "license~",
        "README.md~",
        "Readme.markdown",
        "notes.txt",
        "CHANGELOG.md",
    ]:
        t.write(name, f"{name}\n")


@tree
def files_globs(t: Tree):
    t.pkg(files=["lib/**/*.js", "!lib/**/*.test.js", "types/*.d.ts", "*.json"])
    t.write("lib/a.js", "a\n")
    t.write("lib/a.test.js", "test\n")
    t.write("lib/deep/b.js", "b\n")
    t.write("lib/deep/b.test.js", "test\n")
    t.write("lib/deep/c.ts", "c\n")
    t.write("types/index.d.ts", "export {}\n")
    t.write("types/extra.ts", "x\n")
    t.write("config.json", "{}\n")
    t.write("other.js", "x\n")


@tree
def files_directory(t: Tree):
    t.pkg(files=["dist/"])
    t.write("dist/index.js", "x\n")
    t.write("dist/sub/deeper/mod.js", "y\n")
    t.write("dist/.hidden", "h\n")
    t.write("src/index.ts", "x\n")


@tree
def files_negated_directory(t: Tree):
    t.pkg(files=["dist", "!dist/internal", "!dist/**/*.map"])
    t.write("dist/index.js", "x\n")
    t.write("dist/index.js.map", "{}\n")
    t.write("dist/internal/secret.js", "s\n")
    t.write("dist/public/api.js", "p\n")
    t.write("dist/public/api.js.map", "{}\n")


@tree
def files_dot_slash_and_star(t: Tree):
    t.pkg(files=["./src/*", "bin/", "/root-only.js", "docs/*.md"])
    t.write("src/a.js", "a\n")
    t.write("src/nested/b.js", "b\n")
    t.write("bin/tool", "#!/bin/sh\n", 0o755)
    t.write("root-only.js", "r\n")
    t.write("lib/root-only.js", "not this\n")
    t.write("docs/guide.md", "g\n")
    t.write("docs/deep/more.md", "m\n")


@tree
def npmignore_basic(t: Tree):
    t.pkg()
    t.write(".npmignore", "# comment\n*.log\ntest/\n/coverage\n\n  spaced.txt  \n")
    t.write("index.js", "x\n")
    t.write("debug.log", "log\n")
    t.write("lib/also.log", "log\n")
    t.write("test/a.js", "t\n")
    t.write("lib/test/b.js", "nested test dir\n")
    t.write("coverage/lcov.info", "c\n")
    t.write("lib/coverage/keep.js", "k\n")
    t.write("spaced.txt", "s\n")


@tree
def npmignore_over_gitignore(t: Tree):
    t.pkg()
    t.write(".gitignore", "dist/\n*.secret\n")
    t.write(".npmignore", "src/\n")
    t.write("dist/index.js", "built\n")
    t.write("key.secret", "s\n")
    t.write("src/index.ts", "src\n")


@tree
def gitignore_only(t: Tree):
    t.pkg()
    t.write(".gitignore", "node_modules\n/build\n*.tmp\n!keep.tmp\n")
    t.write("index.js", "x\n")
    t.write("build/out.js", "b\n")
    t.write("lib/build/kept.js", "k\n")
    t.write("scratch.tmp", "t\n")
    t.write("keep.tmp", "k\n")


@tree
def nested_ignore_files(t: Tree):
    t.pkg()
    t.write(".npmignore", "*.bak\n")
    t.write("lib/.npmignore", "private/\n*.txt\n")
    t.write("lib/a.js", "a\n")
    t.write("lib/a.txt", "t\n")
    t.write("lib/private/p.js", "p\n")
    t.write("lib/sub/.gitignore", "gen.js\n")
    t.write("lib/sub/gen.js", "g\n")
    t.write("lib/sub/keep.js", "k\n")
    t.write("lib/sub/keep.bak", "b\n")
    t.write("other/a.txt", "kept: rule is lib's\n")


@tree
def npmignore_negation(t: Tree):
    t.pkg()
    t.write(".npmignore", "*.md\n!docs/keep.md\ndocs/*\n!docs/api/\n")
    t.write("README.md", "always\n")
    t.write("CONTRIBUTING.md", "c\n")
    t.write("docs/keep.md", "k\n")
    t.write("docs/drop.md", "d\n")
    t.write("docs/api/ref.md", "r\n")
    t.write("docs/api/ref.html", "r\n")
    t.write("docs/img.png", b"\x89PNG\r\n")


@tree
def always_excluded(t: Tree):
    t.pkg()
    t.write("index.js", "x\n")
    for rel in [
        ".git/config",
        ".svn/entries",
        ".hg/store",
        "CVS/Root",
        "lib/.git/x",
        "node_modules/dep/index.js",
        "node_modules/dep/package.json",
        ".npmrc",
        "lib/.npmrc",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        ".DS_Store",
        "lib/.DS_Store",
        "._resource",
        "a.js.orig",
        ".a.js.swp",
        "npm-debug.log",
        "build/config.gypi",
        ".lock-wscript",
        ".wafpickle-7",
        "archived-packages/old.tgz",
        "lib/package-lock.json",
        "lib/yarn.lock",
    ]:
        t.write(rel, "junk\n")
    t.write(".gitignore", "ignored-by-git\n")
    t.write("ignored-by-git", "g\n")


@tree
def main_bin_browser_forced(t: Tree):
    t.pkg(
        files=["lib"],
        main="index.js",
        browser="browser.js",
        bin={"run": "cli/run.js", "other": "./cli/other.js"},
    )
    t.write("lib/a.js", "a\n")
    t.write("index.js", "main\n")
    t.write("browser.js", "browser\n")
    t.write("cli/run.js", "#!/usr/bin/env node\n")
    t.write("cli/other.js", "#!/usr/bin/env node\n")
    t.write("cli/unlisted.js", "no\n")
    t.write(".npmignore", "index.js\n")


@tree
def bin_modes(t: Tree):
    t.pkg(bin="cli.js")
    t.write("cli.js", "#!/usr/bin/env node\n", 0o644)
    t.write("lib/cli.js", "same basename as the bin\n", 0o644)
    t.write("script.sh", "#!/bin/sh\n", 0o755)
    t.write("private.key", "k\n", 0o600)
    t.write("group-write.txt", "g\n", 0o664)
    t.write("odd.txt", "o\n", 0o640)


@tree
def bin_in_subdirectory(t: Tree):
    t.pkg(name="@scope/tool", bin={"tool": "./bin/tool.js", "@scope/x": "bin/x.js"})
    t.write("bin/tool.js", "#!/usr/bin/env node\n", 0o644)
    t.write("bin/x.js", "#!/usr/bin/env node\n", 0o644)
    t.write("lib/index.js", "x\n")


@tree
def directories_bin(t: Tree):
    t.pkg(directories={"bin": "./scripts"})
    t.write("scripts/one", "#!/bin/sh\n", 0o644)
    t.write("scripts/two.js", "#!/usr/bin/env node\n", 0o644)
    t.write("scripts/.hidden", "h\n")
    t.write("index.js", "x\n")


@tree
def bundled_deps(t: Tree):
    t.pkg(
        dependencies={"a": "^1.0.0", "@s/b": "^1.0.0", "c": "^1.0.0"},
        devDependencies={"dev-only": "^1.0.0"},
        bundleDependencies=["a", "@s/b", "dev-only", "missing"],
    )
    t.write("index.js", "x\n")
    t.json(
        "node_modules/a/package.json",
        {"name": "a", "version": "1.0.0", "dependencies": {"d": "*"}, "files": ["lib"]},
    )
    t.write("node_modules/a/lib/a.js", "a\n")
    t.write("node_modules/a/test/skip.js", "files excludes this\n")
    t.write("node_modules/a/.npmignore", "lib\n")
    t.json("node_modules/@s/b/package.json", {"name": "@s/b", "version": "1.0.0"})
    t.write("node_modules/@s/b/index.js", "b\n")
    t.write("node_modules/@s/b/.gitignore", "index.js\n")
    t.write("node_modules/@s/b/node_modules/nested/index.js", "not a dependency of b\n")
    t.json(
        "node_modules/@s/b/node_modules/nested/package.json", {"name": "nested", "version": "1.0.0"}
    )
    t.json("node_modules/c/package.json", {"name": "c", "version": "1.0.0"})
    t.write("node_modules/c/index.js", "not bundled\n")
    t.json("node_modules/d/package.json", {"name": "d", "version": "2.0.0"})
    t.write("node_modules/d/index.js", "transitive\n")
    t.json("node_modules/dev-only/package.json", {"name": "dev-only", "version": "1.0.0"})
    t.write("node_modules/dev-only/index.js", "dev\n")


@tree
def bundled_true(t: Tree):
    t.pkg(dependencies={"x": "1"}, optionalDependencies={"y": "1"}, bundledDependencies=True)
    t.json("node_modules/x/package.json", {"name": "x", "version": "1.0.0"})
    t.write("node_modules/x/index.js", "x\n")
    t.write("node_modules/x/.npmrc", "never\n")
    t.write("node_modules/x/package-lock.json", "{}\n")
    t.json("node_modules/y/package.json", {"name": "y", "version": "1.0.0"})
    t.write("node_modules/y/y.js", "y\n")


@tree
def symlinks(t: Tree):
    t.pkg()
    t.write("real.js", "r\n")
    t.symlink("link.js", "real.js")
    t.write("dir/inner.js", "i\n")
    t.symlink("linkdir", "dir")
    t.symlink("dangling.js", "nowhere.js")


@tree
def empty_directories(t: Tree):
    t.pkg(files=["lib", "empty"])
    t.mkdir("empty")
    t.mkdir("lib/empty/deeper")
    t.write("lib/x.js", "x\n")


@tree
def long_names(t: Tree):
    t.pkg()
    t.write("a" * 99 + ".js", "99+3 chars\n")
    t.write("b" * 100, "exactly 100\n")
    t.write("dir-" + "d" * 60 + "/" + "e" * 60 + ".js", "prefix split\n")
    t.write("/".join(["seg" + str(i) * 20 for i in range(9)]) + "/leaf.js", "deep\n")
    t.write("x" * 140 + "/" + "y" * 90 + ".txt", "prefix over 130\n")
    t.write("z" * 200 + ".txt", "needs pax\n")


@tree
def unicode_names(t: Tree):
    t.pkg()
    t.write("café.js", "c\n")
    t.write("日本語/ファイル.txt", "j\n")
    t.write("emoji-😀.md", "e\n")
    t.write("Ünïcödé/ä" * 2 + ".js", "u\n")
    t.write("é" * 60 + ".txt", "120 bytes of name\n")


@tree
def sorting(t: Tree):
    t.pkg()
    for name in [
        "b.js",
        "a.js",
        "A.js",
        "B.JS",
        "_under.js",
        "-dash.js",
        "1.js",
        "10.js",
        "2.js",
        "Z.md",
        "z.md",
        "a.d.ts",
        "a.ts",
        "Makefile",
        "makefile.am",
        ".eslintrc",
        ".eslintrc.json",
        "lib/b.js",
        "lib/B.js",
        "lib/a-b.js",
        "lib/a_b.js",
        "lib/a.b.js",
        "x.tar.gz",
        "x.gz",
        "noext",
        "@at.js",
        "@scope/inner.js",
        "~tilde.js",
        "a b.js",
    ]:
        t.write(name, name + "\n")


@tree
def typescript_library(t: Tree):
    t.pkg(
        name="@acme/ts-lib",
        main="dist/index.js",
        types="dist/index.d.ts",
        files=["dist"],
        scripts={"build": "tsc"},
        devDependencies={"typescript": "^5.0.0"},
    )
    t.write("tsconfig.json", '{"compilerOptions": {"outDir": "dist"}}\n')
    t.write("src/index.ts", "export const x = 1\n")
    t.write("src/util/math.ts", "export const add = (a: number, b: number) => a + b\n")
    t.write("dist/index.js", '"use strict";\nexports.x = 1;\n')
    t.write("dist/index.d.ts", "export declare const x = 1;\n")
    t.write("dist/index.js.map", '{"version":3}\n')
    t.write("dist/util/math.js", "exports.add = (a, b) => a + b;\n")
    t.write("dist/util/math.d.ts", "export declare const add: (a: number, b: number) => number;\n")
    t.write("README.md", "# ts-lib\n")
    t.write("LICENSE", "MIT\n")
    t.write(".gitignore", "dist\nnode_modules\n")
    t.write("test/index.test.ts", "test\n")


@tree
def cli_with_bins(t: Tree):
    t.pkg(
        name="acme-cli",
        bin={"acme": "bin/acme.js", "acme-init": "bin/init.js"},
        man=["./man/acme.1"],
        main="lib/index.js",
        engines={"node": ">=18"},
        dependencies={"chalk": "^5"},
    )
    t.write("bin/acme.js", "#!/usr/bin/env node\nrequire('../lib')\n", 0o755)
    t.write("bin/init.js", "#!/usr/bin/env node\n", 0o644)
    t.write("lib/index.js", "module.exports = {}\n")
    t.write("lib/commands/run.js", "run\n")
    t.write("man/acme.1", ".TH ACME 1\n")
    t.write(".npmignore", "test/\n.github/\n*.test.js\n")
    t.write("test/run.test.js", "t\n")
    t.write(".github/workflows/ci.yml", "ci\n")
    t.write("lib/commands/run.test.js", "t\n")
    t.write("README.md", "# acme\n")


@tree
def hardlinks(t: Tree):
    t.pkg()
    t.write("original.js", "shared content\n")
    t.hardlink("copy.js", "original.js")
    t.mkdir("lib")
    t.hardlink("lib/third.js", "original.js")


@tree
def larger_files(t: Tree):
    t.pkg()
    import random

    rnd = random.Random(1234)
    words = ["const", "function", "return", "module", "exports", "require", "let", "=>"]
    t.write(
        "lib/big.js",
        "\n".join(" ".join(rnd.choice(words) for _ in range(12)) for _ in range(40000)) + "\n",
    )
    t.write("assets/blob.bin", bytes(rnd.getrandbits(8) for _ in range(200_000)))
    t.write("exact-512.txt", "x" * 512)
    t.write("empty.txt", "")


@tree
def glob_features(t: Tree):
    t.pkg()
    t.write(
        ".npmignore",
        "*.{log,tmp}\n+(foo|bar).txt\n[ab].js\n?.md\n**/fixtures/**\n"
        "docs/**/*.draft\n!important.log\n\\#hash.txt\nCAPS.TXT\n",
    )
    for name in [
        "x.log",
        "x.tmp",
        "important.log",
        "foo.txt",
        "bar.txt",
        "foobar.txt",
        "a.js",
        "b.js",
        "c.js",
        "x.md",
        "xy.md",
        "test/fixtures/f.json",
        "fixtures/g.json",
        "docs/a/b/c.draft",
        "docs/top.draft",
        "#hash.txt",
        "caps.txt",
        "keep.js",
    ]:
        t.write(name, name + "\n")


@tree
def files_with_nested_npmignore(t: Tree):
    t.pkg(files=["lib", "README.md"])
    t.write("lib/.npmignore", "secret.js\n")
    t.write("lib/secret.js", "s\n")
    t.write("lib/public.js", "p\n")
    t.write("lib/.gitignore", "public.js\n")
    t.write("README.md", "r\n")
    t.write(".npmignore", "lib/public.js\n")


@tree
def gitignore_syntax(t: Tree):
    t.pkg()
    t.write(
        ".gitignore",
        "# comment\r\n/only-root.txt\r\ntrailing/\r\n  \r\n*.cache\r\ndeep/**/gone.js\r\n",
    )
    t.write("only-root.txt", "r\n")
    t.write("sub/only-root.txt", "kept\n")
    t.write("trailing/x.js", "x\n")
    t.write("sub/trailing/y.js", "y\n")
    t.write("file.cache", "c\n")
    t.write("deep/a/b/gone.js", "g\n")
    t.write("deep/kept.js", "k\n")


@tree
def scoped_with_files_file_entries(t: Tree):
    t.pkg(
        name="@my-org/thing",
        version="2.0.0-beta.1",
        files=["index.js", "lib/util.js", "lib/sub/deep.js"],
    )
    t.write("index.js", "i\n")
    t.write("lib/util.js", "u\n")
    t.write("lib/other.js", "o\n")
    t.write("lib/sub/deep.js", "d\n")
    t.write("lib/.npmignore", "util.js\n")
    t.write("lib/sub/.npmignore", "deep.js\n")


@tree
def workspaces_ignored_names(t: Tree):
    t.pkg(files=["*.js", "!*.spec.js"])
    t.write("index.js", "i\n")
    t.write("index.spec.js", "s\n")
    t.write("sub/nested.js", "n\n")
    t.write("weird*name.js", "npm refuses * in names\n")


@tree
def files_empty_array(t: Tree):
    t.pkg(files=[], main="main.js")
    t.write("main.js", "m\n")
    t.write("other.js", "o\n")
    t.write("README", "r\n")
    t.write("lib/README.md", "nested readme is not forced\n")


@tree
def linked_bundled_dep(t: Tree):
    t.pkg(dependencies={"linked": "file:../linked-src"}, bundleDependencies=["linked"])
    src = t.root.parent / (t.root.name + "-linked-src")
    Tree(src).json("package.json", {"name": "linked", "version": "1.0.0"})
    Tree(src).write("index.js", "l\n")
    Tree(src).write(".npmignore", "ignored.js\n")
    Tree(src).write("ignored.js", "i\n")
    Tree(src).write(".npmrc", "x\n")
    t.symlink("node_modules/linked", str(src))


@tree
def nested_node_modules_in_files_dir(t: Tree):
    t.pkg(files=["lib"])
    t.write("lib/index.js", "i\n")
    t.write("lib/node_modules/vendored/x.js", "nested node_modules are not excluded\n")
    t.write("node_modules/top/x.js", "root node_modules is\n")


@tree
def ignore_everything_then_include(t: Tree):
    t.pkg()
    t.write(".npmignore", "*\n!dist/\n!dist/**\n!*.md\n")
    t.write("dist/a.js", "a\n")
    t.write("dist/sub/b.js", "b\n")
    t.write("src/a.ts", "a\n")
    t.write("notes.md", "n\n")
    t.write("sub/notes.md", "n\n")
    t.write("LICENSE.txt", "l\n")
