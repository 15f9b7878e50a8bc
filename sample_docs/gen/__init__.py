"""Generator of labelled test dossiers for claims intake (see sample_docs/README.md).

Flow: scenario (recipe) -> render (draw + capture each document) -> packaging (files, slots, names)
-> dossier (write files, manifest last) -> truth (reasons, decision, CSV rows).
"""
