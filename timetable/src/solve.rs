//! Building the week: counting first (what can never fit is named at once), then the solver, then
//! rooms for the lessons that need one of a kind.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use pumpkin_solver::Solver;
use pumpkin_solver::conflict_resolvers::resolvers::ResolutionResolver;
use pumpkin_solver::core::predicates::Predicate;
use pumpkin_solver::core::results::{ProblemSolution, SatisfactionResultUnderAssumptions};
use pumpkin_solver::core::termination::TimeBudget;
use pumpkin_solver::core::variables::{AffineView, Literal, TransformableVariable};

use crate::model::{Placed, Problem, ProblemError, RoomNeed};

/// Why lessons of a demand were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The lessons need a room of a kind the school has none of (outside home rooms).
    NoRoomOfKind { kind: String },
    /// The class has more lessons than the week has periods.
    ClassOverfull { periods: u32 },
    /// The teacher has more lessons than their limits (or the periods they can teach) allow.
    TeacherOverloaded { limit: u32 },
    /// More lessons in a room that classes share than the week has periods.
    RoomOverfull { periods: u32 },
    /// More lessons need rooms of a kind than those rooms have periods.
    RoomsOverbooked { kind: String, capacity: u32 },
    /// More lessons than the days allow at the most a day one subject may have (and on the days
    /// and periods its teacher can teach).
    TooManyForTheDays { limit: u32 },
    /// These lessons, together with the named demands' lessons, cannot all be placed.
    Clashes { with: Vec<usize> },
    /// The solver ran out of time before it found a week.
    OutOfTime,
}

/// Lessons of a demand that could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced {
    pub demand: usize,
    pub lessons: u32,
    pub reason: Reason,
}

/// A built week and what it leaves out.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub week: Vec<Placed>,
    pub unplaced: Vec<Unplaced>,
    pub elapsed: Duration,
}

/// Builds the week within `time_limit`. An error means the lessons placed by hand already break
/// a rule (the API refuses such changes) or the problem refers to things that are not there.
pub fn solve(problem: &Problem, time_limit: Duration) -> Result<Outcome, ProblemError> {
    let start = Instant::now();
    problem.validate()?;
    let mut left_out = LeftOut::new(problem);
    left_out.count_what_cannot_fit();
    let mut model = Model::build(problem, &left_out.enabled);
    let mut brancher = model.solver.default_brancher();
    let mut resolver = ResolutionResolver::default();
    // Lessons left out by a core are assumed absent from then on.
    let mut dropped: Vec<Predicate> = Vec::new();
    loop {
        let remaining = time_limit.saturating_sub(start.elapsed());
        let mut budget = TimeBudget::starting_now(remaining);
        let mut assumptions = model.assumptions(&left_out.enabled);
        assumptions.extend(dropped.iter().copied());
        match model.solver.satisfy_under_assumptions(
            &mut brancher,
            &mut budget,
            &mut resolver,
            &assumptions,
        ) {
            SatisfactionResultUnderAssumptions::Satisfiable(found) => {
                let solution = found.solution();
                let mut week = Vec::new();
                for (g, row) in model.x.iter().enumerate() {
                    for (p, lit) in row.iter().enumerate() {
                        if solution.get_literal_value(*lit) {
                            week.push(Placed { demand: g, period: p, room: None });
                        }
                    }
                }
                drop(found);
                assign_rooms(problem, &mut week);
                return Ok(Outcome { week, unplaced: left_out.finish(), elapsed: start.elapsed() });
            }
            SatisfactionResultUnderAssumptions::UnsatisfiableUnderAssumptions(mut core) => {
                let core = core.extract_core();
                let in_core: Vec<usize> =
                    core.iter().filter_map(|p| model.demand_of.get(p).copied()).collect();
                let Some(g) = left_out.drop_one_of(&in_core) else {
                    return Err(ProblemError(
                        "the lessons placed by hand cannot all stay where they are".into(),
                    ));
                };
                // The lesson given up is the demand's last enabled one: assume it absent.
                let index = left_out.enabled[g] as usize;
                dropped.push(model.e[g][index].get_false_predicate());
            }
            SatisfactionResultUnderAssumptions::Unsatisfiable(_) => {
                return Err(ProblemError(
                    "the lessons placed by hand cannot all stay where they are".into(),
                ));
            }
            SatisfactionResultUnderAssumptions::Unknown(_) => {
                for g in 0..problem.demands.len() {
                    left_out.give_up(g, left_out.enabled[g], Reason::OutOfTime);
                }
                return Ok(Outcome {
                    week: Vec::new(),
                    unplaced: left_out.finish(),
                    elapsed: start.elapsed(),
                });
            }
        }
    }
}

