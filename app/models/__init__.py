"""Typed wrappers around registry JSON: views and templates ask these, never raw dicts."""
