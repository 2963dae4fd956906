//! For tests: a throwaway `clickhouse-server` on free loopback ports with its data in a
//! temporary directory, killed and removed on drop.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running test server.
pub struct TestServer {
    child: Child,
    dir: PathBuf,
    bin: PathBuf,
    http_port: u16,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

/// The binary tests run: `$VIGIL_CLICKHOUSE_SERVER`, else `clickhouse-server` on `PATH` or in
/// `/usr/sbin` (Debian's package), else `None`.
pub fn server_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VIGIL_CLICKHOUSE_SERVER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join("clickhouse-server"))
        .find(|p| p.is_file())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl TestServer {
    /// Starts the server and waits for `/ping` (up to 60 s).
    ///
    /// # Errors
    /// The binary is missing, does not start, or does not answer.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on(free_port()?, free_port()?, "")
    }

    /// `shards` servers, each with the cluster `cluster` in its `remote_servers`: one shard
    /// per server, one replica each.
    ///
    /// # Errors
    /// As [`TestServer::start`].
    pub fn start_cluster(cluster: &str, shards: usize) -> std::io::Result<Vec<Self>> {
        let ports: Vec<(u16, u16)> = (0..shards)
            .map(|_| Ok((free_port()?, free_port()?)))
            .collect::<std::io::Result<_>>()?;
        let mut remote = format!("<remote_servers><{cluster}>");
        for (_, tcp) in &ports {
            remote.push_str(&format!(
                "<shard><replica><host>127.0.0.1</host><port>{tcp}</port></replica></shard>"
            ));
        }
        remote.push_str(&format!("</{cluster}></remote_servers>"));
        ports
            .into_iter()
            .map(|(http, tcp)| Self::start_on(http, tcp, &remote))
            .collect()
    }

    fn start_on(http: u16, tcp: u16, extra_config: &str) -> std::io::Result<Self> {
        let bin = server_binary().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no clickhouse-server binary")
        })?;
        let dir = std::env::temp_dir().join(format!(
            "vigil-clickhouse-{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(dir.join("log"))?;
        let d = dir.display();
        // The `users`, `profiles` and `quotas` sections inline: one file, nothing of /etc.
        let config = format!(
            r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <vigil><password>test-password</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></vigil>
  </users>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  {extra_config}
</yandex>
"#
        );
        std::fs::write(dir.join("config.xml"), config)?;
        let child = spawn(&bin, &dir)?;
        let mut server = Self {
            child,
            dir,
            bin,
            http_port: http,
            url: format!("http://127.0.0.1:{http}"),
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// Kills the server (SIGKILL), keeping its data and ports for [`TestServer::restart`].
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again over the same data on the same ports.
    ///
    /// # Errors
    /// As [`TestServer::start`].
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.kill();
        self.child = spawn(&self.bin, &self.dir)?;
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ping(self.http_port) {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                let log =
                    std::fs::read_to_string(self.dir.join("log/error.log")).unwrap_or_default();
                return Err(std::io::Error::other(format!(
                    "clickhouse-server exited with {status}: {log}"
                )));
            }
            if Instant::now() > deadline {
                return Err(std::io::Error::other(
                    "clickhouse-server did not answer /ping",
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn spawn(bin: &std::path::Path, dir: &std::path::Path) -> std::io::Result<Child> {
    Command::new(bin)
        .arg(format!(
            "--config-file={}",
            dir.join("config.xml").display()
        ))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// A raw `GET /ping` (no HTTP client needed outside an async runtime).
fn ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.") && buf.contains(" 200 ") && buf.ends_with("Ok.\n")
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
