"""One dossier, read and decided: manifest -> files (load -> pages -> documents) -> check -> decide, an ordered list of steps over one context."""
