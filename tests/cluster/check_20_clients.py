"""The real python-monascaclient 2.8.0 (`monasca`) and the Rust `monasca` CLI against the
proxy, each logging in with a password at the proxy's identity service (whose catalog names
the proxy): a few commands of each, and each CLI sees what the other made (through whichever
nodes round-robin picks)."""

import json
import os
import subprocess
import time

from clusterlib import LB, MONASCA_PY, MONASCA_RS, USER_A, check

NAME, PASSWORD, PROJECT = USER_A
RUN = str(int(time.time()))


def cli(binary, *args):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("CLUSTER_DIR", "/tmp"),
        "LANG": "C.UTF-8",
        "OS_AUTH_URL": f"{LB}/identity",
        "OS_USERNAME": NAME,
        "OS_PASSWORD": PASSWORD,
        "OS_PROJECT_NAME": PROJECT,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
    }
    which = "python-monascaclient" if binary == MONASCA_PY else "Rust monasca"
    p = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    check(p.returncode == 0, f"{which}: monasca {' '.join(args)}"
          + ("" if p.returncode == 0 else f"\n--- rc {p.returncode}\n{p.stdout}\n{p.stderr}"))
    return p.stdout


def listed(out):
    """The JSON a `-j` list prints: a list, or monasca's {"elements": [...]}."""
    data = json.loads(out)
    return data.get("elements", data) if isinstance(data, dict) else data


for maker, lister in ((MONASCA_PY, MONASCA_RS), (MONASCA_RS, MONASCA_PY)):
    tag = "py" if maker == MONASCA_PY else "rs"
    metric = f"cluster.cli.{tag}.{RUN}"
    cli(maker, "metric-create", metric, "42.5", "--dimensions", f"host=h-{tag},made=by-{tag}")
    for binary in (maker, lister):
        got = listed(cli(binary, "metric-list", "-j", "--name", metric))
        check(len(got) == 1 and got[0]["dimensions"] == {"host": f"h-{tag}", "made": f"by-{tag}"},
              f"the metric made by the {tag} CLI is listed by both ({got})")

    definition = f"cluster cli {tag} {RUN}"
    cli(maker, "alarm-definition-create", definition, f"max({metric}) > 100",
        "--description", "made through haproxy")
    for binary in (maker, lister):
        got = [d for d in listed(cli(binary, "alarm-definition-list", "-j"))
               if d["name"] == definition]
        check(len(got) == 1 and got[0]["expression"] == f"max({metric}) > 100",
              f"the definition made by the {tag} CLI is listed by both")

    method = f"cluster-cli-{tag}-{RUN}"
    cli(maker, "notification-create", method, "WEBHOOK", f"http://127.0.0.1:9/{tag}")
    for binary in (maker, lister):
        got = [m for m in listed(cli(binary, "notification-list", "-j")) if m["name"] == method]
        check(len(got) == 1 and got[0]["address"] == f"http://127.0.0.1:9/{tag}",
              f"the notification method made by the {tag} CLI is listed by both")
