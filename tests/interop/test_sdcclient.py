"""Interop tests: the real, unmodified Python `sdcclient` 0.19.0 against a running `vigil serve`.

Started by tests/interop/sdcclient.sh (pytest), which provides:
  VIGIL_URL            base URL of the server, e.g. http://127.0.0.1:PORT (required)
  SDC_ADMIN_TOKEN      the admin's Monitor API token in "Monitor Operations"
  SDC_IAM_API_KEY      an IAM API key of the admin user
  SDC_INSTANCE_ID      the value IBMInstanceID must carry

Every test runs twice: with the Sysdig API token, and IBM-style with an IAM token from
POST /identity/token plus the IBMInstanceID header (what IbmAuthHelper.get_headers builds).
Each asserts `ok is True` and the content the server sent back.
"""

import os
import time
import uuid

import pytest
import requests
import receivers
from sdcclient import SdMonitorClient
from sdcclient.monitor import DashboardsClientV2, EventsClientV1

URL = os.environ["VIGIL_URL"]
ADMIN_TOKEN = os.environ["SDC_ADMIN_TOKEN"]
IAM_KEY = os.environ["SDC_IAM_API_KEY"]
INSTANCE = os.environ["SDC_INSTANCE_ID"]
ADMIN = os.environ.get("SDC_ADMIN_USER", "admin@vigil.local")

# sdcclient lets these replace the constructor's arguments; the harness unsets them, and so do we.
for _v in ("SDC_TOKEN", "SDC_URL", "SDC_SSL_VERIFY"):
    os.environ.pop(_v, None)


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
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return body["access_token"]


def ibm_headers(team_id=None):
    h = {"Authorization": "Bearer " + iam_token(), "IBMInstanceID": INSTANCE}
    if team_id is not None:
        h["SysdigTeamID"] = str(team_id)
    return h


@pytest.fixture(params=["token", "ibm"])
def mode(request):
    return request.param


@pytest.fixture
def sdc(mode):
    if mode == "token":
        return SdMonitorClient(token=ADMIN_TOKEN, sdc_url=URL)
    return SdMonitorClient(sdc_url=URL, custom_headers=ibm_headers())


def client(cls, mode):
    """A client of class `cls` with the credentials of `mode`, as the `sdc` fixture builds."""
    if mode == "token":
        return cls(token=ADMIN_TOKEN, sdc_url=URL)
    return cls(sdc_url=URL, custom_headers=ibm_headers())


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def good(res):
    ok, body = res
    assert ok is True, body
    return body


def monitor_team_id(sdc):
    return good(sdc.get_team("Monitor Operations"))["id"]


# --- user and tokens ------------------------------------------------------------------------


def test_user_info_and_token(sdc, mode):
    me = good(sdc.get_user_info())["user"]
    assert me["username"] == ADMIN
    assert me["systemRole"] == "ROLE_CUSTOMER"
    assert "ROLE_CUSTOMER" in me["roles"]
    assert me["currentTeam"] == monitor_team_id(sdc)
    # Either way the request acts in "Monitor Operations": the token is the admin's there.
    token = good(sdc.get_user_token())
    assert token == ADMIN_TOKEN
    assert good(SdMonitorClient(token=token, sdc_url=URL).get_user_info())["user"]["username"] == ADMIN
    assert good(sdc.get_n_connected_agents()) == 0
    assert good(sdc.get_connected_agents()) == []


def test_wrong_token_is_bad_credentials():
    ok, msg = SdMonitorClient(token="not-a-token", sdc_url=URL).get_alerts()
    assert (ok, msg) == (False, "Bad credentials")
    ok, msg = SdMonitorClient(sdc_url=URL, custom_headers={"Authorization": "Bearer nope", "IBMInstanceID": INSTANCE}).get_alerts()
    assert (ok, msg) == (False, "Bad credentials")
    # A real IAM token with the wrong instance id is refused too.
    hdrs = ibm_headers()
    hdrs["IBMInstanceID"] = "someone-else"
    ok, msg = SdMonitorClient(sdc_url=URL, custom_headers=hdrs).get_alerts()
    assert (ok, msg) == (False, "Bad credentials")


