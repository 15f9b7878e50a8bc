"""The report page's HTML: one self-contained file (inline CSS, a few lines of inline JS, data: images).

Every value from a result goes through `html.escape`: file names are chosen by clients.
Numbers are shown the French way ("1 234,50 €") and sorted by their value (`data-v`).
"""
from __future__ import annotations

import html
from collections.abc import Sequence

# Nothing but this file and its data: images: the page cannot reach the network even if asked to.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

Cell = str | tuple[str, float] | None  # text, (text shown, value sorted by), or None: an unknown number

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1rem 1.5rem;color:#222;background:#fafafa}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;border-bottom:2px solid #1565c0;padding-bottom:.2rem;
margin-top:2rem}h3{font-size:1rem;margin:1.2rem 0 .4rem}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:.2rem 1rem 1rem;margin:1rem 0}
nav a{margin-right:.8rem;font-size:.9rem}.meta{color:#555;font-size:.9rem}
.note{color:#6d4c41;background:#fff8e1;border-left:4px solid #ffb300;padding:.4rem .7rem;margin:.6rem 0}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
th,td{border-bottom:1px solid #e0e0e0;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#eef3fb;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.scroll{max-height:28rem;overflow:auto}img{max-width:100%;height:auto;display:block;margin:.5rem 0}
.kpi{display:inline-block;margin:0 1.5rem .5rem 0}.kpi b{display:block;font-size:1.4rem}
"""

# Click a header: sort that table's body by the column (data-v when present, else text), toggling order.
SORT_JS = """
document.querySelectorAll("table.sortable th").forEach(function(th){th.addEventListener("click",function(){
var t=th.closest("table"),b=t.tBodies[0],i=th.cellIndex,up=th.getAttribute("aria-sort")!=="ascending";
t.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort")});
th.setAttribute("aria-sort",up?"ascending":"descending");
function key(r){var c=r.cells[i];if(!c)return"";var v=c.getAttribute("data-v");return v===null?c.textContent:(v===""?-Infinity:parseFloat(v))}
Array.from(b.rows).sort(function(r,s){var a=key(r),z=key(s),o=(typeof a==="number"&&typeof z==="number")?a-z:
String(a).localeCompare(String(z),"fr",{numeric:true});return up?o:-o}).forEach(function(r){b.appendChild(r)})})});
"""


def fr_number(value: float, decimals: int = 0) -> str:
    """1234.5 -> "1 234,50" (narrow no-break space for thousands, decimal comma)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def num(value: float, decimals: int = 0, suffix: str = "") -> tuple[str, float]:
    return fr_number(value, decimals) + suffix, float(value)


def money(value: float) -> tuple[str, float]:
    return num(value, 2, "\u00a0€")


def pct(part: float, whole: float) -> tuple[str, float]:
    share = 100.0 * part / whole if whole else 0.0
    return num(share, 1, "\u00a0%")


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], scroll: bool = False) -> str:
    """A sortable table; numeric cells (tuples) are right-aligned and sorted by value."""
    numeric = [bool(rows) and all(isinstance(r[i], tuple) or r[i] is None for r in rows) for i in range(len(headers))]
    head = "".join(f'<th class="n">{html.escape(h)}</th>' if numeric[i] else f"<th>{html.escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for cell in row:
            if cell is None:
                cells.append('<td class="n" data-v="">—</td>')
            elif isinstance(cell, tuple):
                cells.append(f'<td class="n" data-v="{cell[1]!r}">{html.escape(cell[0])}</td>')
            else:
                cells.append(f"<td>{html.escape(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    markup = f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    return f'<div class="scroll">{markup}</div>' if scroll else markup


def image(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def para(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def kpis(items: Sequence[tuple[str, str]]) -> str:
    return "".join(f'<span class="kpi"><b>{html.escape(v)}</b>{html.escape(k)}</span>' for k, v in items)


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def page(title: str, meta: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """The whole document: sections are (anchor, title, body html)."""
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in sections)
    parts = "".join(section(a, t, b) for a, t, b in sections)
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            f'<h1>{html.escape(title)}</h1><p class="meta">{html.escape(meta)}</p><nav>{nav}</nav>{parts}'
            f"<script>{SORT_JS}</script></body></html>")
