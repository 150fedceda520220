"""Compact deepchecks HTML: every report references one shared plotly.js instead of embedding it.

A default deepchecks report inlines the whole plotly library (about 4.8 MB) in every file.
Here the library is written once, as `plotly.min.js` at the root of the reports folder (from
the installed plotly package, so it opens offline), and each report loads it by a relative
path; a report then weighs only its own figures and tables.
"""

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from plotly.offline import get_plotlyjs
from upath import UPath

if TYPE_CHECKING:
    from deepchecks.core import SuiteResult

SHARED_PLOTLY = "plotly.min.js"


def write_report(result: "SuiteResult", path: UPath, root: UPath, title: str) -> UPath:
    """Writes `result` at `path`, loading plotly from `root`/plotly.min.js (written if absent)."""
    write_shared_plotly(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(compact_html(result, shared_plotly_href(path, root), title), encoding="utf-8")
    return path


def write_shared_plotly(root: UPath) -> UPath:
    shared = root / SHARED_PLOTLY
    if not shared.exists():
        root.mkdir(parents=True, exist_ok=True)
        shared.write_text(get_plotlyjs(), encoding="utf-8")
    return shared


def shared_plotly_href(path: UPath, root: UPath) -> str:
    depth = len(PurePosixPath(str(path)).relative_to(str(root)).parts) - 1
    return "../" * depth + SHARED_PLOTLY


def compact_html(result: "SuiteResult", plotly_href: str, title: str) -> str:
    body = result.html_serializer.serialize(
        output_id="report", full_html=False, include_plotlyjs=False, include_requirejs=False
    )
    # With plotly 6+, deepchecks' figures still inline the library once; drop that copy.
    body = body.replace(get_plotlyjs(), "")
    return (
        '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"/>'
        f"<title>{title}</title>"
        f'<script type="text/javascript" src="{plotly_href}"></script></head>\n'
        f'<body style="background-color: white; padding: 1rem;">\n{body}\n</body>\n</html>\n'
    )
