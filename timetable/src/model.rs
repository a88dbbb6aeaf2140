//! The problem as the solver sees it: everything by position in its lists, no database ids.

use std::collections::HashSet;
use std::fmt;

/// One teaching period of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// 1 = Monday … 6 = Saturday.
    pub day: u8,
    /// The period's number in its day, from 1.
    pub slot: u8,
}

/// Where a demand's lessons are taught.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomNeed {
    /// The class's own room (or none, when the class has none).
    Home,
    /// Any free room of this kind (`laboratory`, `computer_lab`, …) that is nobody's home room.
    Kind(String),
}

/// A teacher teaching a subject to a class: `lessons` a week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    pub class: usize,
    pub teacher: usize,
    pub lessons: u32,
    pub room: RoomNeed,
}

/// A teacher's limits and the periods they cannot teach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teacher {
    pub max_per_week: u32,
    pub max_per_day: u32,
    pub unavailable: Vec<usize>,
}

impl Default for Teacher {
    fn default() -> Self {
        Self { max_per_week: u32::MAX, max_per_day: u32::MAX, unavailable: Vec::new() }
    }
}

/// A lesson placed by hand, which the generator keeps where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    pub demand: usize,
    pub period: usize,
    pub room: Option<usize>,
}

/// A lesson of a week: which demand, in which period, in which room (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Placed {
    pub demand: usize,
    pub period: usize,
    pub room: Option<usize>,
}

/// A school's week to build.
#[derive(Debug, Clone, Default)]
pub struct Problem {
    pub periods: Vec<Period>,
    /// Each class's home room, if it has one (classes sharing a room never overlap).
    pub classes: Vec<Option<usize>>,
    pub teachers: Vec<Teacher>,
    /// Each room's kind.
    pub rooms: Vec<String>,
    pub demands: Vec<Demand>,
    /// The most lessons of one demand (a subject of a class) in a day.
    pub max_per_day_of_subject: u32,
    pub fixed: Vec<Fixed>,
}

/// A problem whose lists refer to things that are not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemError(pub String);

impl fmt::Display for ProblemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProblemError {}

impl Problem {
    /// The days that have periods, in order, each with its periods' positions.
    pub fn days(&self) -> Vec<Vec<usize>> {
        let mut days: Vec<u8> = self.periods.iter().map(|p| p.day).collect();
        days.sort_unstable();
        days.dedup();
        days.iter()
            .map(|d| (0..self.periods.len()).filter(|&p| self.periods[p].day == *d).collect())
            .collect()
    }

    /// Rooms of `kind` that are no class's home room: the pool lessons of that kind draw on.
    pub fn pool(&self, kind: &str) -> Vec<usize> {
        let homes: HashSet<usize> = self.classes.iter().flatten().copied().collect();
        (0..self.rooms.len()).filter(|r| self.rooms[*r] == kind && !homes.contains(r)).collect()
    }

    /// The room a demand's lessons use when it needs its class's room.
    pub fn home_of(&self, demand: usize) -> Option<usize> {
        let d = &self.demands[demand];
        match d.room {
            RoomNeed::Home => self.classes[d.class],
            RoomNeed::Kind(_) => None,
        }
    }

    /// Every index in range and no period listed twice.
    pub fn validate(&self) -> Result<(), ProblemError> {
        let err = |m: String| Err(ProblemError(m));
        let distinct: HashSet<&Period> = self.periods.iter().collect();
        if distinct.len() != self.periods.len() {
            return err("a period is listed twice".into());
        }
        if let Some(r) = self.classes.iter().flatten().find(|r| **r >= self.rooms.len()) {
            return err(format!("home room {r} does not exist"));
        }
        for (i, d) in self.demands.iter().enumerate() {
            if d.class >= self.classes.len() || d.teacher >= self.teachers.len() {
                return err(format!("demand {i} names a class or teacher that does not exist"));
            }
        }
        for t in &self.teachers {
            if t.unavailable.iter().any(|p| *p >= self.periods.len()) {
                return err("a teacher is unavailable in a period that does not exist".into());
            }
        }
        for f in &self.fixed {
            if f.demand >= self.demands.len()
                || f.period >= self.periods.len()
                || f.room.is_some_and(|r| r >= self.rooms.len())
            {
                return err(
                    "a lesson placed by hand refers to something that does not exist".into()
                );
            }
        }
        Ok(())
    }
}
