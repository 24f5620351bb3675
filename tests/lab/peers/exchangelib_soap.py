"""Asks SOAP Autodiscover (GetUserSettings) of a lab host with exchangelib 5 (which moved its
Autodiscover from POX to SOAP); prints JSON.

Usage: <lab venv>/bin/python exchangelib_soap.py --server NAME --addr IP --ca-file PEM --user NAME
                                                --auth basic|ntlm --mailbox ADDR
The password comes from the environment variable LAB_PASSWORD (never a command-line argument).

Only NAME resolves (to IP, a loopback address); any other name fails instead of reaching the
machine's resolver. The settings asked are the ones migcheck asks, by exchangelib's own names.
"""
import json
import os
import sys

import lab_peer

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
    a = lab_peer.arguments(__doc__.splitlines()[0])
    if not lab_peer.confine(a):
        return 2

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
