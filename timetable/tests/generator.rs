//! The generator against its referee: a realistic secondary school placed whole with nothing
//! broken, impossible schools with what is left out named, lessons placed by hand kept.

use std::collections::HashMap;
use std::time::Duration;

use oneclass_timetable::{
    Demand, Fixed, Period, Placed, Problem, Reason, RoomNeed, Teacher, check, sample, solve,
};

const LIMIT: Duration = Duration::from_secs(120);

fn lessons_per_demand(week: &[Placed]) -> HashMap<usize, u32> {
    let mut n = HashMap::new();
    for l in week {
        *n.entry(l.demand).or_insert(0) += 1;
    }
    n
}

#[test]
fn a_secondary_school_is_placed_whole_with_nothing_broken() {
    for seed in [1, 2] {
        let problem = sample::secondary(seed);
        assert_eq!(problem.demands.len(), 360);
        assert_eq!(problem.teachers.len(), 50);
        assert_eq!(problem.periods.len(), 40);
        let outcome = solve(&problem, LIMIT).expect("solves");
        assert_eq!(outcome.unplaced, vec![], "seed {seed}: everything placed");
        assert_eq!(outcome.week.len(), 1200);
        assert_eq!(check(&problem, &outcome.week), vec![], "seed {seed}: no rule broken");
        let placed = lessons_per_demand(&outcome.week);
        for (g, d) in problem.demands.iter().enumerate() {
            assert_eq!(placed.get(&g).copied().unwrap_or(0), d.lessons, "demand {g}");
        }
        // Laboratory lessons are in laboratories, the rest in the class's own room.
        for l in &outcome.week {
            let room = l.room.expect("every lesson has a room");
            match &problem.demands[l.demand].room {
                RoomNeed::Home => {
                    assert_eq!(Some(room), problem.classes[problem.demands[l.demand].class])
                }
                RoomNeed::Kind(k) => assert_eq!(&problem.rooms[room], k),
            }
        }
    }
}

/// Two teachers, two classes sharing one room, a nine-period week.
fn small() -> Problem {
    Problem {
        periods: (1..=3).flat_map(|day| (1..=3).map(move |slot| Period { day, slot })).collect(),
        classes: vec![Some(0), Some(0)],
        teachers: vec![Teacher::default(), Teacher::default()],
        rooms: vec!["classroom".into(), "laboratory".into()],
        demands: vec![
            Demand { class: 0, teacher: 0, lessons: 3, room: RoomNeed::Home },
            Demand { class: 1, teacher: 1, lessons: 3, room: RoomNeed::Home },
            Demand { class: 1, teacher: 0, lessons: 2, room: RoomNeed::Kind("laboratory".into()) },
        ],
        max_per_day_of_subject: 3,
        fixed: Vec::new(),
    }
}

#[test]
fn what_cannot_be_placed_is_named_with_what_it_clashed_with() {
    // Both classes use room 0 for their own lessons (six of nine periods); the laboratory
    // lessons fit in the three left, where neither teacher 0 nor class 1 is busy.
    let outcome = solve(&small(), LIMIT).expect("solves");
    assert_eq!(outcome.unplaced, vec![]);
    assert_eq!(check(&small(), &outcome.week), vec![]);

    // Class 1 with seven lessons of its own: ten lessons in the shared room for nine periods,
    // which counting finds (one lesson). Then the laboratory lessons need periods free of both
    // teacher 0 and class 1, which no count shows: the solver's cores do, and name the lessons
    // each left-out one clashes with.
    let mut p = small();
    p.demands[1].lessons = 7;
    let outcome = solve(&p, LIMIT).expect("solves");
    let counted: u32 = outcome
        .unplaced
        .iter()
        .filter(|u| u.reason == Reason::RoomOverfull { periods: 9 })
        .map(|u| u.lessons)
        .sum();
    assert_eq!(counted, 1, "{:?}", outcome.unplaced);
    let cored: Vec<_> = outcome
        .unplaced
        .iter()
        .filter_map(|u| match &u.reason {
            Reason::Clashes { with } => Some((u.lessons, with.clone())),
            _ => None,
        })
        .collect();
    assert!(!cored.is_empty(), "{:?}", outcome.unplaced);
    assert!(cored.iter().all(|(_, with)| !with.is_empty()), "the clash names the others");
    let left_out: u32 = outcome.unplaced.iter().map(|u| u.lessons).sum();
    assert_eq!(outcome.week.len() as u32 + left_out, 12, "every lesson placed or named");
    assert_eq!(check(&p, &outcome.week), vec![], "what is placed breaks nothing");
    // The laboratory lessons need periods free of both room-0 classes' lessons (teacher 0 and
    // class 1): the three demands share nine periods, so exactly three lessons are left out.
    assert_eq!(left_out, 3, "{:?}", outcome.unplaced);
}

