"""Intent matching: normalisation, the index built once per knowledge, and the matcher."""
