"""The Redis transport's repair (portal/core/broker.py): closing a channel after the broker connection is gone."""

from __future__ import annotations

import logging
import uuid

import pytest
import redis
from kombu import Connection, Queue

URL = "redis://127.0.0.1:6379/10"  # a database of its own, emptied after each test


@pytest.fixture
def redis_reachable():
    client = redis.Redis.from_url(URL, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    yield
    client.flushdb()


@pytest.fixture
def warnings_logged(caplog):
    """What the repair logs, whatever level another test left the root logger at."""
    with caplog.at_level(logging.WARNING, logger="portal.core.broker"):
        yield caplog


def channel_holding_an_unacknowledged_message(transport: str):
    connection = Connection(URL, transport=transport)
    channel = connection.channel()
    queue = Queue(f"broker-test-{uuid.uuid4().hex}", channel=channel)
    queue.declare()
    producer = connection.Producer(channel)
    producer.publish({"task": "test"}, routing_key=queue.name)
    message = queue.get(no_ack=False)
    assert message is not None
    return connection, channel, queue


def lose_the_connection(connection) -> None:
    """What kombu's connection does on the way down before the channel closes: the transport lets go of it."""
    connection.transport.client = None


def test_kombus_own_transport_fails_to_close_once_the_connection_is_gone(redis_reachable):
    # The upstream defect the repair is for; when kombu fixes it, this fails and the repair can go.
    connection, channel, _ = channel_holding_an_unacknowledged_message("redis")
    lose_the_connection(connection)

    with pytest.raises(AttributeError, match="hostname"):
        channel.close()


def test_the_portals_transport_closes_and_leaves_the_message_to_the_visibility_timeout(
    redis_reachable, warnings_logged
):
    connection, channel, queue = channel_holding_an_unacknowledged_message("portal.core.broker:Transport")
    lose_the_connection(connection)

    channel.close()

    assert "1 unacknowledged message(s) left for the visibility timeout" in warnings_logged.text
    assert redis.Redis.from_url(URL).hlen("unacked") == 1  # still in Redis, where restore_visible finds it


def test_with_the_connection_there_the_message_goes_back_to_the_queue_at_once(redis_reachable):
    connection, channel, queue = channel_holding_an_unacknowledged_message("portal.core.broker:Transport")

    channel.close()

    with Connection(URL, transport="portal.core.broker:Transport") as fresh:
        again = Queue(queue.name, channel=fresh.channel())
        assert again.get(no_ack=True) is not None
    connection.release()


def test_a_task_finishing_after_the_reconnect_can_not_ack_on_its_old_channel_and_the_worker_goes_on(
    redis_reachable, warnings_logged
):
    connection, channel, _ = channel_holding_an_unacknowledged_message("portal.core.broker:Transport")
    [delivery_tag] = list(channel.qos._delivered)
    channel.connection = None  # closed by the consumer's restart; the task's message still points at it

    channel.qos.ack(delivery_tag)

    assert "cannot be acknowledged" in warnings_logged.text
    assert redis.Redis.from_url(URL).hlen("unacked") == 1
