"""Ticket stores: the `TicketStore` Protocol; in-memory, Redis and PostgreSQL implementations."""

from unified_health.support.stores._memory import InMemoryTicketStore
from unified_health.support.stores._postgres import PostgresTicketStore
from unified_health.support.stores._protocol import RedisClientProtocol, TicketStore
from unified_health.support.stores._redis import RedisTicketStore

__all__ = [
    "InMemoryTicketStore",
    "PostgresTicketStore",
    "RedisClientProtocol",
    "RedisTicketStore",
    "TicketStore",
]
