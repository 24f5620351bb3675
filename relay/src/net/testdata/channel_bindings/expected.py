"""The MsvAvChannelBindings each certificate here must give, computed by two implementations that
share no code with migcheck:
- requests-ntlm 1.3.0's rule (`_get_certificate_hash`: the hash of cryptography's
  `signature_hash_algorithm`, SHA-256 for MD5, SHA-1 or none) packed by pyspnego's GssChannelBindings
  (run with the lab venv's python: target/lab-venv/bin/python expected.py);
- Debian 12's python3-requests-ntlm 1.1.0 (`_get_certificate_hash`) packed by python3-ntlm-auth 1.4.0's
  GssChannelBindingsStruct, which exchangelib uses (run with /usr/bin/python3 expected.py).
Each prints `file hash-bits md5` or why it gives no bindings."""
import glob
import hashlib
import ssl

def pyspnego(der):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from spnego.channel_bindings import GssChannelBindings

    alg = x509.load_der_x509_certificate(der).signature_hash_algorithm
    if not alg or alg.name in ("md5", "sha1"):
        alg = hashes.SHA256()
    h = hashes.Hash(alg)
    h.update(der)
    digest = h.finalize()
    cb = GssChannelBindings(application_data=b"tls-server-end-point:" + digest)
    return len(digest) * 8, hashlib.md5(cb.pack()).hexdigest()


def ntlm_auth(der):
    from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
    from requests_ntlm.requests_ntlm import _get_certificate_hash

    digest = bytes.fromhex(_get_certificate_hash(der))
    cb = GssChannelBindingsStruct()
    cb[cb.APPLICATION_DATA] = b"tls-server-end-point:" + digest
    return len(digest) * 8, hashlib.md5(cb.get_data()).hexdigest()


try:
    import spnego  # noqa: F401

    compute = pyspnego
except ImportError:
    compute = ntlm_auth

for path in sorted(glob.glob("*.pem")):
    der = ssl.PEM_cert_to_DER_cert(open(path).read())
    try:
        bits, md5 = compute(der)
        print(f"{path:20} {bits:4} {md5}")
    except Exception as e:  # Debian's 1.1.0 cannot read RSASSA-PSS or Ed25519
        print(f"{path:20} none ({type(e).__name__})")
