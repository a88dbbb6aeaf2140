//! The lake's names that readers and writers share: its layers, the bookkeeping columns ingest
//! adds to every row, and the id under which ingest records its progress. ARCHITECTURE.md is
//! the contract; this file is its one home in the code.

use std::fmt;
use std::str::FromStr;

/// `<lake>/bronze/<schema>/<table>`: the changelog.
pub const BRONZE: &str = "bronze";
/// `<lake>/silver/<schema>/<table>`: the current state.
pub const SILVER: &str = "silver";
/// `<lake>/gold/<area>/<model>`: derived models.
pub const GOLD: &str = "gold";

/// A layer of the lake (and a DataFusion catalog of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Bronze,
    Silver,
    Gold,
}

impl Layer {
    pub const ALL: [Layer; 3] = [Layer::Bronze, Layer::Silver, Layer::Gold];

    pub const fn as_str(self) -> &'static str {
        match self {
            Layer::Bronze => BRONZE,
            Layer::Silver => SILVER,
            Layer::Gold => GOLD,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a lake layer (bronze, silver or gold)"))
    }
}

/// The columns ingest adds to the source's (bronze: all five; silver: `_lsn` and `_commit_ts`;
/// a pending silver row: those and `_op`).
pub mod column {
    /// `r` snapshot read, `c` insert, `u` update, `d` delete.
    pub const OP: &str = "_op";
    /// Commit LSN of the source transaction (int64).
    pub const LSN: &str = "_lsn";
    /// Order of the change inside its transaction.
    pub const SEQ: &str = "_seq";
    /// Commit time of the source transaction (UTC, microseconds).
    pub const COMMIT_TS: &str = "_commit_ts";
    /// Bronze's partition column: the commit's UTC date.
    pub const COMMIT_DATE: &str = "_commit_date";
}

/// The Delta application-transaction id under which ingest records the last source LSN each
/// table holds, in the same commit as the data (exactly-once).
pub const APP_ID: &str = "oneclass-ingest";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_round_trip_their_names() {
        for layer in Layer::ALL {
            assert_eq!(layer.as_str().parse::<Layer>(), Ok(layer));
        }
        assert_eq!(Layer::ALL.map(Layer::as_str), [BRONZE, SILVER, GOLD]);
        assert!("platinum".parse::<Layer>().is_err());
    }
}