def test_ibm_team_header_selects_the_team():
    secure_id = good(SdMonitorClient(token=ADMIN_TOKEN, sdc_url=URL).get_team("Secure Operations"))["id"]
    sdc = SdMonitorClient(sdc_url=URL, custom_headers=ibm_headers(secure_id))
    assert good(sdc.get_user_info())["user"]["currentTeam"] == secure_id
    # Its token is the admin's token for Secure Operations, a different one.
    secure_token = good(sdc.get_user_token())
    assert secure_token != ADMIN_TOKEN
    assert good(SdMonitorClient(token=secure_token, sdc_url=URL).get_user_info())["user"]["currentTeam"] == secure_id


# --- users ----------------------------------------------------------------------------------


def test_users(sdc, mode):
    email = uniq("user-" + mode) + "@example.com"
    created = good(sdc.create_user(email, "Ada", "Lovelace", "s3cret"))["user"]
    assert created["username"] == email and created["firstName"] == "Ada"
    ok, msg = sdc.create_user(email)
    assert ok is False and "User %s already exists" % email in msg
    user = good(sdc.get_user(email))
    assert user["id"] == created["id"] and user["systemRole"] == "ROLE_USER"
    assert good(sdc.get_user_ids([email])) == [created["id"]]
    assert good(sdc.edit_user(email, firstName="Augusta", systemRole="ROLE_CUSTOMER")) == "Successfully edited user"
    user = good(sdc.get_user(email))
    assert (user["firstName"], user["lastName"], user["systemRole"], user["version"]) == ("Augusta", "Lovelace", "ROLE_CUSTOMER", 2)
    invited = uniq("invite-" + mode) + "@example.com"
    body = good(sdc.create_user_invite(invited, "In", "Vited"))
    assert body["user"]["username"] == invited
    ok, msg = sdc.create_user_invite(invited)
    assert ok is False and "already exists" in msg
    assert any(u["username"] == invited for u in good(sdc.get_users()))
    for e in (email, invited):
        assert good(sdc.delete_user(e)) is None
    ok, msg = sdc.get_user(email)
    assert (ok, msg) == (False, "User not found")


# --- teams ----------------------------------------------------------------------------------


def test_teams_and_memberships(sdc, mode):
    member = uniq("member-" + mode) + "@example.com"
    good(sdc.create_user(member))
    name = uniq("team-" + mode)
    team = good(sdc.create_team(name, memberships={member: "ROLE_TEAM_READ"}, description="d1", show="container"))["team"]
    assert team["name"] == name and team["products"] == ["SDC"] and team["show"] == "container"
    ok, msg = sdc.create_team(name)
    assert ok is False and msg.startswith("Team with name '%s' already exists" % name)
    got = good(sdc.get_team(name))
    assert got["id"] == team["id"] and got["description"] == "d1"
    assert [r["userName"] for r in got["userRoles"]] == [member]
    assert good(sdc.get_team_by_id(team["id"]))["name"] == name
    assert [t["name"] for t in good(sdc.get_teams(name))] == [name]
    assert [t["name"] for t in good(sdc.get_teams(name, product_filter="SDS"))] == []
    assert good(sdc.get_team_ids([name])) == [team["id"]]
    assert good(sdc.list_memberships(name)) == {member: "ROLE_TEAM_READ"}
    assert good(sdc.save_memberships(name, {ADMIN: "ROLE_TEAM_MANAGER", member: "ROLE_TEAM_EDIT"})) is None
    assert good(sdc.list_memberships(name)) == {member: "ROLE_TEAM_EDIT", ADMIN: "ROLE_TEAM_MANAGER"}
    assert good(sdc.remove_memberships(name, [member])) is None
    assert good(sdc.list_memberships(name)) == {ADMIN: "ROLE_TEAM_MANAGER"}
    edited = good(sdc.edit_team(name, description="d2", theme="#000000"))["team"]
    assert (edited["description"], edited["theme"], edited["version"]) == ("d2", "#000000", got["version"] + 3)
    assert good(sdc.get_user_api_token(ADMIN, name))
    assert good(sdc.delete_team(name)) is None
    ok, msg = sdc.get_team(name)
    assert ok is False and "Team not found" in msg
    ok, msg = sdc.delete_team("Monitor Operations")
    assert ok is False and "default team" in msg
    good(sdc.delete_user(member))


