"""Configuration resolution: precedence, env expansion, scoped registries, publishConfig.

Where practical the expected value comes from the real `npm config get`, run in
the same isolated environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from helpers import (
    assert_clean_failure,
    requires_npm,
)

from pystage.config import env_replace, load_config, nerf_dart, parse_ini
from pystage.errors import PystageError


@pytest.fixture
def tree(tmp_path):
    """home/ (user npmrc), global npmrc, proj/ (package root with .npmrc), proj/sub (cwd)."""
    home = tmp_path / "home"
    home.mkdir()
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "package.json").write_text("{}")
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "npm_config_globalconfig": str(tmp_path / "globalrc"),
        "npm_config_update_notifier": "false",
    }

    class T:
        pass

    t = T()
    t.home, t.proj, t.cwd, t.env, t.root = home, proj, proj / "sub", env, tmp_path
    t.user = home / ".npmrc"
    t.glob = tmp_path / "globalrc"
    return t


def npm_get(t, *keys, env=None, args=()):
    out = subprocess.run(
        [shutil.which("npm"), "config", "get", *keys, *args],
        cwd=t.cwd,
        env={**t.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    if len(keys) == 1:
        return {keys[0]: out.stdout.strip()}
    return dict(line.split("=", 1) for line in out.stdout.strip().splitlines())


def ours(t, *keys, env=None, cli=None):
    cfg = load_config(cwd=t.cwd, env={**t.env, **(env or {})}, cli=cli)
    return {k: _npm_str(cfg.get(k)) for k in keys}


def _npm_str(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def test_precedence_cli_env_project_user_global(tree):
    tree.glob.write_text("registry=http://global.example/\ntag=g\naccess=restricted\nscope=gs\n")
    tree.user.write_text("registry=http://user.example/\ntag=u\naccess=public\n")
    (tree.proj / ".npmrc").write_text("registry=http://project.example/\ntag=p\n")
    env = {"npm_config_registry": "http://env.example/"}
    cfg = load_config(cwd=tree.cwd, env={**tree.env, **env}, cli={"tag": "cli"})
    assert cfg.get("tag") == "cli"
    assert cfg.registry == "http://env.example/"
    assert cfg.get("access") == "public"  # user beats global
    assert cfg.get("scope") == "gs"
    assert cfg.where("tag").where == "cli"
    assert cfg.where("registry").where == "env"
    cfg = load_config(cwd=tree.cwd, env=tree.env)
    assert cfg.registry == "http://project.example/"
    assert cfg.where("registry").source == str(tree.proj / ".npmrc")


@requires_npm((11,))
def test_precedence_matches_npm(tree):
    tree.glob.write_text(
        "registry=http://global.example/\ntag=g\naccess=restricted\n@g:registry=http://g.example\n"
    )
    tree.user.write_text(
        "registry=http://user.example/\ntag=u\n; comment\n# other\n"
        "@u:registry = http://u.example/a/ ; inline comment\n"
    )
    (tree.proj / ".npmrc").write_text('tag=p\n@p:registry="http://p.example/"\n')
    keys = ("registry", "tag", "access", "@g:registry", "@u:registry", "@p:registry")
    env = {"NPM_CONFIG_TAG": "from-env"}
    assert ours(tree, *keys, env=env) == npm_get(tree, *keys, env=env)
    assert ours(tree, *keys) == npm_get(tree, *keys)


@requires_npm((11,))
def test_env_expansion_matches_npm(tree):
    tree.user.write_text(
        "registry=http://${REG_HOST}/\n"
        "tag=${UNSET_VAR}\n"
        "access=${UNSET_VAR?}\n"
        "@a:registry=http://x/\\${REG_HOST}/\n"
        "@b:registry=http://x/\\\\${REG_HOST}/\n"
    )
    env = {"REG_HOST": "reg.example:8080"}
    keys = ("registry", "tag", "access", "@a:registry", "@b:registry")
    assert ours(tree, *keys, env=env) == npm_get(tree, *keys, env=env)
    assert ours(tree, "registry", env=env)["registry"] == "http://reg.example:8080/"


def test_auth_token_from_env_var_as_in_github_actions(tree):
    tree.user.write_text("//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}\n")
    cfg = load_config(cwd=tree.cwd, env={**tree.env, "NODE_AUTH_TOKEN": "s3cr3t-token"})
    assert cfg.get("//registry.npmjs.org/:_authToken") == "s3cr3t-token"


def test_env_replace_rules():
    env = {"A": "1"}
    assert env_replace("${A}", env) == "1"
    assert env_replace("${B}", env) == "${B}"
    assert env_replace("${B?}", env) == ""
    assert env_replace("\\${A}", env) == "${A}"
    assert env_replace("\\\\${A}", env) == "\\1"
    assert env_replace("x${A}y${A?}", env) == "x1y1"


def test_env_keys_are_normalised_like_npm(tree):
    env = {
        "NPM_CONFIG_FETCH_RETRIES": "5",
        "npm_config_//h.example/:_authToken": "t",
        "npm_config_TAG": "",
        "npm_config__auth": "abc",
    }
    cfg = load_config(cwd=tree.cwd, env={**tree.env, **env})
    assert cfg.get("fetch-retries") == 5
    assert cfg.get("//h.example/:_authToken") == "t"
    assert cfg.get("tag") == "latest"  # empty env values are ignored
    assert cfg.get("_auth") == "abc"


@requires_npm((11,))
def test_userconfig_flag_and_project_detection_match_npm(tree):
    other = tree.root / "other-rc"
    other.write_text("tag=from-other\n")
    tree.user.write_text("tag=from-home\n")
    cfg = load_config(cwd=tree.cwd, env=tree.env, cli={"userconfig": str(other)})
    assert cfg.get("tag") == "from-other"
    assert npm_get(tree, "tag", args=[f"--userconfig={other}"]) == {"tag": "from-other"}
    # the project npmrc is the one at the nearest package root, not in cwd's parents above it
    (tree.root / ".npmrc").write_text("tag=above-project\n")
    assert ours(tree, "tag") == npm_get(tree, "tag") == {"tag": "from-home"}


def test_project_config_ignored_when_it_is_the_user_config(tree):
    # a package.json in HOME makes ~ the project root; npm then reads ~/.npmrc once, as user
    (tree.home / "package.json").write_text("{}")
    tree.user.write_text("tag=u\n")
    cfg = load_config(cwd=tree.home, env=tree.env)
    assert [lay.where for lay in cfg.layers if lay.data.get("tag")] == ["user", "default"]
    assert cfg.layer("project") is None


def test_scoped_registry_selection(tree):
    tree.user.write_text(
        "registry=http://main.example/r\n@corp:registry=http://corp.example:4873\n"
    )
    cfg = load_config(cwd=tree.cwd, env=tree.env)
    assert cfg.registry == "http://main.example/r/"
    assert cfg.registry_for("@corp/pkg") == "http://corp.example:4873/"
    assert cfg.registry_for("@other/pkg") == "http://main.example/r/"
    assert cfg.registry_for("plain") == "http://main.example/r/"
    assert cfg.registry_for(None) == "http://main.example/r/"
    # the `scope` config applies to unscoped names, as npm's pickRegistry does
    cfg = load_config(cwd=tree.cwd, env=tree.env, cli={"scope": "corp"})
    assert cfg.registry_for("plain") == "http://corp.example:4873/"


def test_publish_config_applies_below_cli_flags(tree):
    tree.user.write_text("registry=http://user.example/\n")
    manifest = {
        "name": "x",
        "publishConfig": {"registry": "http://pc.example", "tag": "next", "access": "public"},
    }
    cfg = load_config(
        cwd=tree.cwd, env={**tree.env, "npm_config_tag": "envtag"}, cli={"access": "restricted"}
    ).with_publish_config(manifest)
    assert cfg.registry == "http://pc.example/"
    assert cfg.get("tag") == "next"  # publishConfig beats env, as npm's flatten does
    assert cfg.get("access") == "restricted"  # but not a cli flag
    # a scoped registry still wins over publishConfig.registry (npm's pickRegistry)
    tree.user.write_text("@s:registry=http://scoped.example/\n")
    cfg = load_config(cwd=tree.cwd, env=tree.env).with_publish_config(
        {"name": "@s/x", "publishConfig": {"registry": "http://pc.example"}}
    )
    assert cfg.registry_for("@s/x") == "http://scoped.example/"
    assert load_config(cwd=tree.cwd, env=tree.env).with_publish_config({}).layers[0].where == "cli"


def test_ini_parsing_corners():
    text = (
        "a = 1\n  ; comment\nb=\"quoted ; not a comment\"\nc='single'\n"
        "d=x \\; y # trailing\nlist[]=1\nlist[]=2\nflag\ne=true\n[section]\nf=1\n"
    )
    out = parse_ini(text)
    assert out["a"] == "1"
    assert out["b"] == "quoted ; not a comment"
    assert out["c"] == "single"
    assert out["d"] == "x ; y"
    assert out["list"] == ["1", "2"]
    assert out["flag"] is True
    assert out["e"] is True
    assert "f" not in out


def test_nerf_dart():
    assert nerf_dart("https://registry.npmjs.org/") == "//registry.npmjs.org/"
    assert nerf_dart("http://127.0.0.1:4873") == "//127.0.0.1:4873/"
    assert nerf_dart("https://h.example/a/b/c.tgz?x=1") == "//h.example/a/b/"
    assert nerf_dart("https://u:p@h.example/npm/") == "//h.example/npm/"
    assert nerf_dart("https://H.Example:443/x") == "//h.example/"


def test_invalid_registry_is_a_clear_error(tree):
    cfg = load_config(cwd=tree.cwd, env=tree.env, cli={"registry": "not a url"})
    with pytest.raises(PystageError) as err:
        _ = cfg.registry
    assert err.value.code == "EINVALIDURL"


def test_unreadable_npmrc_is_a_clear_error(tree):
    tree.user.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(PystageError) as err:
        load_config(cwd=tree.cwd, env=tree.env)
    assert err.value.code == "ECONFIG"


def _npm(args, cwd, env):
    return subprocess.run(
        [shutil.which("npm"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


@pytest.fixture
def mono(tmp_path):
    """root/ with workspaces, root/packages/a (a workspace), a home and a global npmrc."""
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "root"
    a = root / "packages" / "a"
    (a / "src").mkdir(parents=True)
    # npm config refuses to run inside a workspace (ENOWORKSPACES); a script shows
    # the tag npm resolved, through the npm_config_* variables npm exports to it
    (a / "package.json").write_text(
        json.dumps(
            {
                "name": "a",
                "version": "1.0.0",
                "scripts": {"tag": "node -p process.env.npm_config_tag"},
            }
        )
    )
    (root / ".npmrc").write_text("tag=from-root\n")
    (a / ".npmrc").write_text("tag=from-workspace\n")
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "npm_config_globalconfig": str(tmp_path / "globalrc"),
        "npm_config_cache": str(tmp_path / "cache"),
        "npm_config_update_notifier": "false",
    }
    return root, a, env


def _write_root(root, workspaces):
    (root / "package.json").write_text(json.dumps({"name": "root", "workspaces": workspaces}))


@requires_npm((11,))
@pytest.mark.parametrize(
    "workspaces, expect_root",
    [
        (["packages/*"], True),
        ({"packages": ["packages/a"]}, True),
        (["other/*"], False),
        (["packages/*", "!packages/a"], False),
        (["packages/*", "!packages/a", "packages/a"], True),
    ],
)
@pytest.mark.parametrize("sub", ["", "src"])
def test_local_prefix_is_the_workspace_root_as_npm(mono, workspaces, expect_root, sub):
    root, a, env = mono
    _write_root(root, workspaces)
    cwd = a / sub if sub else a
    cfg = load_config(cwd=cwd, env=env)
    assert cfg.local_prefix == _npm(["prefix"], cwd, env)
    assert cfg.get("tag") == _npm(["run", "-s", "tag"], cwd, env)
    assert cfg.local_prefix == str(root if expect_root else a)
    assert cfg.get("tag") == ("from-root" if expect_root else "from-workspace")


@requires_npm((11,))
def test_package_without_workspaces_above_keeps_its_own_prefix(mono):
    root, a, env = mono
    (root / "package.json").write_text(json.dumps({"name": "root"}))
    cwd = a / "src"
    cfg = load_config(cwd=cwd, env=env)
    assert cfg.local_prefix == _npm(["prefix"], cwd, env) == str(a)
    assert cfg.get("tag") == "from-workspace"


@pytest.mark.parametrize("registry", ["http://[::1", "http://[::1/x"])
def test_a_malformed_registry_url_is_einvalidurl(run_pystage, tmp_path, registry):
    result = run_pystage("list", "--registry", registry, "--userconfig", tmp_path / "none")
    assert_clean_failure(result, "EINVALIDURL")
