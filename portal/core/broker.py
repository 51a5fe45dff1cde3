"""kombu's Redis transport with one repair, used when the broker is Redis (``CELERY_BROKER_TRANSPORT``).

When Redis goes away while tasks are unacknowledged, the worker closes the channel those tasks came from and, once
Redis is back, opens a new one. In kombu 5.7 the closed channel has by then let go of its connection, and two things
still use it: closing gives the unacknowledged messages back to the queue, and a task that finishes after the
reconnect acknowledges its message on the channel it came from. Both try to rebuild that channel's connection pool
and fail with ``AttributeError`` (``'NoneType' object has no attribute 'hostname'`` / ``'client'``). That is not a
connection error, so Celery treats it as unrecoverable and the worker stops for good instead of working on (seen in
``campaigns.outages``, about one Redis restart in ten).

Here a channel whose connection is gone does neither: the messages stay in Redis's unacked index, which a consumer
restores after the visibility timeout (a Redis that restarted empty has lost them anyway), and the portal's due-work
dispatchers queue the work again sooner. Every task is safe to run twice.
"""

from __future__ import annotations

import logging

from kombu.transport import redis, virtual

logger = logging.getLogger(__name__)


class QoS(redis.QoS):
    def _connection_gone(self) -> bool:
        connection = self.channel.connection
        return connection is None or connection.client is None

    def restore_unacked(self, client=None):
        if client is None and self._connection_gone():
            logger.warning(
                "Broker connection gone while closing: %d unacknowledged message(s) left for the visibility timeout",
                len(self._delivered),
            )
            self._delivered.clear()
            return None
        return super().restore_unacked(client)

    def ack(self, delivery_tag):
        if self._connection_gone():
            self._forget(delivery_tag, "acknowledged")
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        if self._connection_gone():
            self._forget(delivery_tag, "rejected")
            return
        super().reject(delivery_tag, requeue=requeue)

    def _forget(self, delivery_tag, what: str) -> None:
        logger.warning("A message of a closed broker connection cannot be %s; left for the visibility timeout", what)
        virtual.QoS.ack(self, delivery_tag)  # only this channel's own bookkeeping; Redis is not asked


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel
