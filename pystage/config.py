"""npm configuration, resolved as npm 11 resolves it (@npmcli/config).

Layers, highest precedence first:

    cli            flags given to pystage (--registry, --userconfig, --tag, --otp ...)
    publishConfig  the package's publishConfig, only for publish (see with_publish_config)
    env            npm_config_* / NPM_CONFIG_* environment variables
    project        <nearest package root>/.npmrc
    user           --userconfig, or ~/.npmrc
    global         <prefix>/etc/npmrc (prefix: config, $PREFIX, or where node lives)
    default        npm's defaults for the keys pystage uses

Values in files go through ``${VAR}`` / ``${VAR?}`` expansion, keys too, as in npm.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pystage.errors import PystageError

DEFAULT_REGISTRY = "https://registry.npmjs.org/"

DEFAULTS: dict[str, Any] = {
    "registry": DEFAULT_REGISTRY,
    "tag": "latest",
    "access": None,
    "otp": None,
    "scope": "",
    "auth-type": "web",
    "fetch-retries": 2,
    "fetch-retry-factor": 10,
    "fetch-retry-mintimeout": 10000,
    "fetch-retry-maxtimeout": 60000,
    "fetch-timeout": 300000,
    "strict-ssl": True,
    "always-auth": False,
}

# Keys npm types as String/path: "true"/"false"/"null" stay strings for them.
# Everything else (including nerf-darted credential keys, which have no type)
# is coerced the way @npmcli/config's parse-field does.
_STRING_KEYS = {
    "registry",
    "tag",
    "access",
    "otp",
    "scope",
    "userconfig",
    "globalconfig",
    "prefix",
    "cafile",
    "ca",
    "cert",
    "key",
    "auth-type",
    "_auth",
    "_authToken",
    "username",
    "_password",
    "email",
    "proxy",
    "https-proxy",
    "noproxy",
    "user-agent",
}
_PATH_KEYS = {"userconfig", "globalconfig", "prefix", "cafile"}
_NUMBER_KEYS = {
    "fetch-retries",
    "fetch-retry-factor",
    "fetch-retry-mintimeout",
    "fetch-retry-maxtimeout",
    "fetch-timeout",
}

_ENV_EXPR = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")


def env_replace(value: str, env: Mapping[str, str]) -> str:
    """npm's env-replace: ``${VAR}`` -> value (left as is when unset), ``${VAR?}`` -> '' when unset.

    Backslashes before ``$`` escape it, pairwise, exactly as npm counts them.
    """

    def sub(m: re.Match) -> str:
        esc, name, modifier = m.group(1), m.group(2), m.group(3)
        fallback = "" if modifier == "?" else "${" + name + "}"
        val = env.get(name, fallback)
        if len(esc) % 2:
            return m.group(0)[(len(esc) + 1) // 2 :]
        return esc[len(esc) // 2 :] + val

    return _ENV_EXPR.sub(sub, value)


def parse_ini(text: str) -> dict[str, Any]:
    """The subset of the ``ini`` package's decode npm relies on for .npmrc files.

    Top-level ``key = value`` lines, ``;``/``#`` comments (whole-line and inline,
    ``\\;`` and ``\\#`` escape them), quoted values, ``key[] = v`` lists and the
    literals true/false/null. Sections are parsed but, as in npm, their keys
    are not config keys, so they are dropped.
    """
    out: dict[str, Any] = {}
    in_section = False
    for line in re.split(r"[\r\n]+", text):
        if not line or re.match(r"^\s*[;#]", line) or not line.strip():
            continue
        sec = re.match(r"^\[([^\]]*)\]\s*$", line)
        if sec:
            in_section = True
            continue
        m = re.match(r"^([^=]+)(=(.*))?$", line)
        if not m or in_section:
            continue
        key_raw = _ini_unsafe(m.group(1))
        is_array = len(key_raw) > 2 and key_raw.endswith("[]")
        key = key_raw[:-2] if is_array else key_raw
        value: Any = _ini_unsafe(m.group(3)) if m.group(2) is not None else True
        if value in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[value]
        if is_array:
            if key not in out:
                out[key] = []
            elif not isinstance(out[key], list):
                out[key] = [out[key]]
        if isinstance(out.get(key), list):
            out[key].append(value)
        else:
            out[key] = value
    return out


def _ini_unsafe(val: str | None) -> str:
    import json

    val = (val or "").strip()
    if len(val) >= 2 and val[0] == val[-1] and val[0] in "\"'":
        inner = val[1:-1] if val[0] == "'" else val
        try:
            parsed = json.loads(inner)
            return parsed if isinstance(parsed, str) else inner
        except ValueError:
            return inner
    out, esc = [], False
    for c in val:
        if esc:
            out.append(c if c in "\\;#" else "\\" + c)
            esc = False
        elif c in ";#":
            break
        elif c == "\\":
            esc = True
        else:
            out.append(c)
    if esc:
        out.append("\\")
    return "".join(out).strip()


def _parse_field(value: Any, key: str, env: Mapping[str, str], home: str, cwd: str) -> Any:
    """npm's parse-field for the types pystage cares about."""
    if isinstance(value, list):
        return [_parse_field(v, key, env, home, cwd) for v in value]
    if not isinstance(value, str):
        return value
    value = value.strip()
    base = key.rsplit(":", 1)[-1] if key.startswith("//") else key
    is_string = key in _STRING_KEYS or (not key.startswith("//") and key.endswith(":registry"))
    if not is_string and key not in _NUMBER_KEYS:
        literal = {"true": True, "false": False, "null": None}
        if value in literal:
            return literal[value]
    value = env_replace(value, env)
    if key in _PATH_KEYS or (key.startswith("//") and base in ("certfile", "keyfile")):
        if value.startswith("~/") and home:
            value = os.path.join(home, value[2:])
        value = os.path.normpath(os.path.join(cwd, value))
    if key in _NUMBER_KEYS:
        try:
            return int(value)
        except ValueError:
            return value
    return value


