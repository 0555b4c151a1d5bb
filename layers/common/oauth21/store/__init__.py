"""DynamoDB tables and the atomic operations on them.

One module per table. Every one-time value is consumed with one conditional
write; every read of an expiring item checks expiry itself, because TTL
deletes items up to two days late.
"""
