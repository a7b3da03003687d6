"""Benchmarks of sgdclf against scikit-learn (run with `make bench`)."""
