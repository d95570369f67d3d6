"""Health of an MDM home: ``mdm doctor`` (checks with OK/WARN/FAIL and the command that
fixes each problem) and ``mdm diagnose`` (one JSON bundle for a bug report).

Each ``checks_*`` module holds small functions that look at one part of the home and
return :class:`~mdm_core.health.model.Check` rows; :func:`~mdm_core.health.runner.run_doctor`
runs them all. Nothing here changes the home except :func:`~mdm_core.health.runner.fix_safe`
(``mdm doctor --fix``).
"""
