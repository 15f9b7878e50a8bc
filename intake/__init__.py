"""The `intake` console script: run an inbox, purge, evaluate (`intake.cli`). The top floor: it may import every other."""
