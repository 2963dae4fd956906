"""Interop tests: the real sdcclient 0.18.0 (the last with the legacy Data API) against a running
`vigil serve`: `get_data` over what the Monasca API wrote to the project "Monitor Operations"
reads, and `get_metrics`. Started by tests/interop/sdcclient.sh with its own venv.
"""

import os
import time

import requests
from sdcclient import SdMonitorClient

URL = os.environ["VIGIL_URL"]
ADMIN_TOKEN = os.environ["SDC_ADMIN_TOKEN"]


def good(res):
    ok, body = res
    assert ok is True, body
    return body


def test_get_data_reads_monasca_metrics_by_host():
    sdc = SdMonitorClient(token=ADMIN_TOKEN, sdc_url=URL)
    now = int(time.time())
    body = [{"name": "sdc.data.cpu", "dimensions": {"hostname": h}, "timestamp": now * 1000, "value": v}
            for h, v in (("d1", 70.0), ("d2", 30.0), ("d3", 50.0))]
    r = requests.post(URL + "/v2.0/metrics", json=body, headers={"X-Auth-Token": "sdc-interop"})
    assert r.status_code == 204, r.text

    metrics = [{"id": "hostname"},
               {"id": "sdc.data.cpu", "aggregations": {"time": "timeAvg", "group": "avg"}}]
    res = good(sdc.get_data(metrics, -600, 0, 600, paging={"from": 0, "to": 1}))
    assert [row["d"] for row in res["data"]] == [["d1", 70.0], ["d3", 50.0]]
    assert res["end"] - res["start"] == 600

    res = good(sdc.get_data([{"id": "sdc.data.cpu", "aggregations": {"time": "max", "group": "sum"}}],
                            -600, filter="hostname in [d2, d3]"))
    assert [row["d"] for row in res["data"]] == [[80.0]]

    catalogue = good(sdc.get_metrics())
    assert catalogue["sdc.data.cpu"]["type"] == "double"
    assert catalogue["hostname"]["type"] == "string"

    ok, msg = sdc.get_data([{"id": "sdc.data.cpu", "aggregations": {"time": "p42"}}], -60)
    assert ok is False and "aggregation" in msg
