//! ClickHouse's HTTP interface: statements in the `query` URL parameter, values in bodies.
//!
//! ClickHouse 18.16 has no query parameters (`{name:Type}` arrived in 19.x; it answers
//! `Unknown setting param_x`), so values never travel in SQL text: an INSERT's rows are a
//! `RowBinary` (points) or `JSONEachRow` (series) body, and a query's values are *external
//! tables* (a multipart body of `TabSeparated` rows, declared by `<name>_structure` and
//! `<name>_format` URL parameters), which the statement reads with `IN (SELECT ...)` or a
//! scalar subquery. Both versions parse them.

use std::{
    fmt::Write as _,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::Duration,
};

use metric_store::StoreError;
use secrecy::{ExposeSecret, SecretString};

use crate::options::ClickHouseOptions;

/// One external table: its rows as TabSeparated text and its column list.
pub(crate) struct External {
    pub name: &'static str,
    pub structure: &'static str,
    pub tsv: String,
}

impl External {
    pub fn new(name: &'static str, structure: &'static str) -> Self {
        Self {
            name,
            structure,
            tsv: String::new(),
        }
    }

    /// Appends a row of string fields.
    pub fn row<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) -> &mut Self {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.tsv.push('\t');
            }
            escape_tsv(f, &mut self.tsv);
        }
        self.tsv.push('\n');
        self
    }
}

/// TabSeparated escaping: the characters that end a field or a row, and the escape itself.
pub(crate) fn escape_tsv(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
}

/// The servers, the client and the settings every request carries.
pub(crate) struct Http {
    client: reqwest::Client,
    urls: Vec<reqwest::Url>,
    next: AtomicUsize,
    user: Option<String>,
    password: Option<SecretString>,
    /// URL parameters sent with every request (timeouts, output format settings).
    common: Vec<(&'static str, String)>,
    /// Extra URL parameters of inserts (quorum, synchronous distributed inserts).
    insert: Vec<(&'static str, String)>,
    /// False while no server could be reached: the last request or ping found none.
    reachable: AtomicBool,
}

impl Http {
    pub fn new(opts: &ClickHouseOptions) -> Result<Self, StoreError> {
        let urls = opts.parsed_urls()?;
        // Whoever installs first wins; every client of this workspace asks for ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(opts.connect_timeout_s.max(1)))
            .timeout(Duration::from_secs(opts.timeout_s.max(1) + 5));
        if let Some(path) = &opts.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                StoreError::Backend(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                StoreError::Backend(format!("invalid CA file {}: {e}", path.display()))
            })?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let client = b
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot set up the HTTP client: {e}")))?;
        // No `database`: statements name `db.table` (and the first creates the database).
        let common = vec![
            ("max_execution_time", opts.timeout_s.max(1).to_string()),
            ("output_format_json_quote_64bit_integers", "0".into()),
            // NaN and infinities as strings, not `null`.
            ("output_format_json_quote_denormals", "1".into()),
        ];
        let mut insert = Vec::new();
        if opts.cluster.is_some() {
            // Distributed inserts are queued on the receiving node by default; synchronous
            // ones return only after every shard has its rows.
            insert.push(("insert_distributed_sync", "1".into()));
        }
        if let Some(q) = opts.insert_quorum.filter(|_| opts.replicated) {
            insert.push(("insert_quorum", q.to_string()));
        }
        Ok(Self {
            client,
            urls,
            next: AtomicUsize::new(0),
            user: opts.user.clone(),
            password: opts.password.clone(),
            common,
            insert,
            reachable: AtomicBool::new(true),
        })
    }

    /// Adds the settings of newer ClickHouse releases that Vigil wants when the server knows
    /// them (18.16 refuses unknown settings): no limit on the partitions (months) one insert
    /// may touch, which from 19.x stops an insert of points spread over more than 100 months.
    pub async fn adopt_newer_settings(&mut self) -> Result<(), StoreError> {
        let known = self
            .query(
                "SELECT name FROM system.settings \
                 WHERE name = 'max_partitions_per_insert_block' FORMAT TabSeparated",
                &[],
            )
            .await?;
        if known
            .lines()
            .any(|l| l == "max_partitions_per_insert_block")
        {
            self.insert
                .push(("max_partitions_per_insert_block", "0".into()));
        }
        Ok(())
    }

    /// Whether the last request or [`Http::ping`] reached a server.
    pub fn is_reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// `GET /ping` on each server until one answers; records and returns whether one did.
    pub async fn ping(&self) -> bool {
        let mut ok = false;
        for url in &self.urls {
            let Ok(ping) = url.join("ping") else { continue };
            let answered = self.client.get(ping).send().await;
            if answered.is_ok_and(|r| r.status().is_success()) {
                ok = true;
                break;
            }
        }
        self.reachable.store(ok, Ordering::Relaxed);
        ok
    }

    /// Runs `sql` (no values in it) with `externals` as its external tables on one of the
    /// servers; the response body.
    pub async fn query(&self, sql: &str, externals: &[External]) -> Result<String, StoreError> {
        self.send(&Request::new(sql, externals)).await
    }

    /// [`Http::query`] on every server in turn (schema and retention on a cluster's shards);
    /// each one's answer.
    pub async fn query_everywhere(
        &self,
        sql: &str,
        externals: &[External],
    ) -> Result<Vec<String>, StoreError> {
        let req = Request::new(sql, externals);
        let mut out = Vec::with_capacity(self.urls.len());
        for url in &self.urls {
            let mut answer = self.attempt(url, &req).await;
            if let Err(Failure::Retry(_)) = answer {
                answer = self.attempt(url, &req).await;
            }
            out.push(answer.map_err(Failure::into_error)?);
        }
        Ok(out)
    }

    /// Runs `INSERT INTO table FORMAT format` with `rows` as its body; returns once
    /// ClickHouse has answered 200, i.e. has written the rows (and, with the insert settings,
    /// forwarded them to their shards and replicas).
    pub async fn insert(&self, table: &str, format: &str, rows: Vec<u8>) -> Result<(), StoreError> {
        let req = Request {
            sql: Some(format!("INSERT INTO {table} FORMAT {format}")),
            extra: Vec::new(),
            body: rows,
            content_type: None,
            is_insert: true,
        };
        self.send(&req).await.map(drop)
    }

    async fn send(&self, req: &Request) -> Result<String, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut last_err = None;
        // Every server once, and with one server twice: a pooled connection the server closed
        // (it restarted) fails the first try.
        for i in 0..self.urls.len().max(2) {
            let url = &self.urls[(start + i) % self.urls.len()];
            match self.attempt(url, req).await {
                Ok(text) => return Ok(text),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(e)) => last_err = Some(e),
            }
        }
        self.reachable.store(false, Ordering::Relaxed);
        Err(last_err.unwrap_or_else(|| StoreError::Backend("no ClickHouse URL".into())))
    }

    async fn attempt(&self, url: &reqwest::Url, r: &Request) -> Result<String, Failure> {
        let mut req = self.client.post(url.clone());
        if let Some(sql) = &r.sql {
            req = req.query(&[("query", sql)]);
        }
        req = req.query(&self.common).query(&r.extra).body(r.body.clone());
        if r.is_insert {
            req = req.query(&self.insert);
        }
        if let Some(ct) = &r.content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct.as_str());
        }
        if let Some(user) = &self.user {
            req = req.basic_auth(user, self.password.as_ref().map(|p| p.expose_secret()));
        }
        match req.send().await {
            Ok(resp) => {
                self.reachable.store(true, Ordering::Relaxed);
                let status = resp.status();
                let text = resp.text().await.map_err(|e| {
                    Failure::Final(StoreError::Backend(format!(
                        "ClickHouse response: {}",
                        e.without_url()
                    )))
                })?;
                if status.is_success() {
                    return Ok(text);
                }
                Err(Failure::Final(StoreError::Backend(format!(
                    "ClickHouse at {} answered {status}: {}",
                    host(url),
                    text.trim().chars().take(500).collect::<String>()
                ))))
            }
            // A timeout is not tried again: the statement may still be running there.
            Err(e) if e.is_timeout() => Err(Failure::Final(StoreError::Backend(format!(
                "ClickHouse at {}: {}",
                host(url),
                e.without_url()
            )))),
            // Not answered: no server acted on it, or (a connection lost mid-request) one may
            // have, which is harmless: every statement Vigil sends is idempotent (inserts of
            // the same rows collapse into one by the tables' keys).
            Err(e) => {
                let e = e.without_url();
                tracing::warn!(server = %host(url), error = %e, "ClickHouse not answering, trying again");
                Err(Failure::Retry(StoreError::Backend(format!(
                    "ClickHouse at {} unreachable: {e}",
                    host(url)
                ))))
            }
        }
    }
}

