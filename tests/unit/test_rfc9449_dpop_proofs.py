"""oauth21.dpop: every check of a DPoP proof, with real keys, and stateless nonces."""

from __future__ import annotations

import threading

import pytest

from oauth21.dpop import (
    DpopVerifier,
    InvalidDpopProof,
    NonceIssuer,
    UseDpopNonce,
    normalize_htu,
)
from tests.dpop_keys import ProofKey, unsigned
from tests.support import FakeClock

URL = "https://auth.example.test/oauth/token"
ALGS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"]


class Replay:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.lock = threading.Lock()

    def __call__(self, jkt: str, jti: str, expires_at: int) -> bool:
        with self.lock:
            if (jkt, jti) in self.seen:
                return False
            self.seen.add((jkt, jti))
            return True


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def replay():
    return Replay()


@pytest.fixture
def verifier(clock, replay):
    return DpopVerifier(window=60, clock=clock, record_jti=replay)


@pytest.fixture(scope="module")
def keys():
    return {alg: ProofKey(alg) for alg in ALGS}


@pytest.mark.parametrize("alg", ALGS)
def test_a_valid_proof_of_each_algorithm(verifier, keys, clock, alg):
    key = keys[alg]
    proof = verifier.verify(key.proof("POST", URL, iat=clock()), method="POST", url=URL)
    assert proof.jkt == key.jkt


def refused(verifier, proof, fragment, **kw):
    kw.setdefault("method", "POST")
    kw.setdefault("url", URL)
    with pytest.raises(InvalidDpopProof) as caught:
        verifier.verify(proof, **kw)
    assert caught.value.error == "invalid_dpop_proof"
    assert fragment in caught.value.description
    return caught.value


@pytest.mark.parametrize("alg", ["ES256", "PS256"])
class TestRejections:
    def test_wrong_htm(self, verifier, keys, clock, alg):
        refused(verifier, keys[alg].proof("GET", URL, iat=clock()), "htm")

    def test_wrong_htu(self, verifier, keys, clock, alg):
        proof = keys[alg].proof("POST", "https://auth.example.test/oauth/other", iat=clock())
        refused(verifier, proof, "htu")

    def test_stale_iat(self, verifier, keys, clock, alg):
        refused(verifier, keys[alg].proof("POST", URL, iat=clock() - 66), "iat")

    def test_future_iat(self, verifier, keys, clock, alg):
        refused(verifier, keys[alg].proof("POST", URL, iat=clock() + 6), "iat")

    def test_replayed_jti(self, verifier, keys, clock, alg):
        proof = keys[alg].proof("POST", URL, iat=clock())
        verifier.verify(proof, method="POST", url=URL)
        refused(verifier, proof, "already used")

    def test_wrong_ath(self, verifier, keys, clock, alg):
        proof = keys[alg].proof("GET", URL, access_token="token-a", iat=clock())
        refused(verifier, proof, "ath", method="GET", access_token="token-b")
        no_ath = keys[alg].proof("GET", URL, iat=clock())
        refused(verifier, no_ath, "ath", method="GET", access_token="token-b")

    def test_private_key_in_jwk(self, verifier, keys, clock, alg):
        proof = keys[alg].proof("POST", URL, iat=clock(), jwk=keys[alg].private_jwk)
        refused(verifier, proof, "public key")

    def test_signed_by_another_key(self, verifier, keys, clock, alg):
        other = keys["ES256" if alg != "ES256" else "ES384"]
        proof = keys[alg].proof("POST", URL, iat=clock(), jwk=other.public_jwk)
        refused(verifier, proof, "signature")


def test_within_the_leeway(verifier, keys, clock):
    verifier.verify(keys["ES256"].proof("POST", URL, iat=clock() - 64), method="POST", url=URL)
    verifier.verify(keys["ES256"].proof("POST", URL, iat=clock() + 4), method="POST", url=URL)


def test_alg_none_and_hmac_are_refused(verifier, keys):
    refused(verifier, unsigned("POST", URL, keys["ES256"]), "alg")
    refused(verifier, unsigned("POST", URL, keys["ES256"], "HS256", b"k"), "alg")


def test_typ_must_be_dpop_jwt(verifier, keys, clock):
    proof = keys["ES256"].proof("POST", URL, iat=clock(), header={"typ": "JWT"})
    refused(verifier, proof, "typ")


