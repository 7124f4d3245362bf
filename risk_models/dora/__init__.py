"""The DORA register of information (EBA templates), ICT risk assessment per function, review cadence."""
