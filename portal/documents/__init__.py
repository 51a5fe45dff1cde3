"""What sending and receiving share: the document lifecycle (``lifecycle``). Plain Python on top of the domain
models; no models of its own."""
