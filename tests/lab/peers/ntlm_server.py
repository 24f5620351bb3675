"""The NTLM acceptor of the lab's RPC proxy: pyspnego's server side (spnego.server(protocol="ntlm")),
run as one long-lived process speaking a line protocol on stdin/stdout.

Usage: python ntlm_server.py CONFIG.json
CONFIG: {"stores": {"<store>": {"user_file": PATH, "nb_domain": "OALAB", "dns_domain": "oalab.test",
                                "nb_computer": "EX01", "dns_computer": "ex01.oalab.test"}, ...},
         "certs": {"<host>": PEM_PATH, ...}}
The certs are each host's OWN certificate, the one the lab's Exchange serves: what IIS computes the
channel bindings of (behind a device that re-encrypts with another certificate, not the one the client saw).
Each store's user file has pyspnego's format, one `DOMAIN:user:password` per line; pyspnego reads it from
the env var NTLM_USER_FILE, which is set to the store's file before each step (this process is single
threaded, so that is safe).

Protocol (one line each way; conn-id = "<store>/<n>", one per TLS connection, since NTLM is
connection-bound):
  -> <conn-id> <base64 token> <ep> <host>
                                     NEGOTIATE starts a new context, AUTHENTICATE finishes it; <ep> is the
                                     virtual directory's Extended Protection (none, allow, require),
                                     <host> names the certificate the bindings are computed from
  <- <conn-id> CHALLENGE <base64>
  <- <conn-id> OK <DOMAIN\\user>
  <- <conn-id> FAIL <reason>
  -> <conn-id> DROP                  the connection closed: forget its context (no answer)
"READY" is printed once at start.

pyspnego's own challenge names the acceptor by this machine's host name, NetBIOS domain "WORKSTATION",
and no DNS domain. A real Exchange server (domain member) names its NetBIOS and DNS domain and computer:
the challenge is rebuilt with the store's names (same server challenge and flags, target type domain)
and the rebuilt one is kept in the context, so the MIC check covers the bytes the client really got.

Extended Protection, as IIS's `tokenChecking` does it (IIS configuration reference, extendedProtection;
[MS-NLMP] 3.2.5.1.2: only a NONZERO MsvAvChannelBindings is checked; Windows' SEC_CHANNEL_BINDINGS_RESULT_ABSENT
is "either omitted or consist entirely of zeroes"):
  none     no check (pyspnego given no bindings);
  allow    absent or all-zero: accepted without a check; nonzero: must match (pyspnego given the bindings);
  require  absent, all-zero or NTLMv1: refused here, before pyspnego sees the token; nonzero: must match.
pyspnego alone, given bindings, refuses an absent pair but accepts an all-zero one (its
_step_accept_authenticate): neither mode, hence the checks here. The expected bindings are computed from the
host's certificate independently of migcheck: requests-ntlm's rule (the hash of cryptography's
signature_hash_algorithm, SHA-256 for MD5, SHA-1 or none; RFC 5929 4.1) in pyspnego's GssChannelBindings.

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
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from spnego.channel_bindings import GssChannelBindings
from spnego._ntlm_raw.crypto import hmac_md5
from spnego._ntlm_raw.messages import (
    AvId,
    Authenticate,
    Challenge,
    NegotiateFlags,
    NTClientChallengeV2,
    TargetInfo,
)

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


def tls_server_end_point(pem_path):
    """The channel bindings of the certificate at pem_path, as requests-ntlm 1.3.0 computes them."""
    with open(pem_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    alg = cert.signature_hash_algorithm
    if not alg or alg.name in ("md5", "sha1"):
        alg = hashes.SHA256()
    digest = hashes.Hash(alg)
    digest.update(cert.public_bytes(Encoding.DER))
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


def received_bindings(token):
    """The MsvAvChannelBindings of an NTLMv2 AUTHENTICATE; None when absent, or NTLMv1 (no AV pairs)."""
    nt = Authenticate.unpack(token).nt_challenge_response or b""
    if len(nt) <= 24:
        return None
    return NTClientChallengeV2.unpack(nt[16:]).av_pairs.get(AvId.channel_bindings)


def extended_protection(token, mode, bindings):
    """IIS's tokenChecking on an AUTHENTICATE: the bindings to give pyspnego (None: no check), or an
    exception when Require refuses the token before pyspnego sees it."""
    if mode == "none":
        return None
    if bindings is None:
        raise ValueError("internal: no certificate for this host's channel bindings")
    received = received_bindings(token)
    unbound = received is None or received == b"\x00" * 16
    if mode == "require" and unbound:
        raise ValueError("GSS_S_BAD_BINDINGS: Extended Protection requires channel bindings (absent or zero)")
    return None if unbound else bindings


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
        config = json.load(f)
    stores = config["stores"]
    bindings = {host: tls_server_end_point(path) for host, path in config.get("certs", {}).items()}
    contexts = {}
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    for line in sys.stdin:
        parts = line.split()
        if len(parts) == 2 and parts[1] == "DROP":
            contexts.pop(parts[0], None)
            continue
        if len(parts) != 4:
            continue
        conn, arg, mode, host = parts
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
            checked = None
            if token[8:12] == b"\x03\x00\x00\x00":
                checked = extended_protection(token, mode, bindings.get(host))
            remember_blob(token)
            answer = ctx.step(token, channel_bindings=checked)
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
            # The helper's log says why (a wrong password, or Extended Protection's bindings).
            print(f"{conn} {mode} {host} FAIL {reason}", file=sys.stderr, flush=True)
        out.flush()


if __name__ == "__main__":
    main()
