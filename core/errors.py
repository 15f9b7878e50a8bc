"""The one exception tree. Expected outcomes (a corrupt file, a missing stamp) are
findings, not exceptions; these are for our own machinery breaking."""


class IntakeError(Exception):
    """Base of every exception the pipeline raises on purpose."""


class OcrError(IntakeError):
    """Tesseract crashed or timed out on every try."""


class UnreadableFile(IntakeError):
    """A file no reader opens; `reason` is the operator-facing explanation."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InfrastructureError(IntakeError):
    """This machine cannot read dossiers now (the OCR engine or poppler gone, the output disk full):
    the run stops claiming, gives the dossiers it holds back to the inbox, and exits non-zero.
    Never a decision: a dossier is not "illisible" because our machine broke."""
