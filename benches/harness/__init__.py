"""The benchmark harness: one Postgres, every system in turn, a report (see benches/README.md)."""