/// One HTTP request to ClickHouse, before it is sent to a server.
struct Request {
    /// In the `query` URL parameter; `None` when the statement is the body.
    sql: Option<String>,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
    content_type: Option<String>,
    is_insert: bool,
}

impl Request {
    fn new(sql: &str, externals: &[External]) -> Self {
        if externals.is_empty() {
            // The statement as the body (18.16 refuses a POST without Content-Length).
            return Self {
                sql: None,
                extra: Vec::new(),
                body: sql.as_bytes().to_vec(),
                content_type: None,
                is_insert: false,
            };
        }
        let mut extra = Vec::new();
        for e in externals {
            extra.push((format!("{}_structure", e.name), e.structure.to_string()));
            extra.push((format!("{}_format", e.name), "TabSeparated".to_string()));
        }
        let boundary = boundary(externals);
        let mut body = String::new();
        for e in externals {
            let _ = write!(
                body,
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{0}\"; filename=\"{0}\"\r\n\
                 Content-Type: text/tab-separated-values\r\n\r\n{1}\r\n",
                e.name, e.tsv
            );
        }
        let _ = write!(body, "--{boundary}--\r\n");
        Self {
            sql: Some(sql.to_string()),
            extra,
            body: body.into_bytes(),
            content_type: Some(format!("multipart/form-data; boundary={boundary}")),
            is_insert: false,
        }
    }
}

/// Why an attempt failed: the server answered (final), or none did (try again).
enum Failure {
    Final(StoreError),
    Retry(StoreError),
}

impl Failure {
    fn into_error(self) -> StoreError {
        match self {
            Failure::Final(e) | Failure::Retry(e) => e,
        }
    }
}

/// `host:port` of a URL, for messages (the URLs hold no credentials, but the query string
/// of a request URL would hold the statement).
fn host(url: &reqwest::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or("?"),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// A multipart boundary that occurs in none of the parts.
fn boundary(externals: &[External]) -> String {
    loop {
        let b = format!("vigil-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        if externals.iter().all(|e| !e.tsv.contains(&b)) {
            return b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_fields_cannot_break_rows() {
        let mut e = External::new("x", "a String, b String");
        e.row(["a\tb\nc\\d\0", "'\"; DROP TABLE x"]);
        assert_eq!(e.tsv, "a\\tb\\nc\\\\d\\0\t'\"; DROP TABLE x\n");
    }
}