def test_user_api_token_of_admin(sdc):
    assert good(sdc.get_user_api_token(ADMIN, "Monitor Operations")) == ADMIN_TOKEN


# --- notification channels ------------------------------------------------------------------


def test_notification_channels(sdc, mode):
    name = uniq("mail-" + mode)
    mail = good(sdc.create_email_notification_channel(name, ["ops@example.com", "dev@example.com"]))["notificationChannel"]
    assert (mail["type"], mail["name"], mail["enabled"], mail["version"]) == ("EMAIL", name, True, 1)
    assert mail["options"]["emailRecipients"] == ["ops@example.com", "dev@example.com"]
    hook_name = uniq("hook-" + mode)
    hook = good(sdc.create_notification_channel({"type": "WEBHOOK", "name": hook_name, "enabled": True, "options": {"url": "http://127.0.0.1:9/hook"}}))["notificationChannel"]
    got = good(sdc.get_notification_channel(mail["id"]))
    assert got == mail
    ids = good(sdc.get_notification_ids([{"type": "EMAIL", "emailRecipients": ["dev@example.com", "ops@example.com"]}, {"type": "WEBHOOK", "name": hook_name}]))
    assert ids == [mail["id"], hook["id"]]
    ok, msg = sdc.get_notification_ids([{"type": "WEBHOOK", "name": "nope"}])
    assert ok is False and msg.startswith("Channel not found")
    got["enabled"] = False
    got["options"]["emailRecipients"] = ["ops@example.com"]
    updated = good(sdc.update_notification_channel(got))["notificationChannel"]
    assert (updated["enabled"], updated["version"], updated["options"]["emailRecipients"]) == (False, 2, ["ops@example.com"])
    ok, msg = sdc.update_notification_channel(got)  # still version 1: stale
    assert ok is False and "Conflict" in msg
    names = [c["name"] for c in good(sdc.list_notification_channels())["notificationChannels"]]
    assert name in names and hook_name in names
    assert good(sdc.delete_notification_channel(updated)) is None
    assert good(sdc.delete_notification_channel(hook)) is None
    ok, msg = sdc.delete_notification_channel(hook)
    assert (ok, msg) == (False, "Notification channel not found: Not Found")


# --- alerts and notifications ---------------------------------------------------------------


def test_alerts_and_notifications(sdc, mode):
    ch = good(sdc.create_email_notification_channel(uniq("alert-mail-" + mode), ["ops@example.com"]))["notificationChannel"]
    name = uniq("cpu-" + mode)
    alert = good(sdc.create_alert(name, "CPU too high", 2, 600, "avg(cpu.used.percent) > 80", ["host.hostName"], "ANY", "", [ch["id"]]))["alert"]
    assert (alert["name"], alert["severity"], alert["severityLabel"], alert["timespan"]) == (name, 2, "MEDIUM", 600_000_000)
    assert (alert["condition"], alert["notificationChannelIds"], alert["enabled"], alert["version"]) == ("avg(cpu.used.percent) > 80", [ch["id"]], True, 1)
    assert alert["segmentBy"] == ["host.hostName"] and alert["segmentCondition"] == {"type": "ANY"}
    ok, msg = sdc.create_alert(name, "dup", 2, 600, "avg(cpu.used.percent) > 80")
    assert ok is False and "already exists" in msg
    assert name in [a["name"] for a in good(sdc.get_alerts())["alerts"]]
    alert["enabled"] = False
    updated = good(sdc.update_alert(alert))["alert"]
    assert (updated["enabled"], updated["version"]) == (False, 2)
    ok, msg = sdc.update_alert(alert)
    assert ok is False and "Conflict" in msg

    # A notification, recorded through the emulator-only route with the same credentials.
    hdrs = dict(sdc.hdrs)
    now = int(time.time())
    r = requests.post(URL + "/vigil/sysdig/notifications", headers=hdrs, json={"notification": {"alert": alert["id"], "state": "ACTIVE", "value": 92.5, "timestamp": now * 1_000_000}})
    assert r.status_code == 201, r.text
    notes = good(sdc.get_notifications(now - 60, now + 60, state="ACTIVE", resolved=False))["notifications"]
    mine = [n for n in notes if n["alert"] == alert["id"]]
    assert len(mine) == 1
    n = mine[0]
    assert (n["state"], n["resolved"], n["condition"], n["entities"][0]["metricValues"][0]["value"]) == ("ACTIVE", False, "avg(cpu.used.percent) > 80", 92.5)
    assert alert["id"] not in [x["alert"] for x in good(sdc.get_notifications(now - 60, now + 60, state="OK"))["notifications"]]
    resolved = good(sdc.update_notification_resolution(n, True))["notification"]
    assert resolved["resolved"] is True
    again = good(sdc.get_notifications(now - 60, now + 60, resolved=True))["notifications"]
    assert alert["id"] in [x["alert"] for x in again]
    assert alert["id"] not in [x["alert"] for x in good(sdc.get_notifications(now - 60, now + 60, resolved=False))["notifications"]]
    assert good(sdc.get_notifications(now - 3600, now - 600))["notifications"] == []

    assert good(sdc.delete_alert(updated)) is None
    ok, msg = sdc.delete_alert(updated)
    assert (ok, msg) == (False, "Alert not found: Not Found")
    good(sdc.delete_notification_channel(ch))


