//! The global options: where the API is, how to authenticate, and how much to report.

use std::{fmt, path::PathBuf};

use clap::Args;

// Where the API is and how to authenticate (a plain comment: a doc comment here would become
// the whole tool's description in `--help`). Settings come from the flags, else the
// environment, else the `clouds.yaml` cloud named by `--os-cloud`/`OS_CLOUD` (with
// `secure.yaml` merged in).
#[derive(Args)]
#[command(next_help_heading = "Connection options")]
pub struct ConnectionOpts {
    /// Print API call timing info
    #[arg(help_heading = "Global options", long, global = true)]
    pub timing: bool,

    /// Print each HTTP request (method, URL, status, time) and full error causes
    #[arg(help_heading = "Global options", long, short = 'd', global = true)]
    pub debug: bool,

    /// Increase verbosity: -v prints each HTTP request
    #[arg(help_heading = "Global options", long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Suppress output except warnings and errors
    #[arg(help_heading = "Global options", long, short = 'q', global = true)]
    pub quiet: bool,

    /// Write the request log (-v, --debug) to this file instead of stderr
    #[arg(
        help_heading = "Global options",
        long,
        value_name = "LOG_FILE",
        global = true
    )]
    pub log_file: Option<std::path::PathBuf>,

    /// Authentication type: password (Keystone; the default with an auth URL), token
    /// (Keystone), v3applicationcredential (Keystone), admin_token (a token sent as is) or none
    #[arg(long, env = "OS_AUTH_TYPE", value_name = "TYPE", global = true)]
    pub os_auth_type: Option<String>,

    /// Named cloud in clouds.yaml
    #[arg(long, env = "OS_CLOUD", value_name = "NAME", global = true)]
    pub os_cloud: Option<String>,

    /// Keystone URL, with or without /v3, e.g. http://127.0.0.1:8070/identity
    #[arg(long, env = "OS_AUTH_URL", value_name = "URL", global = true)]
    pub os_auth_url: Option<String>,

    /// User name (Keystone password login)
    #[arg(long, env = "OS_USERNAME", value_name = "NAME", global = true)]
    pub os_username: Option<String>,

    /// User id (Keystone password login)
    #[arg(long, env = "OS_USER_ID", value_name = "ID", global = true)]
    pub os_user_id: Option<String>,

    /// User's password
    #[arg(
        long,
        env = "OS_PASSWORD",
        value_name = "PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub os_password: Option<String>,

    /// Domain name of the user
    #[arg(long, env = "OS_USER_DOMAIN_NAME", value_name = "NAME", global = true)]
    pub os_user_domain_name: Option<String>,

    /// Domain id of the user
    #[arg(long, env = "OS_USER_DOMAIN_ID", value_name = "ID", global = true)]
    pub os_user_domain_id: Option<String>,

    /// Project to scope to [env: OS_PROJECT_NAME, OS_TENANT_NAME]
    #[arg(long, alias = "os-tenant-name", value_name = "NAME", global = true)]
    pub os_project_name: Option<String>,

    /// Project id to scope to [env: OS_PROJECT_ID, OS_TENANT_ID]
    #[arg(long, alias = "os-tenant-id", value_name = "ID", global = true)]
    pub os_project_id: Option<String>,

    /// Domain name of the project
    #[arg(
        long,
        env = "OS_PROJECT_DOMAIN_NAME",
        value_name = "NAME",
        global = true
    )]
    pub os_project_domain_name: Option<String>,

    /// Domain id of the project
    #[arg(long, env = "OS_PROJECT_DOMAIN_ID", value_name = "ID", global = true)]
    pub os_project_domain_id: Option<String>,

    /// Domain name to scope to (when no project is given)
    #[arg(long, env = "OS_DOMAIN_NAME", value_name = "NAME", global = true)]
    pub os_domain_name: Option<String>,

    /// Domain id to scope to (when no project is given)
    #[arg(long, env = "OS_DOMAIN_ID", value_name = "ID", global = true)]
    pub os_domain_id: Option<String>,

    /// Domain id of the user and the project when neither has one [default: default]
    #[arg(long, env = "OS_DEFAULT_DOMAIN", value_name = "ID", global = true)]
    pub os_default_domain: Option<String>,

    /// Application credential id
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_ID",
        value_name = "ID",
        global = true
    )]
    pub os_application_credential_id: Option<String>,

    /// Application credential name (with a user)
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_NAME",
        value_name = "NAME",
        global = true
    )]
    pub os_application_credential_name: Option<String>,

    /// Application credential secret
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_SECRET",
        value_name = "SECRET",
        global = true,
        hide_env_values = true
    )]
    pub os_application_credential_secret: Option<String>,

    /// Region of the monitoring endpoint in the service catalog
    #[arg(long, env = "OS_REGION_NAME", value_name = "NAME", global = true)]
    pub os_region_name: Option<String>,

    /// Interface of the monitoring endpoint in the service catalog: public, internal or admin
    #[arg(long, env = "OS_INTERFACE", value_name = "INTERFACE", global = true)]
    pub os_interface: Option<String>,

    /// CA bundle (PEM) to verify TLS servers with
    #[arg(long, env = "OS_CACERT", value_name = "FILE", global = true)]
    pub os_cacert: Option<PathBuf>,

    /// Client certificate (PEM) for Keystone
    #[arg(long, env = "OS_CERT", value_name = "FILE", global = true)]
    pub os_cert: Option<PathBuf>,

    /// Client certificate key (PEM)
    #[arg(long, env = "OS_KEY", value_name = "FILE", global = true)]
    pub os_key: Option<PathBuf>,

    /// Do not verify TLS certificates
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Keep Keystone tokens in ~/.cache/vigil/keystone (files of mode 0600) and reuse them
    /// until they expire
    #[arg(
        long,
        env = "MONASCA_TOKEN_CACHE",
        global = true,
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub token_cache: bool,

    /// Token to send as X-Auth-Token [env: OS_TOKEN, OS_AUTH_TOKEN]
    #[arg(long, value_name = "TOKEN", global = true, hide_env_values = true)]
    pub os_token: Option<String>,

    /// Endpoint of the API for admin_token and none authentication
    #[arg(long, env = "OS_ENDPOINT", value_name = "URL", global = true)]
    pub os_endpoint: Option<String>,

    /// Monasca API URL, e.g. http://127.0.0.1:8070/v2.0; overrides the endpoint
    #[arg(
        long,
        alias = "monasca_api_url",
        env = "MONASCA_API_URL",
        value_name = "URL",
        global = true
    )]
    pub monasca_api_url: Option<String>,

    /// Monasca API version
    #[arg(
        long,
        alias = "monasca_api_version",
        env = "MONASCA_API_VERSION",
        default_value = "2_0",
        value_name = "VERSION",
        global = true
    )]
    pub monasca_api_version: String,

    /// Request timeout in seconds
    #[arg(long, default_value_t = 60, value_name = "SECONDS", global = true)]
    pub timeout: u64,
}

