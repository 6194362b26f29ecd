"""Publishing a directory lists what pack() recorded instead of reading the new
tarball back (100 MB packages: one pass less). That record must be exactly what
reading the tarball gives, for every tree of the pack corpus."""

from __future__ import annotations

import pytest
from packcorpus import CORPUS, Tree

from pystage.packing import pack
from pystage.publishing.contents import read_tarball

_COMPARED = (
    "id",
    "name",
    "version",
    "size",
    "unpacked_size",
    "shasum",
    "integrity",
    "filename",
    "files",
    "entry_count",
    "bundled",
)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_pack_record_equals_the_tarball_read_back(name, tmp_path):
    CORPUS[name](Tree(tmp_path / "pkg"))
    (tmp_path / "out").mkdir()
    # every tree of the corpus packs (test_pack_corpus checks it against npm): a
    # refusal here is a failure, not a reason to skip
    packed = pack(tmp_path / "pkg", tmp_path / "out", ignore_scripts=True)
    read_back = read_tarball(str(packed.path))
    for key in _COMPARED:
        assert getattr(packed, key) == getattr(read_back, key), key
