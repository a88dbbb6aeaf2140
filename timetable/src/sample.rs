//! Schools to build weeks for: a realistic secondary school (the size the generator is held to)
//! for the tests and the benchmark.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::model::{Demand, Period, Problem, RoomNeed, Teacher};

/// A secondary school's twelve subjects: lessons a week, the room they need, and how many
/// teachers the school has for them (fifty in all).
pub const SECONDARY_SUBJECTS: [(&str, u32, Option<&str>, usize); 12] = [
    ("Mathematics", 6, None, 7),
    ("English", 6, None, 7),
    ("Shona", 4, None, 5),
    ("Combined Science", 4, Some("laboratory"), 5),
    ("Geography", 3, None, 4),
    ("History", 3, None, 4),
    ("Heritage Studies", 2, None, 2),
    ("Agriculture", 3, None, 4),
    ("Computer Science", 3, Some("computer_lab"), 4),
    ("Commerce", 2, None, 3),
    ("Physical Education", 2, None, 2),
    ("Family and Religious Studies", 2, None, 3),
];

/// Forms 1 to 6 in five streams (30 classes, each with its own room and 40 lessons a week),
/// 50 teachers (at most 32 lessons a week and 7 a day), 12 subjects, 5 days of 8 periods, 4
/// laboratories and 3 computer laboratories; which teacher takes which class is shuffled by
/// `seed`.
pub fn secondary(seed: u64) -> Problem {
    let mut rng = StdRng::seed_from_u64(seed);
    let periods: Vec<Period> =
        (1..=5).flat_map(|day| (1..=8).map(move |slot| Period { day, slot })).collect();
    let classes = 30;
    let mut rooms: Vec<String> = vec!["classroom".into(); classes];
    rooms.extend(std::iter::repeat_n("laboratory".to_string(), 4));
    rooms.extend(std::iter::repeat_n("computer_lab".to_string(), 3));
    let teachers_total: usize = SECONDARY_SUBJECTS.iter().map(|s| s.3).sum();
    let teachers =
        vec![Teacher { max_per_week: 32, max_per_day: 7, unavailable: Vec::new() }; teachers_total];
    let mut demands = Vec::new();
    let mut first_teacher = 0;
    for (_, lessons, room, staff) in SECONDARY_SUBJECTS {
        let mut order: Vec<usize> = (0..classes).collect();
        order.shuffle(&mut rng);
        for (i, class) in order.into_iter().enumerate() {
            demands.push(Demand {
                class,
                teacher: first_teacher + i % staff,
                lessons,
                room: room.map_or(RoomNeed::Home, |k| RoomNeed::Kind(k.into())),
            });
        }
        first_teacher += staff;
    }
    demands.sort_by_key(|d| (d.class, d.teacher));
    Problem {
        periods,
        classes: (0..classes).map(Some).collect(),
        teachers,
        rooms,
        demands,
        max_per_day_of_subject: 2,
        fixed: Vec::new(),
    }
}
