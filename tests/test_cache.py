"""The Redis cache backend (core.cache) and the rate limit's combined round trip (core.ratelimit.hit_and_get)."""

import uuid

import time_machine
from django.core.cache import cache, caches

from core.cache import RedisCache
from core.ratelimit import hit_and_get


def test_the_cache_is_ours_and_keeps_one_redis_client_per_pool():
    assert isinstance(caches["default"], RedisCache)
    client = cache._cache.get_client("one")
    assert cache._cache.get_client("two") is client  # not a new redis.Redis per call
    cache.set("core-cache-test", b"kept")
    assert cache.get("core-cache-test") == b"kept"
    cache.delete("core-cache-test")


def test_count_and_get_counts_gives_the_counter_its_ttl_and_reads_the_entry():
    counter, key = f"rl:test:{uuid.uuid4().hex}:0", f"entry-{uuid.uuid4().hex}"
    cache.set(key, "Hồ sơ đã tiếp nhận", timeout=60)
    assert cache.count_and_get(counter=counter, ttl=61, key=key) == (1, "Hồ sơ đã tiếp nhận")
    assert cache.count_and_get(counter=counter, ttl=61, key=f"{key}-absent") == (2, None)
    raw = cache._cache.get_client(key)
    assert 0 < raw.ttl(counter) <= 61
    assert raw.get(counter) == b"2"  # the counter is a plain Redis key, outside the cache's prefixed key space
    raw.delete(counter)
    cache.delete(key)


def test_hit_and_get_answers_the_wait_once_over_the_limit():
    client = uuid.uuid4().hex
    cache.set("hit-and-get-test", b"<html>", timeout=60)
    with time_machine.travel("2026-11-20 08:00:10 +0700", tick=False):
        assert hit_and_get(scope="test", client=client, limit=2, key="hit-and-get-test") == (None, b"<html>")
        assert hit_and_get(scope="test", client=client, limit=2, key="hit-and-get-test") == (None, b"<html>")
        wait, _value = hit_and_get(scope="test", client=client, limit=2, key="hit-and-get-test")
    assert wait == 50  # the rest of the minute
    with time_machine.travel("2026-11-20 08:01:00 +0700", tick=False):  # a new window counts from zero
        assert hit_and_get(scope="test", client=client, limit=2, key="hit-and-get-test")[0] is None
    cache.delete("hit-and-get-test")
