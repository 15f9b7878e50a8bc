"""The results store: each dossier's result saved once, and the analysts' CSVs rebuilt from them (the write step)."""
