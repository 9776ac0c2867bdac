//! The pgpass file (`~/.pgpass`, `PGPASSFILE`): read only when private, parsed and matched
//! the way libpq does.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use tokio_postgres::Config;
use tokio_postgres::config::Host;
use zeroize::Zeroizing;

/// The file's text, or nothing when it is missing, not a plain file, or open to group or others.
/// As libpq does, such an open file is ignored with a warning on stderr (which names the fix):
/// a password others may read is not used, and the user is not left wondering why.
pub(super) fn read_private_file(path: &Path) -> Option<Zeroizing<String>> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    if metadata.mode() & 0o077 != 0 {
        eprintln!(
            "tokens: warning: password file {} has group or world access and was ignored; \
             make it private: chmod 600 {}",
            crate::output::printable(&path.display().to_string()),
            crate::output::printable(&path.display().to_string()),
        );
        return None;
    }
    std::fs::read_to_string(path).ok().map(Zeroizing::new)
}

/// The connection a pgpass line must match.
#[derive(Debug, PartialEq)]
pub(super) struct PgpassQuery {
    /// Names the host may go by: a Unix socket matches `localhost` (as in libpq) or its path.
    hosts: Vec<String>,
    port: String,
    database: String,
    user: String,
}

impl PgpassQuery {
    /// For the first host: tokio-postgres holds one password for all of them.
    pub(super) fn for_config(config: &Config) -> PgpassQuery {
        let hosts = match (config.get_hosts().first(), config.get_hostaddrs().first()) {
            (Some(Host::Tcp(name)), _) => vec![name.clone()],
            (Some(Host::Unix(path)), _) => {
                vec!["localhost".to_owned(), path.display().to_string()]
            }
            (None, Some(address)) => vec![address.to_string()],
            (None, None) => vec!["localhost".to_owned()],
        };
        let user = config.get_user().unwrap_or_default().to_owned();
        PgpassQuery {
            hosts,
            port: config.get_ports().first().unwrap_or(&5432).to_string(),
            database: config.get_dbname().unwrap_or(&user).to_owned(),
            user,
        }
    }
}

/// libpq's rule: the first line that matches wins.
pub(super) fn find_pgpass_password(text: &str, query: &PgpassQuery) -> Option<Zeroizing<String>> {
    text.lines()
        .filter_map(PgpassLine::parse)
        .find(|line| line.matches(query))
        .map(|line| line.password)
}

#[derive(Debug, PartialEq)]
enum PgpassField {
    Any,
    Exactly(String),
}

impl PgpassField {
    fn accepts(&self, value: &str) -> bool {
        match self {
            PgpassField::Any => true,
            PgpassField::Exactly(expected) => expected == value,
        }
    }
}

/// `hostname:port:database:username:password`, `*` for any, `\:` and `\\` escapes.
struct PgpassLine {
    host: PgpassField,
    port: PgpassField,
    database: PgpassField,
    user: PgpassField,
    password: Zeroizing<String>,
}

