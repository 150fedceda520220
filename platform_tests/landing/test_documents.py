"""Knowledge base from real files: folders, titles, encodings, PDFs, skipped names, fingerprint."""

import dataclasses
import hashlib
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from pypdf import PdfWriter

from dataplatform.landing.documents import (
    DocumentError,
    DocumentFailure,
    KnowledgeBase,
    build_knowledge_base,
    read_document,
    scan_documents,
)

# Audit hooks cannot be removed, so one hook feeds whichever recorders are active.
_RECORDERS: list[list[Path]] = []
_HOOK_INSTALLED = False


def _record_open(event: str, args: tuple) -> None:
    if event == "open" and _RECORDERS and isinstance(args[0], str | bytes | os.PathLike):
        for recorder in _RECORDERS:
            recorder.append(Path(os.fsdecode(args[0])))


@contextmanager
def recording_opens() -> Iterator[list[Path]]:
    """Every path Python opens inside the block."""
    global _HOOK_INSTALLED
    if not _HOOK_INSTALLED:
        sys.addaudithook(_record_open)
        _HOOK_INSTALLED = True
    paths: list[Path] = []
    _RECORDERS.append(paths)
    try:
        yield paths
    finally:
        _RECORDERS.remove(paths)


def write(root: Path, relative: str, content: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def text_pdf(*pages: str, title: str | None = None, trailer: str = "") -> bytes:
    """A minimal PDF with one Helvetica line per page, built by hand with exact xref offsets."""
    kids = " ".join(f"{4 + 2 * index} 0 R" for index in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for index, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * index)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    if title:
        objects.append(f"<< /Title ({title}) >>".encode())
        trailer += f" /Info {len(objects)} 0 R"
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer.encode(),
        xref,
    )
    return pdf


def written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf("Salary bands")))
    writer.encrypt(user_password=user_password, owner_password="owner")
    return written(writer)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    return written(writer)


def failure_reasons(root: Path) -> dict[str, str]:
    return {failure.path: failure.reason for failure in build_knowledge_base(root).failures}


def test_nested_folders_become_paths_folders_and_stable_ids(tmp_path: Path) -> None:
    write(tmp_path, "hr/policies/leave.md", "# Leave\n\nTwenty days.")
    write(tmp_path, "readme.txt", "Start here.")
    write(tmp_path, "eng/a/b/c/deep.txt", "Deep.")

    knowledge = build_knowledge_base(tmp_path)

    assert knowledge.failures == []
    assert [(r.path, r.folders) for r in knowledge.records] == [
        ("eng/a/b/c/deep.txt", ["eng", "a", "b", "c"]),
        ("hr/policies/leave.md", ["hr", "policies"]),
        ("readme.txt", []),
    ]
    for record in knowledge.records:
        assert record.id == hashlib.sha256(record.path.encode()).hexdigest()


def test_record_fields_describe_the_file(tmp_path: Path) -> None:
    content = "# Leave\n\nTwenty days."
    path = write(tmp_path, "hr/leave.md", content)
    os.utime(path, (1_700_000_000, 1_700_000_000))

    record = read_document(tmp_path, "hr/leave.md")

    assert record.format == "markdown"
    assert record.text == content
    assert record.content_sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert record.size_bytes == len(content)
    assert record.modified_at == "2023-11-14T22:13:20+00:00"
    assert record.pages is None


@pytest.mark.parametrize(
    ("name", "content", "title"),
    [
        ("a.md", "Intro line\n## Sub\n# Real Title\n# Second", "Real Title"),
        ("b.markdown", "# Closed heading ##\ntext", "Closed heading"),
        ("c.md", "# C#\ntext", "C#"),
        ("d.md", "```bash\n# a shell comment\n```\n# After Fence\n", "After Fence"),
        ("e.md", "#hashtag is not a heading\ntext", "e"),
        ("notes.txt", "# Looks like a heading\n", "notes"),
    ],
)
def test_titles_of_text_and_markdown(tmp_path: Path, name: str, content: str, title: str) -> None:
    write(tmp_path, name, content)

    assert read_document(tmp_path, name).title == title


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_text_encodings_decode(tmp_path: Path, encoding: str) -> None:
    text = "Café “déjà vu”" if encoding != "latin-1" else "Café déjà vu, naïve"
    write(tmp_path, "note.txt", text.encode(encoding))

    assert read_document(tmp_path, "note.txt").text == text


def test_whitespace_is_normalised_and_nul_removed(tmp_path: Path) -> None:
    write(tmp_path, "messy.txt", b"\r\n  first  \r\nsec\x00ond\t\r\n\r\n\r\n\r\n\x0cthird\n\n")

    assert read_document(tmp_path, "messy.txt").text == "first\nsecond\n\nthird"


