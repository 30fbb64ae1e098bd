#!/usr/bin/python3
"""Print [json.dumps(v) for v in <JSON list on stdin>] as JSON: Python's default serialisation,
for comparison with Warre's."""
import json
import sys

values = json.load(sys.stdin)
print(json.dumps([json.dumps(v) for v in values]))