# --- notification channels that deliver -----------------------------------------------------

HOOK_PORT = int(os.environ.get("HOOK_PORT") or 0)
SMTP_PORT = int(os.environ.get("SMTP_PORT") or 0)


@pytest.fixture(scope="module")
def hook():
    r = receivers.HttpRecorder(HOOK_PORT)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def smtp():
    r = receivers.SmtpRecorder(SMTP_PORT)
    yield r
    r.stop()


def post_metric(name, value):
    body = [{"name": name, "dimensions": {"host.hostName": "web1"},
             "timestamp": int(time.time() * 1000), "value": value}]
    r = requests.post(URL + "/v2.0/metrics", json=body, headers={"X-Auth-Token": "sdc-interop"})
    assert r.status_code == 204, r.text


def test_a_firing_alert_reaches_its_webhook_and_email_channels(sdc, mode, hook, smtp):
    path = "/sysdig-" + mode
    web = good(sdc.create_notification_channel({
        "type": "WEBHOOK", "name": uniq("hook-" + mode), "enabled": True,
        "options": {"url": "http://127.0.0.1:%d%s" % (HOOK_PORT, path),
                    "additionalHeaders": {"X-Team-Secret": "s3cret"},
                    "customData": {"environment": "interop"}}}))["notificationChannel"]
    to = "oncall-%s@example.com" % mode
    mail = good(sdc.create_email_notification_channel(uniq("mail-" + mode), [to, "backup@example.com"]))["notificationChannel"]
    metric = "sdc.notify.%s" % mode
    name = uniq("fire-" + mode)
    alert = good(sdc.create_alert(name, "fires at once", 2, 60, "avg(%s) > 80" % metric, [], "ANY", "", [web["id"], mail["id"]]))["alert"]
    post_metric(metric, 95)
    got = hook.wait(lambda r: r["path"] == path, what="the Sysdig webhook")
    req = got[0]
    body = req["json"]
    assert req["headers"]["x-team-secret"] == "s3cret"
    assert req["headers"].get("idempotency-key")
    assert body["environment"] == "interop"
    assert body["state"] == "ACTIVE" and body["resolved"] is False
    assert body["condition"] == "avg(%s) > 80" % metric
    assert (body["alert"]["id"], body["alert"]["name"], body["alert"]["severity"]) == (alert["id"], name, 2)
    assert body["timespan"] == 60_000_000
    assert abs(body["timestamp"] / 1e6 - time.time()) < 600
    assert body["entities"][0]["metricValues"][0]["metric"] == metric
    assert body["entities"][0]["metricValues"][0]["value"] == 95
    msgs = smtp.wait(lambda m: to in m[0], what="the alert e-mail")
    rcpt, _, msg = msgs[0]
    assert sorted(rcpt) == sorted([to, "backup@example.com"])
    assert name in str(msg["Subject"])
    # The notification is listed, and the channel's attempts show the delivery.
    r = requests.get(URL + "/api/notificationChannels/%d/deliveries" % web["id"], headers=sdc.hdrs)
    assert r.status_code == 200, r.text
    assert [a["status"] for a in r.json()["deliveries"]][:1] == ["DELIVERED"]
    alert["enabled"] = False
    good(sdc.update_alert(alert))


