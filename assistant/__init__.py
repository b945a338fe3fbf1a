"""Grounded assistant on Paris crack-cocaine policy and care services."""
