#!/usr/bin/python3
"""Publish one message with the real oslo.messaging, with its random parts pinned, so a test
can compare the bytes with what Warre produces for the same inputs.

Reads a JSON spec on stdin:
  {"url", "kind": "notification" | "cast", "control_exchange",
   "message_id" (uuid), "unique_id" (32 hex), "timestamp" ("YYYY-MM-DDTHH:MM:SS.ffffff"),
   "context": {"kind": "dict" | "request" | "none", "values": {...}},
   notification: "driver", "topics", "publisher_id", "event_type", "priority", "payload",
   cast: "topic", "server", "method", "args", "version"}
In payload/args, {"$datetime": "YYYY-MM-DDTHH:MM:SS[.ffffff]"} becomes a naive datetime.
"""
import datetime
import json
import os
import sys
import types
import uuid

from oslo_config import cfg
from oslo_context import context as oslo_context
import oslo_messaging
from oslo_messaging._drivers import amqp as rpc_amqp
from oslo_messaging.notify import notifier as notifier_mod
from oslo_utils import timeutils


def parse_dt(text):
    fmt = '%Y-%m-%dT%H:%M:%S.%f' if '.' in text else '%Y-%m-%dT%H:%M:%S'
    return datetime.datetime.strptime(text, fmt)


def revive(value):
    if isinstance(value, dict):
        if set(value) == {'$datetime'}:
            return parse_dt(value['$datetime'])
        return {k: revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    return value


def make_context(spec):
    kind = spec.get('kind', 'none')
    values = spec.get('values', {})
    if kind == 'dict':
        return values
    if kind == 'request':
        return oslo_context.RequestContext(**values)
    return {}


def main():
    spec = json.load(sys.stdin)
    message_uuid = uuid.UUID(spec['message_id'])
    unique_uuid = uuid.UUID(hex=spec['unique_id'])
    notifier_mod.uuid = types.SimpleNamespace(uuid4=lambda: message_uuid)
    rpc_amqp.uuid = types.SimpleNamespace(uuid4=lambda: unique_uuid)
    timeutils.set_time_override(parse_dt(spec['timestamp']))

    oslo_messaging.set_transport_defaults(spec.get('control_exchange', 'warre'))
    conf = cfg.CONF
    conf([])
    ctxt = make_context(spec.get('context', {}))
    if spec['kind'] == 'notification':
        transport = oslo_messaging.get_notification_transport(conf, url=spec['url'])
        notifier = oslo_messaging.Notifier(
            transport, publisher_id=spec.get('publisher_id'), driver=spec['driver'],
            topics=spec.get('topics', ['notifications']), retry=3)
        getattr(notifier, spec.get('priority', 'info'))(
            ctxt, spec['event_type'], revive(spec['payload']))
    else:
        transport = oslo_messaging.get_rpc_transport(conf, url=spec['url'])
        target = oslo_messaging.Target(topic=spec.get('topic', 'warre-worker'),
                                       version=spec.get('version', '1.0'),
                                       server=spec.get('server'))
        client = oslo_messaging.get_rpc_client(transport, target)
        client.prepare(version=spec.get('version', '1.0')).cast(
            ctxt, spec['method'], **revive(spec.get('args', {})))
    transport.cleanup()
    print(json.dumps({'ok': True}))


if __name__ == '__main__':
    main()
    sys.stdout.flush()
    # oslo.messaging's metrics thread would hold the exit for ~10 s
    os._exit(0)
