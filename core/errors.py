"""The one exception tree. Expected outcomes (a corrupt file, a missing stamp) are
findings, not exceptions; these are for our own machinery breaking."""
from enum import IntEnum


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


class ExitCode(IntEnum):
    """What the shell (a cron job, systemd, a worker script) learns from `intake`."""

    OK = 0  # every ready dossier was decided (or the purge went through)
    BAD_ARGS = 2  # bad flags or INTAKE_* settings (argparse's own code)
    MISSING_DEPENDENCY = 3  # preflight: tesseract, its language data or poppler missing or too old
    FILE_ACCESS = 5  # preflight: the inbox cannot be read, the output or archive cannot be written
    INFRASTRUCTURE = 7  # the machinery broke mid-run (InfrastructureError); undecided dossiers are back in the inbox
    OTHER = 15  # anything else (details in the Prefect run's logs)
    INTERRUPTED = 130  # Ctrl-C