def test_exactly_one_header(verifier, keys, clock):
    one = keys["ES256"].proof("POST", URL, iat=clock())
    two = keys["ES256"].proof("POST", URL, iat=clock())
    refused(verifier, f"{one},{two}", "exactly one")  # API Gateway joins repeats with a comma
    refused(verifier, None, "required")
    refused(verifier, "a.b", "compact JWS")
    refused(verifier, "e30.e30.", "typ")


def test_a_symmetric_jwk_is_refused(verifier, keys, clock):
    proof = keys["ES256"].proof("POST", URL, iat=clock(), jwk={"kty": "oct", "k": "c2VjcmV0"})
    refused(verifier, proof, "public key")


def test_missing_claims(verifier, keys, clock):
    refused(verifier, keys["ES256"].proof("POST", URL, iat=clock(), claims={"jti": ""}), "jti")
    refused(verifier, keys["ES256"].proof("POST", URL, claims={"iat": "now"}), "iat")


@pytest.mark.parametrize(
    ("claimed", "actual"),
    [
        ("HTTPS://AUTH.example.test/oauth/token", URL),
        ("https://auth.example.test:443/oauth/token", URL),
        ("https://auth.example.test/oauth/token?x=1#y", URL),
        ("http://127.0.0.1:80/api/user", "http://127.0.0.1/api/user"),
    ],
)
def test_htu_is_compared_normalised(verifier, keys, clock, claimed, actual):
    verifier.verify(keys["ES256"].proof("POST", claimed, iat=clock()), method="POST", url=actual)


def test_htu_normalisation():
    assert normalize_htu("https://A.example:8443/p?q") == "https://a.example:8443/p"
    assert normalize_htu("ftp://a/p") is None
    assert normalize_htu("https://a.example:99999/") is None
    assert normalize_htu("http://127.0.0.1:3000/x") != normalize_htu("http://127.0.0.1/x")


def test_twenty_threads_replaying_one_proof_succeed_once(verifier, keys, clock):
    proof = keys["ES256"].proof("POST", URL, iat=clock())
    barrier = threading.Barrier(20)
    outcomes: list[bool] = []

    def use():
        barrier.wait()
        try:
            verifier.verify(proof, method="POST", url=URL)
            outcomes.append(True)
        except InvalidDpopProof:
            outcomes.append(False)

    threads = [threading.Thread(target=use) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False] * 19 + [True]


class TestNonces:
    @pytest.fixture
    def nonces(self, clock):
        return NonceIssuer(b"s" * 32, 300, clock)

    @pytest.fixture
    def strict(self, clock, replay, nonces):
        return DpopVerifier(window=60, clock=clock, record_jti=replay, nonces=nonces)

    def test_missing_nonce_gets_use_dpop_nonce_with_a_fresh_one(self, strict, keys, clock, nonces):
        with pytest.raises(UseDpopNonce) as caught:
            strict.verify(
                keys["ES256"].proof("POST", URL, iat=clock()),
                method="POST",
                url=URL,
                require_nonce=True,
            )
        assert caught.value.error == "use_dpop_nonce"
        assert nonces.valid(caught.value.headers["DPoP-Nonce"])
        proof = keys["ES256"].proof("POST", URL, iat=clock(), nonce=caught.value.nonce)
        strict.verify(proof, method="POST", url=URL, require_nonce=True)

    @pytest.mark.parametrize("nonce", ["garbage", "AAAAAAAAAAA.AAAA", "x.y.z", ""])
    def test_invalid_nonces(self, strict, keys, clock, nonce):
        proof = keys["ES256"].proof("POST", URL, iat=clock(), nonce=nonce)
        with pytest.raises(UseDpopNonce):
            strict.verify(proof, method="POST", url=URL, require_nonce=True)

    def test_a_nonce_lives_its_window_and_the_next(self, nonces, clock):
        clock.now = 1_900_000_000 - 1_900_000_000 % 300  # the start of a window
        nonce = nonces.fresh()
        clock.advance(599)
        assert nonces.valid(nonce)
        clock.advance(1)
        assert not nonces.valid(nonce)

    def test_another_secret_does_not_validate(self, nonces, clock):
        assert not NonceIssuer(b"t" * 32, 300, clock).valid(nonces.fresh())
