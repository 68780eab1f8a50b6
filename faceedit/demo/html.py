"""A small, dependency-free HTML report: sections of text, pictures (files beside the page) and tables."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

__all__ = ["HtmlReport"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figure img { image-rendering: pixelated; border: 1px solid #ccc; max-width: 100%; }
figcaption { font-size: 0.85em; color: #555; max-width: 520px; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f4f4f4; } code { background: #f4f4f4; padding: 0.05em 0.3em; }
.meta { color: #666; font-size: 0.9em; }
"""


@dataclass
class HtmlReport:
    """Collects sections and writes ``index.html``; image paths are relative to the report's folder."""

    title: str
    subtitle: str = ""
    parts: List[str] = field(default_factory=list)

    def section(self, title: str, text: str = "") -> "HtmlReport":
        self.parts.append(f"<h2>{html.escape(title)}</h2>")
        if text:
            self.parts.append(f"<p>{text}</p>")  # trusted text written by faceedit (may hold <code>)
        return self

    def text(self, text: str) -> "HtmlReport":
        self.parts.append(f"<p>{text}</p>")
        return self

    def image(self, path: str, caption: str = "", width: Optional[int] = None) -> "HtmlReport":
        size = f' width="{int(width)}"' if width else ""
        self.parts.append(f'<figure><a href="{html.escape(path)}"><img src="{html.escape(path)}"{size} '
                          f'alt="{html.escape(caption)}"></a><figcaption>{html.escape(caption)}</figcaption></figure>')
        return self

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> "HtmlReport":
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
        self.parts.append(f"<table><tr>{head}</tr>{body}</table>")
        return self

    def render(self) -> str:
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>"
                f"<p class='meta'>{html.escape(self.subtitle)}</p>{''.join(self.parts)}</body></html>\n")

    def write(self, folder: Path) -> Path:
        from faceedit.utils.files import atomic_write_text

        path = Path(folder) / "index.html"
        atomic_write_text(path, self.render())
        return path


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
