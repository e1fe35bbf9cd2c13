#!/usr/bin/python3
"""A grpc.health.v1.Health server for the gRPC probe tests of docker-sd (no codegen).

Run it with Debian's interpreter (/usr/bin/python3 + python3-grpcio), not a pyenv one.

  grpc_health_server.py --state-file F [--host 127.0.0.1] [--port 0]

F is JSON, re-read on every Check, mapping a service name ("" = the server as a whole) to
SERVING, NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN or HANG (never answer). A service missing from
F is aborted with NOT_FOUND "unknown service", as grpc's own health servicer does. Once
listening the server prints "PORT <n>" on stdout.
"""
import argparse
import json
import signal
import sys
import threading
from concurrent import futures

import grpc

STATUS = {"UNKNOWN": 0, "SERVING": 1, "NOT_SERVING": 2, "SERVICE_UNKNOWN": 3}


def parse_service(request):
    """HealthCheckRequest{string service = 1}; the only field a probe sends."""
    if not request:
        return ""
    if request[0] != 0x0A:
        return None
    n, shift, i = 0, 0, 1
    while i < len(request):
        b = request[i]
        n |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        shift += 7
    return request[i:i + n].decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state-file", required=True)
    args = ap.parse_args()
    stop = threading.Event()

    def check(request, context):
        service = parse_service(request)
        with open(args.state_file) as f:
            state = json.load(f)
        if service is None or service not in state:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        if state[service] == "HANG":
            stop.wait(600)
            context.abort(grpc.StatusCode.UNAVAILABLE, "shutting down")
        return bytes([0x08, STATUS[state[service]]])

    handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(
            check, request_deserializer=bytes, response_serializer=bytes)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("%s:%d" % (args.host, args.port))
    if port == 0:
        print("cannot listen on %s:%d" % (args.host, args.port), file=sys.stderr)
        return 1
    server.start()
    print("PORT %d" % port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
