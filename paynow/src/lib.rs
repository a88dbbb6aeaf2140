//! Paynow (Zimbabwe's card, EcoCash and OneMoney gateway) as its HTTP protocol has it.
//!
//! A merchant initiates a transaction by posting a form to `/interface/initiatetransaction`;
//! Paynow answers with a form holding the payer's `browserurl` and a `pollurl`. When the payer
//! pays (or cancels), Paynow posts a status update to the merchant's `resulturl`, and the merchant
//! may post to the `pollurl` at any time for the same update. Every form in either direction
//! ends with a `hash`: the upper-case hex SHA-512 of its other values, in order, followed by the
//! integration key. Nothing Paynow sends is believed before its hash is checked.
//!
//! [`Client`] speaks the protocol to Paynow (or to anything at another base URL); [`StandIn`] is
//! a local Paynow that speaks it back, for the demo and the tests, and can be told to deliver an
//! update twice or to forge one.

mod client;
mod error;
mod form;
mod standin;

pub use client::{Client, Initiated, NewPayment};
pub use error::PaynowError;
pub use form::{Form, Status, Update, sign};
pub use standin::StandIn;