def test_send_test_notification_on_save(sdc, mode, hook):
    path = "/sysdig-test-" + mode
    ch = good(sdc.create_notification_channel({
        "type": "WEBHOOK", "name": uniq("tested-" + mode), "enabled": True,
        "sendTestNotification": True,
        "options": {"url": "http://127.0.0.1:%d%s" % (HOOK_PORT, path)}}))["notificationChannel"]
    got = hook.wait(lambda r: r["path"] == path, what="the test notification")
    assert got[0]["json"]["state"] == "ACTIVE"
    assert "Test notification" in got[0]["json"]["alert"]["name"]
    good(sdc.delete_notification_channel(ch))


def test_a_webhook_channel_needs_an_http_url(sdc, mode):
    ok, msg = sdc.create_notification_channel({
        "type": "WEBHOOK", "name": uniq("bad-" + mode), "enabled": True,
        "options": {"url": "file:///etc/passwd"}})
    assert ok is False and "http" in msg


# --- dashboards v3 --------------------------------------------------------------------------


def test_dashboards(sdc, mode):
    name = uniq("dash-" + mode)
    d = good(sdc.create_dashboard(name))["dashboard"]
    assert (d["name"], d["schema"], d["version"], d["shared"], d["public"], d["favorite"]) == (name, 3, 1, False, False, False)
    assert d["permissions"] and d["username"] == ADMIN
    got = good(sdc.get_dashboard(d["id"]))["dashboard"]
    assert got["id"] == d["id"] and got["name"] == name

    light = good(sdc.get_dashboards())["dashboards"]
    assert name in [x["name"] for x in light]
    assert all("panels" not in x for x in light)
    full = good(sdc.get_dashboards(light=False))["dashboards"]
    assert all("panels" in x and "layout" in x and x["permissions"] for x in full)
    assert [x["dashboard"]["id"] for x in good(sdc.find_dashboard_by(name))] == [d["id"]]

    got["description"] = "described"
    updated = good(sdc.update_dashboard(got))["dashboard"]
    assert (updated["description"], updated["version"]) == ("described", 2)
    ok, msg = sdc.update_dashboard(got)
    assert ok is False and "Conflict" in msg

    fav = good(sdc.favorite_dashboard(d["id"], True))["dashboard"]
    assert fav["favorite"] is True and fav["version"] == 2
    assert good(sdc.favorite_dashboard(d["id"], False))["dashboard"]["favorite"] is False

    shared = good(sdc.share_dashboard_with_all_teams(updated, "w"))["dashboard"]
    assert shared["shared"] is True
    assert shared["sharingSettings"] == [{"member": {"type": "USER_TEAMS"}, "role": "ROLE_RESOURCE_EDIT"}]
    unshared = good(sdc.unshare_dashboard(shared))["dashboard"]
    assert (unshared["shared"], unshared["sharingSettings"]) == (False, [])
    team_id = monitor_team_id(sdc)
    with_team = good(sdc.share_dashboard_with_team(unshared, team_id))["dashboard"]
    assert with_team["sharingSettings"] == [{"member": {"type": "TEAM", "id": team_id}, "role": "ROLE_RESOURCE_READ"}]
    ok, msg = sdc.share_dashboard_with_team(with_team, 987654)
    assert ok is False and "Team 987654 not found" in msg

    copy_name = uniq("copy-" + mode)
    copy = good(sdc.create_dashboard_from_dashboard(copy_name, name, "host.hostName = 'web-1'"))["dashboard"]
    assert copy["name"] == copy_name and copy["id"] != d["id"] and copy["version"] == 1
    assert copy["scopeExpressionList"] == [{"displayName": "", "isVariable": False, "operand": "host.hostName", "operator": "equals", "value": ["web-1"]}]
    ok, msg = sdc.create_dashboard_from_dashboard(uniq("x"), "no such dashboard", None)
    assert ok is False and "can't find dashboard" in msg

    views = good(sdc.get_views_list())["dashboardTemplates"]
    assert "Host Overview" in [v["name"] for v in views]
    view_name = uniq("view-" + mode)
    from_view = good(sdc.create_dashboard_from_view(view_name, "Host Overview", None))["dashboard"]
    assert from_view["name"] == view_name and len(from_view["panels"]) == 3
    assert from_view["time"] == {"last": 7200000000, "sampling": 7200000000}

    with_panel = good(sdc.add_dashboard_panel(from_view, "Load", "advancedNumber", "avg(load)"))["dashboard"]
    assert [p["name"] for p in with_panel["panels"]][-1] == "Load" and len(with_panel["layout"]) == 4
    new_id = with_panel["panels"][-1]["id"]
    without = good(sdc.remove_dashboard_panel(with_panel, new_id))["dashboard"]
    assert [p["id"] for p in without["panels"]] == [1, 2, 3] and without["version"] == 3

    for x in (updated, copy, from_view):
        assert good(sdc.delete_dashboard(x)) is None
    ok, msg = sdc.delete_dashboard({"id": d["id"]})
    assert (ok, msg) == (False, "status code 404")
    ok, msg = sdc.delete_dashboard({"id": 0})
    assert (ok, msg) == (False, "status code 404")
    ok, msg = sdc.get_dashboard(d["id"])
    assert (ok, msg) == (False, "status code 404")


