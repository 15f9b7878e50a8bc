"""What an operator sees in the Prefect UI: one markdown artifact per dossier, and for the
inbox run a table (one row per dossier), a progress bar and links to the CSVs.

The text is built by plain functions (testable without Prefect); the `publish_*`
helpers are the thin Prefect calls. Images travel inside the markdown as small
JPEG `data:` URIs: the UI cannot reach files on the worker, and both Prefect UIs
render `data:image/...` sources (V2 allows them explicitly in its sanitiser; V1's
DOMPurify keeps them on <img>). Measured sizes are in docs/operations.md.

Every string a client controls (dossier id, folder and file names, what OCR read, messages
quoting file names) goes through `md_text`: HTML-escaped and markdown-escaped, one line, so
it shows as the text it is and can neither open a tag or a link nor break a table.
"""
from __future__ import annotations

import base64
import re
from pathlib import Path

import cv2

from core.messages import STATUS_FR
from core.records import Decision, DocumentResult, DossierResult, ReasonCode

# The pictures' size budget: with these a care sheet + invoice dossier's page measured 32 KB (docs/operations.md).
PAGE_THUMB_PX = 240  # longest side of a page thumbnail: enough to recognise the page, not to read it
CROP_PX = 220  # longest side of a zone crop: enough to see whether a stamp or a signature is there
JPEG_QUALITY = 70  # of the embedded JPEGs: size before fidelity (the originals stay in the dossier's folder)
MAX_CROPS = 6  # per document: the zones that decided first; more would only grow the page
# Which crop shows the evidence for a reason (zone ids of extractors/care_sheet/feuille_de_soins/layout.json).
ZONES_OF_REASON = {
    "VET_STAMP_MISSING": ("vet_stamp_signature",),
    "VET_SIGNATURE_MISSING": ("vet_stamp_signature",),
    "OWNER_SIGNATURE_MISSING": ("owner_signature",),
    "MEDICAL_SECTION_INCOMPLETE": ("motif_accident", "motif_maladie", "motif_prevention", "diagnosis"),
    "CARE_SHEET_UNDATED": ("owner_date", "vet_date"),
}
_KEY_UNSAFE = re.compile(r"[^a-z0-9-]+")  # what Prefect refuses in an artifact key


def artifact_key(prefix: str, text: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes only."""
    return f"{prefix}-{_KEY_UNSAFE.sub('-', text.lower()).strip('-')}"[:100].rstrip("-")


def image_data_uri(path: str | Path | None, max_px: int) -> str | None:
    """A PNG/JPEG file as a small JPEG data: URI (None when it cannot be read)."""
    if not path:
        return None
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    h, w = image.shape[:2]
    scale = min(1.0, max_px / max(h, w))
    if scale < 1.0:
        image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return f"data:image/jpeg;base64,{base64.b64encode(buf.tobytes()).decode()}" if ok else None


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#!|~])")  # markdown's punctuation that can start emphasis, links, code
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(value: object) -> str:
    """Client text as inert markdown: HTML escaped (no tag, no script), markdown punctuation
    backslash-escaped (no link, code span, emphasis or table cell break), on one line."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\r\n\t\v\f\u2028\u2029]+", " ", text)
    text = _MD_SPECIAL.sub(r"\\\1", text)  # before the entities, so their & and ; stay as they are
    return re.sub(r"[&<>]", lambda m: _HTML[m.group()], text)


def _cell(value: object) -> str:
    return md_text(value)


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("oui" if value else "**non**")


INVOICE_FIELDS_FR = (("type de facture", "kind"), ("date", "invoice_date"), ("n° de facture", "invoice_number"),
                     ("total TTC", "total_ttc"), ("total HT", "total_ht"), ("TVA", "total_tva"),
                     ("net à payer", "amount_due"), ("SIRET", "siret"))