def nerf_dart(url: str) -> str:
    """npm's nerf-dart: ``https://host:port/path/x?q`` -> ``//host:port/path/`` (the directory)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise PystageError("EINVALIDURL", f"invalid registry URL: {url}")
    path = parts.path or "/"
    path = path[: path.rfind("/") + 1]
    return f"//{url_host(url)}{path}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_host(url: str) -> str:
    """WHATWG URL.host: lower-case host, no userinfo, port only when not the scheme's default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise PystageError("EINVALIDURL", f"invalid port in URL: {url}") from None
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host += f":{port}"
    return host


def normalize_registry(url: str) -> str:
    url = str(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PystageError(
            "EINVALIDURL",
            f"invalid registry URL: {url!r}",
            "a registry is an http:// or https:// URL",
        )
    return url.rstrip("/") + "/"


# Layer and Config are plain classes, not dataclasses: every command loads this
# module, and generating a frozen dataclass's methods costs ~0.6 ms of start-up each.
class Layer:
    """One source of settings (immutable by convention)."""

    __slots__ = ("where", "source", "data", "exists")

    def __init__(self, where: str, source: str, data: Mapping[str, Any], exists: bool = True):
        self.where = where  # cli, publishConfig, env, project, user, global, default
        self.source = source  # file path or a description
        self.data = data
        self.exists = exists

    def __repr__(self) -> str:
        return (
            f"Layer(where={self.where!r}, source={self.source!r}, data={self.data!r}, "
            f"exists={self.exists!r})"
        )


class Config:
    """Every layer, highest precedence first (immutable by convention: ``with_*`` copy)."""

    __slots__ = ("layers", "env", "cwd", "local_prefix")

    def __init__(
        self,
        layers: tuple[Layer, ...],
        env: Mapping[str, str] | None = None,
        cwd: str = ".",
        local_prefix: str = ".",
    ) -> None:
        self.layers = layers
        self.env = {} if env is None else env
        self.cwd = cwd
        self.local_prefix = local_prefix

    def __repr__(self) -> str:  # env left out: it holds secrets
        return (
            f"Config(layers={self.layers!r}, cwd={self.cwd!r}, local_prefix={self.local_prefix!r})"
        )

    def _with_layers(self, layers: tuple[Layer, ...]) -> Config:
        return Config(layers, self.env, self.cwd, self.local_prefix)

    # -- lookups -------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        for layer in self.layers:
            if key in layer.data:
                return layer.data[key]
        return default

    def where(self, key: str) -> Layer | None:
        """The layer that provides ``key`` (None when nothing sets it)."""
        for layer in self.layers:
            if key in layer.data:
                return layer
        return None

    def layer(self, where: str) -> Layer | None:
        for layer in self.layers:
            if layer.where == where:
                return layer
        return None

    def is_default(self, key: str) -> bool:
        found = self.where(key)
        return found is None or found.where == "default"

    def keys(self) -> set[str]:
        return {k for layer in self.layers for k in layer.data}

    @property
    def registry(self) -> str:
        return normalize_registry(self.get("registry") or DEFAULT_REGISTRY)

    def registry_for(self, package_name: str | None) -> str:
        """npm-registry-fetch's pickRegistry: the package's scope, else the ``scope`` config."""
        scope = None
        if package_name and package_name.startswith("@") and "/" in package_name:
            scope = package_name.split("/", 1)[0]
        scoped = self.get(f"{scope}:registry") if scope else None
        if not scoped and self.get("scope"):
            s = str(self.get("scope"))
            scoped = self.get(("@" + s.lstrip("@")) + ":registry")
        return normalize_registry(scoped) if scoped else self.registry

    def with_publish_config(self, manifest: Mapping[str, Any]) -> Config:
        """Apply ``publishConfig`` as npm's publish does: any config key, below the CLI flags."""
        pc = manifest.get("publishConfig") if manifest else None
        if not isinstance(pc, Mapping) or not pc:
            return self
        cli = self.layer("cli")
        cli_keys = set(cli.data) if cli else set()
        home = self.env.get("HOME") or os.path.expanduser("~")
        data = {
            k: _parse_field(v, k, self.env, home, self.local_prefix)
            for k, v in pc.items()
            if k not in cli_keys
        }
        layers = [lay for lay in self.layers if lay.where != "publishConfig"]
        idx = 1 if layers and layers[0].where == "cli" else 0
        layers.insert(idx, Layer("publishConfig", "package.json publishConfig", data))
        return self._with_layers(tuple(layers))

    def with_values(self, where: str, values: Mapping[str, Any]) -> Config:
        """A copy with ``values`` layered on top (used for a fresh login token, for example)."""
        return self._with_layers((Layer(where, where, dict(values)),) + self.layers)


# -- loading -------------------------------------------------------------------


def load_config(
    *,
    cwd: str | os.PathLike | None = None,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    env = dict(os.environ if env is None else env)
    cwd = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    home = env.get("HOME") or os.path.expanduser("~")

    cli_data = {
        k: _parse_field(v, k, env, home, cwd) for k, v in (cli or {}).items() if v is not None
    }
    env_data = _env_layer(env, home, cwd)
    layers: list[Layer] = [
        Layer("cli", "command line options", cli_data),
        Layer("env", "environment", env_data),
    ]

    def current(key: str) -> Any:
        for lay in layers:
            if key in lay.data:
                return lay.data[key]
        return None

    local_prefix = current("prefix") if "prefix" in cli_data else _find_local_prefix(cwd)
    user_default = os.path.join(home, ".npmrc")
    project_file = os.path.join(local_prefix, ".npmrc")
    if project_file != (current("userconfig") or user_default):
        layers.append(_file_layer("project", project_file, env, home, cwd))
    userconfig = current("userconfig") or user_default
    layers.append(_file_layer("user", userconfig, env, home, cwd))
    globalconfig = current("globalconfig") or os.path.join(
        current("prefix") or _default_global_prefix(env), "etc", "npmrc"
    )
    layers.append(_file_layer("global", globalconfig, env, home, cwd))
    layers.append(
        Layer(
            "default",
            "default values",
            dict(DEFAULTS, userconfig=user_default, globalconfig=globalconfig),
        )
    )
    return Config(layers=tuple(layers), env=env, cwd=cwd, local_prefix=local_prefix)


def _env_layer(env: Mapping[str, str], home: str, cwd: str) -> dict[str, Any]:
    conf: dict[str, Any] = {}
    # os.environ order; npm iterates process.env in the same order
    for env_key, value in env.items():
        if not env_key.lower().startswith("npm_config_") or value == "":
            continue
        key = env_key[len("npm_config_") :]
        if not key.startswith("//"):
            key = key[:1] + key[1:].replace("_", "-")
            key = key.lower()
        conf[key] = _parse_field(value, key, env, home, cwd)
    return conf


def _file_layer(where: str, path: str, env: Mapping[str, str], home: str, base: str) -> Layer:
    try:
        with open(path, encoding="utf-8") as fh:
            raw = parse_ini(fh.read())
    except FileNotFoundError:
        return Layer(where, path, {}, exists=False)
    except IsADirectoryError:
        return Layer(where, path, {}, exists=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise PystageError("ECONFIG", f"cannot read {where} config {path}: {exc}") from None
    data: dict[str, Any] = {}
    for key, value in raw.items():
        k = env_replace(key, env)
        data[k] = _parse_field(value, k, env, home, base)
    return Layer(where, path, data)


def _find_local_prefix(cwd: str) -> str:
    """npm's loadLocalPrefix: the nearest directory holding package.json or node_modules
    (else cwd), replaced by the workspace root above it when an ancestor's ``workspaces``
    name that package, so a workspace shares its monorepo's project .npmrc."""
    p = cwd
    while True:
        has_manifest = os.path.isfile(os.path.join(p, "package.json"))
        if has_manifest or os.path.isdir(os.path.join(p, "node_modules")):
            if not has_manifest:  # map-workspaces only lists folders with a package.json
                return p
            from pystage.project import workspace_root

            return workspace_root(p) or p
        parent = os.path.dirname(p)
        if parent == p:
            return cwd
        p = parent


def _default_global_prefix(env: Mapping[str, str]) -> str:
    if env.get("PREFIX"):
        return env["PREFIX"]
    node = _which("node", env.get("PATH"))
    if node:
        prefix = os.path.dirname(os.path.dirname(os.path.realpath(node)))
    else:
        prefix = "/usr/local"
    if env.get("DESTDIR"):
        prefix = os.path.join(env["DESTDIR"], prefix.lstrip("/"))
    return prefix


def _which(command: str, path: str | None) -> str | None:
    """shutil.which on POSIX, without importing shutil (~2 ms, with bz2 and lzma, that
    every command would pay for the global npmrc's location)."""
    if os.name != "posix":
        import shutil

        return shutil.which(command, path=path)
    if path is None:
        path = os.environ.get("PATH", os.defpath)
    seen = set()
    for folder in path.split(os.pathsep) if path else ():
        if folder in seen:
            continue
        seen.add(folder)
        name = os.path.join(folder, command)
        if os.path.exists(name) and os.access(name, os.F_OK | os.X_OK) and not os.path.isdir(name):
            return name
    return None
