"""Invoice fields from words with boxes (a text layer or OCR alike): lines, labels, amounts, dates, SIRET, kind, small print."""
