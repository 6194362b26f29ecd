"""Replay docs/quickstart.md against a throw-away embedded registry and print every output.

Run it after changing a command's output, and paste what changed into the guide:

    .venv/bin/python docs/dev/replay_quickstart.py

Needs npm (first publish, `npm profile enable-2fa`) and pexpect (the password and
OTP prompts are answered at a pseudo-terminal, as a user would). It waits twice
for the next 30-second TOTP step, because registries accept each code only once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pexpect
import pyotp

PYSTAGE = os.path.join(os.path.dirname(sys.executable), "pystage")
PASSWORD = "correct horse"


def main() -> None:
    work = tempfile.mkdtemp(prefix="pystage-quickstart-")
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "110",
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_cache": os.path.join(work, "npm-cache"),
    }
    server = subprocess.Popen(
        [
            PYSTAGE,
            "registry",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--storage",
            os.path.join(work, "registry-data"),
            "--open-registration",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = server.stdout.readline()
        print(line.strip())
        registry = re.search(r"http://\S+/", line).group(0)
        env.update(npm_config_registry=registry, npm_config_userconfig=os.path.join(work, "npmrc"))
        pkg = os.path.join(work, "greet")
        os.makedirs(pkg)

        def run(cmd: str, cwd: str = work) -> None:
            print(f"$ {cmd}")
            out = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
            print(out.stdout + out.stderr + f"[exit {out.returncode}]")

        def at_terminal(args: list[str], answers: list[tuple[str, str]]) -> str:
            child = pexpect.spawn(
                args[0], args[1:], env=env, cwd=work, encoding="utf-8", timeout=60
            )
            found = ""
            for prompt, answer in answers:
                child.expect(prompt)
                found = child.match.group(1) if child.match.groups() else found
                print(child.before + prompt)
                child.sendline(answer() if callable(answer) else answer)
            child.expect(pexpect.EOF)
            print(child.before)
            return found

        print("$ pystage login --username alice --save-to-npmrc")
        at_terminal(
            [PYSTAGE, "login", "--username", "alice", "--save-to-npmrc"], [("Password:", PASSWORD)]
        )
        run(f"{PYSTAGE} whoami")
        with open(os.path.join(pkg, "package.json"), "w") as fh:
            fh.write(
                '{ "name": "@acme/greet", "version": "1.0.0", "main": "index.js", '
                '"license": "MIT" }\n'
            )
        with open(os.path.join(pkg, "index.js"), "w") as fh:
            fh.write("module.exports = (n) => `hello ${n}`\n")
        run("npm publish --access public", pkg)

        print("$ npm profile enable-2fa auth-and-writes")
        child = pexpect.spawn(
            "npm",
            ["profile", "enable-2fa", "auth-and-writes"],
            env=env,
            cwd=work,
            encoding="utf-8",
            timeout=60,
        )
        child.expect("password:")
        child.sendline(PASSWORD)
        child.expect(r"enter code: ([A-Z2-7]+)")
        totp = pyotp.TOTP(child.match.group(1))
        child.expect("authenticator: ")
        child.sendline(totp.now())
        child.expect(pexpect.EOF)
        print("(2FA enabled)" if child.wait() == 0 else child.before)

        run("npm pkg set version=1.1.0", pkg)
        run(f"{PYSTAGE} publish", pkg)
        run("npm view @acme/greet versions")
        run(f"{PYSTAGE} list")
        run(f"{PYSTAGE} view @acme/greet@1.1.0")
        run(f"{PYSTAGE} download @acme/greet@1.1.0")
        run("tar -tzf acme-greet-1.1.0-*.tgz")
        time.sleep(31)  # the enrolment used this step's code
        print("$ pystage approve @acme/greet@1.1.0")
        at_terminal([PYSTAGE, "approve", "@acme/greet@1.1.0"], [("Enter OTP:", totp.now)])
        run("npm view @acme/greet versions")
        run("npm pkg set version=1.2.0", pkg)
        run(f"{PYSTAGE} publish --quiet", pkg)
        time.sleep(31)
        run(f"{PYSTAGE} reject @acme/greet@1.2.0 --otp {totp.now()}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
