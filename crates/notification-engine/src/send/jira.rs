//! Jira, as monasca-notification's jira plugin does it through Jira's REST API v2: find the
//! alarm's issue (its id is in the summary), create it if there is none, reopen it if it was
//! resolved or closed, then add the alarm's document as a comment.

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use url::Url;

use super::{Outcome, http::Clients};
use crate::{payload::JiraRequest, settings::JiraSettings};

/// `base` + `rest/api/2/` + `segments`.
fn api(base: &Url, segments: &[&str]) -> Result<Url, String> {
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| "the Jira address cannot take a path".to_string())?
        .pop_if_empty()
        .extend(["rest", "api", "2"])
        .extend(segments);
    Ok(url)
}

/// Runs the workflow; any failed step fails the attempt (the next one starts over, and finds
/// the issue a previous attempt created).
pub async fn send(clients: &Clients, account: &JiraSettings, req: &JiraRequest) -> Outcome {
    if let Err(why) = clients.policy.check_url(&req.base) {
        return Outcome::dropped(format!("refused by the webhook URL policy: {why}"));
    }
    match workflow(clients, account, req).await {
        Ok(done) => Outcome::delivered(done),
        Err(why) => Outcome::failed(why),
    }
}

async fn call(
    clients: &Clients,
    account: &JiraSettings,
    method: reqwest::Method,
    url: Url,
    body: Option<Value>,
) -> Result<Value, String> {
    let what = format!("{method} {}", url.path());
    let mut rb = clients
        .tenant
        .request(method, url)
        .basic_auth(&account.user, Some(account.password.expose_secret()))
        .header("Accept", "application/json");
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb
        .send()
        .await
        .map_err(|e| format!("{what}: {}", e.without_url()))?;
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!(
            "{what}: {}",
            super::http::answer_line(status, &bytes)
        ));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn workflow(
    clients: &Clients,
    account: &JiraSettings,
    req: &JiraRequest,
) -> Result<String, String> {
    use reqwest::Method;
    let jql = format!(
        "project={} and reporter='{}' and summary ~ '{}'",
        req.project, account.user, req.alarm_id
    );
    let mut search = api(&req.base, &["search"])?;
    search
        .query_pairs_mut()
        .append_pair("jql", &jql)
        .append_pair("fields", "status");
    let found = call(clients, account, Method::GET, search, None).await?;
    let existing = found
        .get("issues")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned();
    let (key, mut done) = match existing {
        None => {
            let mut fields = json!({
                "project": {"key": req.project},
                "summary": req.summary,
                "description": req.description,
                "issuetype": {"name": "Bug"},
            });
            if let (Some(c), Some(obj)) = (&req.component, fields.as_object_mut()) {
                obj.insert("components".into(), json!([{"name": c}]));
            }
            let created = call(
                clients,
                account,
                Method::POST,
                api(&req.base, &["issue"])?,
                Some(json!({ "fields": fields })),
            )
            .await?;
            let key = key_of(&created)?;
            let done = format!("created issue {key}");
            (key, done)
        }
        Some(issue) => {
            let key = key_of(&issue)?;
            let status = issue
                .pointer("/fields/status/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            let mut done = format!("found issue {key}");
            if status == "resolved" || status == "closed" {
                let url = api(&req.base, &["issue", &key, "transitions"])?;
                let all = call(clients, account, Method::GET, url.clone(), None).await?;
                let reopen = all
                    .get("transitions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|t| {
                        t.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.to_lowercase().contains("reopen"))
                    })
                    .and_then(|t| t.get("id").cloned());
                if let Some(id) = reopen {
                    call(
                        clients,
                        account,
                        Method::POST,
                        url,
                        Some(json!({"transition": {"id": id}})),
                    )
                    .await?;
                    done.push_str(", reopened it");
                }
            }
            (key, done)
        }
    };
    call(
        clients,
        account,
        Method::POST,
        api(&req.base, &["issue", &key, "comment"])?,
        Some(json!({ "body": req.comment })),
    )
    .await?;
    done.push_str(", commented");
    Ok(done)
}

fn key_of(issue: &Value) -> Result<String, String> {
    issue
        .get("key")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "Jira's answer names no issue key".to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn api_urls_keep_the_base_path() {
        let base = Url::parse("https://jira.example.com/jira/").unwrap();
        assert_eq!(
            api(&base, &["issue", "OPS-1", "comment"]).unwrap().as_str(),
            "https://jira.example.com/jira/rest/api/2/issue/OPS-1/comment"
        );
        let bare = Url::parse("https://jira.example.com").unwrap();
        assert_eq!(
            api(&bare, &["issue"]).unwrap().as_str(),
            "https://jira.example.com/rest/api/2/issue"
        );
    }
}
