"""Live operations: the store, the position feed, accounts, the audit log and the workspace."""