fn set<T>(o: &Option<T>) -> &'static str {
    if o.is_some() { "<set>" } else { "<unset>" }
}

/// Shows which secrets are set, never their values.
impl fmt::Debug for ConnectionOpts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionOpts")
            .field("os_auth_type", &self.os_auth_type)
            .field("os_cloud", &self.os_cloud)
            .field("os_auth_url", &self.os_auth_url)
            .field("os_username", &self.os_username)
            .field("os_user_id", &self.os_user_id)
            .field("os_password", &set(&self.os_password))
            .field("os_token", &set(&self.os_token))
            .field("os_user_domain_name", &self.os_user_domain_name)
            .field("os_user_domain_id", &self.os_user_domain_id)
            .field("os_project_name", &self.os_project_name)
            .field("os_project_id", &self.os_project_id)
            .field("os_project_domain_name", &self.os_project_domain_name)
            .field("os_project_domain_id", &self.os_project_domain_id)
            .field("os_domain_name", &self.os_domain_name)
            .field("os_domain_id", &self.os_domain_id)
            .field("os_default_domain", &self.os_default_domain)
            .field(
                "os_application_credential_id",
                &self.os_application_credential_id,
            )
            .field(
                "os_application_credential_name",
                &self.os_application_credential_name,
            )
            .field(
                "os_application_credential_secret",
                &set(&self.os_application_credential_secret),
            )
            .field("os_region_name", &self.os_region_name)
            .field("os_interface", &self.os_interface)
            .field("os_cacert", &self.os_cacert)
            .field("os_cert", &self.os_cert)
            .field("os_key", &self.os_key)
            .field("insecure", &self.insecure)
            .field("token_cache", &self.token_cache)
            .field("os_endpoint", &self.os_endpoint)
            .field("monasca_api_url", &self.monasca_api_url)
            .field("monasca_api_version", &self.monasca_api_version)
            .field("timeout", &self.timeout)
            .finish()
    }
}
