"""What the lab's exchangelib peers share: their arguments, and a process confined to the lab.

Confined: no proxies, the lab CA only (this machine exports other CA bundles), and only the one lab
name resolving, to its loopback address: any other name fails instead of reaching the machine's
resolver. Imported from the peer's own folder, so it works under Debian's Python and the lab venv's.
"""
import argparse
import ipaddress
import json
import os
import socket


def arguments(description):
    """--server NAME --addr IP --ca-file PEM --user NAME --auth basic|ntlm --mailbox ADDR."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--server", required=True)
    p.add_argument("--addr", required=True)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--auth", choices=("basic", "ntlm"), required=True)
    p.add_argument("--mailbox", required=True)
    return p.parse_args()


def confine(a):
    """Confines this process to the lab host `a.server` at `a.addr`; False (having printed why) when
    `a.addr` is not a loopback address."""
    if not ipaddress.ip_address(a.addr).is_loopback:
        print(json.dumps({"error": f"{a.addr} is not loopback"}))
        return False
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    os.environ["NO_PROXY"] = "*"
    os.environ["REQUESTS_CA_BUNDLE"] = a.ca_file

    original_getaddrinfo = socket.getaddrinfo

    def lab_getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host.rstrip(".").lower() != a.server.lower():
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: only {a.server} resolves in this peer")
        return original_getaddrinfo(a.addr, port, *args, **kwargs)

    socket.getaddrinfo = lab_getaddrinfo
    return True
