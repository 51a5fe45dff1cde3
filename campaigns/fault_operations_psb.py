from campaigns.fault_world import Operation

OPERATIONS: tuple[Operation, ...] = ()
