"""Opens a mailbox's inbox with exchangelib (EWS, no Autodiscover) on a lab host; prints JSON.

Usage: /usr/bin/python3 exchangelib_ews.py --server NAME --addr IP --ca-file PEM --user NAME
                                           --auth basic|ntlm --mailbox ADDR
The password comes from the environment variable LAB_PASSWORD (never a command-line argument).

Only NAME resolves (to IP, a loopback address); any other name fails instead of reaching the
machine's resolver. The report lists every request exchangelib made: method, URL, the SOAP operation
of its body, the RequestServerVersion it asked for, the HTTP status.
"""
import json
import os
import re
import sys

import lab_peer


def main():
    a = lab_peer.arguments(__doc__.splitlines()[0])
    if not lab_peer.confine(a):
        return 2

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
