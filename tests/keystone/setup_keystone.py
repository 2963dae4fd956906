"""Populate a freshly bootstrapped Keystone for the Vigil tests, over the REST API (stdlib only).

Usage: setup_keystone.py KEYSTONE_URL ADMIN_PASSWORD VIGIL_PORT OUT_JSON

Creates the roles monasca-user and monasca-agent, the projects mini-mon and service, the users
mini-mon, monasca-agent (both password "password") and monasca (password "service-secret", admin
on service), the monitoring service "monasca" with endpoints http://127.0.0.1:VIGIL_PORT/v2.0,
and an application credential of mini-mon. Writes the credential's id and secret and a
project-scoped token of mini-mon to OUT_JSON.
"""

import json
import sys
import urllib.error
import urllib.request

KS, ADMIN_PW, VIGIL_PORT, OUT = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4]
V3 = KS + "/v3"


def call(method, path, body=None, token=None, want=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(V3 + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, headers, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    if status not in want:
        sys.exit(f"setup: {method} {path} -> {status}: {raw[:500]!r}")
    return headers, (json.loads(raw) if raw else {})


def login(user, password, project):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    headers, resp = call("POST", "/auth/tokens", body)
    return headers["X-Subject-Token"], resp["token"]


admin, _ = login("admin", ADMIN_PW, "admin")


def create(kind, body):
    plural = kind + "s"
    return call("POST", "/" + plural, {kind: body}, admin)[1][kind]


def find(plural, name):
    items = call("GET", f"/{plural}?name={name}", token=admin)[1][plural]
    if len(items) != 1:
        sys.exit(f"setup: expected one {plural} named {name}, got {len(items)}")
    return items[0]


roles = {r: create("role", {"name": r})["id"] for r in ("monasca-user", "monasca-agent")}
roles["admin"] = find("roles", "admin")["id"]

projects = {
    p: create("project", {"name": p, "domain_id": "default", "enabled": True})["id"]
    for p in ("mini-mon", "service")
}

for user, password, project, role in (
    ("mini-mon", "password", "mini-mon", "monasca-user"),
    ("monasca-agent", "password", "mini-mon", "monasca-agent"),
    ("monasca", "service-secret", "service", "admin"),
):
    uid = create(
        "user",
        {"name": user, "password": password, "domain_id": "default", "enabled": True},
    )["id"]
    call("PUT", f"/projects/{projects[project]}/users/{uid}/roles/{roles[role]}", token=admin)

svc = create("service", {"type": "monitoring", "name": "monasca", "enabled": True})["id"]
for iface in ("public", "internal", "admin"):
    create(
        "endpoint",
        {
            "service_id": svc,
            "interface": iface,
            "region_id": "RegionOne",
            "url": f"http://127.0.0.1:{VIGIL_PORT}/v2.0",
            "enabled": True,
        },
    )

# An application credential of mini-mon, created by mini-mon itself.
token, tok = login("mini-mon", "password", "mini-mon")
uid = tok["user"]["id"]
_, ac = call(
    "POST",
    f"/users/{uid}/application_credentials",
    {"application_credential": {"name": "vigil-keystone-test"}},
    token,
)
ac = ac["application_credential"]

with open(OUT, "w") as f:
    json.dump(
        {
            "app_cred_id": ac["id"],
            "app_cred_secret": ac["secret"],
            "token": token,
            "project_id": projects["mini-mon"],
        },
        f,
    )