def test_binary_and_empty_text_files_fail(tmp_path: Path) -> None:
    write(tmp_path, "image.txt", bytes(range(256)) * 4)
    write(tmp_path, "empty.md", " \n\t\n")

    assert failure_reasons(tmp_path) == {
        "empty.md": "no extractable text",
        "image.txt": "not valid UTF-8 or Latin-1 text",
    }


def test_pdf_text_of_all_pages_with_metadata_title(tmp_path: Path) -> None:
    write(
        tmp_path,
        "hr/handbook.pdf",
        text_pdf("Welcome to the team", "Leave is 20 days", title="Handbook"),
    )
    write(tmp_path, "untitled.pdf", text_pdf("Just text"))

    handbook = read_document(tmp_path, "hr/handbook.pdf")
    untitled = read_document(tmp_path, "untitled.pdf")

    assert (handbook.format, handbook.pages, handbook.title) == ("pdf", 2, "Handbook")
    assert handbook.text == "Welcome to the team\n\nLeave is 20 days"
    assert (untitled.title, untitled.text) == ("untitled", "Just text")


def test_pdf_encrypted_with_an_empty_user_password_is_read(tmp_path: Path) -> None:
    write(tmp_path, "restricted.pdf", encrypted_pdf(user_password=""))

    assert read_document(tmp_path, "restricted.pdf").text == "Salary bands"


