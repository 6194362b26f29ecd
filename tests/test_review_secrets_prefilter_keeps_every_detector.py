"""The review hands detect-secrets only the lines a cheap byte prefilter picks
(pystage/review/secrets.py: a superset of its plugins' triggers). This checks the
prefilter against detect-secrets run on every line: for one sample of each of its 27
plugins, in code, config and .env files, and for the text files of real packages full
of example secrets, both find exactly the same secrets. (Checked once over every text
file of tests/data/review-*: no difference either.)"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from pystage.review.secrets import CandidateLines, detect

# one line per detect-secrets plugin (secret type); test values, none of them live
SAMPLES = {
    "AWS Access Key": "const id = 'AKIA" + "QYLPMN5HHHFPZAM2';",
    "Artifactory Credentials": "artifactory = AKCp5" + "e2gXYZabcdefghijklmnopqrs",
    "Azure Storage Account access key": "DefaultEndpointsProtocol=https;AccountKey="
    + "lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ==",
    "Basic Auth Credentials": "const db = 'https://admin:" + "hunter2pass@db.internal.net/x';",
    "Cloudant Credentials": "cloudant_password = '" + "0123456789abcdef" * 4 + "'",
    "Discord Bot Token": "client.login('MTk4NjIyNDgzNDcxOTI1MjQ4"
    + ".Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs')",
    "GitHub Token": "GH=ghp_" + "wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx",
    "GitLab Token": "token: glpat-" + "abcdefghij0123456789",
    "Base64 High Entropy String": "const blob = 'Qm9ndXMrS2V5LzEy"
    + "MzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9w';",
    "Hex High Entropy String": "const digest = '8f3a9b2c7d1e4f60" + "a5b8c9d0e1f2a3b4';",
    "IBM Cloud IAM Key": "ibm_cloud_iam_api_key = '"
    + "7Vq2LpX9sK3mN8dR4tY6wB1zC5fG0hJ2aE4uI7oP3sDx'",
    "IBM COS HMAC Credentials": "cos_hmac_secret_access_key = '" + "0123456789abcdef" * 3 + "'",
    "Public IP (ipv4)": "const server = '52.14.23" + ".11';",
    "JSON Web Token": "auth = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
    "Secret Keyword": "const password = '" + "correct-horse-battery';",
    "Mailchimp Access Key": "mailchimp = '0123456789abcdef0123456789abcdef" + "-us12'",
    "NPM tokens": "//registry.npmjs.org/:_authToken=" + "npm_F7aL0wqXxYbhM4uP2Cz9kD3eRt6vNs1GjQi8",
    "OpenAI Token": "const key = 'sk-abcdefghijklmnopqrst" + "T3BlbkFJabcdefghijklmnopqrst';",
    "Private Key": "-----BEGIN RSA " + "PRIVATE KEY-----",
    "PyPI Token": "pypi-AgEIcHlwaS5vcmc" + "A" * 72,
    "SendGrid API Key": "sendgrid = 'SG.ngeVfQFYQlKU0ufo8x5d1A"
    + ".TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr'",
    "Slack Token": "slack = 'xoxb-123456789012-" + "1234567890123-abcdefghijklmnopqrstuvwx'",
    "SoftLayer Credentials": "softlayer_api_key = '" + "abcdef0123456789" * 4 + "'",
    "Square OAuth Secret": "square = 'sq0csp-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG'",
    "Stripe Access Key": "stripe = 'sk_live_" + "abcdefghijklmnopqrstuvwx'",
    "Telegram Bot Token": "TELEGRAM=123456789:" + "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
    "Twilio API Key": "twilio = 'AC0123456789abcdef" + "0123456789abcdef'",
}


def _every_line(data: bytes) -> list[tuple[int, str]]:
    return [(i + 1, t) for i, t in enumerate(data.decode("utf-8", "replace").split("\n"))]


def _prefiltered(data: bytes) -> list[tuple[int, str]]:
    lines = CandidateLines()
    lines.feed(data)
    return lines.finish()


def _same(path: str, data: bytes):
    full = {(s.kind, s.line) for s in detect(path, _every_line(data))}
    short = {(s.kind, s.line) for s in detect(path, _prefiltered(data))}
    return full, short


def test_there_is_a_sample_for_every_plugin():
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    assert set(SAMPLES) == set(get_mapping_from_secret_type_to_class())


@pytest.mark.parametrize("path", ["lib/config.js", "config/settings.yml", ".env"])
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_prefilter_keeps_what_detect_secrets_finds(kind, path):
    filler = "function add(a, b) {\n  return Object.keys(a).length + b;\n}\n"
    data = (filler + SAMPLES[kind] + "\n" + filler).encode()
    full, short = _same(path, data)
    # the sample is one detect-secrets recognises (its IP plugin, behind its filters,
    # fires on none we tried)
    if path == "lib/config.js" and kind != "Public IP (ipv4)":
        assert (kind, 4) in full, full
    assert short == full


# real packages whose docs and code hold example secrets, keys, alphabets and hashes
# (a full detect-secrets pass over every line is slow: these, not the whole corpus)
REAL = [
    "review-baselines/node-ipc-10.1.0.tgz",  # ships TLS private keys and an openssl.cnf
    "review-baselines/event-stream-3.3.5.tgz",
    "review-benign/dotenv-16.4.5.tgz",  # READMEs full of example .env secrets
    "review-benign/nanoid-5.0.7.tgz",  # id alphabets
    "review-benign/js-yaml-4.1.0.tgz",  # base64 tables in minified bundles
    "review-benign/uuid-9.0.1.tgz",
]


def _corpus_texts():
    root = Path(__file__).parent / "data"
    for name in REAL:
        with tarfile.open(root / name) as tar:
            for member in tar:
                if member.isfile():
                    data = tar.extractfile(member).read()  # in memory only
                    if b"\0" not in data[:8192]:
                        yield member.name.split("/", 1)[1], data


def test_the_prefilter_finds_the_same_in_real_files_full_of_examples():
    differ, total = [], 0
    for path, data in _corpus_texts():
        full, short = _same(path, data)
        total += len(full)
        if full != short:
            differ.append((path, full ^ short))
    assert total > 20  # the corpus holds example secrets, private keys, alphabets
    assert differ == []
