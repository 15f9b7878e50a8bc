"""Prefect, and only Prefect: the inbox flow and its thin task, what the UI shows, the embedded server's environment."""
