//! Queries for shell completion: what `tokens revoke <TAB>` and friends offer.

use chrono::{DateTime, Utc};

use super::store::Store;
use super::to_secs;
use crate::error::Result;

/// A token that still verifies, as a completion offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveToken {
    pub id: String,
    pub name: String,
    pub app: Option<String>,
}

impl<'c> Store<'c> {
    /// Tokens not revoked at `now` (`revoked_at` unset or still ahead, as during a rotation's
    /// grace) whose name or id starts with `prefix`, by name then id.
    pub fn live_tokens_for_completion(
        &self,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LiveToken>> {
        let mut statement = self.conn.prepare(
            "SELECT id, name, app FROM tokens \
             WHERE (revoked_at IS NULL OR revoked_at > ?1) \
             AND (substr(name, 1, length(?2)) = ?2 OR substr(id, 1, length(?2)) = ?2) \
             ORDER BY name, id",
        )?;
        let rows = statement.query_map(rusqlite::params![to_secs(now), prefix], |row| {
            Ok(LiveToken {
                id: row.get(0)?,
                name: row.get(1)?,
                app: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