/// How many lessons of each demand are still to be placed, and what was given up and why.
struct LeftOut<'a> {
    problem: &'a Problem,
    enabled: Vec<u32>,
    fixed: Vec<u32>,
    given_up: BTreeMap<(usize, String), Unplaced>,
}

impl<'a> LeftOut<'a> {
    fn new(problem: &'a Problem) -> Self {
        let mut fixed = vec![0; problem.demands.len()];
        for f in &problem.fixed {
            fixed[f.demand] += 1;
        }
        let enabled = problem.demands.iter().zip(&fixed).map(|(d, f)| d.lessons.max(*f)).collect();
        Self { problem, enabled, fixed, given_up: BTreeMap::new() }
    }

    fn give_up(&mut self, demand: usize, lessons: u32, reason: Reason) {
        let lessons = lessons.min(self.enabled[demand] - self.fixed[demand]);
        if lessons == 0 {
            return;
        }
        self.enabled[demand] -= lessons;
        let key = (demand, format!("{reason:?}"));
        self.given_up.entry(key).or_insert(Unplaced { demand, lessons: 0, reason }).lessons +=
            lessons;
    }

    /// What counting alone shows can never fit, given up before the search: lessons needing a
    /// kind of room there is none of, more lessons of a subject than the days allow, then the
    /// overfull classes, overloaded teachers and overbooked kinds of room together, one lesson
    /// at a time from the demand that is in most of them (so one lesson given up relieves as
    /// many as it can).
    fn count_what_cannot_fit(&mut self) {
        let p = self.problem;
        let days = p.days();
        let n = p.demands.len();
        for g in 0..n {
            if let RoomNeed::Kind(kind) = &p.demands[g].room
                && p.pool(kind).is_empty()
            {
                self.give_up(g, u32::MAX, Reason::NoRoomOfKind { kind: kind.clone() });
            }
        }
        for g in 0..n {
            // A day offers a subject at most its limit, and no more than the periods its
            // teacher can teach that day.
            let teacher = &p.teachers[p.demands[g].teacher];
            let limit = days
                .iter()
                .map(|d| {
                    let free = d.iter().filter(|q| !teacher.unavailable.contains(q)).count();
                    (free as u32).min(p.max_per_day_of_subject)
                })
                .sum::<u32>();
            let excess = self.enabled[g].saturating_sub(limit);
            self.give_up(g, excess, Reason::TooManyForTheDays { limit });
        }
        let mut limits: Vec<(Vec<usize>, u32, Reason)> = Vec::new();
        let periods = p.periods.len() as u32;
        for c in 0..p.classes.len() {
            let of: Vec<usize> = (0..n).filter(|g| p.demands[*g].class == c).collect();
            limits.push((of, periods, Reason::ClassOverfull { periods }));
        }
        for (t, teacher) in p.teachers.iter().enumerate() {
            let of: Vec<usize> = (0..n).filter(|g| p.demands[*g].teacher == t).collect();
            let free_in = |day: &Vec<usize>| {
                day.iter().filter(|q| !teacher.unavailable.contains(q)).count() as u32
            };
            let limit = days
                .iter()
                .map(|d| free_in(d).min(teacher.max_per_day))
                .sum::<u32>()
                .min(teacher.max_per_week);
            limits.push((of, limit, Reason::TeacherOverloaded { limit }));
        }
        // A room several classes call their own holds one lesson a period.
        let mut homes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for g in 0..n {
            if let Some(r) = p.home_of(g) {
                homes.entry(r).or_default().push(g);
            }
        }
        for (_, of) in homes {
            limits.push((of, periods, Reason::RoomOverfull { periods }));
        }
        let mut kinds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (g, d) in p.demands.iter().enumerate() {
            if let RoomNeed::Kind(kind) = &d.room {
                kinds.entry(kind).or_default().push(g);
            }
        }
        for (kind, of) in kinds {
            let capacity = (p.pool(kind).len() * p.periods.len()) as u32;
            limits.push((
                of,
                capacity,
                Reason::RoomsOverbooked { kind: kind.to_owned(), capacity },
            ));
        }
        loop {
            let over: Vec<&(Vec<usize>, u32, Reason)> = limits
                .iter()
                .filter(|(of, limit, _)| of.iter().map(|g| self.enabled[*g]).sum::<u32>() > *limit)
                .collect();
            let candidate = over
                .iter()
                .flat_map(|(of, _, _)| of.iter().copied())
                .filter(|g| self.enabled[*g] > self.fixed[*g])
                .max_by_key(|g| {
                    let in_over = over.iter().filter(|(of, _, _)| of.contains(g)).count();
                    (in_over, self.enabled[*g], *g)
                });
            let Some(g) = candidate else { return };
            let reason = over
                .iter()
                .find(|(of, _, _)| of.contains(&g))
                .map(|(_, _, reason)| reason.clone())
                .unwrap_or(Reason::OutOfTime);
            self.give_up(g, 1, reason);
        }
    }

