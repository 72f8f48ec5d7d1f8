#!/usr/bin/env python3
"""Bearer-token fixtures from an implementation independent of ours (PyJWT + cryptography).

Writes tests/fixtures/jwt/{jwks.json,tokens.json,rsa-public.pem}: RS256, ES256 and EdDSA keys,
a JWKS in Keycloak's layout (signing keys with x5c certificates, plus an RSA-OAEP encryption
key that must be skipped), and tokens in Keycloak's claim layout (iss URL, aud array, azp, typ,
space-separated scope, kid header) that expire in 2100, each with the answer our verifier must
give. tests/it/auth.rs replays them, so CI needs no Python.

With --check-issued BIN it also runs `BIN token keygen` and `BIN token issue` and verifies the
token equipmatch minted with PyJWT, the other way round.

    python3 -m venv /tmp/jwtvenv && /tmp/jwtvenv/bin/pip install pyjwt cryptography
    /tmp/jwtvenv/bin/python scripts/jwt-fixtures.py [--check-issued target/debug/equipmatch]
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

ISSUER = "https://sso.example.cn/realms/jjj-emergency"
AUDIENCE = "equipmatch"
FAR_FUTURE = 4102444800  # 2100-01-01T00:00:00Z
ISSUED_AT = 1767225600  # 2026-01-01T00:00:00Z
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "jwt")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kid() -> str:
    # Keycloak's kids are 43-character base64url strings.
    return b64url(os.urandom(32))


def self_signed(private_key, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    algorithm = None if isinstance(private_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(private_key, algorithm)
    )


def with_certificate(jwk: dict, private_key, name: str) -> dict:
    der = self_signed(private_key, name).public_bytes(serialization.Encoding.DER)
    jwk["x5c"] = [base64.b64encode(der).decode()]
    jwk["x5t"] = b64url(hashlib.sha1(der).digest())
    jwk["x5t#S256"] = b64url(hashlib.sha256(der).digest())
    return jwk


def keycloak_claims(sub: str, username: str, scope: str, **extra) -> dict:
    claims = {
        "exp": FAR_FUTURE,
        "iat": ISSUED_AT,
        "auth_time": ISSUED_AT,
        "jti": str(uuid.uuid4()),
        "iss": ISSUER,
        "aud": [AUDIENCE, "account"],
        "sub": sub,
        "typ": "Bearer",
        "azp": "dispatch-console",
        "sid": str(uuid.uuid4()),
        "acr": "1",
        "allowed-origins": ["https://console.example.cn"],
        "realm_access": {"roles": ["offline_access", "uma_authorization", "default-roles-jjj-emergency"]},
        "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
        "scope": scope,
        "email_verified": True,
        "name": "Dispatcher Hebei",
        "preferred_username": username,
        "given_name": "Dispatcher",
        "family_name": "Hebei",
        "email": f"{username}@example.cn",
    }
    claims.update(extra)
    return claims


def hs256_with(secret: bytes, header: dict, claims: dict) -> str:
    """An HS256 token made by hand: PyJWT rightly refuses a PEM as an HMAC secret."""
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def main_fixtures() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    enc_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_kid, ec_kid, ed_kid, enc_kid = kid(), kid(), kid(), kid()

    def jwk_of(private_key, key_id, alg, use="sig"):
        text = jwt.algorithms.get_default_algorithms()[alg].to_jwk(private_key.public_key())
        jwk = json.loads(text)
        jwk.update({"kid": key_id, "use": use, "alg": alg})
        return jwk

    rsa_jwk = with_certificate(jwk_of(rsa_key, rsa_kid, "RS256"), rsa_key, "jjj-emergency")
    ec_jwk = with_certificate(jwk_of(ec_key, ec_kid, "ES256"), ec_key, "jjj-emergency")
    ed_jwk = jwk_of(ed_key, ed_kid, "EdDSA")
    enc_jwk = jwk_of(enc_key, enc_kid, "RS256", use="enc")
    enc_jwk["alg"] = "RSA-OAEP"
    jwks = {"keys": [rsa_jwk, enc_jwk, ec_jwk, ed_jwk]}

    rsa_public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def sign(key, alg, key_id, claims, typ="JWT"):
        headers = {"kid": key_id} if key_id is not None else {}
        if typ is not None:
            headers["typ"] = typ
        return jwt.encode(claims, key, algorithm=alg, headers=headers)

    dispatcher = "5b2e7c1a-8d3f-4e6b-9a0c-1f2e3d4c5b6a"
    planner = "c0ffee00-1111-4222-8333-944455556666"
    supplier = "9d8c7b6a-5f4e-4d3c-8b2a-190817263544"
    tokens = []

    def add(name, token, expect, sub=None, scopes=None, suppliers=None):
        tokens.append({
            "name": name, "token": token, "expect": expect,
            "sub": sub, "scopes": scopes, "suppliers": suppliers,
        })

    scope = "openid profile email equipmatch.dispatch"
    add("keycloak RS256 dispatcher (aud array, scope string)",
        sign(rsa_key, "RS256", rsa_kid, keycloak_claims(dispatcher, "dispatcher.hebei", scope)),
        "ok", dispatcher, ["equipmatch.dispatch"], [])
    add("keycloak ES256 planner (aud string)",
        sign(ec_key, "ES256", ec_kid,
             keycloak_claims(planner, "planner.tianjin", "openid equipmatch.drill", aud=AUDIENCE)),
        "ok", planner, ["equipmatch.drill"], [])
    add("EdDSA supplier with a string supplier claim",
        sign(ed_key, "EdDSA", ed_kid,
             keycloak_claims(supplier, "supplier.7", "equipmatch.stock", equipmatch_supplier="sup-00007")),
        "ok", supplier, ["equipmatch.stock"], ["sup-00007"])
    okta_like = keycloak_claims("00u1abcd2EFGH3ijk4l5", "ops.admin", "ignored")
    del okta_like["scope"]
    okta_like["scp"] = ["equipmatch.admin", "equipmatch.read"]
    okta_like["equipmatch_supplier"] = ["sup-00007", "sup-00009"]
    add("scp array, supplier array (Okta layout)", sign(rsa_key, "RS256", rsa_kid, okta_like),
        "ok", "00u1abcd2EFGH3ijk4l5", ["equipmatch.read", "equipmatch.admin"], ["sup-00007", "sup-00009"])
    add("no typ header (some providers omit it)",
        sign(ec_key, "ES256", ec_kid, keycloak_claims(planner, "p", "equipmatch.read"), typ=None),
        "ok", planner, ["equipmatch.read"], [])
    add("expired in 2001",
        sign(rsa_key, "RS256", rsa_kid, keycloak_claims(dispatcher, "d", scope, exp=1000000000)),
        "TOKEN_EXPIRED")
    add("not valid before 2099",
        sign(rsa_key, "RS256", rsa_kid, keycloak_claims(dispatcher, "d", scope, nbf=4070908800)),
        "TOKEN_NOT_YET_VALID")
    add("another realm's issuer",
        sign(rsa_key, "RS256", rsa_kid,
             keycloak_claims(dispatcher, "d", scope, iss="https://sso.example.cn/realms/other")),
        "ISSUER_MISMATCH")
    add("another service's audience",
        sign(ec_key, "ES256", ec_kid, keycloak_claims(dispatcher, "d", scope, aud=["account", "billing"])),
        "AUDIENCE_MISMATCH")
    add("no iss", sign(rsa_key, "RS256", rsa_kid,
                       {k: v for k, v in keycloak_claims(dispatcher, "d", scope).items() if k != "iss"}),
        "CLAIM_MISSING")
    add("no sub", sign(rsa_key, "RS256", rsa_kid,
                       {k: v for k, v in keycloak_claims(dispatcher, "d", scope).items() if k != "sub"}),
        "CLAIM_MISSING")
    add("no exp", sign(rsa_key, "RS256", rsa_kid,
                       {k: v for k, v in keycloak_claims(dispatcher, "d", scope).items() if k != "exp"}),
        "CLAIM_MISSING")
    add("unknown kid", sign(rsa_key, "RS256", kid(), keycloak_claims(dispatcher, "d", scope)),
        "KEY_UNKNOWN")
    add("no kid", sign(rsa_key, "RS256", None, keycloak_claims(dispatcher, "d", scope)), "KEY_UNKNOWN")
    add("alg none", jwt.encode(keycloak_claims(dispatcher, "d", scope), None, algorithm="none",
                               headers={"kid": rsa_kid}), "ALGORITHM_REFUSED")
    add("HS256 signed with the RSA public key (PEM)",
        hs256_with(rsa_public_pem, {"alg": "HS256", "typ": "JWT", "kid": rsa_kid},
                   keycloak_claims(dispatcher, "d", scope)), "ALGORITHM_REFUSED")
    add("HS256 signed with the JWK's modulus",
        hs256_with(base64.urlsafe_b64decode(rsa_jwk["n"] + "=="),
                   {"alg": "HS256", "typ": "JWT", "kid": rsa_kid},
                   keycloak_claims(dispatcher, "d", scope)), "ALGORITHM_REFUSED")
    add("ES256 signature under the RSA key's kid",
        sign(ec_key, "ES256", rsa_kid, keycloak_claims(dispatcher, "d", scope)), "ALGORITHM_REFUSED")
    add("PS256 (RSA-PSS) is not accepted",
        sign(rsa_key, "PS256", rsa_kid, keycloak_claims(dispatcher, "d", scope)), "ALGORITHM_REFUSED")
    add("RS256 token under the encryption key's kid",
        sign(enc_key, "RS256", enc_kid, keycloak_claims(dispatcher, "d", scope)), "KEY_UNKNOWN")
    add("keycloak ID token (typ ID)",
        sign(rsa_key, "RS256", rsa_kid, keycloak_claims(dispatcher, "d", scope, typ="ID")), "CLAIM_INVALID")
    good = sign(rsa_key, "RS256", rsa_kid, keycloak_claims(dispatcher, "d", "equipmatch.read"))
    header, payload, signature = good.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["scope"] = "equipmatch.admin"
    add("payload changed after signing (read → admin)",
        ".".join([header, b64url(json.dumps(forged).encode()), signature]), "SIGNATURE_INVALID")
    ed_good = sign(ed_key, "EdDSA", ed_kid, keycloak_claims(supplier, "s", "equipmatch.read"))
    h, p, s = ed_good.split(".")
    flipped = bytearray(base64.urlsafe_b64decode(s + "=="))
    flipped[0] ^= 1
    add("EdDSA signature with one bit flipped", ".".join([h, p, b64url(bytes(flipped))]), "SIGNATURE_INVALID")
    add("sub that is not printable ASCII",
        sign(ed_key, "EdDSA", ed_kid, keycloak_claims("调度员", "s", "equipmatch.read")), "CLAIM_INVALID")

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "jwks.json"), "w") as f:
        json.dump(jwks, f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "tokens.json"), "w") as f:
        json.dump({
            "generator": f"scripts/jwt-fixtures.py with PyJWT {jwt.__version__}",
            "issuer": ISSUER, "audience": AUDIENCE, "tokens": tokens,
        }, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(OUT, "rsa-public.pem"), "wb") as f:
        f.write(rsa_public_pem)
    print(f"wrote {len(tokens)} tokens and a JWKS of {len(jwks['keys'])} keys to {os.path.normpath(OUT)}")


def check_issued(binary: str) -> None:
    """A token `equipmatch token issue` minted must verify with PyJWT."""
    with tempfile.TemporaryDirectory() as folder:
        for alg in ["EdDSA", "ES256"]:
            out = os.path.join(folder, alg)
            subprocess.run([binary, "token", "keygen", "--out", out, "--alg", alg], check=True,
                           stdout=subprocess.DEVNULL)
            token = subprocess.run(
                [binary, "token", "issue", "--key", os.path.join(out, "signing-key.pem"),
                 "--sub", "supplier-7-bot", "--scope", "equipmatch.stock equipmatch.read",
                 "--supplier", "sup-00007", "--ttl", "1h", "--issuer", ISSUER, "--audience", AUDIENCE],
                check=True, capture_output=True, text=True).stdout.strip()
            with open(os.path.join(out, "jwks.json")) as f:
                jwk_set = jwt.PyJWKSet.from_dict(json.load(f))
            kid_header = jwt.get_unverified_header(token)["kid"]
            signing_key = next(k for k in jwk_set.keys if k.key_id == kid_header)
            claims = jwt.decode(token, signing_key.key, algorithms=[alg], audience=AUDIENCE,
                                issuer=ISSUER, options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]})
            assert claims["sub"] == "supplier-7-bot", claims
            assert sorted(claims["scope"].split()) == ["equipmatch.read", "equipmatch.stock"], claims
            assert claims["equipmatch_supplier"] == ["sup-00007"], claims
            assert claims["exp"] - claims["iat"] == 3600, claims
            # The kid is the RFC 7638 thumbprint: recompute it independently.
            jwk = json.loads(json.dumps(next(k for k in json.load(open(os.path.join(out, "jwks.json")))["keys"])))
            members = {"EdDSA": ["crv", "kty", "x"], "ES256": ["crv", "kty", "x", "y"]}[alg]
            canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
            assert b64url(hashlib.sha256(canonical.encode()).digest()) == kid_header, "kid is not the thumbprint"
            print(f"{alg}: a token from `equipmatch token issue` verifies with PyJWT {jwt.__version__}: "
                  f"sub={claims['sub']} scope={claims['scope']!r} kid={kid_header}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-issued", metavar="BIN", help="verify tokens BIN minted, with PyJWT")
    parser.add_argument("--no-fixtures", action="store_true", help="do not rewrite the fixtures")
    args = parser.parse_args()
    if not args.no_fixtures:
        main_fixtures()
    if args.check_issued:
        check_issued(args.check_issued)
    sys.exit(0)
