"""The report's blocks render to the same content in Markdown and in self-contained HTML."""

from __future__ import annotations

import base64

import numpy as np
from PIL import Image

from stages.document import Figure, Heading, Paragraph, Table, to_html, to_markdown


def _blocks(tmp_path):
    picture = tmp_path / "figures" / "a.png"
    picture.parent.mkdir()
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8)).save(picture)
    return [
        Heading(2, "ring8"),
        Paragraph("Protocol: `modes`, **best** <b>not markup</b>."),
        Table(("variant", "fid ↓"), (("gan_ns", "**1.5**"), ("gan_mm", "≈ 2"))),
        Figure(picture, "Samples & more"),
    ]


def test_markdown_links_figures_relative_to_the_report(tmp_path):
    text = to_markdown(_blocks(tmp_path), tmp_path)
    assert "## ring8" in text and "| variant | fid ↓ |\n|---|---|\n| gan_ns | **1.5** |" in text
    assert "![Samples & more](figures/a.png)" in text


def test_html_is_self_contained_and_escaped(tmp_path):
    blocks = _blocks(tmp_path)
    page = to_html(blocks, "GANBench")
    data = base64.b64encode(blocks[-1].path.read_bytes()).decode()
    assert f'src="data:image/png;base64,{data}"' in page
    assert "<code>modes</code>" in page and "<b>best</b>" in page
    assert "&lt;b&gt;not markup&lt;/b&gt;" in page  # text is escaped, only our marks apply
    assert "<td><b>1.5</b></td>" in page and "Samples &amp; more" in page
    assert "<h2>ring8</h2>" in page and "http" not in page.split("<body>")[1]
