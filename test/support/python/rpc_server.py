#!/usr/bin/python3
"""An unmodified oslo.messaging RPC server with Warre's worker target (topic `warre-worker`,
control exchange `warre`, version 1.0). Its endpoint `create_lease(ctxt, reservation_id)`
prints {"method", "reservation_id", "ctxt"} as a JSON line. Prints {"ready": true} once
listening; exits after --count messages or --timeout seconds.
"""
import argparse
import json
import os
import sys
import threading

from oslo_config import cfg
import oslo_messaging
from oslo_messaging.rpc import dispatcher


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', required=True)
    p.add_argument('--server', default='worker-host')
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--timeout', type=float, default=30)
    args = p.parse_args()
    done = threading.Event()
    seen = [0]

    class Endpoint(object):
        target = oslo_messaging.Target(version='1.0')

        def create_lease(self, ctxt, reservation_id):
            sys.stdout.write(json.dumps({'method': 'create_lease',
                                         'reservation_id': reservation_id,
                                         'ctxt': ctxt}) + '\n')
            sys.stdout.flush()
            seen[0] += 1
            if seen[0] >= args.count:
                done.set()

    oslo_messaging.set_transport_defaults('warre')
    conf = cfg.CONF
    conf([])
    transport = oslo_messaging.get_rpc_transport(conf, url=args.url)
    target = oslo_messaging.Target(topic='warre-worker', server=args.server)
    server = oslo_messaging.get_rpc_server(
        transport, target, [Endpoint()], executor='threading',
        access_policy=dispatcher.DefaultRPCAccessPolicy)
    server.start()
    sys.stdout.write(json.dumps({'ready': True}) + '\n')
    sys.stdout.flush()
    done.wait(args.timeout)
    server.stop()
    server.wait()
    transport.cleanup()


if __name__ == '__main__':
    main()
    sys.stdout.flush()
    # oslo.messaging's metrics thread would hold the exit for ~10 s
    os._exit(0)
