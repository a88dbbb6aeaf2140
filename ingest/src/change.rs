//! The change model: one decoded row change (or TRUNCATE) of a source transaction, as the loop
//! buffers it, and what follows from a table's changes alone — the last change per key
//! (`collapse`) and rows decoded under an older shape of the table laid out on the newest.

use std::collections::HashMap;
use std::sync::Arc;

use crate::source::pgoutput::Datum;
use crate::table::TableDef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    /// Bronze's `_op`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Op::Insert => "c",
            Op::Update => "u",
            Op::Delete => "d",
        }
    }

    pub(crate) fn is_delete(self) -> bool {
        self == Op::Delete
    }
}

#[derive(Debug)]
pub(crate) enum ChangeKind {
    /// For a delete, `values` holds the key columns and nulls elsewhere. `old_key` is set
    /// when an update changed the key (the server then sends the old key too).
    Row {
        op: Op,
        values: Vec<Datum>,
        old_key: Option<Vec<Datum>>,
    },
    Truncate,
}

#[derive(Debug)]
pub(crate) struct Change {
    /// The table's shape when the change was decoded (a Relation message may change it later).
    pub(crate) def: Arc<TableDef>,
    pub(crate) lsn: i64,
    pub(crate) seq: i64,
    /// Unix microseconds.
    pub(crate) commit_ts: i64,
    pub(crate) kind: ChangeKind,
}

impl Change {
    /// A rough count of the bytes this change holds in memory, for the spill budget.
    pub(crate) fn footprint(&self) -> usize {
        let datum = |d: &Datum| {
            size_of::<Datum>()
                + match d {
                    Datum::Text(t) => t.capacity(),
                    Datum::Binary(b) => b.len(),
                    Datum::Null | Datum::Unchanged => 0,
                }
        };
        let values = match &self.kind {
            ChangeKind::Row { values, old_key, .. } => {
                values.iter().map(datum).sum::<usize>()
                    + old_key.iter().flatten().map(datum).sum::<usize>()
            }
            ChangeKind::Truncate => 0,
        };
        size_of::<Change>() + values
    }
}

/// The last change of one key in a batch.
pub(crate) struct SilverRow<'a> {
    pub(crate) delete: bool,
    pub(crate) values: &'a [Datum],
    pub(crate) lsn: i64,
    pub(crate) commit_ts: i64,
}

impl<'a> SilverRow<'a> {
    /// Key text, name text and whether it deletes: for tests of a two-column table.
    #[cfg(test)]
    pub(crate) fn parts(&self) -> (String, Option<String>, bool) {
        let text = |d: Option<&Datum>| match d {
            Some(Datum::Text(t)) => Some(t.clone()),
            _ => None,
        };
        (text(self.values.first()).unwrap_or_default(), text(self.values.get(1)), self.delete)
    }

    pub(crate) fn new(delete: bool, values: &'a [Datum], change: &Change) -> Self {
        Self { delete, values, lsn: change.lsn, commit_ts: change.commit_ts }
    }
}

/// One row per key, the last change winning; an update that moved a row to a new key also
/// deletes the old one.
pub(crate) fn collapse<'a>(def: &TableDef, changes: &[&'a Change]) -> Vec<SilverRow<'a>> {
    let keys = def.key_indices();
    let mut index: HashMap<Vec<&'a Datum>, usize> = HashMap::new();
    let mut out: Vec<SilverRow<'a>> = Vec::new();
    let mut put =
        |key: Vec<&'a Datum>, row: SilverRow<'a>, out: &mut Vec<SilverRow<'a>>| match index
            .get(&key)
        {
            Some(&i) => out[i] = row,
            None => {
                index.insert(key, out.len());
                out.push(row);
            }
        };
    for c in changes {
        let ChangeKind::Row { op, values, old_key } = &c.kind else {
            continue;
        };
        let key = key_of(&keys, values);
        if let Some(old) = old_key {
            let old_key = key_of(&keys, old);
            if old_key != key {
                put(
                    old_key,
                    SilverRow { delete: true, values: old, lsn: c.lsn, commit_ts: c.commit_ts },
                    &mut out,
                );
            }
        }
        put(
            key,
            SilverRow { delete: *op == Op::Delete, values, lsn: c.lsn, commit_ts: c.commit_ts },
            &mut out,
        );
    }
    out
}

pub(crate) fn key_of<'a>(keys: &[usize], values: &'a [Datum]) -> Vec<&'a Datum> {
    keys.iter().map(|&k| values.get(k).unwrap_or(&Datum::Null)).collect()
}