# --- events v2 ------------------------------------------------------------------------------


def test_events(sdc, mode):
    name = uniq("deploy-" + mode)
    first = good(sdc.post_event(name, "first deploy", 4, "host.hostName='ci'", {"app": "web"}))["event"]
    assert (first["name"], first["description"], first["severity"], first["scope"], first["tags"]) == (name, "first deploy", 4, "host.hostName = 'ci'", {"app": "web"})
    assert isinstance(first["id"], str) and first["category"] == "custom"
    time.sleep(0.01)
    second = good(sdc.post_event(name, "second deploy"))["event"]
    assert good(sdc.get_event(first["id"]))["event"] == first

    body = good(sdc.get_events(name=name))
    assert set(body) >= {"events", "total", "matched"}
    assert [e["id"] for e in body["events"]] == [second["id"], first["id"]]
    assert body["matched"] == 2
    assert [e["id"] for e in good(sdc.get_events(name=name, limit=1))["events"]] == [second["id"]]
    assert len(good(sdc.get_events(name=name, category=["custom"], status=["triggered"]))["events"]) == 2
    assert good(sdc.get_events(name=name, category=["alert"]))["events"] == []
    assert good(sdc.get_events(name=name, status=["resolved"]))["events"] == []
    assert good(sdc.get_events(name="no-such-event-" + name))["events"] == []
    # Paging from a pivot: the pivot itself is included (sdcclient sends include_pivot=true).
    older = good(sdc.get_events(name=name, pivot=second["id"], direction="before"))["events"]
    assert [e["id"] for e in older] == [second["id"], first["id"]]
    newer = good(sdc.get_events(name=name, pivot=first["id"], direction="after", limit=2))["events"]
    assert [e["id"] for e in newer] == [second["id"], first["id"]]
    newest = good(sdc.get_events(name=name, pivot=second["id"], direction="after"))["events"]
    assert [e["id"] for e in newest] == [second["id"]]
    t0 = first["timestamp"]
    assert len(good(sdc.get_events(name=name, from_s=t0 - 1000, to_s=t0 + 60_000))["events"]) == 2
    assert good(sdc.get_events(name=name, from_s=t0 - 60_000, to_s=t0 - 1000))["events"] == []
    ok, msg = sdc.get_events(category=["nope"])
    assert (ok, msg) == (False, "Invalid category 'nope'")

    assert good(sdc.delete_event(first)) is None
    ok, msg = sdc.get_event(first["id"])
    assert (ok, msg) == (False, "Event not found: Not Found")
    good(sdc.delete_event(second))
    assert good(sdc.get_events(name=name))["events"] == []


# --- dashboards v2 (widgets-based, over the same stored dashboards as v3) -----------------------


