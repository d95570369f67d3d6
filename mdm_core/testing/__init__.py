"""Conformance suites that any plugin (ours or a third party's) runs against itself.

- :mod:`mdm_core.testing.conformance`: ``StorageConformance``, the pytest suite for storage
  backends (subclass it and provide a ``backend`` fixture).
- :mod:`mdm_core.testing.checks`: the checks themselves, plain functions that raise
  AssertionError; ``mdm storage test`` runs the quick ones without pytest.
- :mod:`mdm_core.testing.data` / :mod:`mdm_core.testing.strategies`: fixed and
  hypothesis-generated test tables.
- :mod:`mdm_core.testing.postgres`: a real PostgreSQL server for tests.

See ``docs/backend-plugin-guide.md``.
"""
