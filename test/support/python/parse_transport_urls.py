#!/usr/bin/python3
"""Parse transport URLs (a JSON list on stdin) with oslo.messaging's TransportURL.parse and
print, per URL, {"transport", "virtual_host", "hosts": [{hostname, port, username, password}],
"query"} or {"error": "<exception class>"}; also {"mixed_credentials_warning": true} when oslo
logged its "all hosts must be set with username/password or not" warning."""
import json
import logging
import sys

from oslo_config import cfg
import oslo_messaging


class Catch(logging.Handler):
    def __init__(self):
        super().__init__()
        self.seen = False

    def emit(self, record):
        if 'All hosts must be set with username/password' in record.getMessage():
            self.seen = True


def main():
    catch = Catch()
    logging.getLogger('oslo_messaging.transport').addHandler(catch)
    conf = cfg.CONF
    conf([])
    out = []
    for url in json.load(sys.stdin):
        catch.seen = False
        try:
            u = oslo_messaging.TransportURL.parse(conf, url)
            out.append({
                'transport': u.transport,
                'virtual_host': u.virtual_host,
                'hosts': [{'hostname': h.hostname, 'port': h.port,
                           'username': h.username, 'password': h.password}
                          for h in u.hosts],
                'query': u.query,
                'mixed_credentials_warning': catch.seen,
            })
        except Exception as e:  # noqa
            out.append({'error': type(e).__name__})
    print(json.dumps(out))


if __name__ == '__main__':
    main()
