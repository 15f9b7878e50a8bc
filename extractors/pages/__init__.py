"""Pages of any file: loading and type sniffing, normalisation and sheet finding, readability, and the OCR engine interface."""
