"""POSTs an Autodiscover request with real NTLM (requests-ntlm / ntlm-auth, whose NEGOTIATE carries the
version field that gss-ntlmssp insists on) and prints the status line, headers and body.

Usage: /usr/bin/python3 ntlm_post.py URL IP CA_FILE USER ["Name: value" ...]   (password in LAB_PASSWORD)
The connection goes to IP whatever the URL's host resolves to (like curl --resolve); the optional
arguments are extra request headers.
"""
import os
import sys

import requests
import requests_ntlm
from urllib3.util import connection

url, ip, ca, user = sys.argv[1:5]
extra = dict(h.split(": ", 1) for h in sys.argv[5:])
original = connection.create_connection


def to_lab(address, *args, **kwargs):
    return original((ip, address[1]), *args, **kwargs)


connection.create_connection = to_lab
s = requests.Session()
s.trust_env = False
r = s.post(url, data=b"<Autodiscover/>", verify=ca, timeout=5,
           headers={"Content-Type": "text/xml; charset=utf-8", **extra},
           auth=requests_ntlm.HttpNtlmAuth(user, os.environ["LAB_PASSWORD"]))
sys.stdout.write(f"HTTP/1.1 {r.status_code} {r.reason}\r\n")
for k, v in r.headers.items():
    sys.stdout.write(f"{k}: {v}\r\n")
sys.stdout.write("\r\n")
sys.stdout.write(r.text)
