"""Claims intake: the core, the pipeline of one dossier, the queue of an inbox, the results store, and the CLI (`intake.cli`, the top floor)."""