def document_fields(doc: DocumentResult) -> list[tuple[str, str, str, str]]:
    """The facts found on one document, as (label, markdown value, confidence, what it stood by) rows;
    unknown facts left out. An invoice's fields carry the reader's confidence and evidence (page, box,
    label, the arithmetic that held); the care sheet's flags their own confidence where the reader gave one."""
    fields: list[tuple[str, str, str, str]] = []
    cs, inv = doc.care_sheet, doc.invoice
    if cs is not None:
        for label, flag in (("cachet vétérinaire", "vet_stamp"), ("signature vétérinaire", "vet_signature"),
                            ("signature assuré", "owner_signature"), ("partie médicale complète", "medical_section_complete"),
                            ("daté", "dated"), ("QR conforme au manifeste", "qr_matches_manifest")):
            value = getattr(cs, flag)
            if value is not None:
                c = getattr(cs, f"{flag}_confidence", None)
                fields.append((label, _yes_no(value), "" if c is None else f"{c:.2f}", ""))
    if inv is not None:
        for label, name in INVOICE_FIELDS_FR:
            value = getattr(inv, name)
            if value is not None:
                c = inv.confidence.get(name)
                fields.append((label, md_text(value), "" if c is None else f"{c:.2f}",  # read from the client's page: inert
                               md_text(inv.evidence.get(name, ""))))
        if inv.siret_failing_luhn:
            fields.append(("SIRET imprimé (clé de Luhn fausse)", md_text(inv.siret_failing_luhn), "",
                           md_text(inv.evidence.get("siret", ""))))
    return fields


def _crops_for(doc: DocumentResult, reasons: tuple[str, ...]) -> list[tuple[str, str]]:
    """(zone id, PNG path) of the crops to show: those behind a reason first, then the rest."""
    crops = dict(doc.care_sheet.crops) if doc.care_sheet else {}
    wanted = [z for r in reasons for z in ZONES_OF_REASON.get(r, ()) if z in crops]
    ordered = list(dict.fromkeys(wanted + sorted(crops)))
    return [(z, crops[z]) for z in ordered[:MAX_CROPS]]


def dossier_markdown(result: DossierResult, *, images: bool = True) -> str:
    """The operator's page for one dossier: decision, reasons, and per document what was found."""
    decision = Decision(result.decision)
    lines = [
        f"# {md_text(result.dossier_id)} — `{decision}`",
        "",
        f"**Statut portail :** {STATUS_FR[decision]}  ",
        f"**Dossier :** {md_text(result.folder or result.dossier_id)} · traité le {md_text(result.processed_at)}",
        "",
        "## Motifs",
        "",
    ]
    if result.findings:
        lines += ["| code | message | détail |", "|---|---|---|"]
        lines += [f"| `{f.code}` | {_cell(f.message_fr)} | {_cell(f.evidence)} |" for f in result.findings]
    else:
        lines.append("Aucun motif : dossier complet et lisible.")
    lines += ["", f"## Documents ({len(result.documents)})", ""]
    reasons = tuple(str(r) for r in result.reasons)
    for i, doc in enumerate(result.documents, 1):
        pages = f" p. {doc.pages_label}" if doc.pages else ""
        legible = {True: "lisible", False: "**illisible**", None: "non évalué"}[doc.legible]
        lines.append(f"### {i}. `{doc.doc_type}` — {md_text(doc.file)}{pages}")
        lines.append("")
        score = "—" if doc.readability is None else f"{doc.readability:.2f}"
        conf = "" if doc.ocr_confidence is None else f" · confiance OCR {doc.ocr_confidence:.0f}"
        lines.append(f"Lisibilité **{score}** ({legible}){conf}"
                     + (f" · défauts : {md_text(', '.join(doc.readability_defects))}" if doc.readability_defects
                        else "")
                     + (f" · {md_text('; '.join(doc.illegible_why))}" if doc.illegible_why else ""))
        lines.append("")
        fields = document_fields(doc)
        if fields:
            lines += ["| champ | valeur | confiance | d'après |", "|---|---|---|---|"]
            lines += [f"| {k} | {v} | {c} | {why} |" for k, v, c, why in fields] + [""]
        if images:
            pictures = []
            thumb = image_data_uri(doc.thumbnail, PAGE_THUMB_PX)
            if thumb:
                pictures.append(f'<img alt="page" title="page" src="{thumb}" height="{PAGE_THUMB_PX}"/>')
            for zone, path in _crops_for(doc, reasons):
                uri = image_data_uri(path, CROP_PX)
                if uri:
                    pictures.append(f'<img alt="{zone}" title="{zone}" src="{uri}" width="{CROP_PX}"/>')
            if pictures:
                lines += [" ".join(pictures), ""]
    return "\n".join(lines) + "\n"