def test_dashboards_v2(sdc, mode, tmp_path):
    v2 = client(DashboardsClientV2, mode)
    name = uniq("dash2-" + mode)
    d = good(v2.create_dashboard(name))["dashboard"]
    assert (d["name"], d["schema"], d["version"], d["widgets"]) == (name, 2, 1, [])
    metrics = [{"id": "host.hostName"}, {"id": "cpu.used.percent", "aggregations": {"time": "avg", "group": "max"}}]
    with_panel = good(v2.add_dashboard_panel(d, "CPU", "timeSeries", metrics))["dashboard"]
    assert [w["name"] for w in with_panel["widgets"]] == ["CPU"] and with_panel["version"] == 2
    assert with_panel["widgets"][0]["showAs"] == "timeSeries"
    assert [m["id"] for m in with_panel["widgets"][0]["metrics"]] == ["timestamp", "host.hostName", "cpu.used.percent"]
    assert good(v2.get_dashboard(d["id"]))["dashboard"]["widgets"] == with_panel["widgets"]
    # The same dashboard through v3: panels derived from the widgets.
    as_v3 = good(sdc.get_dashboard(d["id"]))["dashboard"]
    assert [p["name"] for p in as_v3["panels"]] == ["CPU"] and len(as_v3["layout"]) == 1
    assert as_v3["panels"][0]["advancedQueries"][0]["query"] == "max(avg_over_time(cpu_used_percent[$__interval])) by (host_hostName)"
    assert [x["dashboard"]["id"] for x in good(v2.find_dashboard_by(name))] == [d["id"]]
    ok, msg = v2.remove_dashboard_panel(with_panel, "no such panel")
    assert (ok, msg) == (False, "Not found")

    copy_name = uniq("copy2-" + mode)
    copy = good(v2.create_dashboard_from_dashboard(copy_name, name, "host.hostName = 'web-1'"))["dashboard"]
    assert copy["name"] == copy_name and copy["id"] != d["id"] and copy["version"] == 1
    assert copy["scopeExpressionList"] == [{"operand": "host.hostName", "operator": "equals", "value": ["web-1"], "displayName": "", "variable": False}]
    assert [w["name"] for w in copy["widgets"]] == ["CPU"]

    path = str(tmp_path / "dash.json")
    v2.save_dashboard_to_file(with_panel, path)
    file_name = uniq("file2-" + mode)
    from_file = good(v2.create_dashboard_from_file(file_name, path, None))["dashboard"]
    assert from_file["name"] == file_name and [w["name"] for w in from_file["widgets"]] == ["CPU"]

    views = good(v2.get_views_list())["defaultDashboards"]
    assert "Host Overview" in [v["name"] for v in views]
    view_name = uniq("view2-" + mode)
    from_view = good(v2.create_dashboard_from_view(view_name, "Host Overview", None))["dashboard"]
    assert from_view["name"] == view_name and len(from_view["widgets"]) == 3
    assert from_view["time"] == {"last": 7200000000, "sampling": 7200000000}
    ok, msg = v2.get_view("no such view")
    assert (ok, msg) == (False, "view no such view not found")

    without = good(v2.remove_dashboard_panel(with_panel, "CPU"))["dashboard"]
    assert (without["widgets"], without["version"]) == ([], 3)
    for x in (without, copy, from_file, from_view):
        assert good(v2.delete_dashboard(x)) is None
    ok, msg = v2.delete_dashboard({"id": d["id"]})
    assert (ok, msg) == (False, "status code 404")


# --- events v1 (same stored events as v2; `filter` where v2 says `scope`) ----------------------


def test_events_v1(sdc, mode):
    v1 = client(EventsClientV1, mode)
    name = uniq("deploy1-" + mode)
    e = good(v1.post_event(name, "a v1 event", 3, "host.hostName='ci'", {"app": "web"}))["event"]
    assert (e["name"], e["description"], e["severity"], e["filter"], e["tags"]) == (name, "a v1 event", 3, "host.hostName = 'ci'", {"app": "web"})
    assert "scope" not in e
    assert good(v1.get_event(e["id"]))["event"] == e
    assert good(sdc.get_event(e["id"]))["event"]["scope"] == "host.hostName = 'ci'"
    assert e["id"] in [x["id"] for x in good(v1.get_events(last_s=600))["events"]]
    assert e["id"] not in [x["id"] for x in good(v1.get_events(from_s=0, to_s=1000))["events"]]
    assert good(v1.delete_event(e)) is None
    ok, msg = v1.get_event(e["id"])
    assert (ok, msg) == (False, "Event not found: Not Found")


