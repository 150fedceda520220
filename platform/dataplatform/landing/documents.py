"""A JSONL knowledge base built from the text, markdown and PDF files under a documents folder."""

import contextlib
import hashlib
import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import orjson
from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

# Temporary names (.part, .tmp, .crdownload, trailing ~) never match these suffixes, so the
# suffix whitelist alone keeps half-written downloads and editor backups out.
DOCUMENT_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".pdf": "pdf"}

# Above this share of control characters a decoded file is binary, not text.
_MAX_CONTROL_SHARE = 0.1
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_BLANK_LINE_RUNS = re.compile(r"\n{3,}")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ATX_H1 = re.compile(r" {0,3}#[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")
# O_NOFOLLOW refuses a file swapped for a symlink after the check; O_NONBLOCK keeps a FIFO
# from hanging the open.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class DocumentRecord:
    """One document of the knowledge base: its text and where it sits in the folder tree."""

    id: str
    path: str
    folders: list[str]
    title: str
    format: str
    text: str
    content_sha256: str
    size_bytes: int
    modified_at: str
    pages: int | None


@dataclass(frozen=True)
class DocumentFailure:
    """A document left out of the knowledge base, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class KnowledgeBase:
    """The records of all readable documents plus the documents that could not be read."""

    records: list[DocumentRecord]
    failures: list[DocumentFailure]

    def to_jsonl(self) -> bytes:
        """One JSON object per record, sorted by path."""
        return b"".join(orjson.dumps(record) + b"\n" for record in self._sorted_records())

    def fingerprint(self) -> str:
        """A hash that changes iff a document is added, changed or removed."""
        pairs = [(record.path, record.content_sha256) for record in self._sorted_records()]
        return hashlib.sha256(orjson.dumps(pairs)).hexdigest()

    def _sorted_records(self) -> list[DocumentRecord]:
        return sorted(self.records, key=lambda record: record.path)


class DocumentError(Exception):
    """A file that cannot become a document record; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def scan_documents(root: Path) -> list[tuple[str, str, int, float]]:
    """(relative path, suffix, size, mtime) of every candidate document under root, by path.

    Hidden names, unknown suffixes and symlinks are skipped; the walk starts at the resolved
    root and never follows a link, so nothing outside root is listed.
    """
    base = root.resolve()
    found = []
    for entry in _visible_files(base):
        if suffix := _suffix(entry.name):
            info = entry.stat(follow_symlinks=False)
            relative = Path(entry.path).relative_to(base).as_posix()
            found.append((relative, suffix, info.st_size, info.st_mtime))
    return sorted(found)


def build_knowledge_base(root: Path) -> KnowledgeBase:
    """Read every candidate document under root; a bad document becomes a failure."""
    records: list[DocumentRecord] = []
    failures: list[DocumentFailure] = []
    for relative, _suffix, _size, _mtime in scan_documents(root):
        try:
            records.append(read_document(root, relative))
        except DocumentError as error:
            failures.append(DocumentFailure(relative, error.reason))
    return KnowledgeBase(records, failures)


def read_document(root: Path, relative: str) -> DocumentRecord:
    """The record of the document at `relative` (posix) under root; raises DocumentError."""
    path = _checked_path(root, relative)
    data, info = _read_bytes(path)
    document_format = DOCUMENT_SUFFIXES[_suffix(path.name)]
    pages = None
    if document_format == "pdf":
        raw_text, title, pages = _read_pdf(data)
    else:
        raw_text, title = _decode_text(data), None
    text = _normalise(raw_text)
    if not text:
        hint = " (scanned image?)" if document_format == "pdf" else ""
        raise DocumentError(f"no extractable text{hint}")
    if document_format == "markdown":
        title = _markdown_title(text)
    relative_path = PurePosixPath(relative)
    return DocumentRecord(
        id=hashlib.sha256(relative_path.as_posix().encode()).hexdigest(),
        path=relative_path.as_posix(),
        folders=list(relative_path.parent.parts),
        title=title or path.stem,
        format=document_format,
        text=text,
        content_sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        modified_at=datetime.fromtimestamp(info.st_mtime, UTC).isoformat(timespec="seconds"),
        pages=pages,
    )


def _suffix(name: str) -> str:
    """The document suffix of a file name, or "" when it is not a document."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if suffix in DOCUMENT_SUFFIXES else ""


def _visible_files(directory: Path) -> Iterator[os.DirEntry[str]]:
    """Regular files under directory, skipping hidden names and never following a symlink."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _visible_files(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield entry


def _checked_path(root: Path, relative: str) -> Path:
    """root/relative, refused unless it is a visible document reached without any symlink."""
    relative_path = PurePosixPath(relative)
    hidden = any(part.startswith(".") for part in relative_path.parts)
    if relative_path.is_absolute() or hidden or not _suffix(relative_path.name):
        raise DocumentError("not a document path (absolute, hidden or unknown suffix)")
    path = root.resolve().joinpath(*relative_path.parts)
    if path.is_symlink():
        raise DocumentError("symbolic link (never followed)")
    # Resolving changes the path iff one of its folders is a symlink.
    if path.resolve() != path:
        raise DocumentError("behind a symbolic link (never followed)")
    return path


def _read_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and the stat of the very file read."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
        with open(descriptor, "rb") as file:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise DocumentError("not a regular file")
            return file.read(), info
    except OSError as error:
        raise DocumentError(f"unreadable: {error.strerror or error}") from error


def _decode_text(data: bytes) -> str:
    """The text of a plain-text file; refuses binary content."""
    text = _first_decoding(data)
    if len(_CONTROL_CHARS.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise DocumentError("not valid UTF-8 or Latin-1 text")
    return text


def _first_decoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1252, else Latin-1 (which decodes any bytes)."""
    for encoding in ("utf-8-sig", "cp1252"):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(encoding)
    return data.decode("latin-1")


def _read_pdf(data: bytes) -> tuple[str, str | None, int]:
    """The text of all pages, the metadata title and the page count of a PDF."""
    try:
        reader = PdfReader(io.BytesIO(data))
        texts = [page.extract_text() for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except FileNotDecryptedError as error:
        raise DocumentError("encrypted PDF (password required)") from error
    except DependencyError as error:
        raise DocumentError(f"unsupported PDF: {error}") from error
    # pypdf raises many exception types (KeyError, ValueError, ...) on malformed files.
    except Exception as error:
        raise DocumentError(f"corrupt PDF: {str(error) or type(error).__name__}") from error
    clean_title = title.strip() if isinstance(title, str) else None
    return "\n\n".join(texts), clean_title, len(texts)


def _normalise(text: str) -> str:
    """Drop NULs, unify line breaks, trim line ends and collapse runs of blank lines."""
    lines = (line.rstrip() for line in text.replace("\x00", "").splitlines())
    return _BLANK_LINE_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _markdown_title(text: str) -> str | None:
    """The first level-one ATX heading outside fenced code blocks."""
    fence = None
    for line in text.splitlines():
        if match := _FENCE.match(line):
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        elif fence is None and (match := _ATX_H1.match(line)):
            return match.group(1)
    return None
