"""The report as a list of blocks (headings, paragraphs, tables, figures), rendered once as
Markdown (``benchmark.md``, figures linked beside it) and once as a self-contained HTML page
(``index.html``, figures embedded), so the two never disagree.

Text may use two inline marks of Markdown: ``**bold**`` and ```code```."""

from __future__ import annotations

import base64
import dataclasses
import html
import re
from collections.abc import Sequence
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Heading:
    level: int  # 1..3
    text: str


@dataclasses.dataclass(frozen=True)
class Paragraph:
    text: str


@dataclasses.dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclasses.dataclass(frozen=True)
class Figure:
    path: Path  # a PNG file
    caption: str


Block = Heading | Paragraph | Table | Figure


def to_markdown(blocks: Sequence[Block], relative_to: Path) -> str:
    """Markdown with figures linked by paths relative to the folder ``relative_to``."""
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Table):
            lines = ["| " + " | ".join(block.header) + " |", "|---" * len(block.header) + "|"]
            lines += ["| " + " | ".join(row) + " |" for row in block.rows]
            parts.append("\n".join(lines))
        else:
            link = block.path.relative_to(relative_to).as_posix()
            parts.append(f"![{block.caption}]({link})\n\n*{block.caption}*")
    return "\n\n".join(parts) + "\n"


# Marks every image that failed to load and records the count on <body>, so a reader (or a
# headless browser) sees at once whether the page is whole.
_CHECK_IMAGES = """
window.addEventListener("load", function () {
  var images = document.images, broken = 0;
  for (var i = 0; i < images.length; i++) {
    if (!(images[i].complete && images[i].naturalWidth > 0)) {
      broken++;
      images[i].insertAdjacentHTML("afterend", '<p class="broken">image failed to load</p>');
    }
  }
  document.body.setAttribute("data-images", images.length);
  document.body.setAttribute("data-images-broken", broken);
});
"""
_STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1em 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.85em; color: #555; }
code { background: #f4f4f4; padding: 0 0.2em; }
.broken { color: #b00; font-weight: bold; }
"""


def to_html(blocks: Sequence[Block], title: str) -> str:
    """One self-contained HTML page: figures embedded as data URIs, no external resources."""
    body = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Table):
            header = "".join(f"<th>{_inline(cell)}</th>" for cell in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in row) + "</tr>"
                for row in block.rows
            )
            body.append(f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            data = base64.b64encode(block.path.read_bytes()).decode("ascii")
            alt, caption = html.escape(block.caption), _inline(block.caption)
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
                f"<figcaption>{caption}</figcaption></figure>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f"<script>{_CHECK_IMAGES}</script></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)
