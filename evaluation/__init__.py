"""Measuring the product, outside it: `intake eval` (a run against a truth) and `intake eval-real` (the invoice reader on real invoices)."""
