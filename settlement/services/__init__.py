"""Settlement services: the ledger, settlement batches, payouts and reconciliation."""
