"""Sharing releases: upload them to a store as archives with an index, and download them safely.

A store is a folder or any fsspec URL (memory://, s3://, gs:// ...) holding one
`newscorpus-vX.Y.Z.tar.gz` per release and `releases.json`, the index readers start
from. Readers may also fetch a store over plain HTTP(S), so the index names each
archive relative to itself and states its size and sha256.

Archives are byte-reproducible (sorted members, fixed times and owners, no name or
time in the gzip header), so publishing a version again is recognised as a no-op and
a published version can be held immutable. A download trusts nothing it fetched: the
archive must match the index, its members must be plain files and folders inside the
release's one top folder, and the release must match its own SHA256SUMS before it is
renamed into place; any failure leaves nothing behind in the target folder.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NamedTuple

import fsspec
from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)

from flows.release.layout import CHECKSUMS, MANIFEST, VERSION_FOLDER, read_manifest
from flows.release.writer import file_facts

NAME = "newscorpus"
INDEX = "releases.json"
CHUNK_BYTES = 1 << 20
HTTP_TIMEOUT_SECONDS = 60
ARCHIVE_MTIME = 0  # any constant would do; it only has to be the same every time
SHA256_HEX = frozenset("0123456789abcdef")


# Releases (Parquet is compressed already) unpack to a few times their archive's size;
# far more is a decompression bomb that would fill the disk.
MAX_EXPANSION = 100


class StoreError(Exception):
    """A problem with a release, a store or a download; the message says what to do."""


def archive_name(version: str) -> str:
    return f"{NAME}-{version}.tar.gz"


def version_key(version: str) -> tuple[int, int, int]:
    """Semantic order: v1.10.0 comes after v1.9.0."""
    return tuple(int(part) for part in VERSION_FOLDER.match(version).groups())


# Packing ---------------------------------------------------------------------------


def pack(release: Path, folder: Path) -> Path:
    """Write `release` as folder/newscorpus-vX.Y.Z.tar.gz, byte-identical on every run."""
    version = release_version(release)
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / archive_name(version)
    partial = folder / f".{archive.name}.{uuid.uuid4().hex}.part"
    try:
        # filename="" and mtime=0 keep the gzip header free of names and clock time.
        with partial.open("wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed, \
                tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, path in archive_members(release, version):
                add_member(tar, name, path)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return archive


def archive_members(release: Path, version: str) -> list[tuple[str, Path]]:
    """(member name, path) for the release folder and everything in it, sorted by name."""
    paths = [release, *release.rglob("*")]
    return sorted((f"{version}/{path.relative_to(release).as_posix()}".removesuffix("/."), path)
                  for path in paths)


def add_member(tar: tarfile.TarFile, name: str, path: Path) -> None:
    if path.is_symlink() or not (path.is_file() or path.is_dir()):
        raise StoreError(f"{path} is not a plain file or folder, and a release holds only "
                         "those: rebuild the release with `newscorpus build`")
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = ARCHIVE_MTIME, 0, 0, "", ""
    if path.is_dir():
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
        return
    info.mode, info.size = 0o644, path.stat().st_size
    with path.open("rb") as handle:
        tar.addfile(info, handle)


# Checking a release ----------------------------------------------------------------


def release_version(release: Path) -> str:
    """The version of the release folder `release`, once its name and manifest agree."""
    if not VERSION_FOLDER.match(release.name) or not (release / MANIFEST).is_file():
        raise StoreError(f"{release} is not a release: expected a folder named like v1.2.3 "
                         f"holding {MANIFEST} (releases are written by `newscorpus build`)")
    try:
        manifest = read_manifest(release)
    except ValueError as error:
        raise StoreError(f"{release / MANIFEST} is not valid JSON ({error}): "
                         "the release is damaged, rebuild or download it again") from error
    if not isinstance(manifest, dict) or manifest.get("version") != release.name:
        found = manifest.get("version") if isinstance(manifest, dict) else None
        raise StoreError(f"{release / MANIFEST} names version {found!r} but the folder is "
                         f"{release.name}: the release was renamed or damaged, use the "
                         "folder `newscorpus build` wrote")
    return release.name


def verify_checksums(release: Path) -> None:
    """Every file in `release` is listed in its SHA256SUMS and matches it, like `sha256sum -c`,
    and every listed file is there."""
    listed = read_checksums(release)
    present = {path.relative_to(release).as_posix() for path in release.rglob("*")
               if not path.is_dir()} - {CHECKSUMS}
    problems = [f"missing: {name}" for name in sorted(listed.keys() - present)]
    problems += [f"not listed: {name}" for name in sorted(present - listed.keys())]
    problems += [f"changed: {name}" for name in sorted(listed.keys() & present)
                 if file_facts(release / name)["sha256"] != listed[name]]
    if problems:
        raise StoreError(f"{release} does not match its {CHECKSUMS} ({'; '.join(problems)}): "
                         "the release is damaged or was edited, rebuild or download it again")


def read_checksums(release: Path) -> dict[str, str]:
    """{relative path: sha256} from the release's SHA256SUMS (`sha256sum` text format)."""
    path = release / CHECKSUMS
    if not path.is_file():
        raise StoreError(f"{release} has no {CHECKSUMS}, so its files cannot be verified: "
                         "rebuild or download the release again")
    listed = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        digest, separator, name = line.partition("  ")
        if not separator or not name or len(digest) != 64 or not set(digest) <= SHA256_HEX:
            raise StoreError(f"line {number} of {path} is not '<sha256>  <file>': "
                             "the release is damaged, rebuild or download it again")
        listed[name] = digest
    return listed