/// The changes decoded under a shape without some of `def`'s columns (before they were added):
/// their index and those columns' positions in `def`.
pub(crate) fn decoded_without(changes: &[Change], def: &Arc<TableDef>) -> Vec<(usize, Vec<usize>)> {
    changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !Arc::ptr_eq(&c.def, def) && *c.def != **def)
        .filter_map(|(i, c)| {
            let absent: Vec<usize> = (0..def.columns.len())
                .filter(|&j| c.def.position(&def.columns[j].name).is_none())
                .collect();
            (!absent.is_empty()).then_some((i, absent))
        })
        .collect()
}

/// Lays the rows decoded before a schema change out by column name onto the newest shape, which
/// it returns (None for no changes).
pub(crate) fn remap_to_newest(changes: &mut [Change]) -> Option<Arc<TableDef>> {
    let def = changes.last().map(|c| c.def.clone())?;
    for c in changes.iter_mut() {
        if !Arc::ptr_eq(&c.def, &def) && *c.def != *def {
            if let ChangeKind::Row { values, old_key, .. } = &mut c.kind {
                *values = remap(values, &c.def, &def);
                if let Some(old) = old_key {
                    *old = remap(old, &c.def, &def);
                }
            }
            c.def = def.clone();
        }
    }
    Some(def)
}

pub(crate) fn remap(values: &[Datum], from: &TableDef, to: &TableDef) -> Vec<Datum> {
    to.columns
        .iter()
        .map(|c| from.position(&c.name).and_then(|i| values.get(i).cloned()).unwrap_or(Datum::Null))
        .collect()
}

/// A two-column table (`id` key, `name`) and its changes, for unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::sync::Arc;

    use super::{Change, ChangeKind, Op};
    use crate::source::pgoutput::Datum;
    use crate::table::{ColumnDef, TableDef, TableName};
    use crate::values::oid;

    pub(crate) fn def() -> Arc<TableDef> {
        Arc::new(TableDef {
            table: TableName::new("sis", "learners"),
            columns: vec![
                ColumnDef { name: "id".into(), type_oid: oid::INT4, typmod: -1, key: true },
                ColumnDef { name: "name".into(), type_oid: oid::TEXT, typmod: -1, key: false },
            ],
        })
    }

    pub(crate) fn row(
        def: &Arc<TableDef>,
        lsn: i64,
        seq: i64,
        op: Op,
        id: &str,
        name: Option<&str>,
    ) -> Change {
        Change {
            def: def.clone(),
            lsn,
            seq,
            commit_ts: 0,
            kind: ChangeKind::Row {
                op,
                values: vec![
                    Datum::Text(id.into()),
                    name.map_or(Datum::Null, |n| Datum::Text(n.into())),
                ],
                old_key: None,
            },
        }
    }

    /// Two transactions' worth of changes to keys 1–3: an insert then an update of 1, an
    /// insert then a delete of 2, and a delete of 3 (never inserted).
    pub(crate) fn sample(def: &Arc<TableDef>) -> [Change; 5] {
        [
            row(def, 10, 0, Op::Insert, "1", Some("a")),
            row(def, 10, 1, Op::Update, "1", Some("b")),
            row(def, 11, 0, Op::Insert, "2", Some("c")),
            row(def, 12, 0, Op::Delete, "2", None),
            row(def, 12, 1, Op::Delete, "3", None),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{self, def, row};
    use super::*;
    use crate::table::ColumnDef;
    use crate::values::oid;

    #[test]
    fn collapse_keeps_the_last_change_per_key() {
        let d = def();
        let changes = fixtures::sample(&d);
        let refs: Vec<&Change> = changes.iter().collect();
        let rows = collapse(&d, &refs);
        assert_eq!(rows.len(), 3);
        assert!(!rows[0].delete);
        assert_eq!(rows[0].values[1], Datum::Text("b".into()));
        assert!(rows[1].delete && rows[1].lsn == 12);
        assert!(rows[2].delete);
    }

    #[test]
    fn key_change_deletes_the_old_key() {
        let d = def();
        let mut c = row(&d, 10, 0, Op::Update, "2", Some("moved"));
        if let ChangeKind::Row { old_key, .. } = &mut c.kind {
            *old_key = Some(vec![Datum::Text("1".into()), Datum::Null]);
        }
        let rows = collapse(&d, &[&c]);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].delete && rows[0].values[0] == Datum::Text("1".into()));
        assert!(!rows[1].delete);
    }

    #[test]
    fn remaps_by_column_name() {
        let old = def();
        let mut new = (*old).clone();
        new.columns.insert(
            1,
            ColumnDef { name: "extra".into(), type_oid: oid::TEXT, typmod: -1, key: false },
        );
        let values = vec![Datum::Text("1".into()), Datum::Text("a".into())];
        assert_eq!(
            remap(&values, &old, &new),
            vec![Datum::Text("1".into()), Datum::Null, Datum::Text("a".into())]
        );
    }
}
