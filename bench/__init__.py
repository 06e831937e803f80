"""incident-bot benchmarks: they measure and report; they never assert. See bench/README.md."""
