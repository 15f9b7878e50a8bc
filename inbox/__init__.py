"""The inbox as a work queue: `claim` (take a dossier, give back a dead run's), `archive` (file it by
decision), `ledger` (which upload each saved result came from, and crash counts) and `feed` (one
run's claim-while-a-slot-is-free bookkeeping)."""
