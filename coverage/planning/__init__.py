"""Planning: scenarios, the backfill optimiser, criticality, sweeps and the what-if."""
