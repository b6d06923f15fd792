"""Benchmarks, run by `make bench`; they report numbers and assert nothing."""
