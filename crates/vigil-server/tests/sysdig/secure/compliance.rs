//! Compliance tasks and results through the client: add, list, get, update (read, merge,
//! write), delete; results listed with cursor, direction, filter and limit, one result and
//! its CSV; tenants and bad input.

use serde_json::{Value, json};
use sysdig::secure::compliance::{ListResults, NewComplianceTask, TaskUpdate};

use super::support::{Secure, err, ingest, refused};

#[tokio::test]
async fn tasks_add_list_get_update_delete() {
    let s = Secure::start().await;
    let c = s.secure.compliance();
    let docker = c
        .add_task(&NewComplianceTask::new("Check Docker"))
        .await
        .unwrap();
    let id = docker.id.unwrap();
    assert_eq!(
        (
            docker.module_name.as_str(),
            docker.schedule.as_str(),
            docker.enabled,
            docker.scope
        ),
        ("docker-bench-security", "06:00:00Z/PT12H", true, None)
    );
    let kube = c
        .add_task(
            &NewComplianceTask::new("Check Kubernetes")
                .module("kube-bench")
                .schedule("08:00:00Z/PT24H")
                .scope("host.hostName = 'k8s-1'")
                .enabled(false),
        )
        .await
        .unwrap();
    let tasks = c.tasks().await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(c.task(kube.id.unwrap()).await.unwrap(), kube);
    let (st, m) = err(c.add_task(&NewComplianceTask::new("Check Docker")).await);
    assert_eq!(st, Some(409), "{m}");

    let updated = c
        .update_task(
            id,
            &TaskUpdate {
                schedule: Some("10:00:00Z/PT6H".into()),
                enabled: Some(false),
                ..TaskUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Check Docker", "fields not given are kept");
    assert_eq!(
        (updated.schedule.as_str(), updated.enabled),
        ("10:00:00Z/PT6H", false)
    );
    assert_eq!(c.task(id).await.unwrap(), updated);
    let rename = TaskUpdate {
        name: Some("Check Kubernetes".into()),
        ..TaskUpdate::default()
    };
    assert_eq!(err(c.update_task(id, &rename).await).0, Some(409));
    let bad_module = TaskUpdate {
        module_name: Some("nmap".into()),
        ..TaskUpdate::default()
    };
    assert_eq!(err(c.update_task(id, &bad_module).await).0, Some(422));
    let bad = c
        .add_task(&NewComplianceTask::new("x").schedule("daily"))
        .await;
    assert_eq!(err(bad).0, Some(422));
    assert_eq!(
        err(c.add_task(&NewComplianceTask::new(" ")).await).0,
        Some(422)
    );

    // Tenants.
    assert!(s.other.compliance().tasks().await.unwrap().is_empty());
    assert_eq!(err(s.other.compliance().task(id).await).0, Some(404));
    assert_eq!(err(s.other.compliance().delete_task(id).await).0, Some(404));

    c.delete_task(id).await.unwrap();
    assert_eq!(err(c.task(id).await).0, Some(404));
    assert_eq!(err(c.delete_task(id).await).0, Some(404));
    assert_eq!(c.tasks().await.unwrap().len(), 1);
    assert_eq!(err(s.monitor.compliance().tasks().await).0, Some(403));
}

fn result(task: Option<i64>, name: &str, ts: i64, fail: bool) -> Value {
    json!({
        "taskId": task,
        "taskName": name,
        "hostMac": "08:00:27:00:00:01",
        "timestampNs": ts,
        "tests": [
            {"sectionId": "1", "description": "Host configuration", "results": [
                {"testNumber": "1.1", "status": "pass", "description": "Separate partition", "details": "", "items": [], "remediation": ""},
                {"testNumber": "1.2", "status": if fail { "fail" } else { "warn" }, "description": "Harden, \"the\" host", "details": "found", "items": ["/var", "/tmp"], "remediation": "Fix it"},
            ]},
            {"sectionId": "2", "description": "Docker daemon", "results": [
                {"testNumber": "2.1", "status": "info", "description": "Restrict traffic", "details": "", "items": [], "remediation": ""},
            ]},
        ],
    })
}

#[tokio::test]
async fn results_list_get_and_csv() {
    let s = Secure::start().await;
    let c = s.secure.compliance();
    let task = c
        .add_task(&NewComplianceTask::new("Docker bench"))
        .await
        .unwrap();
    let tid = task.id.unwrap();
    let mut batch: Vec<Value> = (1..=7)
        .map(|i| result(Some(tid), "ignored", i * 1_000_000_000, i % 2 == 0))
        .collect();
    batch.push(result(None, "Kube bench", 8_000_000_000, false));
    let stored = ingest(&s.secure, "complianceResults", Value::Array(batch)).await;
    let ids: Vec<i64> = stored.iter().map(|r| r["id"].as_i64().unwrap()).collect();

    let first = c
        .results(&ListResults {
            limit: 3,
            ..ListResults::default()
        })
        .await
        .unwrap();
    let got: Vec<i64> = first.results.iter().map(|r| r.id).collect();
    assert_eq!(got, [ids[7], ids[6], ids[5]], "newest first");
    assert_eq!(first.page.total, 8);
    let r = &first.results[1];
    assert_eq!(
        (r.task_id, r.task_name.as_str()),
        (Some(tid), "Docker bench"),
        "from the task"
    );
    assert_eq!(
        (r.pass_count, r.fail_count, r.warn_count, r.tests_run),
        (1, 0, 1, 3)
    );
    assert_eq!(r.risk, "medium");
    assert_eq!(first.results[2].risk, "high");
    let next = ListResults {
        limit: 3,
        cursor: first.page.next,
        direction: Some("NEXT".into()),
        ..ListResults::default()
    };
    let second = c.results(&next).await.unwrap();
    assert_eq!(
        second.results.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[4], ids[3], ids[2]]
    );
    let back = ListResults {
        limit: 2,
        cursor: second.page.prev,
        direction: Some("PREV".into()),
        ..ListResults::default()
    };
    let newer = c.results(&back).await.unwrap();
    assert_eq!(
        newer.results.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[6], ids[5]]
    );
    let kube = c
        .results(&ListResults {
            filter: "KUBE".into(),
            ..ListResults::default()
        })
        .await
        .unwrap();
    assert_eq!(kube.results.len(), 1);
    assert_eq!(kube.results[0].task_name, "Kube bench");

    let one = c.result(ids[1]).await.unwrap();
    assert_eq!(one.tests.len(), 2);
    assert_eq!(one.host_mac, "08:00:27:00:00:01");
    let csv = c.result_csv(ids[1]).await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("section,"));
    assert_eq!(
        lines[2],
        r#"1,Host configuration,1.2,fail,"Harden, ""the"" host",found,/var /tmp,Fix it"#
    );

    // Bad input, unknown ids, tenants.
    let path = "/api/complianceResults";
    assert_eq!(refused(&s.secure, path, &[("limit", "-1")]).await.0, 400);
    assert_eq!(refused(&s.secure, path, &[("cursor", "abc")]).await.0, 400);
    assert_eq!(
        refused(&s.secure, path, &[("cursor", "999999")]).await.0,
        400
    );
    assert_eq!(
        refused(&s.secure, path, &[("direction", "UP")]).await.0,
        400
    );
    // sdcclient's bare `cursor` key means no cursor.
    let bare: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/complianceResults?cursor&filter=&limit=2",
            s.env.url()
        ))
        .bearer_auth(&s.secure_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bare["results"].as_array().unwrap().len(), 2);
    assert_eq!(err(c.result(999_999).await).0, Some(404));
    assert_eq!(err(c.result_csv(999_999).await).0, Some(404));
    assert_eq!(err(s.other.compliance().result(ids[0]).await).0, Some(404));
    assert!(
        s.other
            .compliance()
            .results(&ListResults::default())
            .await
            .unwrap()
            .results
            .is_empty()
    );
    let r = s
        .secure
        .raw(http::Method::POST, "/vigil/sysdig/secure/complianceResults")
        .json(&json!({"taskId": 999_999}))
        .unwrap()
        .send()
        .await;
    assert_eq!(err(r).0, Some(400));
}
