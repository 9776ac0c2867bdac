//! TLS as libpq's `sslmode` and `sslrootcert` ask: taking those parameters out of the
//! connection string, deciding what to verify, and the rustls connector that does it.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode as WireSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;
use zeroize::Zeroizing;

use super::Environment;
use super::redact::{percent_decode, query_params, scan_key_values, split_scheme};

/// `sslmode` and `sslrootcert` as written, taken out before tokio-postgres parses the rest
/// (it rejects `sslrootcert` and the `verify-*` modes).
#[derive(Debug, Default, PartialEq)]
pub(super) struct TlsParams {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    /// Not TLS, and not libpq's: `schema`, the vault's schema (SPEC §10), taken out with
    /// these because tokio-postgres refuses what it does not know.
    pub(super) schema: Option<String>,
}

impl TlsParams {
    /// The slot for `key`, if it is one of ours.
    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "sslmode" => Some(&mut self.sslmode),
            "sslrootcert" => Some(&mut self.sslrootcert),
            "schema" => Some(&mut self.schema),
            _ => None,
        }
    }
}

/// Splits a connection string into what tokio-postgres can parse and the TLS parameters.
pub(super) fn split_tls_params(url: &str) -> Result<(Zeroizing<String>, TlsParams), String> {
    match split_scheme(url) {
        Some((scheme, body)) => split_url_tls_params(scheme, body),
        None => Ok(split_key_value_tls_params(url)),
    }
}

fn split_url_tls_params(
    scheme: &str,
    body: &str,
) -> Result<(Zeroizing<String>, TlsParams), String> {
    // Where tokio-postgres's query starts: the first `?` after the user info (first `@`).
    let after_userinfo = body.find('@').map_or(0, |at| at + 1);
    let mut params = TlsParams::default();
    let Some(query_at) = body[after_userinfo..]
        .find('?')
        .map(|at| after_userinfo + at)
    else {
        return Ok((Zeroizing::new(format!("{scheme}{body}")), params));
    };
    let mut kept = Zeroizing::new(format!("{scheme}{}", &body[..query_at]));
    let mut separator = '?';
    for param in query_params(&body[query_at + 1..]) {
        let key = percent_decode(param.key)?;
        match (params.slot(&key), param.value) {
            (Some(slot), Some(value)) => *slot = Some(percent_decode(value)?),
            _ => {
                kept.push(separator);
                kept.push_str(param.raw);
                separator = '&';
            }
        }
    }
    Ok((kept, params))
}

fn split_key_value_tls_params(text: &str) -> (Zeroizing<String>, TlsParams) {
    let scan = scan_key_values(text);
    let mut params = TlsParams::default();
    let mut kept = Zeroizing::new(String::with_capacity(text.len()));
    let mut keep = |piece: &str| {
        if !kept.is_empty() {
            kept.push(' ');
        }
        kept.push_str(piece);
    };
    for pair in &scan.pairs {
        match params.slot(pair.key) {
            Some(slot) => *slot = Some(pair.value.to_string()),
            None => keep(&text[pair.start..pair.end]),
        }
    }
    if let Some(at) = scan.unparsed_from {
        keep(&text[at..]); // left for tokio-postgres to report
    }
    (kept, params)
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(name: &str) -> Result<SslMode, String> {
        Ok(match name {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(format!(
                    "sslmode \"{name}\" is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }
}

/// Where trusted root certificates come from (`sslrootcert=FILE`, or `system`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Roots {
    File(PathBuf),
    System,
}

#[derive(Debug, PartialEq)]
pub(super) struct TlsPolicy {
    mode: SslMode,
    roots: Option<Roots>,
}

/// How much of the server's certificate is checked.
#[derive(Debug, PartialEq)]
pub(super) enum Verification {
    /// Encrypted, not authenticated.
    Nothing,
    Chain(Roots),
    ChainAndHostname(Roots),
}

impl TlsPolicy {
    pub(super) fn from_params(params: TlsParams, env: &Environment) -> Result<TlsPolicy, String> {
        let mode = match params.sslmode.or_else(|| env.var("PGSSLMODE")) {
            Some(name) => SslMode::parse(&name)?,
            None => SslMode::Prefer,
        };
        let roots =
            params
                .sslrootcert
                .or_else(|| env.var("PGSSLROOTCERT"))
                .map(|value| match value.as_str() {
                    "system" => Roots::System,
                    _ => Roots::File(PathBuf::from(value)),
                });
        Ok(TlsPolicy { mode, roots })
    }

    /// libpq's rules: `require` (and `prefer`) check the chain only when a root certificate is
    /// given; `verify-ca` always checks it; `verify-full` adds the host name.
    pub(super) fn verification(&self) -> Verification {
        let given_or_system = || self.roots.clone().unwrap_or(Roots::System);
        match self.mode {
            SslMode::VerifyFull => Verification::ChainAndHostname(given_or_system()),
            SslMode::VerifyCa => Verification::Chain(given_or_system()),
            _ => self
                .roots
                .clone()
                .map_or(Verification::Nothing, Verification::Chain),
        }
    }

    /// What tokio-postgres is told. It has no `allow` (try plain first): `prefer` is as lenient
    /// and safer. Unix sockets never carry TLS, and libpq ignores sslmode there.
    pub(super) fn wire_mode(&self, only_unix_sockets: bool) -> WireSslMode {
        match self.mode {
            _ if only_unix_sockets => WireSslMode::Disable,
            SslMode::Disable => WireSslMode::Disable,
            SslMode::Allow | SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The rustls connector that checks what the policy asks

pub(super) fn tls_connector(verification: Verification) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?;
    let config = match verification {
        Verification::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider })),
        Verification::Chain(roots) => {
            let trusted = load_roots(&roots)?;
            let chain =
                WebPkiServerVerifier::builder_with_provider(Arc::new(trusted.store), provider)
                    .build()
                    .map_err(|error| error.to_string())?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly {
                    chain,
                    roots: trusted.certificates,
                }))
        }
        Verification::ChainAndHostname(roots) => {
            builder.with_root_certificates(load_roots(&roots)?.store)
        }
    };
    Ok(MakeRustlsConnect::new(config.with_no_client_auth()))
}

struct TrustedRoots {
    store: RootCertStore,
    certificates: Vec<CertificateDer<'static>>,
}

fn load_roots(roots: &Roots) -> Result<TrustedRoots, String> {
    let certificates: Vec<CertificateDer<'static>> = match roots {
        Roots::File(path) => CertificateDer::pem_file_iter(path)
            .and_then(|certificates| certificates.collect())
            .map_err(|error| {
                format!(
                    "cannot read the root certificate {}: {error}",
                    path.display()
                )
            })?,
        Roots::System => rustls_native_certs::load_native_certs().certs,
    };
    let mut store = RootCertStore::empty();
    let (added, _unusable) = store.add_parsable_certificates(certificates.iter().cloned());
    if added == 0 {
        return Err(match roots {
            Roots::File(path) => format!("no usable certificate in {}", path.display()),
            Roots::System => "no system root certificates found".to_owned(),
        });
    }
    Ok(TrustedRoots {
        store,
        certificates,
    })
}

