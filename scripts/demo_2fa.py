"""Demo helper: two-factor enrolment and one-time passwords for `make demo`.

``enable URL NPMRC PASSWORD USED`` enrols TOTP two-factor ("auth-and-writes")
for the user whose token is in NPMRC, speaking what ``npm profile enable-2fa``
speaks, and prints the TOTP secret. ``code SECRET USED`` prints a code, as an
authenticator app would show it. The registry accepts each code once (and the
neighbouring 30-second steps), so the steps already spent are kept in USED and
the demo never has to wait for the clock.
"""

from __future__ import annotations

import sys
import time
from urllib.parse import parse_qs, urlparse


def _token(url: str, npmrc: str) -> str:
    key = "//" + url.split("://", 1)[1] + ":_authToken="
    for line in open(npmrc, encoding="utf-8"):
        if line.startswith(key):
            return line[len(key):].strip()
    sys.exit(f"no token for {url} in {npmrc}")


PERIOD = 30


def _fresh_code(secret: str, used_file: str) -> str:
    import pyotp

    try:
        used = {int(x) for x in open(used_file, encoding="utf-8").read().split()}
    except FileNotFoundError:
        used = set()
    while True:
        now = time.time()
        current, left = int(now // PERIOD), PERIOD - now % PERIOD
        for step in ([current - 1] if left > 3 else []) + [current, current + 1]:
            if step not in used:
                with open(used_file, "a", encoding="utf-8") as handle:
                    handle.write(f"{step}\n")
                return pyotp.TOTP(secret, interval=PERIOD).at(step * PERIOD)
        time.sleep(left + 0.05)


def _post(endpoint: str, token: str, payload: dict) -> dict:
    import json
    from urllib.request import Request, urlopen

    request = Request(endpoint, data=json.dumps(payload).encode(), method="POST", headers={
        "authorization": f"Bearer {token}", "content-type": "application/json"})
    with urlopen(request, timeout=30) as answer:  # raises on a 4xx/5xx
        return json.load(answer)


def enable(url: str, npmrc: str, password: str, used_file: str) -> None:
    endpoint = url.rstrip("/") + "/-/npm/v1/user"
    token = _token(url, npmrc)
    answer = _post(endpoint, token, {"tfa": {"mode": "auth-and-writes", "password": password}})
    secret = parse_qs(urlparse(answer["tfa"]).query)["secret"][0]
    _post(endpoint, token, {"tfa": [_fresh_code(secret, used_file)]})
    print(secret)


def code(secret: str, used_file: str) -> None:
    print(_fresh_code(secret, used_file))


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "enable" and len(args) == 4:
        enable(*args)
    elif command == "code" and len(args) == 2:
        code(*args)
    else:
        sys.exit(__doc__)