# --- agents configuration -----------------------------------------------------------------------


def test_agents_config(sdc):
    files = [{"filter": "host.mac = \"08:00:27:de:5b:b9\"", "content": "log:\n  console_priority: debug\n"}]
    assert good(sdc.set_agents_config({"files": files}))["files"] == files
    assert good(sdc.get_agents_config())["files"] == files
    assert good(sdc.clear_agents_config())["files"] == []
    assert good(sdc.get_agents_config()) == {"files": []}


# --- access keys, explore grouping, data retention -----------------------------------------------


def test_access_keys(sdc):
    team_id = monitor_team_id(sdc)
    k = good(sdc.create_access_key(10, 2, team_id))["customerAccessKey"]
    assert (k["enabled"], k["limit"], k["reservation"], k["teamId"]) == (True, 10, 2, team_id)
    key = k["accessKey"]
    assert key in [x["accessKey"] for x in good(sdc.list_access_keys())["customerAccessKeys"]]
    assert good(sdc.update_access_key(key, 20, 3))["customerAccessKey"]["limit"] == 20
    assert good(sdc.disable_access_key(key))["customerAccessKey"]["enabled"] is False
    assert good(sdc.enable_access_key(key))["customerAccessKey"]["enabled"] is True


def test_explore_grouping_and_retention(sdc):
    good(sdc.get_explore_grouping_hierarchy())
    assert good(sdc.set_explore_grouping_hierarchy(["kubernetes.namespace.name", "host.hostName"])) is None
    assert good(sdc.get_explore_grouping_hierarchy()) == ["kubernetes.namespace.name", "host.hostName"]
    timelines = good(sdc.get_data_retention_info())["agents"]
    assert 10_000_000 in [t["sampling"] for t in timelines]


# --- PromQL (sdcclient 0.19's /prometheus/api/v1 calls) ---------------------------------------


def test_promql_calls_read_what_the_monasca_api_wrote(sdc, mode):
    # "Monitor Operations" reads the Monasca project "sdc-interop" ([sysdig] alert_tenants).
    name = "sdc.promql.%s" % mode
    prom = "sdc:promql:%s" % mode
    now = int(time.time())
    body = [{"name": name, "dimensions": {"hostname": h}, "timestamp": (now - back) * 1000, "value": v}
            for h, v in (("web1", 42.0), ("web2", 8.0)) for back in (120, 60, 0)]
    r = requests.post(URL + "/v2.0/metrics", json=body, headers={"X-Auth-Token": "sdc-interop"})
    assert r.status_code == 204, r.text

    res = good(sdc.get_data_promql_instant("sum(%s)" % prom, time=now))
    assert res["status"] == "success" and res["data"]["resultType"] == "vector"
    assert res["data"]["result"][0]["value"][1] == "50"
    res = good(sdc.get_data_promql_instant('%s{hostname="web1"}' % prom, time=now))
    assert [(x["metric"]["hostname"], x["value"][1]) for x in res["data"]["result"]] == [("web1", "42")]

    res = good(sdc.get_data_promql("max(%s)" % prom, now - 120, now, 60))
    assert res["data"]["resultType"] == "matrix"
    assert [v[1] for v in res["data"]["result"][0]["values"]] == ["42", "42", "42"]

    series = good(sdc.get_series([prom]))["data"]
    assert sorted(s["hostname"] for s in series) == ["web1", "web2"]
    assert all(s["__name__"] == prom for s in series)
    assert "hostname" in good(sdc.get_labels())["data"]
    assert "web1" in good(sdc.get_label_values("hostname"))["data"]
    assert prom in good(sdc.get_metadata())["data"]

    ok, msg = sdc.get_data_promql_instant("sum(%s" % prom)
    assert ok is False and "parse error" in str(msg)