def test_bad_pdfs_fail_with_reasons_and_do_not_stop_the_others(tmp_path: Path) -> None:
    good = text_pdf("Readable text")
    write(tmp_path, "good.pdf", good)
    write(tmp_path, "locked.pdf", encrypted_pdf(user_password="secret"))
    write(tmp_path, "truncated.pdf", good[: len(good) // 3])
    write(tmp_path, "scan.pdf", blank_pdf())
    write(tmp_path, "zero.pdf", b"")

    knowledge = build_knowledge_base(tmp_path)
    reasons = {failure.path: failure.reason for failure in knowledge.failures}

    assert [record.path for record in knowledge.records] == ["good.pdf"]
    assert reasons.pop("locked.pdf") == "encrypted PDF (password required)"
    assert reasons.pop("scan.pdf") == "no extractable text (scanned image?)"
    assert reasons.pop("truncated.pdf").startswith("corrupt PDF: ")
    assert reasons.pop("zero.pdf") == "corrupt PDF: Cannot read an empty file"
    assert reasons == {}


# pypdf picks its AES provider when it is imported: a process where neither cryptography nor
# pycryptodome can be imported is the only faithful "not installed".
WITHOUT_AES_PROVIDERS = """
import sys
sys.modules["cryptography"] = sys.modules["Crypto"] = None
from pathlib import Path
from dataplatform.landing.documents import DocumentError, read_document
try:
    read_document(Path(sys.argv[1]), "aes.pdf")
except DocumentError as error:
    print(error)
"""


def test_aes_pdf_without_cryptography_fails_clearly(tmp_path: Path) -> None:
    zeros = "0" * 96
    aes = (
        f" /Encrypt << /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /O <{zeros}> /U <{zeros}>"
        f" /OE <{zeros[:64]}> /UE <{zeros[:64]}> >> /ID [<{zeros[:32]}> <{zeros[:32]}>]"
    )
    write(tmp_path, "aes.pdf", text_pdf("Secret", trailer=aes))

    reported = subprocess.run(
        [sys.executable, "-c", WITHOUT_AES_PROVIDERS, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout

    assert reported.startswith("unsupported PDF: cryptography")


def test_hidden_temporary_special_and_symlinked_files_are_skipped_unread(
    tmp_path: Path,
) -> None:
    root, outside = tmp_path / "documents", tmp_path / "outside"
    write(outside, "secret.md", "# Secret\nSECRET")
    write(outside, "folder/also-secret.txt", "SECRET")
    write(root, "hr/leave.md", "# Leave\nTwenty days.")
    for name in (
        ".hidden.md",
        ".git/notes.md",
        "hr/.drafts/draft.md",
        "hr/leave.md.tmp",
        "hr/report.pdf.part",
        "hr/report.pdf.crdownload",
        "hr/leave.md~",
        "hr/slides.docx",
    ):
        write(root, name, "SECRET")
    os.mkfifo(root / "pipe.md")
    (root / "hr/alias.md").symlink_to(root / "hr/leave.md")
    (root / "stolen.md").symlink_to(outside / "secret.md")
    (root / "linked-folder").symlink_to(outside / "folder", target_is_directory=True)
    (root / "dangling.txt").symlink_to(tmp_path / "missing.txt")

    with recording_opens() as opened:
        listing = scan_documents(root)
        knowledge = build_knowledge_base(root)

    assert [entry[0] for entry in listing] == ["hr/leave.md"]
    assert [record.path for record in knowledge.records] == ["hr/leave.md"]
    assert knowledge.failures == []
    assert b"SECRET" not in knowledge.to_jsonl()
    assert {path for path in opened if path.is_relative_to(tmp_path)} == {
        (root / "hr/leave.md").resolve()
    }


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("stolen.md", "symbolic link (never followed)"),
        ("linked-folder/also-secret.txt", "behind a symbolic link (never followed)"),
        ("../outside/secret.md", "not a document path (absolute, hidden or unknown suffix)"),
        ("/etc/hostname.txt", "not a document path (absolute, hidden or unknown suffix)"),
        ("hr/slides.docx", "not a document path (absolute, hidden or unknown suffix)"),
        ("pipe.md", "not a regular file"),
        ("missing.md", "unreadable: No such file or directory"),
    ],
)
def test_read_document_refuses_what_scan_skips(tmp_path: Path, relative: str, reason: str) -> None:
    root, outside = tmp_path / "documents", tmp_path / "outside"
    write(outside, "secret.md", "SECRET")
    write(outside, "folder/also-secret.txt", "SECRET")
    write(root, "hr/slides.docx", "SECRET")
    os.mkfifo(root / "pipe.md")
    (root / "stolen.md").symlink_to(outside / "secret.md")
    (root / "linked-folder").symlink_to(outside / "folder", target_is_directory=True)

    with recording_opens() as opened, pytest.raises(DocumentError) as raised:
        read_document(root, relative)

    assert raised.value.reason == reason
    assert not [path for path in opened if path.resolve().is_relative_to(outside)]


def test_scan_lists_suffix_size_and_mtime(tmp_path: Path) -> None:
    path = write(tmp_path, "finance/Q1 REPORT.PDF", b"%PDF-1.4 stub")
    os.utime(path, (1_700_000_000.5, 1_700_000_000.5))

    assert scan_documents(tmp_path) == [("finance/Q1 REPORT.PDF", ".pdf", 13, 1_700_000_000.5)]


def test_fingerprint_follows_added_changed_and_removed_documents(tmp_path: Path) -> None:
    leave = write(tmp_path, "hr/leave.md", "# Leave\nTwenty days.")
    write(tmp_path, "readme.txt", "Start here.")
    original = build_knowledge_base(tmp_path)

    os.utime(leave, (1_800_000_000, 1_800_000_000))
    write(tmp_path, "hr/leave.md.tmp", "half written")
    assert build_knowledge_base(tmp_path).fingerprint() == original.fingerprint()

    leave.write_text("# Leave\nTwenty-five days.", encoding="utf-8")
    edited = build_knowledge_base(tmp_path)
    assert edited.fingerprint() != original.fingerprint()
    assert [r.id for r in edited.records] == [r.id for r in original.records]

    added = write(tmp_path, "hr/sick.txt", "Ten days.")
    assert build_knowledge_base(tmp_path).fingerprint() not in {
        original.fingerprint(),
        edited.fingerprint(),
    }

    added.unlink()
    assert build_knowledge_base(tmp_path).fingerprint() == edited.fingerprint()


def test_fingerprint_ignores_record_order_and_failures(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "A")
    write(tmp_path, "b.txt", "B")
    knowledge = build_knowledge_base(tmp_path)
    shuffled = KnowledgeBase(knowledge.records[::-1], [DocumentFailure("c.pdf", "encrypted PDF")])

    assert shuffled.fingerprint() == knowledge.fingerprint()
    assert shuffled.to_jsonl() == knowledge.to_jsonl()


def test_to_jsonl_round_trips_one_sorted_line_per_record(tmp_path: Path) -> None:
    write(tmp_path, "z/last.md", "# Last\nline one\nline two")
    write(tmp_path, "a/first.txt", "First")
    write(tmp_path, "m.pdf", text_pdf("Middle"))
    knowledge = build_knowledge_base(tmp_path)

    lines = knowledge.to_jsonl().splitlines()

    assert [orjson.loads(line) for line in lines] == [
        dataclasses.asdict(record) for record in knowledge.records
    ]
    assert [orjson.loads(line)["path"] for line in lines] == ["a/first.txt", "m.pdf", "z/last.md"]
    assert KnowledgeBase([], []).to_jsonl() == b""


def test_five_thousand_small_documents_build_in_seconds(tmp_path: Path) -> None:
    for index in range(5_000):
        write(tmp_path, f"team{index % 50}/doc{index}.md", f"# Doc {index}\n\nBody {index}.")

    started = time.perf_counter()
    knowledge = build_knowledge_base(tmp_path)
    elapsed = time.perf_counter() - started

    assert len(knowledge.records) == 5_000
    assert elapsed < 10
