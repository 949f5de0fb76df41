"""One run folder read and made into the report: its sections (one per experiment), plots,
the notes' published numbers, and the page they are placed in."""