def reused_markdown(dossier_id: str, row: dict[str, str]) -> str:
    """A dossier decided by an earlier run that was interrupted before it archived the folder."""
    return (f"# {md_text(dossier_id)} — `{md_text(row.get('decision', ''))}`\n\n"
            f"**Statut portail :** {md_text(row.get('status_fr', ''))}\n\n"
            f"Décidé lors d'une exécution précédente (interrompue avant l'archivage) : le dossier n'a pas été "
            f"relu, seulement archivé. Motifs : {md_text(row.get('reasons') or '—')}\n")


def result_summary(result: DossierResult) -> dict[str, str]:
    """What the inbox run keeps of a dossier it decided: one row of its table."""
    return {"dossier_id": result.dossier_id, "decision": str(result.decision), "status_fr": STATUS_FR[result.decision],
            "reasons": "|".join(result.reasons), "documents": str(len(result.documents)),
            "note": "après erreur" if ReasonCode.PROCESSING_ERROR in result.reasons else ""}


def reused_summary(entry: dict, row: dict[str, str]) -> dict[str, str]:
    """The same row for a dossier decided by an earlier run: its ledger entry and its saved dossiers.csv row."""
    decision = entry["decision"]
    return {"dossier_id": entry["dossier_id"], "decision": decision, "reasons": row.get("reasons", ""),
            "status_fr": STATUS_FR[Decision(decision)], "note": "déjà décidé"}


def table_rows(summaries: list[dict[str, str]]) -> list[dict[str, str]]:
    """The inbox run's table: one row per dossier, the columns an operator scans."""
    columns = ("dossier_id", "decision", "status_fr", "reasons", "documents", "archived_to", "note")
    return [{c: s.get(c, "") for c in columns} for s in sorted(summaries, key=lambda s: s["dossier_id"])]


# --- thin Prefect calls ---------------------------------------------------------------------

def publish_dossier(markdown: str, folder_name: str, description: str) -> None:
    from prefect.artifacts import create_markdown_artifact
    create_markdown_artifact(markdown, key=artifact_key("dossier", folder_name), description=description)


def publish_run(summaries: list[dict[str, str]], out: Path) -> None:
    """The inbox run's table and the links to its CSVs (file:// links: open them on the worker's disk)."""
    from prefect.artifacts import create_link_artifact, create_table_artifact
    counts: dict[str, int] = {}
    for s in summaries:
        counts[s["decision"]] = counts.get(s["decision"], 0) + 1
    description = f"{len(summaries)} dossier(s): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    create_table_artifact(table_rows(summaries), key="inbox-dossiers", description=description)
    for name in ("dossiers.csv", "documents.csv", "report.html"):
        path = (out / name).resolve()
        if not path.exists():  # the report: not written when its writer failed (logged)
            continue
        kind = "report" if name.endswith(".html") else "csv"
        create_link_artifact(path.as_uri(), link_text=str(path), key=artifact_key(kind, name.split(".")[0]),
                             description=f"{name} (on the worker's disk)" if kind == "csv" else
                             "Rapport des analystes : une page qui s'ouvre sans réseau (intake report)")
