"""External systems in plain Python (no Django models): the AFAS and eConnect clients, their
simulators, the HTTP choke point and the Peppol/UBL code.

Credentials are passed in as arguments, never read from settings; external JSON and XML become
typed objects here, so the portal never indexes raw payloads.
"""
