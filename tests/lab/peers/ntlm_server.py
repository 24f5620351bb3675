"""The NTLM acceptor of the lab's RPC proxy: pyspnego's server side (spnego.server(protocol="ntlm")),
run as one long-lived process speaking a line protocol on stdin/stdout.

Usage: python ntlm_server.py CONFIG.json
CONFIG: {"stores": {"<store>": {"user_file": PATH, "nb_domain": "OALAB", "dns_domain": "oalab.test",
                                "nb_computer": "EX01", "dns_computer": "ex01.oalab.test"}, ...}}
Each store's user file has pyspnego's format, one `DOMAIN:user:password` per line; pyspnego reads it from
the env var NTLM_USER_FILE, which is set to the store's file before each step (this process is single
threaded, so that is safe).

Protocol (one line each way; conn-id = "<store>/<n>", one per TLS connection, since NTLM is
connection-bound):
  -> <conn-id> <base64 token>        NEGOTIATE starts a new context, AUTHENTICATE finishes it
  <- <conn-id> CHALLENGE <base64>
  <- <conn-id> OK <DOMAIN\\user>
  <- <conn-id> FAIL <reason>
  -> <conn-id> DROP                  the connection closed: forget its context (no answer)
"READY" is printed once at start.

pyspnego's own challenge names the acceptor by this machine's host name, NetBIOS domain "WORKSTATION",
and no DNS domain. A real Exchange server (domain member) names its NetBIOS and DNS domain and computer:
the challenge is rebuilt with the store's names (same server challenge and flags, target type domain)
and the rebuilt one is kept in the context, so the MIC check covers the bytes the client really got.

One compatibility shim (see `received_blob_v2`): pyspnego checks an NTLMv2 response by REBUILDING the
client's blob from its parsed fields and always appends the 4 zero bytes of [MS-NLMP] 3.3.2; impacket
0.13.1 sends its blob without them. Windows computes NTProofStr over the blob as received, so it accepts
impacket; pyspnego alone would not. The shim makes pyspnego hash the received bytes when the only
difference is that trailing padding; the credential lookup and the HMAC check stay pyspnego's.
"""
import base64
import json
import os
import sys

import spnego
import spnego._ntlm as spnego_ntlm
from spnego._ntlm_raw.crypto import hmac_md5
from spnego._ntlm_raw.messages import AvId, Authenticate, Challenge, NegotiateFlags, TargetInfo

MAX_CONTEXTS = 4096


# The NTv2 blob of the AUTHENTICATE being checked (set just before pyspnego checks it).
_received = {"blob": None}
_compute_v2 = spnego_ntlm.compute_response_v2


def received_blob_v2(nt_hash, server_challenge, client_challenge, time, av_pairs):
    """pyspnego's compute_response_v2, over the blob as the client sent it when pyspnego's rebuilt
    blob differs from it only by the trailing Z(4)."""
    nt, lm, key = _compute_v2(nt_hash, server_challenge, client_challenge, time, av_pairs)
    blob = _received["blob"]
    if blob is not None and nt[16:] != blob and nt[16:] == blob + b"\x00" * 4:
        proof = hmac_md5(nt_hash, server_challenge + blob)
        return proof + blob, lm, hmac_md5(nt_hash, proof)
    return nt, lm, key


spnego_ntlm.compute_response_v2 = received_blob_v2


def remember_blob(token):
    """Keeps the NTv2 blob of an AUTHENTICATE message for `received_blob_v2`."""
    _received["blob"] = None
    if token[8:12] == b"\x03\x00\x00\x00":
        nt = Authenticate.unpack(token).nt_challenge_response or b""
        if len(nt) > 24:
            _received["blob"] = nt[16:]


def rebuild_challenge(ctx, names):
    """Puts the store's names into the CHALLENGE pyspnego made; returns the bytes to send."""
    proxy = getattr(ctx, "_context", ctx)  # NTLMProxy (spnego.server may wrap it)
    old = proxy._temp_challenge
    info = TargetInfo()
    info[AvId.nb_computer_name] = names["nb_computer"]
    info[AvId.nb_domain_name] = names["nb_domain"]
    info[AvId.dns_computer_name] = names["dns_computer"]
    info[AvId.dns_domain_name] = names["dns_domain"]
    info[AvId.dns_tree_name] = names["dns_domain"]
    info[AvId.timestamp] = old.target_info[AvId.timestamp]
    flags = (old.flags & ~NegotiateFlags.target_type_server) | NegotiateFlags.target_type_domain
    new = Challenge(flags, old.server_challenge, target_name=names["nb_domain"], target_info=info)
    proxy._temp_challenge = new
    return new.pack()


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        stores = json.load(f)["stores"]
    contexts = {}
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2:
            continue
        conn, arg = parts
        if arg == "DROP":
            contexts.pop(conn, None)
            continue
        store = stores.get(conn.split("/", 1)[0])
        if store is None:
            out.write(f"{conn} FAIL unknown store\n")
            out.flush()
            continue
        os.environ["NTLM_USER_FILE"] = store["user_file"]
        try:
            token = base64.b64decode(arg, validate=True)
            # A NEGOTIATE message (type 1) always starts a new context on this connection.
            if token[8:12] == b"\x01\x00\x00\x00" or conn not in contexts:
                if len(contexts) >= MAX_CONTEXTS:
                    contexts.clear()
                contexts[conn] = spnego.server(protocol="ntlm")
            ctx = contexts[conn]
            remember_blob(token)
            answer = ctx.step(token)
            if answer is not None and not ctx.complete:
                answer = rebuild_challenge(ctx, store)
                out.write(f"{conn} CHALLENGE {base64.b64encode(answer).decode()}\n")
            elif ctx.complete:
                contexts.pop(conn, None)
                out.write(f"{conn} OK {ctx.client_principal}\n")
            else:
                contexts.pop(conn, None)
                out.write(f"{conn} FAIL no answer\n")
        except Exception as e:  # any bad token or wrong password: a failure, never a crash
            contexts.pop(conn, None)
            reason = " ".join(f"{type(e).__name__}: {e}".split())[:200]
            out.write(f"{conn} FAIL {reason}\n")
        out.flush()


if __name__ == "__main__":
    main()
