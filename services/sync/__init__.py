"""Journal sync: an adapter yields pages of exchange-v1 changes; `apply` stores them in one
transaction, diffs against stored rows and turns real changes into events and outbox rows."""
