"""Opens a mailbox's inbox with exchangelib (EWS, no Autodiscover) on a lab host; prints JSON.

Usage: /usr/bin/python3 exchangelib_ews.py --server NAME --addr IP --ca-file PEM --user NAME
                                           --auth basic|ntlm --mailbox ADDR
The password comes from the environment variable LAB_PASSWORD (never a command-line argument).

Only NAME resolves (to IP, a loopback address); any other name fails instead of reaching the
machine's resolver. The report lists every request exchangelib made: method, URL, the SOAP operation
of its body, the RequestServerVersion it asked for, the HTTP status.
"""
import argparse
import ipaddress
import json
import os
import re
import socket
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--addr", required=True)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--auth", choices=("basic", "ntlm"), required=True)
    p.add_argument("--mailbox", required=True)
    a = p.parse_args()
    if not ipaddress.ip_address(a.addr).is_loopback:
        print(json.dumps({"error": f"{a.addr} is not loopback"}))
        return 2

    # No proxies, and the lab CA only (this machine exports other CA bundles).
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

    import requests

    requests_seen = []
    original_request = requests.Session.request

    def recording_request(self, method, url, *args, **kwargs):
        data = kwargs.get("data") or b""
        if isinstance(data, str):
            data = data.encode()
        m = re.search(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)", data) if isinstance(data, bytes) else None
        v = re.search(rb'RequestServerVersion[^>]*Version="([^"]+)"', data) if isinstance(data, bytes) else None
        entry = {"method": method, "url": url, "operation": m.group(1).decode() if m else None,
                 "version": v.group(1).decode() if v else None}
        requests_seen.append(entry)
        r = original_request(self, method, url, *args, **kwargs)
        entry["status"] = r.status_code
        return r

    requests.Session.request = recording_request

    import exchangelib
    from exchangelib import BASIC, DELEGATE, NTLM, Account, Configuration, Credentials

    out = {"exchangelib": exchangelib.__version__, "requests": requests_seen}
    try:
        config = Configuration(
            server=a.server,
            credentials=Credentials(a.user, os.environ["LAB_PASSWORD"]),
            auth_type=BASIC if a.auth == "basic" else NTLM,
        )
        account = Account(primary_smtp_address=a.mailbox, config=config, autodiscover=False, access_type=DELEGATE)
        out["total_count"] = account.inbox.total_count
        out["unread_count"] = account.inbox.unread_count
        out["build"] = str(account.version.build)
        out["api_version"] = account.version.api_version
    except Exception as e:
        out["error_type"] = type(e).__name__
        out["error"] = str(e)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
