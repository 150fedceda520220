"""The landing zone on disk: what has arrived, and moving files to the archive or quarantine.

Layout under `root`: `<dataset>/` receives files; `_archive/<dataset>/` keeps converted
originals (the entity labels of `labels/<spec>/` in a folder per day) and
`_quarantine/<dataset>/` keeps files that could not be converted, each next to a
`<name>.error.json` saying why. Nothing outside `root` is ever read: symlinks and names that
escape the dataset folder are refused.
"""

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

ARCHIVE = "_archive"
QUARANTINE = "_quarantine"
TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".download", ".swp")


class UnsafeLandingPath(ValueError):
    """A path that is a symlink or leads outside its dataset folder."""


@dataclass(frozen=True)
class LandedFile:
    name: str
    size: int
    mtime_ns: int


class LandingZone(dg.ConfigurableResource):
    root: str

    def dataset_dir(self, dataset: str) -> Path:
        return Path(self.root) / dataset

    def arrivals(self, dataset: str) -> tuple[list[LandedFile], list[str]]:
        """Regular files waiting in the dataset folder, and the names refused as unsafe."""
        folder = self.dataset_dir(dataset)
        if not folder.is_dir():
            return [], []
        files, refused = [], []
        for entry in os.scandir(folder):
            if _is_hidden_or_partial(entry.name):
                continue
            if entry.is_symlink():
                refused.append(entry.name)
            elif entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                files.append(LandedFile(entry.name, stat.st_size, stat.st_mtime_ns))
        return sorted(files, key=lambda file: file.name), sorted(refused)

    def knowledge_base_path(self) -> Path:
        folder = Path(self.root) / "_knowledge_base"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "documents.jsonl"

    def path_of(self, dataset: str, name: str) -> Path:
        """The file `name` of `dataset`, only if it is a regular file inside the dataset folder."""
        folder = self.dataset_dir(dataset).resolve()
        path = self.dataset_dir(dataset) / name
        if path.is_symlink() or path.resolve().parent != folder or Path(name).name != name:
            raise UnsafeLandingPath(f"{name!r} is a symlink or outside {folder}: refused")
        return path

    def archive(self, dataset: str, name: str, sha256: str, under: str = "") -> Path:
        """Move a processed file to `_archive/<dataset>/[<under>/]`."""
        target = self._destination(ARCHIVE, dataset, name, sha256, under)
        os.replace(self.dataset_dir(dataset) / name, target)
        return target

    def archive_dir(self, dataset: str) -> Path:
        return Path(self.root) / ARCHIVE / dataset

    def quarantine(
        self, dataset: str, name: str, error: Mapping[str, object], sha256: str | None = None
    ) -> Path:
        """Move the file (or a refused symlink itself, unread) aside, next to the reason."""
        target = self._destination(QUARANTINE, dataset, name, sha256 or "unread")
        target.with_name(f"{target.name}.error.json").write_text(json.dumps(error, indent=2))
        os.replace(self.dataset_dir(dataset) / name, target)
        return target

    def _destination(self, area: str, dataset: str, name: str, tag: str, under: str = "") -> Path:
        folder = Path(self.root) / area / dataset / under
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{tag[:12]}__{name}"


def content_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_hidden_or_partial(name: str) -> bool:
    return name.startswith((".", "~$")) or name.endswith(TEMPORARY_SUFFIXES)
