"""What the AFAS and eConnect simulators share: a small WSGI app base with a ``/_sim`` control API, fault
injection, persistent state, a live threaded server and an in-process httpx transport.

A simulator is plain WSGI, so the same code runs as a live server (``serve``) and inside tests
(``SimulatorTransport``) without a socket. Control bodies are read in one place (``control.py``): a hostile one
is a 400 with a JSON error, never an exception.
"""
