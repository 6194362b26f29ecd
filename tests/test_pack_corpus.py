"""Every corpus tree packed by pystage and by the real npm: same tar bytes, same --json.

With npm >= 11 on PATH the real `npm pack` is the reference; without it, the
expectations recorded from npm in tests/data/pack-expectations are. Set
PYSTAGE_RECORD_PACK=1 (with npm present) to refresh the recordings.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest
from helpers import NPM_VERSION
from packcorpus import CORPUS, Tree

from pystage.packing import pack

EXPECTATIONS = Path(__file__).parent / "data" / "pack-expectations"
HAVE_NPM = NPM_VERSION is not None and NPM_VERSION >= (11,)
# compressed bytes differ between Node's zlib and Python's; everything else must not
COMPRESSION_FIELDS = ("size", "shasum", "integrity")


def _stable(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in COMPRESSION_FIELDS}


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 25


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_tree_packs_like_npm(name, tmp_path, request):
    pkg = tmp_path / "pkg"
    CORPUS[name](Tree(pkg))
    ours_dir = tmp_path / "ours"
    ours_dir.mkdir()
    result = pack(pkg, ours_dir, ignore_scripts=True)
    ours_tar = gzip.decompress(result.path.read_bytes())
    ours_json = result.to_npm_json()
    expectation_file = EXPECTATIONS / f"{name}.json"

    if HAVE_NPM:
        npm_pack = request.getfixturevalue("npm_pack")
        npm_dir = tmp_path / "npm"
        npm_dir.mkdir()
        item, npm_path, _ = npm_pack(pkg, npm_dir, "--ignore-scripts")
        npm_tgz = Path(npm_path).read_bytes()
        npm_tar = gzip.decompress(npm_tgz)
        if os.environ.get("PYSTAGE_RECORD_PACK"):
            EXPECTATIONS.mkdir(parents=True, exist_ok=True)
            expectation_file.write_text(
                json.dumps(
                    {
                        "tar_sha256": hashlib.sha256(npm_tar).hexdigest(),
                        "tar_length": len(npm_tar),
                        "npm_size": item["size"],
                        "json": _stable(item),
                    },
                    indent=2,
                    ensure_ascii=False,
                )
                + "\n"
            )
        assert _stable(ours_json) == _stable(item)
        _assert_same_tar(ours_tar, npm_tar)
        assert abs(result.size - item["size"]) <= max(0.01 * item["size"], 16), (
            result.size,
            item["size"],
        )
        assert result.size == len(result.path.read_bytes())
    else:
        if not expectation_file.exists():
            pytest.skip(f"no npm >= 11 and no recorded expectation for {name}")
        expected = json.loads(expectation_file.read_text())
        assert _stable(ours_json) == expected["json"]
        assert len(ours_tar) == expected["tar_length"]
        assert hashlib.sha256(ours_tar).hexdigest() == expected["tar_sha256"]


def _assert_same_tar(ours: bytes, theirs: bytes) -> None:
    if ours == theirs:
        return
    for offset in range(0, max(len(ours), len(theirs)), 512):
        a, b = ours[offset : offset + 512], theirs[offset : offset + 512]
        if a != b:
            pytest.fail(
                f"tar streams differ at block {offset // 512} (byte {offset}):\n"
                f"pystage: {a[:300]!r}\nnpm:     {b[:300]!r}"
            )
    pytest.fail(f"tar streams differ in length: {len(ours)} vs {len(theirs)}")
