#!/usr/bin/python3
"""Publish Ceilometer-style lease events the way ceilometer-agent-notification republishes
them (docs/interop.md#lease-events): oslo.messaging Notifier, driver messagingv2, control exchange
`ceilometer`, topic `warre`, priority SAMPLE, event_type "event", publisher
`telemetry.publisher.<host>`, empty context, payload = [one event with traits].

--events is a JSON list of {"lease_id", "event_type", optional "project_id", "user_id",
"start_date", "end_date", "omit": [trait names to leave out]}.
"""
import argparse
import datetime
import hashlib
import json
import os
import sys
import uuid

from oslo_config import cfg
import oslo_messaging


def event_for(spec):
    project_id = spec.get('project_id', uuid.uuid4().hex)
    user_id = spec.get('user_id', uuid.uuid4().hex)
    traits = [
        ['service', 1, 'blazar.lease'],
        ['request_id', 1, 'req-' + str(uuid.uuid4())],
        ['project_id', 1, project_id],
        ['user_id', 1, user_id],
        ['tenant_id', 1, project_id],
        ['lease_id', 1, spec['lease_id']],
        ['start_date', 1, spec.get('start_date', '2026-11-25T12:46:00.000000')],
        ['end_date', 1, spec.get('end_date', '2026-11-25T12:49:00.000000')],
    ]
    omit = set(spec.get('omit', []))
    traits = [t for t in traits if t[0] not in omit]
    event = {
        'message_id': str(uuid.uuid4()),
        'event_type': spec['event_type'],
        'generated': datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%S.%f'),
        'traits': traits,
        'raw': {},
    }
    event['message_signature'] = hashlib.sha256(
        json.dumps(event, sort_keys=True).encode()).hexdigest()
    return event


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', required=True)
    p.add_argument('--config-file', default=None,
                   help='an oslo.config file, e.g. [oslo_messaging_rabbit] ssl_ca_file')
    p.add_argument('--host', default='ceilo-host')
    p.add_argument('--topic', default='warre')
    p.add_argument('--events', required=True)
    args = p.parse_args()

    oslo_messaging.set_transport_defaults('ceilometer')
    conf = cfg.CONF
    conf(['--config-file', args.config_file] if args.config_file else [])
    transport = oslo_messaging.get_notification_transport(conf, url=args.url)
    notifier = oslo_messaging.Notifier(
        transport, publisher_id='telemetry.publisher.%s' % args.host,
        driver='messagingv2', topics=[args.topic], retry=3)
    sent = []
    for spec in json.loads(args.events):
        event = event_for(spec)
        notifier.sample({}, 'event', [event])
        sent.append(event['message_id'])
    print(json.dumps({'sent': sent}))
    transport.cleanup()


if __name__ == '__main__':
    main()
    sys.stdout.flush()
    # oslo.messaging's metrics thread would hold the exit for ~10 s
    os._exit(0)
