"""Release stores: reproducible archives, an index, and downloads that trust nothing they fetch.

Real releases, real files, a real HTTP server on loopback, a real fsspec memory store.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import tarfile
import threading
import uuid
from pathlib import Path

import fsspec
import pytest

from flows.release.publish import write_checksums
from flows.release.share import INDEX, StoreError, download, pack, upload
from tests.helpers import SEEDS, prepared_tables, publish


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """v1.0.0 from the seeds and v1.1.0 with one more input file; tests only read them."""
    output = tmp_path_factory.mktemp("output")
    first = publish(*prepared_tables(), output)
    extra = tmp_path_factory.mktemp("extra")  # a copy of a seed: one more input, a duplicate
    shutil.copy(SEEDS / "002_655390921e1c2ba6.txt", extra / "002_655390921e1c2ba6.txt")
    second = publish(*prepared_tables(SEEDS, extra / "002_655390921e1c2ba6.txt"), output)
    assert (first.version, second.version) == ("v1.0.0", "v1.1.0")
    return first.path, second.path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep the test output to what matters
        pass


@pytest.fixture
def serve():
    """serve(folder) -> URL of `folder` over HTTP on loopback, until the test ends."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # A short poll keeps shutdown (which waits for the next poll) quick.
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def contents(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def read_index(store: Path) -> dict:
    return json.loads((store / INDEX).read_text(encoding="utf-8"))


def write_index(store: Path, archive: Path, version: str) -> None:
    """An index listing `archive` as `version` with its true size and sha256."""
    data = archive.read_bytes()
    entry = {"version": version, "archive": archive.name, "bytes": len(data),
             "sha256": hashlib.sha256(data).hexdigest(), "published": "2026-01-01",
             "previous_version": None}
    index = {"name": "newscorpus", "latest": version, "releases": [entry]}
    (store / INDEX).write_text(json.dumps(index), encoding="utf-8")


def copy_release(release: Path, into: Path) -> Path:
    return Path(shutil.copytree(release, into / release.name))


def minimal_release(folder: Path, version: str, note: str = "") -> Path:
    """A release with only a manifest, a card and SHA256SUMS: enough for the store."""
    release = folder / version
    release.mkdir(parents=True)
    (release / "manifest.json").write_text(json.dumps({"name": "newscorpus", "version": version}))
    (release / "README.md").write_text(f"# newscorpus {version}\n{note}")
    write_checksums(release, {})
    return release


def test_packing_twice_gives_identical_normalised_archives(releases, tmp_path):
    release = releases[0]
    first = pack(release, tmp_path / "a")
    copy = copy_release(release, tmp_path / "copy")
    os.utime(copy / "README.md", (1_000_000_000, 1_000_000_000))  # file times must not leak
    second = pack(copy, tmp_path / "b")
    assert first.name == "newscorpus-v1.0.0.tar.gz"
    assert first.read_bytes() == second.read_bytes()
    header = first.read_bytes()[:10]
    assert header[3] == 0 and header[4:8] == b"\0\0\0\0"  # no file name, no time in gzip

    with tarfile.open(first, "r:gz") as tar:
        members = tar.getmembers()
    names = [member.name for member in members]
    assert names == sorted(names) and names[:2] == ["v1.0.0", "v1.0.0/CHANGELOG.md"]
    assert {name.removeprefix("v1.0.0/") for name in names if name != "v1.0.0"} == \
        {path.relative_to(release).as_posix() for path in release.rglob("*")}
    for member in members:
        owner = (member.uid, member.gid, member.uname, member.gname)
        assert member.mtime == 0 and owner == (0, 0, "", "")
        assert member.mode == (0o755 if member.isdir() else 0o644)
        assert member.isdir() or member.isfile()


def test_round_trip_over_http(releases, tmp_path, serve, capsys):
    release = releases[0]
    www = tmp_path / "www"
    entry = upload(release, str(www / "store")).entry
    archive = www / "store" / "newscorpus-v1.0.0.tar.gz"
    assert entry == {"version": "v1.0.0", "archive": archive.name,
                     "bytes": archive.stat().st_size,
                     "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
                     "published": dt.datetime.now(dt.timezone.utc).date().isoformat(),
                     "previous_version": None}
    assert read_index(www / "store") == {"name": "newscorpus", "latest": "v1.0.0",
                                         "releases": [entry]}
    assert sorted(p.name for p in (www / "store").iterdir()) == [archive.name, INDEX]

    target = tmp_path / "data"
    path = download("latest", serve(www) + "/store", target, progress=True)
    assert path == target / "v1.0.0"
    assert contents(path) == contents(release)
    assert [p.name for p in target.iterdir()] == ["v1.0.0"]  # no temporary leftovers
    assert archive.name in capsys.readouterr().err  # the progress bar, on stderr


def test_two_versions_are_indexed_in_order_and_both_downloadable(releases, tmp_path, serve):
    store = tmp_path / "store"
    upload(releases[0], str(store))
    second = upload(releases[1], str(store)).entry
    assert second["previous_version"] == "v1.0.0"
    index = read_index(store)
    assert index["latest"] == "v1.1.0"
    assert [(e["version"], e["previous_version"]) for e in index["releases"]] == [
        ("v1.0.0", None), ("v1.1.0", "v1.0.0")]

    url = serve(store)
    newest = download("latest", url, tmp_path / "new", progress=False)
    oldest = download("v1.0.0", url, tmp_path / "old", progress=False)
    assert contents(newest) == contents(releases[1]) and contents(oldest) == contents(releases[0])


def test_versions_are_ordered_semantically(tmp_path):
    store = tmp_path / "store"
    upload(minimal_release(tmp_path / "out", "v1.10.0"), str(store))
    upload(minimal_release(tmp_path / "out", "v1.9.0"), str(store))
    index = read_index(store)
    assert index["latest"] == "v1.10.0"
    assert [(e["version"], e["previous_version"]) for e in index["releases"]] == [
        ("v1.9.0", None), ("v1.10.0", "v1.9.0")]


def test_a_corrupted_archive_is_refused_and_leaves_nothing(releases, tmp_path, serve):
    store = tmp_path / "store"
    upload(releases[0], str(store))
    archive = store / "newscorpus-v1.0.0.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    target = tmp_path / "data"
    with pytest.raises(StoreError, match="sha256 mismatch"):
        download("latest", serve(store), target, progress=False)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("field, wrong, message", [
    ("bytes", lambda entry: entry["bytes"] + 1, "bytes but the index says"),
    ("bytes", lambda entry: entry["bytes"] - 1, "more than"),
    ("sha256", lambda entry: "0" * 64, "sha256 mismatch"),
])
def test_a_wrong_index_entry_is_refused(releases, tmp_path, serve, field, wrong, message):
    store = tmp_path / "store"
    upload(releases[0], str(store))
    index = read_index(store)
    index["releases"][0][field] = wrong(index["releases"][0])
    (store / INDEX).write_text(json.dumps(index))
    target = tmp_path / "data"
    with pytest.raises(StoreError, match=message):
        download("v1.0.0", serve(store), target, progress=False)
    assert list(target.iterdir()) == []


def unsafe_member(kind: str, tmp_path: Path) -> tarfile.TarInfo:
    member = tarfile.TarInfo({"parent": "../evil", "absolute": str(tmp_path / "evil"),
                              "inner parent": "v1.0.0/../../evil",
                              "other top folder": "v9.9.9/evil"}.get(kind, "v1.0.0/evil"))
    member.type = {"symlink": tarfile.SYMTYPE, "hard link": tarfile.LNKTYPE,
                   "fifo": tarfile.FIFOTYPE, "device": tarfile.CHRTYPE}.get(kind, tarfile.REGTYPE)
    if member.issym() or member.islnk():
        member.linkname = "../../evil"
    return member


@pytest.mark.parametrize("kind, message", [
    ("parent", "'..'"), ("inner parent", "'..'"), ("absolute", "absolute path"),
    ("symlink", "symbolic link"), ("hard link", "hard link"), ("fifo", "device, fifo"),
    ("device", "device, fifo"), ("other top folder", "outside the release folder v1.0.0/"),
])
def test_unsafe_archives_are_refused_before_anything_is_extracted(tmp_path, kind, message):
    store, target = tmp_path / "store", tmp_path / "data"
    store.mkdir()
    target.mkdir()
    archive = store / "newscorpus-v1.0.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        manifest = json.dumps({"name": "newscorpus", "version": "v1.0.0"}).encode()
        folder = tarfile.TarInfo("v1.0.0")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        file = tarfile.TarInfo("v1.0.0/manifest.json")
        file.size = len(manifest)
        tar.addfile(file, io.BytesIO(manifest))
        tar.addfile(unsafe_member(kind, tmp_path), io.BytesIO(b""))
    write_index(store, archive, "v1.0.0")  # true size and sha256: only unpacking can catch it
    before = set(tmp_path.rglob("*"))
    with pytest.raises(StoreError, match=message):
        download("v1.0.0", str(store), target, progress=False)
    assert set(tmp_path.rglob("*")) == before
    assert not (tmp_path / "evil").exists() and list(target.iterdir()) == []


def test_an_archive_of_another_version_is_refused(releases, tmp_path):
    store, target = tmp_path / "store", tmp_path / "data"
    archive = pack(releases[1], store)
    write_index(store, archive.rename(store / "newscorpus-v1.0.0.tar.gz"), "v1.0.0")
    with pytest.raises(StoreError, match="'v1.1.0' is outside the release folder v1.0.0/"):
        download("v1.0.0", str(store), target, progress=False)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("tamper, problem", [
    (lambda release: (release / "README.md").write_text("edited"), "changed: README.md"),
    (lambda release: (release / "csv" / "sources.csv").unlink(), "missing: csv/sources.csv"),
    (lambda release: (release / "extra.txt").write_text("?"), "not listed: extra.txt"),
])
def test_a_release_not_matching_its_checksums_is_refused(releases, tmp_path, tamper, problem):
    release = copy_release(releases[0], tmp_path / "copy")
    tamper(release)
    store, target = tmp_path / "store", tmp_path / "data"
    with pytest.raises(StoreError, match=f"does not match its SHA256SUMS.*{problem}"):
        upload(release, str(store))
    assert not store.exists()

    write_index(store, pack(release, store), "v1.0.0")  # as if a store had been tampered with
    with pytest.raises(StoreError, match=f"does not match its SHA256SUMS.*{problem}"):
        download("v1.0.0", str(store), target, progress=False)
    assert list(target.iterdir()) == []


def test_round_trip_through_an_fsspec_memory_store(releases, tmp_path, capsys):
    store = f"memory://newscorpus-test-{uuid.uuid4().hex}/releases"
    fs, root = fsspec.url_to_fs(store)
    try:
        upload(releases[0], store)
        upload(releases[1], store)
        assert sorted(fs.ls(root, detail=False)) == [f"{root}/newscorpus-v1.0.0.tar.gz",
                                       f"{root}/newscorpus-v1.1.0.tar.gz", f"{root}/{INDEX}"]
        path = download("latest", store, tmp_path / "data", progress=False)
        assert path.name == "v1.1.0" and contents(path) == contents(releases[1])
        assert capsys.readouterr().err == ""  # progress=False prints nothing
    finally:
        fs.rm(root.rsplit("/", 1)[0], recursive=True)


def test_republishing_is_a_no_op_and_a_changed_version_is_refused(tmp_path):
    store = tmp_path / "store"
    release = minimal_release(tmp_path / "out", "v1.0.0")
    first = upload(release, str(store))
    published = contents(store)
    again = upload(release, str(store))
    assert first.new and not again.new and again.entry == first.entry
    assert contents(store) == published

    changed = minimal_release(tmp_path / "other", "v1.0.0", note="different rows")
    with pytest.raises(StoreError, match="already published .* with different contents"):
        upload(changed, str(store))
    assert contents(store) == published


def test_download_problems_are_reported_clearly(releases, tmp_path, serve):
    store, target = tmp_path / "store", tmp_path / "data"
    store.mkdir()
    url = serve(store)
    with pytest.raises(StoreError, match="cannot read the release index .*404"):
        download("latest", url, target, progress=False)
    (store / INDEX).write_text("{not json")
    with pytest.raises(StoreError, match="is not a valid newscorpus release index"):
        download("latest", url, target, progress=False)
    (store / INDEX).unlink()
    upload(releases[0], str(store))
    with pytest.raises(StoreError, match="v9.9.9 is not in the store .* it has v1.0.0"):
        download("v9.9.9", url, target, progress=False)
    with pytest.raises(StoreError, match="neither 'latest' nor like v1.2.3"):
        download("1.0.0", url, target, progress=False)
    assert not target.exists()

    download("v1.0.0", url, target, progress=False)
    with pytest.raises(StoreError, match="already exists"):
        download("latest", url, target, progress=False)
    assert [p.name for p in target.iterdir()] == ["v1.0.0"]


def test_unusable_stores_are_reported_clearly(releases):
    with pytest.raises(StoreError, match="http.s. stores are read-only"):
        upload(releases[0], "https://example.org/store")
    with pytest.raises(StoreError, match="cannot open store 'nosuchprotocol://x'"):
        upload(releases[0], "nosuchprotocol://x")
    with pytest.raises(StoreError, match="is not a release"):
        upload(releases[0].parent, "memory://unused")


def test_publish_and_download_commands_round_trip_over_http(releases, tmp_path, serve, capsys):
    from flows.cli import main

    output = releases[0].parent
    store = tmp_path / "store"
    assert main(["publish", "--version", "v1.0.0", "--output", str(output), "--to", str(store)]) == 0
    assert main(["publish", "--output", str(output), "--to", str(store)]) == 0  # the newest
    assert capsys.readouterr().out.startswith("v1.0.0: newscorpus-v1.0.0.tar.gz (")
    published = {p.name: p.stat().st_mtime_ns for p in store.iterdir()}
    assert main(["publish", "--version", "v1.0.0", "--output", str(output), "--to", str(store)]) == 0
    assert capsys.readouterr().out.startswith(f"v1.0.0 is already in {store} with the same contents")
    assert {p.name: p.stat().st_mtime_ns for p in store.iterdir()} == published  # nothing rewritten
    target = tmp_path / "downloads"
    assert main(["download", "v1.0.0", "--from", serve(store), "--to", str(target), "--quiet"]) == 0
    assert main(["download", "--from", serve(store), "--to", str(target), "--quiet"]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["LATEST", "v1.0.0", "v1.1.0"]
    assert (target / "LATEST").read_text() == "v1.1.0\n"
    assert main(["download", "v2.0.0", "--from", str(store), "--to", str(target), "--quiet"]) == 1
    assert "v2.0.0 is not in the store" in capsys.readouterr().err


def test_odd_urls_and_foreign_archive_names_are_refused(releases, tmp_path, serve):
    store, target = tmp_path / "my store", tmp_path / "data"
    upload(releases[0], str(store))
    root = serve(tmp_path)
    # A folder with a space in its name is reached percent-encoded.
    assert download("latest", f"{root}/my store", target, progress=False).name == "v1.0.0"
    with pytest.raises(StoreError, match="query or fragment is not supported"):
        download("latest", f"{root}/my%20store?sig=x", tmp_path / "other", progress=False)
    with pytest.raises(StoreError, match="cannot read the release index"):
        download("latest", f"{root}/données", tmp_path / "other", progress=False)
    index = read_index(store)
    index["releases"][0]["archive"] = "file:newscorpus-v1.0.0.tar.gz"  # outside the store
    (store / INDEX).write_text(json.dumps(index), encoding="utf-8")
    with pytest.raises(StoreError, match="is not 'newscorpus-v1.0.0.tar.gz'"):
        download("latest", str(store), tmp_path / "other", progress=False)
    assert not (tmp_path / "other").exists()


def test_a_decompression_bomb_is_refused(tmp_path):
    store, target = tmp_path / "store", tmp_path / "data"
    store.mkdir()
    archive = store / "newscorpus-v1.0.0.tar.gz"
    zeros = 50 * 1024 * 1024  # compresses to about 50 kB
    with tarfile.open(archive, "w:gz") as tar:
        file = tarfile.TarInfo("v1.0.0/zeros.bin")
        file.size = zeros
        tar.addfile(file, io.BytesIO(bytes(zeros)))
    write_index(store, archive, "v1.0.0")
    with pytest.raises(StoreError, match="decompression bomb"):
        download("v1.0.0", str(store), target, progress=False)
    assert list(target.iterdir()) == []
