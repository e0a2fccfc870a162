"""Sources: each module reads one kind of input and yields canonical records."""
