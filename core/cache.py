"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the pooled
connections on every cache call, and redis-py's constructor fills a table of some 170 response callbacks each
time: about 0.2 ms of CPU per call, more than the round trip to Redis itself, on every lookup served from the
cache, every session read and every rate-limit check (docs/performance.md). A ``redis.Redis`` is safe to share
between threads and survives a fork (its pool reconnects in the child), so one per pool is kept and reused.

``count_and_get`` counts a request against a rate limit and reads a cache entry in one round trip: the public
lookup page does both on every request (portal/fastpath.py).
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client

    def count_and_get(self, *, counter: str, ttl: int, key: str) -> tuple[int, Any]:
        pipe = self.get_client(key).pipeline(transaction=False)
        pipe.incr(counter)
        pipe.expire(counter, ttl)
        pipe.get(key)
        count, _expiry_set, value = pipe.execute()
        return count, None if value is None else self._serializer.loads(value)


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_and_get(self, *, counter: str, ttl: int, key: str) -> tuple[int, Any]:
        """INCR the Redis key ``counter`` (raw, outside the cache's key space) and give it ``ttl`` seconds to live,
        then GET the cache entry ``key``: the counter's new value and the entry (None when absent)."""
        return self._cache.count_and_get(counter=counter, ttl=ttl, key=self.make_and_validate_key(key))
