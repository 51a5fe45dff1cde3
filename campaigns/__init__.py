"""Reliability campaigns: repeatable commands that run the real stack under crashes, faults, outages and hostile input,
check that nothing was lost, sent twice or left unexplained, and print their counts (``make chaos``)."""
