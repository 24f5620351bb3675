"""Runs exchangelib's POX Autodiscover against the migcheck lab and prints what it found as JSON.

Usage: /usr/bin/python3 exchangelib_autodiscover.py --dns IP:PORT --ca-file PEM --email ADDR --user NAME
       [--timeout SECONDS]  (exchangelib's per-request Autodiscover timeout, 10 s by default)
The password comes from the environment variable LAB_PASSWORD (never a command-line argument).

exchangelib asks the system resolver; here every name is resolved by the lab's dnsmasq instead
(dnspython's default resolver is pointed at it, and socket.getaddrinfo is wrapped so that a name the
lab does not know fails instead of leaking to the machine's resolver). Only loopback is reached.
"""
import argparse
import ipaddress
import json
import os
import socket
import sys
import tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dns", required=True)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--timeout", type=float)
    a = p.parse_args()
    dns_ip, dns_port = a.dns.rsplit(":", 1)

    # No proxies, and the lab CA only (this machine exports other CA bundles).
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    os.environ["NO_PROXY"] = "*"
    os.environ["REQUESTS_CA_BUNDLE"] = a.ca_file
    # exchangelib keeps an Autodiscover cache in tempfile.gettempdir(): a fresh one per run.
    tempfile.tempdir = tempfile.mkdtemp(prefix="exchangelib-lab-")

    import dns.resolver

    original_init = dns.resolver.Resolver.__init__

    def lab_init(self, *args, **kwargs):
        kwargs["configure"] = False
        original_init(self, *args, **kwargs)
        self.nameservers = [dns_ip]
        self.port = int(dns_port)

    dns.resolver.Resolver.__init__ = lab_init
    dns.resolver.default_resolver = None
    lab = dns.resolver.Resolver()

    original_getaddrinfo = socket.getaddrinfo

    def lab_getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        try:
            ipaddress.ip_address(host)
            addr = host
        except ValueError:
            try:
                addr = lab.resolve(host.rstrip(".") + ".", "A", lifetime=5)[0].to_text()
            except Exception as e:  # NXDOMAIN, no answer: like the system resolver would fail
                raise socket.gaierror(socket.EAI_NONAME, f"lab DNS: {host}: {e}")
        if not ipaddress.ip_address(addr).is_loopback:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} -> {addr} is not loopback: refused by the lab wrapper")
        return original_getaddrinfo(addr, port, *args, **kwargs)

    socket.getaddrinfo = lab_getaddrinfo

    import requests

    visited = []
    original_request = requests.Session.request

    def recording_request(self, method, url, *args, **kwargs):
        try:
            r = original_request(self, method, url, *args, **kwargs)
        except Exception as e:
            visited.append({"method": method, "url": url, "error": type(e).__name__})
            raise
        visited.append({"method": method, "url": url, "status": r.status_code,
                        "fe_server": r.headers.get("X-FEServer")})
        return r

    requests.Session.request = recording_request

    import exchangelib
    from exchangelib import Credentials
    from exchangelib.autodiscover.protocol import AutodiscoverProtocol

    if a.timeout:
        AutodiscoverProtocol.TIMEOUT = a.timeout
    from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery

    out = {"exchangelib": exchangelib.__version__, "visited": visited}
    try:
        ad, protocol = PoxAutodiscovery(email=a.email, credentials=Credentials(a.user, os.environ["LAB_PASSWORD"])).discover()
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out))
        return 1
    protocols = {}
    for p in ad.account.protocols:
        if p.type:
            protocols[p.type] = {
                "server": p.server,
                "auth_package": p.auth_package,
                "cert_principal_name": p.cert_principal_name,
                "server_version": str(p.server_version) if p.server_version else None,
                "ews_url": p.ews_url,
            }
    out.update({
        "settings_for": ad.autodiscover_smtp_address,
        "protocols": protocols,
        "ews_endpoint": protocol.service_endpoint,
        "version": str(protocol.version) if protocol.version else None,
    })
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