    /// Gives up one lesson of the demand in an unsatisfiable core that has most lessons still
    /// enabled; `None` when the core holds no lesson that may be given up.
    fn drop_one_of(&mut self, core: &[usize]) -> Option<usize> {
        let g = core
            .iter()
            .copied()
            .filter(|g| self.enabled[*g] > self.fixed[*g])
            .max_by_key(|g| (self.enabled[*g], *g))?;
        let mut with: Vec<usize> = core.iter().copied().filter(|o| *o != g).collect();
        with.sort_unstable();
        with.dedup();
        with.truncate(8);
        self.give_up(g, 1, Reason::Clashes { with });
        Some(g)
    }

    fn finish(self) -> Vec<Unplaced> {
        self.given_up.into_values().collect()
    }
}

/// The solver's variables: `x[g][p]` (a lesson of demand `g` in period `p`) and `e[g][i]` (the
/// demand's `i`-th lesson is placed, for the lessons not fixed by hand).
struct Model {
    solver: Solver,
    x: Vec<Vec<Literal>>,
    e: Vec<Vec<Literal>>,
    /// The demand whose lesson each assumption stands for.
    demand_of: HashMap<Predicate, usize>,
}

impl Model {
    fn build(problem: &Problem, enabled: &[u32]) -> Self {
        let mut solver = Solver::default();
        let tag = solver.new_constraint_tag();
        let periods = problem.periods.len();
        let days = problem.days();
        let n = problem.demands.len();
        let x: Vec<Vec<Literal>> =
            (0..n).map(|_| (0..periods).map(|_| solver.new_literal()).collect()).collect();
        let mut fixed_count = vec![0u32; n];
        for f in &problem.fixed {
            solver.add_clause([x[f.demand][f.period].get_true_predicate()], tag);
            fixed_count[f.demand] += 1;
        }
        let e: Vec<Vec<Literal>> = (problem.demands.iter().zip(&fixed_count))
            .map(|(d, f)| (0..d.lessons.max(*f)).map(|_| solver.new_literal()).collect())
            .collect();
        let mut demand_of = HashMap::new();
        for g in 0..n {
            // The lessons placed equal the lessons enabled; enabled lessons come first.
            let mut terms: Vec<AffineView<Literal>> = x[g].iter().map(|l| l.scaled(1)).collect();
            terms.extend(e[g].iter().map(|l| l.scaled(-1)));
            post(&mut solver, pumpkin_solver::equals(terms, 0, tag));
            for pair in e[g].windows(2) {
                solver
                    .add_clause([pair[1].get_false_predicate(), pair[0].get_true_predicate()], tag);
            }
            for lit in e[g].iter().take(fixed_count[g] as usize) {
                solver.add_clause([lit.get_true_predicate()], tag);
            }
            for lit in e[g].iter().skip(enabled[g] as usize) {
                solver.add_clause([lit.get_false_predicate()], tag);
            }
            for lit in &e[g] {
                demand_of.insert(lit.get_true_predicate(), g);
            }
            for day in &days {
                let of_day = day.iter().map(|p| x[g][*p]).collect::<Vec<_>>();
                let limit = problem.max_per_day_of_subject as i32;
                post(&mut solver, pumpkin_solver::less_than_or_equals(of_day, limit, tag));
            }
        }
        let groups = |key: &dyn Fn(usize) -> Option<usize>| {
            let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for g in 0..n {
                if let Some(k) = key(g) {
                    by.entry(k).or_default().push(g);
                }
            }
            by
        };
        let by_class = groups(&|g| Some(problem.demands[g].class));
        let by_teacher = groups(&|g| Some(problem.demands[g].teacher));
        let by_home = groups(&|g| problem.home_of(g));
        let xs = &x;
        let at_most = |solver: &mut Solver, of: &[usize], ps: &[usize], limit: u32| {
            let lits: Vec<Literal> =
                of.iter().flat_map(|g| ps.iter().map(move |p| xs[*g][*p])).collect();
            if lits.len() as u64 > u64::from(limit) {
                post(solver, pumpkin_solver::less_than_or_equals(lits, limit as i32, tag));
            }
        };
        for p in 0..periods {
            for of in by_class.values().chain(by_teacher.values()).chain(by_home.values()) {
                at_most(&mut solver, of, &[p], 1);
            }
        }
        // A class with a lesson in every period of the week (the usual secondary class) has one
        // in each: implied by the rules above, but stated it prunes far earlier. It holds while
        // every lesson of the class is placed (`full`), not once a core has left one out.
        for of in by_class.values() {
            if of.iter().map(|g| enabled[*g]).sum::<u32>() != periods as u32 {
                continue;
            }
            let full = solver.new_literal();
            let mut all_placed = vec![full.get_true_predicate()];
            for g in of.iter().filter(|g| enabled[**g] > 0) {
                all_placed.push(e[*g][enabled[*g] as usize - 1].get_false_predicate());
            }
            solver.add_clause(all_placed, tag);
            for lits in (0..periods).map(|p| of.iter().map(|g| x[*g][p]).collect::<Vec<_>>()) {
                solver.add_constraint(pumpkin_solver::equals(lits, 1, tag)).implied_by(full);
            }
        }
        let mut kinds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (g, d) in problem.demands.iter().enumerate() {
            if let RoomNeed::Kind(kind) = &d.room {
                kinds.entry(kind).or_default().push(g);
            }
        }
        for (kind, of) in &kinds {
            let rooms = problem.pool(kind).len() as u32;
            for p in 0..periods {
                at_most(&mut solver, of, &[p], rooms);
            }
        }
        for (t, of) in &by_teacher {
            let teacher = &problem.teachers[*t];
            for day in &days {
                at_most(&mut solver, of, day, teacher.max_per_day);
            }
            let all: Vec<usize> = (0..periods).collect();
            at_most(&mut solver, of, &all, teacher.max_per_week);
            for p in &teacher.unavailable {
                for g in of {
                    solver.add_clause([x[*g][*p].get_false_predicate()], tag);
                }
            }
        }
        Self { solver, x, e, demand_of }
    }

