"""Interop tests: the real `SdSecureClient` of sdcclient 0.19.0 against `vigil serve` — runtime
policies (v2), rules, Falco macros and lists, and the Falco rules files: the calls sdcclient's
examples and its Secure test script (`test/test_secure_apis.sh`) make.

Started by tests/interop/sdcclient.sh with the environment described in test_sdcclient.py. Each
test works in a Secure team of its own (created with the admin's token in "Secure Operations"),
once with that team's Sysdig API token and once IBM-style (IAM token, IBMInstanceID and
SysdigTeamID headers).
"""

import json
import os
import uuid

import pytest
import requests
from sdcclient import SdSecureClient
from sdcclient.secure import policy_action_capture, policy_action_kill, policy_action_stop

URL = os.environ["VIGIL_URL"]
ADMIN_TOKEN = os.environ["SDC_ADMIN_TOKEN"]
IAM_KEY = os.environ["SDC_IAM_API_KEY"]
INSTANCE = os.environ["SDC_INSTANCE_ID"]
ADMIN = os.environ.get("SDC_ADMIN_USER", "admin@vigil.local")
HEADER = "####################\n# Your custom rules!\n####################\n"

for _v in ("SDC_TOKEN", "SDC_URL", "SDC_SSL_VERIFY", "SDC_SECURE_TOKEN", "SDC_SECURE_URL"):
    os.environ.pop(_v, None)


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def admin_get(path):
    r = requests.get(URL + path, headers={"Authorization": "Bearer " + ADMIN_TOKEN})
    assert r.status_code == 200, r.text
    return r.json()


def token_in(team_id):
    """The admin's API token in a team (GET /api/token/{user}/{teamId} with the Monitor token)."""
    return admin_get("/api/token/%s/%s" % (ADMIN, team_id))["token"]["key"]


