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
