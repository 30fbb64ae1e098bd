#!/usr/bin/python3
"""The real python-novaclient (Debian, run with /usr/bin/python3) as the Python Warre's
periodic task calls it: Client('2.87', session=…), then
servers.list(search_opts={'all_tenants': True, 'tenant_id': …, 'flavor': …}).

--endpoint is the compute catalog URL and --token the token a keystoneauth token plugin
presents. Prints {"ok": [server ids]} or {"error": str(exception), "code": status}.
"""
import argparse
import json
import sys

from keystoneauth1 import session
from keystoneauth1 import token_endpoint
from novaclient import client as nova_client
from novaclient import exceptions


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--endpoint', required=True)
    p.add_argument('--token', required=True)
    p.add_argument('--project', required=True)
    p.add_argument('--flavor', required=True)
    args = p.parse_args()
    sess = session.Session(auth=token_endpoint.Token(args.endpoint, args.token))
    nova = nova_client.Client('2.87', session=sess)
    opts = {'all_tenants': True, 'tenant_id': args.project, 'flavor': args.flavor}
    try:
        servers = nova.servers.list(search_opts=opts)
        out = {'ok': [s.id for s in servers]}
    except exceptions.ClientException as e:
        out = {'error': str(e), 'code': e.code}
    sys.stdout.write(json.dumps(out) + '\n')


if __name__ == '__main__':
    main()