# Uploading ----------------------------------------------------------------------------


class Upload(NamedTuple):
    entry: dict  # the release's entry in the store's index
    new: bool  # False: the store held this version, with the same archive, already


def upload(release: Path, store: str) -> Upload:
    """Upload `release` to `store` and list it in the store's index.

    Publishing a version the store already holds is a no-op when the archive is the
    same and refused when it differs: readers may already have the published one.
    """
    version = release_version(release)
    verify_checksums(release)
    if is_http(store):
        raise StoreError(f"cannot publish to {store}: http(s) stores are read-only, publish "
                         "to a folder or a writable fsspec URL (s3://..., gs://...) instead")
    fs, root = open_store(store)
    with tempfile.TemporaryDirectory(prefix="newscorpus-pack-") as scratch:
        archive = pack(release, Path(scratch))
        facts = file_facts(archive)
        try:
            return add_to_store(fs, root, store, version, archive, facts)
        except OSError as error:
            raise StoreError(f"could not publish {version} to {store}: {error}") from error


def add_to_store(fs, root: str, store: str, version: str, archive: Path, facts: dict) -> Upload:
    index_path = join(root, INDEX)
    entries = read_index(fs.cat_file(index_path), index_path) if fs.exists(index_path) else []
    published = next((entry for entry in entries if entry["version"] == version), None)
    if published is not None:
        return Upload(unchanged(published, facts, store), new=False)
    if not fs.isdir(root):
        fs.makedirs(root, exist_ok=True)
    # The archive goes first: the index must never list an archive that is not there.
    put(fs, root, archive.name, lambda partial: fs.put_file(str(archive), partial))
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    entry = {"version": version, "archive": archive.name, "bytes": facts["bytes"],
             "sha256": facts["sha256"], "published": today, "previous_version": None}
    index = index_document([*entries, entry])
    text = json.dumps(index, indent=2, ensure_ascii=False) + "\n"
    put(fs, root, INDEX, lambda partial: fs.pipe_file(partial, text.encode("utf-8")))
    return Upload(next(entry for entry in index["releases"] if entry["version"] == version), new=True)


def unchanged(published: dict, facts: dict, store: str) -> dict:
    if (published["sha256"], published["bytes"]) == (facts["sha256"], facts["bytes"]):
        return published
    raise StoreError(f"{published['version']} is already published in {store} with different "
                     f"contents (sha256 {published['sha256']}, this release packs to "
                     f"{facts['sha256']}); a published version never changes, so build and "
                     "publish a new version instead")


def index_document(entries: list[dict]) -> dict:
    """The index for `entries`: sorted by version, each pointing at the release before it
    in this store, and the newest as latest."""
    ordered = sorted(entries, key=lambda entry: version_key(entry["version"]))
    linked = [{**entry, "previous_version": previous["version"] if previous else None}
              for previous, entry in zip([None, *ordered], ordered)]
    return {"name": NAME, "latest": linked[-1]["version"], "releases": linked}


