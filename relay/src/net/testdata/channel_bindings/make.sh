#!/bin/sh
# How the certificates beside this script were made (OpenSSL 3.0, Debian 12), one per signature
# algorithm that matters to RFC 5929's hash choice. Run in an empty directory to make new ones (the
# expected values in ntlm.rs's tests then change: recompute them with expected.py).
set -e
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key
openssl genpkey -algorithm ED25519 -out ed.key
mk() { name=$1; key=$2; shift 2; openssl req -x509 -new -key "$key" -subj "/CN=$name.cbt.test" -days 3650 -out "$name.pem" "$@"; }
mk md5-rsa rsa.key -md5
mk sha1-rsa rsa.key -sha1
mk sha224-rsa rsa.key -sha224
mk sha256-rsa rsa.key -sha256
mk sha384-rsa rsa.key -sha384
mk sha512-rsa rsa.key -sha512
mk pss-sha384 rsa.key -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_mgf1_md:sha384 -sigopt rsa_pss_saltlen:48
mk pss-mixed rsa.key -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_mgf1_md:sha1 -sigopt rsa_pss_saltlen:32
mk ecdsa-sha384 p384.key -sha384
mk ecdsa-sha1 p384.key -sha1
mk ed25519 ed.key
rm rsa.key p384.key ed.key
