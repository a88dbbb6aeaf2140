//! Every rule a week of lessons can break, found in one pass: the referee of the generator's
//! tests and of every change made by hand.

use std::collections::HashMap;

use crate::model::{Placed, Problem, RoomNeed};

/// A broken rule, with the lessons (positions in the week checked) that break it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clash {
    /// A class has two lessons in one period.
    ClassDoubleBooked { lessons: Vec<usize> },
    /// A teacher has two lessons in one period.
    TeacherDoubleBooked { lessons: Vec<usize> },
    /// A room holds two lessons in one period.
    RoomDoubleBooked { lessons: Vec<usize> },
    /// A lesson in a period its teacher cannot teach.
    TeacherUnavailable { lesson: usize },
    /// A teacher teaches more lessons in a day than their limit.
    TeacherDayOverLimit { lessons: Vec<usize>, limit: u32 },
    /// A teacher teaches more lessons in the week than their limit.
    TeacherWeekOverLimit { lessons: Vec<usize>, limit: u32 },
    /// A class has one subject more often in a day than allowed.
    SubjectDayOverLimit { lessons: Vec<usize>, limit: u32 },
    /// More lessons of a subject than the class is to have a week.
    MoreThanAsked { lessons: Vec<usize>, limit: u32 },
    /// A lesson that needs a room of a kind is elsewhere (or nowhere).
    WrongRoom { lesson: usize },
}

impl Clash {
    /// The lessons involved.
    pub fn lessons(&self) -> Vec<usize> {
        match self {
            Self::ClassDoubleBooked { lessons }
            | Self::TeacherDoubleBooked { lessons }
            | Self::RoomDoubleBooked { lessons }
            | Self::TeacherDayOverLimit { lessons, .. }
            | Self::TeacherWeekOverLimit { lessons, .. }
            | Self::SubjectDayOverLimit { lessons, .. }
            | Self::MoreThanAsked { lessons, .. } => lessons.clone(),
            Self::TeacherUnavailable { lesson } | Self::WrongRoom { lesson } => vec![*lesson],
        }
    }
}

/// Groups the lessons by a key and reports every group larger than `limit`.
fn over<K: std::hash::Hash + Eq + Ord>(
    week: &[Placed],
    key: impl Fn(&Placed) -> Option<K>,
    limit: impl Fn(&K) -> u32,
    clash: impl Fn(Vec<usize>, u32) -> Clash,
) -> Vec<Clash> {
    let mut groups: HashMap<K, Vec<usize>> = HashMap::new();
    for (i, lesson) in week.iter().enumerate() {
        if let Some(k) = key(lesson) {
            groups.entry(k).or_default().push(i);
        }
    }
    let mut found: Vec<(K, Clash)> = groups
        .into_iter()
        .filter_map(|(k, lessons)| {
            let limit = limit(&k);
            (lessons.len() as u64 > u64::from(limit)).then(|| {
                let clash = clash(lessons, limit);
                (k, clash)
            })
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, c)| c).collect()
}

/// Every rule `week` breaks in `problem`; empty when the week is sound.
pub fn check(problem: &Problem, week: &[Placed]) -> Vec<Clash> {
    let demand = |l: &Placed| &problem.demands[l.demand];
    let day = |l: &Placed| problem.periods[l.period].day;
    let mut clashes = Vec::new();
    clashes.extend(over(
        week,
        |l| Some((l.period, demand(l).class)),
        |_| 1,
        |lessons, _| Clash::ClassDoubleBooked { lessons },
    ));
    clashes.extend(over(
        week,
        |l| Some((l.period, demand(l).teacher)),
        |_| 1,
        |lessons, _| Clash::TeacherDoubleBooked { lessons },
    ));
    clashes.extend(over(
        week,
        |l| l.room.map(|r| (l.period, r)),
        |_| 1,
        |lessons, _| Clash::RoomDoubleBooked { lessons },
    ));
    clashes.extend(over(
        week,
        |l| Some((demand(l).teacher, day(l))),
        |k| problem.teachers[k.0].max_per_day,
        |lessons, limit| Clash::TeacherDayOverLimit { lessons, limit },
    ));
    clashes.extend(over(
        week,
        |l| Some(demand(l).teacher),
        |t| problem.teachers[*t].max_per_week,
        |lessons, limit| Clash::TeacherWeekOverLimit { lessons, limit },
    ));
    clashes.extend(over(
        week,
        |l| Some((l.demand, day(l))),
        |_| problem.max_per_day_of_subject,
        |lessons, limit| Clash::SubjectDayOverLimit { lessons, limit },
    ));
    clashes.extend(over(
        week,
        |l| Some(l.demand),
        |d| problem.demands[*d].lessons,
        |lessons, limit| Clash::MoreThanAsked { lessons, limit },
    ));
    for (i, lesson) in week.iter().enumerate() {
        let d = demand(lesson);
        if problem.teachers[d.teacher].unavailable.contains(&lesson.period) {
            clashes.push(Clash::TeacherUnavailable { lesson: i });
        }
        if let RoomNeed::Kind(kind) = &d.room
            && lesson.room.is_none_or(|r| problem.rooms[r] != *kind)
        {
            clashes.push(Clash::WrongRoom { lesson: i });
        }
    }
    clashes
}