def iam_token():
    r = requests.post(
        URL + "/identity/token",
        data={
            "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
            "response_type": "cloud_iam",
            "apikey": IAM_KEY,
        },
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def operations():
    """The admin's SdSecureClient in the built-in "Secure Operations" team."""
    team = admin_get("/api/v2/teams/light/name/Secure%20Operations")["team"]
    return SdSecureClient(token=token_in(team["id"]), sdc_url=URL)


@pytest.fixture(params=["token", "ibm"])
def sec(request, operations):
    """A Secure team of the test's own, and a client of it in the mode of the parameter."""
    name = uniq("secure-policies")
    ok, team = operations.create_team(name, memberships={ADMIN: "ROLE_TEAM_MANAGER"})
    assert ok, team
    team_id = team["team"]["id"]
    assert team["team"]["products"] == ["SDS"], team
    if request.param == "token":
        client = SdSecureClient(token=token_in(team_id), sdc_url=URL)
    else:
        headers = {"Authorization": "Bearer " + iam_token(), "IBMInstanceID": INSTANCE,
                   "SysdigTeamID": str(team_id)}
        client = SdSecureClient(sdc_url=URL, custom_headers=headers)
    yield client
    ok, res = operations.delete_team(name)
    assert ok, res


def test_policies_v2_as_the_examples_and_test_script_use_them(sec):
    assert sec.policy_v2 is True
    ok, res = sec.list_policies()
    assert ok and res == [], res

    # add_policy with parameters, including the capture action (specs/secure/policy_v2_spec.py).
    ok, p = sec.add_policy(
        name="Test - Terminal shell in container",
        description="A shell in a container",
        rule_names=["Terminal shell in container"],
        actions=[policy_action_stop(), policy_action_capture("shell", secs_before=10, secs_after=20)],
        scope="container.image.repository = sysdig/agent",
        severity=4,
    )
    assert ok, p
    assert p["name"] == "Test - Terminal shell in container" and p["version"] == 1
    assert p["actions"][1]["beforeEventNs"] == 10000000000 and p["actions"][1]["afterEventNs"] == 20000000000
    assert p["origin"] == "Secure UI" and p["type"] == "falco"

    ok, byname = sec.get_policy("Test - Terminal shell in container")
    assert ok and byname == p, byname
    ok, byid = sec.get_policy_id(p["id"])
    assert ok and byid == p, byid
    ok, res = sec.get_policy("nope")
    assert not ok and res == "No policy with name nope"

    # add_policy.py: a policy read back, its id removed and version null, posted as JSON.
    copy = dict(byid)
    del copy["id"]
    copy["version"] = None
    copy["name"] = "Test - copy"
    ok, c = sec.add_policy_json(json.dumps(copy))
    assert ok, c
    assert c["id"] != p["id"] and c["ruleNames"] == p["ruleNames"] and c["origin"] == "Secure UI"
    ok, res = sec.add_policy_json("{not json")
    assert not ok and res.startswith("policy json is not valid json: ")

    # update_policy.py / update_policy: only the given fields change.
    ok, u = sec.update_policy(c["id"], description="updated", enabled=False)
    assert ok, u
    assert (u["description"], u["enabled"], u["version"], u["scope"]) == ("updated", False, 2, c["scope"])
    u["severity"] = 7
    ok, u2 = sec.update_policy_json(json.dumps(u))
    assert ok and u2["severity"] == 7 and u2["version"] == 3, u2
    ok, res = sec.update_policy_json(json.dumps(u))
    assert not ok and "version" in res, res
    del u["id"]
    ok, res = sec.update_policy_json(json.dumps(u))
    assert not ok and res == "Policy Json does not have an 'id' field"

    # Refusals sdcclient reports as they come.
    ok, res = sec.add_policy(name="Test - copy", description="", rule_names=[])
    assert not ok and res == "A policy named 'Test - copy' already exists: Conflict", res
    ok, res = sec.add_policy(name="Test - x", description="", rule_names=["No such rule"])
    assert not ok and res == "Rule 'No such rule' does not exist: Bad Request", res
    ok, res = sec.get_policy_id(999999999)
    assert not ok and res == "Policy not found: Not Found", res

    # Deletes answer the deleted policy (the test script greps its name).
    ok, d = sec.delete_policy_name("Test - copy")
    assert ok and d["name"] == "Test - copy", d
    ok, d = sec.delete_policy_id(p["id"])
    assert ok and d["id"] == p["id"], d

    # create_default_policies.py, then delete_all_policies.py and list_policies.py prints [].
    ok, made = sec.create_default_policies()
    assert ok, made
    names = [x["name"] for x in made]
    assert "Suspicious Filesystem Changes" in names, names
    assert all(x["isDefault"] and x["origin"] == "Sysdig" for x in made)
    for x in made:
        for rule in x["ruleNames"]:
            ok, group = sec.get_rules_group(rule)
            assert ok and group, (rule, group)
    ok, res = sec.delete_all_policies()
    assert ok and res == "Policies Deleted", res
    ok, res = sec.list_policies()
    assert ok and res == [], res


def test_rules_macros_and_lists(sec):
    ok, summaries = sec.list_rules()
    assert ok and any(s["name"] == "Write below etc" for s in summaries), summaries
    details = {"ruleType": "FALCO", "condition": {"condition": "evt.type = open and fd.name = /tmp/x",
                                                  "components": []},
               "output": "opened", "priority": "WARNING", "source": "syscall", "append": False}
    ok, r = sec.add_rule(uniq("rule"), details=details, description="mine", tags=["files"])
    assert ok, r
    ok, same = sec.get_rule_id(r["id"])
    assert ok and same == r
    ok, group = sec.get_rules_group(r["name"])
    assert ok and group == [r], group
    ok, u = sec.update_rule(r["id"], description="changed", tags=["files", "tmp"])
    assert ok and (u["description"], u["tags"], u["version"]) == ("changed", ["files", "tmp"], 2), u
    ok, d = sec.delete_rule(r["id"])
    assert ok and d["id"] == r["id"], d
    ok, res = sec.get_rule_id(r["id"])
    assert not ok and res == "Rule not found: Not Found", res

    name = uniq("macro")
    ok, m = sec.add_falco_macro(name, "evt.type = open")
    assert ok and m["condition"] == {"condition": "evt.type = open", "components": []} and m["append"] is False, m
    ok, a = sec.add_falco_macro(name, "or evt.type = openat", append=True)
    assert ok and a["append"] is True, a
    ok, group = sec.get_falco_macros_group(name)
    assert ok and [x["id"] for x in group] == [m["id"], a["id"]], group
    ok, u = sec.update_falco_macro(m["id"], "evt.type = close")
    assert ok and u["condition"]["condition"] == "evt.type = close", u
    ok, res = sec.add_falco_macro(name, "evt.type = x")
    assert not ok and "already exists" in res, res
    ok, summaries = sec.list_falco_macros()
    assert ok and any(s["name"] == name and len(s["ids"]) == 2 for s in summaries), summaries
    ok, d = sec.delete_falco_macro(a["id"])
    assert ok and d["id"] == a["id"]
    ok, same = sec.get_falco_macro_id(m["id"])
    assert ok and same == u

    name = uniq("list")
    ok, lst = sec.add_falco_list(name, ["a", "b"])
    assert ok and lst["items"] == {"items": ["a", "b"]}, lst
    ok, u = sec.update_falco_list(lst["id"], ["c"])
    assert ok and u["items"]["items"] == ["c"], u
    ok, group = sec.get_falco_lists_group("shell_binaries")
    assert ok and "bash" in group[0]["items"]["items"], group
    ok, summaries = sec.list_falco_lists()
    assert ok and any(s["name"] == name for s in summaries), summaries
    ok, same = sec.get_falco_list_id(lst["id"])
    assert ok and same == u
    ok, d = sec.delete_falco_list(lst["id"])
    assert ok and d["name"] == name


def test_falco_rules_files(sec, tmp_path):
    # set_secure_system_falco_rules.py fails with "status code 405" on SaaS.
    ok, res = sec.set_system_falco_rules("- list: a\n  items: []\n")
    assert not ok and res == "status code 405", res
    ok, system = sec.get_system_falco_rules()
    assert ok and "- rule: Terminal shell in container" in system["systemRulesFile"]["content"], system

    # The user rules: the header first, as custom_rules_spec.py expects.
    ok, res = sec.get_user_falco_rules()
    assert ok and res.startswith(HEADER), res
    mine = ("- rule: My Rule %s\n  desc: My Description\n  condition: evt.type=open and "
            "fd.name=\"/tmp/some-file.txt\"\n  output: Impossible file opened\n  priority: INFO\n") % uuid.uuid4().hex
    ok, res = sec.set_user_falco_rules(mine)
    assert ok and res == HEADER + "\n" + mine, res
    ok, res = sec.set_user_falco_rules(HEADER + "\n" + mine)
    assert ok and res == HEADER + "\n" + mine, res
    ok, res = sec.get_user_falco_rules()
    assert ok and res == HEADER + "\n" + mine, res
    rule_name = mine.split("\n")[0][len("- rule: "):]
    ok, group = sec.get_rules_group(rule_name)
    assert ok and len(group) == 1 and group[0]["details"]["priority"] == "INFO", group
    ok, p = sec.add_policy(name="from the user file", description="", rule_names=[rule_name])
    assert ok, p
    # Malformed YAML is refused with its line, and nothing changes.
    ok, res = sec.set_user_falco_rules("- rule: x\n  desc: [\n")
    assert not ok and res.startswith("Invalid Falco rules in falco_rules_local.yaml: line "), res
    ok, res = sec.get_user_falco_rules()
    assert ok and res == HEADER + "\n" + mine

    # get/set_secure_default_falco_rules_files.py: the files through a directory tree.
    ok, files = sec.get_default_falco_rules_files()
    assert ok and files["tag"] and files["files"] and files["defaultPolicies"], files
    ok, res = sec.save_default_falco_rules_files(files, str(tmp_path / "rules"))
    assert ok and res is None, res
    variant = files["files"][0]["variants"][0]
    content = tmp_path / "rules" / files["tag"] / files["files"][0]["name"] / str(variant["requiredEngineVersion"]) / "content"
    assert content.read_text() == variant["content"]
    ok, loaded = sec.load_default_falco_rules_files(str(tmp_path / "rules"))
    assert ok, loaded
    assert loaded["tag"] == files["tag"] and loaded["files"] == files["files"]
    assert loaded["defaultPolicies"] == files["defaultPolicies"]
    # sdcclient 0.19's set_default_falco_rules_files cannot send under Python 3 (it passes a str
    # to zlib.compress): the PUT is made as the server takes it, the body sdcclient would build.
    r = requests.put(URL + "/api/settings/falco/defaultRulesFiles", headers=sec.hdrs,
                     data=json.dumps({"defaultFalcoRulesFiles": dict(loaded, tag="v-next")}))
    assert r.status_code == 200, r.text
    ok, files = sec.get_default_falco_rules_files()
    assert ok and files["tag"] == "v-next", files


def test_monitor_tokens_are_refused_on_secure_routes():
    monitor = SdSecureClient(token=ADMIN_TOKEN, sdc_url=URL)
    ok, res = monitor.list_policies()
    assert not ok and "use the API token of a Secure team" in res, res
    ok, res = monitor.get_user_falco_rules()
    assert not ok