    /// Every enabled lesson not fixed by hand is assumed placed.
    fn assumptions(&self, enabled: &[u32]) -> Vec<Predicate> {
        self.e
            .iter()
            .zip(enabled)
            .flat_map(|(lits, n)| lits.iter().take(*n as usize).map(|l| l.get_true_predicate()))
            .collect()
    }
}

/// Posts a constraint. One already false at the root makes the problem unsatisfiable, which the
/// search then reports and [`solve`] handles.
fn post(solver: &mut Solver, constraint: impl pumpkin_solver::core::constraints::Constraint) {
    solver.add_constraint(constraint).post();
}

/// Rooms: home rooms for the lessons that use them; for the others a free room of the kind
/// they need, in each period (the solver kept their number within the rooms there are).
fn assign_rooms(problem: &Problem, week: &mut [Placed]) {
    let mut taken: HashMap<(usize, usize), ()> = HashMap::new();
    for f in &problem.fixed {
        if let Some(r) = f.room {
            taken.insert((f.period, r), ());
        }
    }
    let mut fixed_left: Vec<_> = problem.fixed.clone();
    for lesson in week.iter_mut() {
        if let Some(i) =
            fixed_left.iter().position(|f| f.demand == lesson.demand && f.period == lesson.period)
        {
            lesson.room = fixed_left.swap_remove(i).room;
            if lesson.room.is_some() {
                continue;
            }
        }
        lesson.room = match &problem.demands[lesson.demand].room {
            RoomNeed::Home => problem.classes[problem.demands[lesson.demand].class],
            RoomNeed::Kind(kind) => {
                let free = problem
                    .pool(kind)
                    .into_iter()
                    .find(|r| !taken.contains_key(&(lesson.period, *r)));
                if let Some(r) = free {
                    taken.insert((lesson.period, r), ());
                }
                free
            }
        };
    }
}