impl PgpassLine {
    fn parse(line: &str) -> Option<PgpassLine> {
        if line.starts_with('#') {
            return None;
        }
        let mut fields = Vec::with_capacity(4);
        let mut current = Zeroizing::new(String::new());
        let mut field_start = 0;
        let mut chars = line.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                // libpq keeps a trailing lone backslash.
                '\\' => current.push(chars.next().map_or('\\', |(_, escaped)| escaped)),
                ':' if fields.len() < 4 => {
                    let value = std::mem::take(&mut *current);
                    fields.push(match &line[field_start..at] {
                        "*" => PgpassField::Any, // only an unescaped `*` is a wildcard
                        _ => PgpassField::Exactly(value),
                    });
                    field_start = at + 1;
                }
                c => current.push(c),
            }
        }
        let [host, port, database, user] = <[PgpassField; 4]>::try_from(fields).ok()?;
        Some(PgpassLine {
            host,
            port,
            database,
            user,
            password: current,
        })
    }

    fn matches(&self, query: &PgpassQuery) -> bool {
        query.hosts.iter().any(|host| self.host.accepts(host))
            && self.port.accepts(&query.port)
            && self.database.accepts(&query.database)
            && self.user.accepts(&query.user)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::private_file;
    use super::*;

    #[test]
    fn a_pgpass_file_others_can_read_is_ignored() {
        let open = private_file("*:*:*:*:pw\n", 0o644);
        assert!(read_private_file(open.path()).is_none());
        let group = private_file("*:*:*:*:pw\n", 0o640);
        assert!(read_private_file(group.path()).is_none());
        let private = private_file("*:*:*:*:pw\n", 0o600);
        assert_eq!(
            read_private_file(private.path()).unwrap().as_str(),
            "*:*:*:*:pw\n"
        );
        let stricter = private_file("*:*:*:*:pw\n", 0o400);
        assert!(read_private_file(stricter.path()).is_some());
        assert!(read_private_file(Path::new("/nonexistent/.pgpass")).is_none());
        let directory = tempfile::tempdir().unwrap();
        assert!(read_private_file(directory.path()).is_none());
    }

    fn query(host: &str, port: &str, database: &str, user: &str) -> PgpassQuery {
        PgpassQuery {
            hosts: vec![host.to_owned()],
            port: port.to_owned(),
            database: database.to_owned(),
            user: user.to_owned(),
        }
    }

    fn lookup(text: &str, query: &PgpassQuery) -> Option<String> {
        find_pgpass_password(text, query).map(|password| password.to_string())
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_the_first_match_wins() {
        let text = "\
# comment:*:*:*:not-this
db:5432:tokens:app:first
*:*:*:app:second
*:*:*:*:any
";
        assert_eq!(
            lookup(text, &query("db", "5432", "tokens", "app")).as_deref(),
            Some("first")
        );
        assert_eq!(
            lookup(text, &query("db", "5433", "tokens", "app")).as_deref(),
            Some("second")
        );
        assert_eq!(
            lookup(text, &query("x", "1", "y", "z")).as_deref(),
            Some("any")
        );
        assert_eq!(
            lookup("db:5432:tokens:app:pw\n", &query("db", "5432", "t", "app")),
            None
        );
    }

    #[test]
    fn pgpass_escapes_are_read() {
        let text = "h\\:1:5432:d\\\\b:u:pa\\:ss:wo\\\\rd\\\n";
        let found = lookup(text, &query("h:1", "5432", "d\\b", "u"));
        assert_eq!(found.as_deref(), Some("pa:ss:wo\\rd\\"));
        // An escaped `*` is a literal star, not a wildcard.
        assert_eq!(lookup("\\*:*:*:*:pw", &query("db", "1", "d", "u")), None);
        assert_eq!(
            lookup("\\*:*:*:*:pw", &query("*", "1", "d", "u")).as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn pgpass_skips_short_lines_and_reads_crlf() {
        let text = "\r\ndb:5432:tokens\r\n\r\ndb:5432:tokens:app:pw\r\n";
        assert_eq!(
            lookup(text, &query("db", "5432", "tokens", "app")).as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn a_unix_socket_matches_localhost_or_its_path_in_pgpass() {
        let mut config = Config::new();
        config.host_path("/tmp/pgdev").port(54329).user("app");
        let socket = PgpassQuery::for_config(&config);
        assert_eq!(socket.hosts, ["localhost", "/tmp/pgdev"]);
        assert_eq!(socket.database, "app");
        assert_eq!(
            lookup("localhost:54329:*:app:a", &socket).as_deref(),
            Some("a")
        );
        assert_eq!(
            lookup("/tmp/pgdev:54329:*:app:b", &socket).as_deref(),
            Some("b")
        );
        assert_eq!(lookup("127.0.0.1:54329:*:app:c", &socket), None);
    }
}