#[test]
fn counting_names_the_impossible_at_once() {
    // A teacher limited to four lessons a week is given five.
    let mut p = small();
    p.teachers[0].max_per_week = 4;
    let outcome = solve(&p, LIMIT).expect("solves");
    assert_eq!(
        outcome.unplaced.iter().map(|u| (u.lessons, u.reason.clone())).collect::<Vec<_>>(),
        vec![(1, Reason::TeacherOverloaded { limit: 4 })],
    );
    // Lessons needing a kind of room the school lacks.
    let mut p = small();
    p.demands[2].room = RoomNeed::Kind("workshop".into());
    let outcome = solve(&p, LIMIT).expect("solves");
    assert_eq!(outcome.unplaced[0].reason, Reason::NoRoomOfKind { kind: "workshop".into() });
    assert_eq!(outcome.unplaced[0].lessons, 2);
    // A realistic school with one teacher given another class's mathematics on top of a full
    // load: the excess is left out and named, everything else placed.
    let mut p = sample::secondary(3);
    p.demands.push(Demand { class: 0, teacher: 0, lessons: 6, room: RoomNeed::Home });
    let outcome = solve(&p, LIMIT).expect("solves");
    assert!(
        outcome.unplaced.iter().all(|u| matches!(
            u.reason,
            Reason::ClassOverfull { periods: 40 } | Reason::TeacherOverloaded { limit: 32 }
        )),
        "{:?}",
        outcome.unplaced
    );
    assert_eq!(
        outcome.unplaced.iter().map(|u| u.lessons).sum::<u32>(),
        6,
        "{:?}",
        outcome.unplaced
    );
    assert_eq!(check(&p, &outcome.week), vec![]);
}

#[test]
fn lessons_placed_by_hand_stay_and_a_broken_week_is_found() {
    let mut p = small();
    p.fixed = vec![Fixed { demand: 0, period: 5, room: Some(0) }];
    let outcome = solve(&p, LIMIT).expect("solves");
    assert!(outcome.week.contains(&Placed { demand: 0, period: 5, room: Some(0) }));
    assert_eq!(check(&p, &outcome.week), vec![]);

    // The referee finds each broken rule.
    let week = [
        Placed { demand: 0, period: 0, room: Some(0) },
        Placed { demand: 1, period: 0, room: Some(0) },
        Placed { demand: 2, period: 0, room: Some(0) },
    ];
    let clashes = check(&small(), &week);
    assert!(
        clashes.contains(&oneclass_timetable::Clash::RoomDoubleBooked { lessons: vec![0, 1, 2] })
    );
    assert!(
        clashes.contains(&oneclass_timetable::Clash::TeacherDoubleBooked { lessons: vec![0, 2] })
    );
    assert!(
        clashes.contains(&oneclass_timetable::Clash::ClassDoubleBooked { lessons: vec![1, 2] })
    );
    assert!(clashes.contains(&oneclass_timetable::Clash::WrongRoom { lesson: 2 }));

    // Fixed lessons that clash are refused, not silently moved.
    let mut p = small();
    p.fixed = vec![
        Fixed { demand: 0, period: 1, room: Some(0) },
        Fixed { demand: 1, period: 1, room: Some(0) },
    ];
    assert!(solve(&p, LIMIT).is_err());
}
