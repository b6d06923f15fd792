"""Unit tests of the forms package."""
