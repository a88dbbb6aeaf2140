//! A school's week of lessons.
//!
//! The input is what the school office keeps: the periods of the week, who teaches which subject
//! to which class for how many lessons, the rooms, and each teacher's limits. [`solve`] places
//! every lesson it can so that no class, teacher or room is in two places at once, no teacher
//! teaches more than their limits, and no class has the same subject more often in a day than
//! allowed; what it cannot place it names, with the reason. [`check`] finds every broken rule in
//! a week, whoever built it: the generator's tests use it as the referee, and the API uses it on
//! every change made by hand.
//!
//! The search is a constraint solver's (Pumpkin, lazy clause generation): one yes/no choice per
//! demand and period, sums over them for every rule. When the week has no solution, the solver is
//! asked under the assumption that every lesson is placed; the unsatisfiable core it returns is a
//! set of lessons that cannot all be placed together, one of them is left out and the rest tried
//! again, so what is left out is named together with what it clashed with.

mod check;
mod model;
pub mod sample;
mod solve;

pub use check::{Clash, check};
pub use model::{Demand, Fixed, Period, Placed, Problem, ProblemError, RoomNeed, Teacher};
pub use solve::{Outcome, Reason, Unplaced, solve};
