"""The parts of a running stack, importable by the end-to-end and browser tests, the campaigns and the benchmarks.

- ``simulators``: a simulator served over HTTP from a thread on a free loopback port (``serve_simulator``);
- ``celery``: a ``celery`` worker or beat in its own process group (``CeleryProcess``) and ``purge_broker``;
- ``database``: a throwaway PostgreSQL database beside DATABASE_URL's and the settings the processes that use it share;
- ``waiting``: ``wait_for``, polling a condition with a deadline.

Nothing here imports pytest or a test module: a campaign or benchmark runs without the test suite.
"""
