"""Asks SOAP Autodiscover (GetUserSettings) of a lab host with exchangelib 5 (which moved its
Autodiscover from POX to SOAP); prints JSON.

Usage: <lab venv>/bin/python exchangelib_soap.py --server NAME --addr IP --ca-file PEM --user NAME
                                                --auth basic|ntlm --mailbox ADDR
The password comes from the environment variable LAB_PASSWORD (never a command-line argument).

Only NAME resolves (to IP, a loopback address); any other name fails instead of reaching the
machine's resolver. The settings asked are the ones migcheck asks, by exchangelib's own names.
"""
import argparse
import ipaddress
import json
import os
import socket
import sys

SETTINGS = [
    "user_display_name",
    "cas_version",
    "ews_supported_schemas",
    "external_ews_url",
    "internal_ews_url",
    "external_mailbox_server",
    "external_mailbox_server_requires_ssl",
    "mapi_http_enabled",
]


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

    import exchangelib
    from exchangelib import BASIC, NTLM, Configuration, Credentials, FailFast
    from exchangelib.autodiscover.protocol import AutodiscoverProtocol

    out = {"exchangelib": exchangelib.__version__}
    try:
        protocol = AutodiscoverProtocol(
            config=Configuration(
                service_endpoint=f"https://{a.server}/autodiscover/autodiscover.svc",
                credentials=Credentials(a.user, os.environ["LAB_PASSWORD"]),
                auth_type=BASIC if a.auth == "basic" else NTLM,
                retry_policy=FailFast(),
            )
        )
        r = protocol.get_user_settings(user=a.mailbox, settings=SETTINGS)
        out["error_code"] = r.error_code
        out["error_message"] = r.error_message
        # An error answer (InvalidUser) carries no settings: exchangelib leaves them None.
        out["user_settings"] = r.user_settings or {}
        out["user_settings_errors"] = {k: list(v) for k, v in (r.user_settings_errors or {}).items()}
        out["ews_url"] = r.ews_url if r.user_settings else None
        out["version"] = str(r.version.api_version) if r.user_settings and r.version else None
    except Exception as e:
        out["error_type"] = type(e).__name__
        out["error"] = str(e)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
