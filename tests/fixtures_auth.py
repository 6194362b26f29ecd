"""Fixtures for configuration, credentials, OTP and the registry client.

- ``memory_keyring``: an in-memory keyring backend for in-process tests.
- ``no_keyring``: the "no backend" case (headless CI).
- ``file_keyring_env``: env vars that make a *subprocess* use a JSON-file
  keyring in a tmp dir (PYTHON_KEYRING_BACKEND), so e2e tests can see what
  `pystage login` stored.
- ``recording_server`` (in fixtures_httpserver.py, with ``scripted_server``): a real
  HTTP server (pytest-httpserver) on a free port that records requests and answers from a per-path
  script (redirects, OTP challenges ...).
"""

from __future__ import annotations

import json
import os

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.store:
            raise PasswordDeleteError("not found")
        del self.store[(service, username)]


class JsonFileKeyring(KeyringBackend):
    """A keyring in the JSON file named by $PYSTAGE_TEST_KEYRING_FILE (tests only)."""

    priority = 1

    def _path(self):
        return os.environ["PYSTAGE_TEST_KEYRING_FILE"]

    def _load(self):
        try:
            with open(self._path()) as fh:
                return json.load(fh)
        except FileNotFoundError:
            return {}

    def _save(self, data):
        with open(self._path(), "w") as fh:
            json.dump(data, fh)

    def get_password(self, service, username):
        return self._load().get(f"{service}|{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}|{username}"] = password
        self._save(data)

    def delete_password(self, service, username):
        data = self._load()
        if f"{service}|{username}" not in data:
            raise PasswordDeleteError("not found")
        del data[f"{service}|{username}"]
        self._save(data)


def read_file_keyring(path) -> dict[str, str]:
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return {}


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def file_keyring_env(tmp_path):
    path = tmp_path / "keyring.json"
    env = {
        "PYTHON_KEYRING_BACKEND": "fixtures_auth.JsonFileKeyring",
        "PYSTAGE_TEST_KEYRING_FILE": str(path),
        "PYTHONPATH": os.pathsep.join(filter(None, [TESTS_DIR, os.environ.get("PYTHONPATH")])),
    }
    return FileKeyringEnv(env, path)


class FileKeyringEnv:
    def __init__(self, env, path):
        self.env, self.path = env, path

    def contents(self) -> dict[str, str]:
        return read_file_keyring(self.path)


@pytest.fixture
def no_keyring_env():
    return {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
