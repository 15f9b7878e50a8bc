"""The readers: bytes -> pages -> words and boxes -> fields. One package per kind of thing read: pages, the care sheet, invoices, and document classification."""
