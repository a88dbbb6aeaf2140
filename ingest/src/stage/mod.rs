//! The loop's stages, each over any [`crate::destination::Destination`]: copying tables under a
//! snapshot, applying a batch of one table's changes, spilling and applying a large
//! transaction, and maintaining the destination between batches.

pub(crate) mod apply;
pub(crate) mod maintain;
pub(crate) mod snapshot;
pub(crate) mod spilled;