/// Accepts any certificate (libpq's `prefer` and `require` without a root certificate:
/// encrypted, not authenticated), but still checks that the server holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Checks the chain against the roots but not the host name (`verify-ca`, or `require` with a
/// root certificate). A self-signed server certificate that is itself in the roots file passes,
/// as it does with OpenSSL and so libpq (webpki alone refuses a CA certificate as a server's).
#[derive(Debug)]
struct ChainOnly {
    chain: Arc<WebPkiServerVerifier>,
    roots: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verified {
            // webpki checks the name only once the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            Err(_) if self.roots.iter().any(|root| root == end_entity) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_params_are_taken_out_of_the_query() {
        let (rest, params) = split_tls_params(
            "postgres://app:pw@db/tokens?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca%20file.pem",
        )
        .unwrap();
        assert_eq!(*rest, "postgres://app:pw@db/tokens?application_name=x");
        assert_eq!(params.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(params.sslrootcert.as_deref(), Some("/etc/ca file.pem"));
    }

    #[test]
    fn a_query_of_only_tls_params_disappears() {
        let (rest, params) = split_tls_params("postgres://db/tokens?sslmode=require").unwrap();
        assert_eq!(*rest, "postgres://db/tokens");
        assert_eq!(params.sslmode.as_deref(), Some("require"));
        let (rest, params) = split_tls_params("postgres://db/tokens").unwrap();
        assert_eq!(*rest, "postgres://db/tokens");
        assert_eq!(params, TlsParams::default());
    }

    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let (rest, params) =
            split_tls_params("postgres://app:p?ss@db/tokens?sslmode=disable").unwrap();
        assert_eq!(*rest, "postgres://app:p?ss@db/tokens");
        assert_eq!(params.sslmode.as_deref(), Some("disable"));
    }

    #[test]
    fn tls_params_are_taken_out_of_key_value_strings() {
        let (rest, params) = split_tls_params(
            "host=db sslmode = verify-ca password='a b' sslrootcert='/etc/my ca.pem'",
        )
        .unwrap();
        assert_eq!(*rest, "host=db password='a b'");
        assert_eq!(params.sslmode.as_deref(), Some("verify-ca"));
        assert_eq!(params.sslrootcert.as_deref(), Some("/etc/my ca.pem"));
    }

    #[test]
    fn sslmodes_map_to_what_tokio_postgres_and_rustls_do() {
        let policy = |mode, roots| TlsPolicy { mode, roots };
        let ca = || Some(Roots::File(PathBuf::from("/ca.pem")));
        let file = || Roots::File(PathBuf::from("/ca.pem"));
        assert_eq!(
            policy(SslMode::Prefer, None).verification(),
            Verification::Nothing
        );
        assert_eq!(
            policy(SslMode::Require, None).verification(),
            Verification::Nothing
        );
        assert_eq!(
            policy(SslMode::Require, ca()).verification(),
            Verification::Chain(file())
        );
        assert_eq!(
            policy(SslMode::VerifyCa, None).verification(),
            Verification::Chain(Roots::System)
        );
        assert_eq!(
            policy(SslMode::VerifyFull, ca()).verification(),
            Verification::ChainAndHostname(file())
        );
        assert_eq!(
            policy(SslMode::Disable, None).wire_mode(false),
            WireSslMode::Disable
        );
        assert_eq!(
            policy(SslMode::Allow, None).wire_mode(false),
            WireSslMode::Prefer
        );
        assert_eq!(
            policy(SslMode::VerifyCa, None).wire_mode(false),
            WireSslMode::Require
        );
        assert_eq!(
            policy(SslMode::VerifyFull, None).wire_mode(true),
            WireSslMode::Disable
        );
    }
}
