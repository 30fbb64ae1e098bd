#!/usr/bin/python3
"""An unmodified oslo.messaging notification listener (run with /usr/bin/python3).

Listens on --exchange/--topic for the given priorities and prints one JSON line per
notification: {"priority", "ctxt", "publisher_id", "event_type", "payload", "metadata"}.
Prints {"ready": true} once its queues are declared. Exits after --count notifications or
--timeout seconds (exit status 0 either way; the caller counts the lines).
"""
import argparse
import json
import os
import sys
import threading

from oslo_config import cfg
import oslo_messaging


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', required=True)
    p.add_argument('--config-file', default=None,
                   help='an oslo.config file, e.g. [oslo_messaging_rabbit] ssl_ca_file')
    p.add_argument('--exchange', default='warre')
    p.add_argument('--topic', default='notifications')
    p.add_argument('--priority', action='append', default=None)
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--timeout', type=float, default=30)
    args = p.parse_args()
    priorities = args.priority or ['info']

    done = threading.Event()
    lock = threading.Lock()
    seen = [0]

    def make(priority):
        def handler(self, ctxt, publisher_id, event_type, payload, metadata):
            with lock:
                sys.stdout.write(json.dumps({
                    'priority': priority, 'ctxt': ctxt, 'publisher_id': publisher_id,
                    'event_type': event_type, 'payload': payload, 'metadata': metadata,
                }) + '\n')
                sys.stdout.flush()
                seen[0] += 1
                if seen[0] >= args.count:
                    done.set()
            return oslo_messaging.NotificationResult.HANDLED
        return handler

    Endpoint = type('Endpoint', (object,), {p: make(p) for p in priorities})

    conf = cfg.CONF
    conf(['--config-file', args.config_file] if args.config_file else [])
    transport = oslo_messaging.get_notification_transport(conf, url=args.url)
    targets = [oslo_messaging.Target(exchange=args.exchange, topic=args.topic)]
    listener = oslo_messaging.get_notification_listener(
        transport, targets, [Endpoint()], executor='threading')
    listener.start()
    sys.stdout.write(json.dumps({'ready': True}) + '\n')
    sys.stdout.flush()
    done.wait(args.timeout)
    listener.stop()
    listener.wait()
    transport.cleanup()


if __name__ == '__main__':
    main()
    sys.stdout.flush()
    # oslo.messaging's metrics thread would hold the exit for ~10 s
    os._exit(0)