def put(fs, root: str, name: str, write: Callable[[str], object]) -> None:
    """Write root/name through a temporary name and a move, so readers never see half a
    file (a rename on local disks; object stores show an object only once it is whole)."""
    partial = join(root, f".{name}.{uuid.uuid4().hex}.part")
    try:
        write(partial)
        fs.mv(partial, join(root, name))
    finally:
        if fs.exists(partial):
            fs.rm_file(partial)


def open_store(store: str):
    """(fsspec filesystem, root path) for a folder or fsspec URL."""
    try:
        return fsspec.url_to_fs(store)
    except (ImportError, ValueError) as error:
        raise StoreError(f"cannot open store {store!r}: {error} (a store is a folder or an "
                         "fsspec URL whose package is installed, e.g. s3fs for s3://)") from error


def join(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


def is_http(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme in ("http", "https")


def read_index(raw: bytes, where: str) -> list[dict]:
    """The release entries of an index, after checking it is one."""
    try:
        index = json.loads(raw)
        if index.get("name") != NAME:
            raise ValueError(f"it names {index.get('name')!r}, not {NAME!r}")
        entries = index["releases"]
        if not isinstance(entries, list):
            raise ValueError("releases is not a list")
        for entry in entries:
            check_entry(entry)
        versions = [entry["version"] for entry in entries]
        if len(set(versions)) != len(versions):
            raise ValueError("a version is listed twice")
        if entries and index.get("latest") != max(versions, key=version_key):
            raise ValueError(f"latest is {index.get('latest')!r}, not the newest listed version")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StoreError(f"{where} is not a valid {NAME} release index ({error}): check that "
                         f"it is the index of a {NAME} store; restore it from a backup or ask "
                         "the store's publisher") from error
    return entries


def check_entry(entry: dict) -> None:
    if not VERSION_FOLDER.match(entry["version"]):
        raise ValueError(f"version {entry['version']!r} is not like v1.2.3")
    archive = entry["archive"]
    # Exactly the name pack() gives: an index must not point readers anywhere outside
    # the store ("../x", "file:x", "data:...").
    if archive != archive_name(entry["version"]):
        raise ValueError(f"archive {archive!r} of {entry['version']} is not "
                         f"{archive_name(entry['version'])!r}")
    if not isinstance(entry["bytes"], int) or entry["bytes"] < 0:
        raise ValueError(f"bytes of {entry['version']} is not a size")
    sha256 = entry["sha256"]
    if not isinstance(sha256, str) or len(sha256) != 64 or not set(sha256) <= SHA256_HEX:
        raise ValueError(f"sha256 of {entry['version']} is not a sha256 hex digest")


# Downloading -----------------------------------------------------------------------


class Source:
    """Where a download reads from: an http(s) store root, or a folder or fsspec URL."""

    def __init__(self, source: str):
        self.name = source
        self.http = is_http(source)
        if self.http:
            parts = urllib.parse.urlsplit(source)
            if parts.query or parts.fragment:
                raise StoreError(f"{source}: a store URL with a query or fragment is not "
                                 "supported; give the folder that holds releases.json")
            # Spaces and non-ASCII characters are sent percent-encoded, as browsers do.
            path = urllib.parse.quote(parts.path.rstrip("/") + "/", safe="/%")
            self.root = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        else:
            self.fs, self.root = open_store(source)

    def location(self, name: str) -> str:
        return urllib.parse.urljoin(self.root, name) if self.http else join(self.root, name)

    def open(self, name: str, what: str, advice: str) -> BinaryIO:
        location = self.location(name)
        try:
            if self.http:
                return urllib.request.urlopen(location, timeout=HTTP_TIMEOUT_SECONDS)
            return self.fs.open(location, "rb")
        except (OSError, ValueError, UnicodeError) as error:  # URLError and HTTPError are OSErrors
            raise StoreError(f"cannot read {what} at {location} ({error}): {advice}") from error


def download(version: str, source: str, target: Path, progress: bool = True) -> Path:
    """Download release `version` ("latest" or "vX.Y.Z") from `source` into target/vX.Y.Z.

    The archive is checked against the index, unpacked with every member checked, and
    the release checked against its SHA256SUMS before it is renamed into place.
    """
    if version != "latest" and not VERSION_FOLDER.match(version):
        raise StoreError(f"version {version!r} is neither 'latest' nor like v1.2.3")
    store = Source(source)
    entry = find_entry(store, version)
    final = target / entry["version"]
    if final.exists():
        raise StoreError(f"{final} already exists; a download never overwrites, so remove it "
                         "or download into another folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".download-", dir=target))
    except OSError as error:
        raise StoreError(f"cannot write into {target}: {error}") from error
    try:
        release = fetch_and_unpack(store, entry, work, progress)
        if final.exists():  # another download finished meanwhile
            raise StoreError(f"{final} appeared during the download; it was left as it is")
        release.rename(final)
    except (OSError, http.client.HTTPException) as error:
        raise StoreError(f"could not download {entry['version']} from {source} into {target}: "
                         f"{error}") from error
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def find_entry(store: Source, version: str) -> dict:
    advice = f"check that {store.name} is the root of a {NAME} store (the folder holding {INDEX})"
    with store.open(INDEX, "the release index", advice) as stream:
        raw = stream.read()
    entries = read_index(raw, store.location(INDEX))
    if not entries:
        raise StoreError(f"the store {store.name} has no releases yet")
    if version == "latest":
        return max(entries, key=lambda entry: version_key(entry["version"]))
    found = next((entry for entry in entries if entry["version"] == version), None)
    if found is None:
        listed = ", ".join(entry["version"] for entry in entries)
        raise StoreError(f"{version} is not in the store {store.name}; it has {listed}")
    return found


def fetch_and_unpack(store: Source, entry: dict, work: Path, progress: bool) -> Path:
    archive = work / entry["archive"]
    fetch(store, entry, archive, progress)
    release = unpack(archive, work / "unpacked", entry["version"])
    if release_version(release) != entry["version"]:
        raise StoreError(f"{archive.name} holds {release.name}, not {entry['version']}")
    verify_checksums(release)
    return release


def fetch(store: Source, entry: dict, destination: Path, progress: bool) -> None:
    """Stream the archive of `entry` to `destination`, checking its size and sha256."""
    expected, received, digest = entry["bytes"], 0, hashlib.sha256()
    advice = "the store is incomplete, tell its publisher"
    with store.open(entry["archive"], f"the archive of {entry['version']}", advice) as stream, \
            destination.open("wb") as out, progress_bar(progress) as bar:
        task = bar.add_task(entry["archive"], total=expected)
        while chunk := stream.read(CHUNK_BYTES):
            received += len(chunk)
            if received > expected:  # stop at once rather than fill the disk
                break
            digest.update(chunk)
            out.write(chunk)
            bar.advance(task, len(chunk))
    if received != expected:
        raise StoreError(f"{entry['archive']} has {'more than ' if received > expected else ''}"
                         f"{received} bytes but the index says {expected}: the download was "
                         "cut short or the store is damaged, try again or tell its publisher")
    if digest.hexdigest() != entry["sha256"]:
        raise StoreError(f"sha256 mismatch: {entry['archive']} has sha256 {digest.hexdigest()} "
                         f"but the index says {entry['sha256']}: the archive is corrupt or the "
                         "index is wrong, try again or tell the store's publisher")


def progress_bar(enabled: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not enabled)


def unpack(archive: Path, into: Path, version: str) -> Path:
    """Extract `archive` into `into` once every member is known safe; returns into/version."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                check_member(member, version, archive.name)
            unpacked = sum(member.size for member in members)
            if unpacked > MAX_EXPANSION * archive.stat().st_size:
                raise StoreError(f"{archive.name} would unpack to {unpacked:,} bytes, over "
                                 f"{MAX_EXPANSION} times its size: refusing a likely "
                                 "decompression bomb; tell the store's publisher")
            # Our checks say what is wrong; the "data" filter guards what they might miss.
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise StoreError(f"{archive.name} is not a readable release archive ({error}): "
                         "tell the store's publisher") from error
    return into / version


def check_member(member: tarfile.TarInfo, version: str, archive: str) -> None:
    name, parts = member.name, member.name.split("/")
    if name.startswith("/"):
        problem = "has an absolute path"
    elif any(part in ("", ".", "..") for part in parts):
        problem = "has an empty, '.' or '..' path component"
    elif parts[0] != version:
        problem = f"is outside the release folder {version}/"
    elif member.issym():
        problem = "is a symbolic link"
    elif member.islnk():
        problem = "is a hard link"
    elif not (member.isfile() or member.isdir()):
        problem = "is a device, fifo or other special file"
    else:
        return
    raise StoreError(f"refusing {archive}: member {name!r} {problem}, which no {NAME} release "
                     "has; nothing was extracted, tell the store's publisher")
