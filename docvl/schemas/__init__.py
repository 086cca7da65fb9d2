"""JSON Schemas of docvl's output (package data), as documented in the README."""
