"""Our care-sheet form, read by its pixels: registration on the blank, ink, the vet box (stamp, signature), ticks, dates, QR code."""
