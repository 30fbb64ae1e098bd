#!/usr/bin/python3
"""The real python-blazarclient (Debian python3-blazarclient, run with /usr/bin/python3),
called as the Python Warre calls it: a keystoneauth session, service_type 'reservation',
lease.create(name, start, end, reservations, events=[]), lease.update(id, end_date=…),
lease.delete(id), lease.list().

--endpoint is the catalog URL (…/v1) and --token the token a keystoneauth token plugin
presents. --ops is a JSON list of {"op": "create"|"update_end"|"delete"|"list", …}; a
"lease_id" of "$last" means the lease the last create returned. Prints one JSON line per op:
{"ok": <what the client returned>} or {"error": str(exception), "code": status}.
"""
import argparse
import json
import sys

from blazarclient import client as blazarclient
from blazarclient import exception
from keystoneauth1 import session
from keystoneauth1 import token_endpoint


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--endpoint', required=True)
    p.add_argument('--token', required=True)
    p.add_argument('--interface', default='public')
    p.add_argument('--ops', required=True)
    args = p.parse_args()

    sess = session.Session(auth=token_endpoint.Token(args.endpoint, args.token))
    client = blazarclient.Client(session=sess, service_type='reservation',
                                 interface=args.interface)
    last = None
    for op in json.loads(args.ops):
        lease_id = op.get('lease_id')
        if lease_id == '$last':
            lease_id = last
        try:
            kind = op['op']
            if kind == 'create':
                out = client.lease.create(
                    name=op['name'], start=op['start'], end=op['end'],
                    reservations=op['reservations'], events=[])
                last = out['id']
            elif kind == 'update_end':
                out = client.lease.update(lease_id, end_date=op['end'])
            elif kind == 'delete':
                out = client.lease.delete(lease_id)
            elif kind == 'list':
                out = client.lease.list()
            else:
                raise SystemExit('unknown op %s' % kind)
            sys.stdout.write(json.dumps({'ok': out}) + '\n')
        except exception.BlazarClientException as e:
            sys.stdout.write(json.dumps({'error': str(e), 'code': e.code}) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
