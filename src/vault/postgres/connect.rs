//! Placeholder until the connection module lands (URL, passwords, TLS).

pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

pub fn redact(url: &str) -> String {
    url.to_owned()
}

#[derive(Debug, thiserror::Error)]
#[error("cannot reach the vault: {0}")]
pub struct ConnectError(String);

pub fn connect(url: &str) -> Result<postgres::Client, ConnectError> {
    postgres::Client::connect(url, postgres::NoTls).map_err(|e| ConnectError(e.to_string()))
}
