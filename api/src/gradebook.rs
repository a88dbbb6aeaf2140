//! What a class's marks add up to: the gradebook per class and subject (term marks, the weighted
//! mean of the assessments sat, graded on the class's ZIMSEC scale) and printable report cards
//! per learner and term. Reads of learners' marks are audited.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use oneclass_core::grading::{self, Exam, Scale, Weighted};
use oneclass_core::ids::{ClassId, LearnerId, SchoolId};
use oneclass_core::types::Role;
use oneclass_i18n::Lang;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::assessment::{Assessment, MARKERS, assessments_of, scale_of};
use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::PageLang;
use crate::learners::audit_reads;
use crate::register::visible_class;
use crate::state::{AppState, RequestId};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(gradebook)).routes(routes!(report_card))
}

/// One learner's marks in one subject for a term: the term mark and its grade.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TermMark {
    /// The weighted mean of the assessments sat, as a percentage; absent if none was sat.
    pub percent: Option<f64>,
    pub grade: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GradebookLine {
    pub learner_id: LearnerId,
    pub first_name: String,
    pub last_name: String,
    /// One per assessment, in the order of `assessments`; absent where not sat.
    pub scores: Vec<Option<f64>>,
    pub term_mark: TermMark,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Gradebook {
    pub class_id: ClassId,
    pub subject_code: String,
    pub term: i32,
    pub scale: Option<Exam>,
    pub assessments: Vec<Assessment>,
    pub learners: Vec<GradebookLine>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GradebookQuery {
    pub subject: String,
    pub term: i32,
}

/// A class's marks in one subject for a term: every assessment, every learner, the term mark
/// (weighted mean of what was sat) and its grade on the class's ZIMSEC scale. Audited as a read
/// of each learner's record.
#[utoipa::path(get, path = "/classes/{id}/gradebook", tag = "assessment",
    params(("id" = Uuid, Path, description = "class id"), GradebookQuery),
    responses((status = 200, body = Gradebook), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn gradebook(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(class_id): Path<ClassId>,
    Query(q): Query<GradebookQuery>,
) -> ApiResult<Json<Gradebook>> {
    user.require(MARKERS)?;
    if !(1..=3).contains(&q.term) {
        return Err(ApiError::field("term", "must be 1, 2 or 3"));
    }
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let class = visible_class(&mut tx, &user, class_id).await?;
    let scale = scale_of(&mut tx, &class.grade).await?;
    let assessments: Vec<Assessment> = assessments_of(&mut tx, class_id, None, Some(q.term))
        .await?
        .into_iter()
        .filter(|a| a.subject_code == q.subject)
        .collect();
    let learners = sqlx::query!(
        r#"SELECT l.id AS "id: LearnerId", l.school_id AS "school_id: SchoolId", l.first_name,
                  l.last_name
           FROM sis.enrolments e JOIN sis.learners l ON l.id = e.learner_id
           WHERE e.class_id = $1 AND e.end_date IS NULL ORDER BY l.last_name, l.first_name, l.id"#,
        class_id as ClassId,
    )
    .fetch_all(&mut *tx)
    .await?;
    let marks = class_results(&mut tx, class_id, q.term).await?;
    let mut lines = Vec::with_capacity(learners.len());
    for l in &learners {
        let mine: Vec<&MarkRow> =
            marks.iter().filter(|m| m.learner_id == l.id && m.subject_code == q.subject).collect();
        let scores = assessments
            .iter()
            .map(|a| mine.iter().find(|m| m.assessment_id == a.id).map(|m| m.score))
            .collect();
        lines.push(GradebookLine {
            learner_id: l.id,
            first_name: l.first_name.clone(),
            last_name: l.last_name.clone(),
            scores,
            term_mark: graded(term_mark_of(&mine), scale.as_ref()),
        });
    }
    let read: Vec<(Uuid, Uuid)> =
        learners.iter().map(|l| (l.id.as_uuid(), l.school_id.as_uuid())).collect();
    audit_reads(&mut tx, &user, &request_id, "list", &read).await?;
    tx.commit().await?;
    Ok(Json(Gradebook {
        class_id,
        subject_code: q.subject,
        term: q.term,
        scale: scale.as_ref().map(|s| s.exam),
        assessments,
        learners: lines,
    }))
}

fn graded(percent: Option<f64>, scale: Option<&Scale>) -> TermMark {
    let percent = percent.map(|p| (p * 10.0).round() / 10.0);
    TermMark { percent, grade: percent.zip(scale).map(|(p, s)| s.grade(p).grade.clone()) }
}

struct MarkRow {
    assessment_id: Uuid,
    learner_id: LearnerId,
    subject_code: String,
    score: f64,
    max_score: f64,
    weight: f64,
}

/// Every result of the class's assessments in a term.
async fn class_results(
    conn: &mut PgConnection,
    class_id: ClassId,
    term: i32,
) -> ApiResult<Vec<MarkRow>> {
    Ok(sqlx::query_as!(
        MarkRow,
        r#"SELECT a.id AS assessment_id, r.learner_id AS "learner_id: LearnerId", a.subject_code,
                  r.score::float8 AS "score!", r.max_score::float8 AS "max_score!",
                  a.weight::float8 AS "weight!"
           FROM assessment.assessments a JOIN assessment.results r ON r.assessment_id = a.id
           WHERE a.class_id = $1 AND a.term = $2"#,
        class_id as ClassId,
        term,
    )
    .fetch_all(conn)
    .await?)
}

fn term_mark_of(rows: &[&MarkRow]) -> Option<f64> {
    let weighted: Vec<Weighted> = rows
        .iter()
        .map(|m| Weighted { score: m.score, max_score: m.max_score, weight: m.weight })
        .collect();
    grading::term_mark(&weighted)
}

/// A report card's line for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct CardLine {
    pub subject: String,
    pub assessments: usize,
    pub percent: Option<f64>,
    pub grade: Option<String>,
    pub class_average: Option<f64>,
    /// Position in the class in this subject (1 = highest term mark), of `of` learners marked.
    pub position: Option<usize>,
    pub of: usize,
}

/// A learner's report card for a term: printable HTML, no scripts, no outside assets.
#[derive(Debug, Template)]
#[template(path = "report_card.html")]
pub struct ReportCard {
    /// The reader's language (the card's words, month names and scale).
    pub lang: Lang,
    pub school: String,
    pub emis_code: String,
    pub learner: String,
    pub learner_number: String,
    pub class_name: String,
    pub grade: String,
    pub academic_year: i32,
    pub term: i32,
    pub term_dates: String,
    pub scale: String,
    pub lines: Vec<CardLine>,
    pub days_marked: i64,
    pub present: i64,
    pub late: i64,
    pub absent: i64,
    pub excused: i64,
}

impl ReportCard {
    fn title(&self) -> String {
        self.lang.t_args(
            "card-title",
            &[
                ("learner", self.learner.clone()),
                ("term", self.term.to_string()),
                ("year", self.academic_year.to_string()),
            ],
        )
    }

    fn subtitle(&self) -> String {
        self.lang.t_args(
            "card-sub",
            &[
                ("term", self.term.to_string()),
                ("year", self.academic_year.to_string()),
                ("dates", self.term_dates.clone()),
            ],
        )
    }

    fn attendance_rate(&self) -> String {
        if self.days_marked == 0 {
            "–".into()
        } else {
            format!("{:.1} %", 100.0 * (self.present + self.late) as f64 / self.days_marked as f64)
        }
    }
}

fn one_decimal(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |p| format!("{p:.1}"))
}

impl CardLine {
    fn percent_text(&self) -> String {
        one_decimal(self.percent)
    }

    fn average_text(&self) -> String {
        one_decimal(self.class_average)
    }

    fn grade_text(&self) -> &str {
        self.grade.as_deref().unwrap_or("–")
    }

    fn position_text(&self, lang: &Lang) -> String {
        self.position.map_or_else(
            || "–".to_owned(),
            |p| {
                lang.t_args(
                    "card-position-of",
                    &[("position", p.to_string()), ("of", self.of.to_string())],
                )
            },
        )
    }
}

/// The lines of a report card: per subject the learner's term mark and grade, the class
/// average of term marks, and the learner's position among those marked.
fn card_lines(
    learner: LearnerId,
    marks: &[MarkRow],
    subjects: &HashMap<String, String>,
    scale: Option<&Scale>,
) -> Vec<CardLine> {
    let mut by_subject: BTreeMap<&str, HashMap<LearnerId, Vec<&MarkRow>>> = BTreeMap::new();
    for m in marks {
        by_subject.entry(&m.subject_code).or_default().entry(m.learner_id).or_default().push(m);
    }
    let mut lines = Vec::new();
    for (code, learners) in by_subject {
        let Some(mine) = learners.get(&learner) else { continue };
        let mut all: Vec<(LearnerId, f64)> =
            learners.iter().filter_map(|(id, rows)| term_mark_of(rows).map(|p| (*id, p))).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        let own = term_mark_of(mine);
        // Equal marks share a position (two learners at 70 % are both 2nd).
        let position = own.map(|p| 1 + all.iter().filter(|(_, q)| *q > p).count());
        let average = (!all.is_empty())
            .then(|| all.iter().map(|(_, p)| p).sum::<f64>() / all.len() as f64)
            .map(|a| (a * 10.0).round() / 10.0);
        let mark = graded(own, scale);
        lines.push(CardLine {
            subject: subjects.get(code).cloned().unwrap_or_else(|| code.to_owned()),
            assessments: mine.len(),
            percent: mark.percent,
            grade: mark.grade,
            class_average: average,
            position,
            of: all.len(),
        });
    }
    lines
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CardQuery {
    pub year: i32,
    pub term: i32,
}

/// A learner's report card for a term, as printable HTML: each subject's term mark, grade on the
/// class's ZIMSEC scale, class average and position, and the term's attendance. Audited.
#[utoipa::path(get, path = "/learners/{id}/report-card", tag = "assessment",
    params(("id" = Uuid, Path, description = "learner id"), CardQuery),
    responses((status = 200, content_type = "text/html", body = String),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn report_card(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: RequestId,
    Path(id): Path<LearnerId>,
    Query(q): Query<CardQuery>,
    PageLang(lang): PageLang,
) -> ApiResult<Response> {
    user.require(&[Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Registrar, Role::Parent])?;
    let parent = user.role == Role::Parent;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let term = sqlx::query!(
        "SELECT start_date, end_date FROM ref.terms WHERE academic_year = $1 AND term = $2",
        q.year,
        q.term,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::field("term", "no such term in the calendar"))?;
    let who = sqlx::query!(
        r#"SELECT l.school_id AS "school_id: SchoolId", l.first_name, l.last_name,
                  l.learner_number, s.name AS school, s.emis_code, e.class_id AS "class_id!: ClassId",
                  c.name AS class_name, e.grade
           FROM sis.learners l
           JOIN platform.schools s ON s.id = l.school_id
           JOIN sis.enrolments e ON e.learner_id = l.id AND e.academic_year = $2
                                 AND e.class_id IS NOT NULL
           JOIN academic.classes c ON c.id = e.class_id
           WHERE l.id = $1
           ORDER BY e.start_date DESC LIMIT 1"#,
        id as LearnerId,
        q.year,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    // A teacher sees the cards of the classes they teach; a parent their own learners' (RLS).
    if !parent {
        visible_class(&mut tx, &user, who.class_id).await.map_err(|_| ApiError::NotFound)?;
    }
    let scale = scale_of(&mut tx, &who.grade).await?;
    let marks = class_results(&mut tx, who.class_id, q.term).await?;
    let subjects: HashMap<String, String> = sqlx::query!(
        "SELECT code, name FROM ref.subjects WHERE level = $1",
        scale.as_ref().map_or("primary", |s| s.exam.subject_level()),
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    // The learning area's name in the reader's language where the files have it.
    .map(|r| {
        let name = lang.lookup(&format!("subject-{}", r.code)).unwrap_or(r.name);
        (r.code, name)
    })
    .collect();
    let days = sqlx::query!(
        r#"SELECT count(*) AS "marked!",
                  count(*) FILTER (WHERE status = 'present') AS "present!",
                  count(*) FILTER (WHERE status = 'late') AS "late!",
                  count(*) FILTER (WHERE status = 'absent') AS "absent!",
                  count(*) FILTER (WHERE status = 'excused') AS "excused!"
           FROM attendance.daily_marks WHERE learner_id = $1 AND date BETWEEN $2 AND $3"#,
        id as LearnerId,
        term.start_date,
        term.end_date,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit_reads(&mut tx, &user, &request_id, "read", &[(id.as_uuid(), who.school_id.as_uuid())])
        .await?;
    tx.commit().await?;
    let card = ReportCard {
        lang,
        school: who.school,
        emis_code: who.emis_code,
        learner: format!("{} {}", who.first_name, who.last_name),
        learner_number: who.learner_number,
        class_name: who.class_name,
        grade: who.grade,
        academic_year: q.year,
        term: q.term,
        term_dates: format!(
            "{} – {}",
            long_date(lang, term.start_date),
            long_date(lang, term.end_date)
        ),
        scale: scale.as_ref().map_or_else(String::new, |s| lang.t(scale_key(s.exam))),
        lines: {
            let mut lines = card_lines(id, &marks, &subjects, scale.as_ref());
            // A parent reads only their own learner's marks: the class's average and position,
            // which would need everyone's, are on the card the school prints.
            if parent {
                for line in &mut lines {
                    line.class_average = None;
                    line.position = None;
                }
            }
            lines
        },
        days_marked: days.marked,
        present: days.present,
        late: days.late,
        absent: days.absent,
        excused: days.excused,
    };
    let html = card.render().map_err(|e| ApiError::Internal(format!("report card: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// The message naming an exam's grading scale.
fn scale_key(exam: Exam) -> &'static str {
    match exam {
        Exam::G7 => "card-scale-g7",
        Exam::OLevel => "card-scale-o",
        Exam::ALevel => "card-scale-a",
    }
}

/// A date as the card prints it: day, the month's name in the reader's language, year.
fn long_date(lang: Lang, date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {} {}", date.day(), lang.t(&format!("month-{}", date.month())), date.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oneclass_core::grading::Boundary;

    fn row(learner: LearnerId, subject: &str, score: f64, max: f64, weight: f64) -> MarkRow {
        MarkRow {
            assessment_id: Uuid::nil(),
            learner_id: learner,
            subject_code: subject.into(),
            score,
            max_score: max,
            weight,
        }
    }

    fn o_level() -> Scale {
        let b = |g: &str, m: f64, p: bool| Boundary {
            grade: g.into(),
            min_percent: m,
            points: None,
            passes: p,
        };
        Scale::new(
            Exam::OLevel,
            vec![
                b("A", 75.0, true),
                b("B", 65.0, true),
                b("C", 50.0, true),
                b("D", 40.0, false),
                b("E", 30.0, false),
                b("U", 0.0, false),
            ],
        )
        .expect("scale")
    }

    /// Three learners, two subjects. Mathematics: a test out of 40 (weight 1) and an exam out of
    /// 100 (weight 3). Rudo 30/40 and 60/100 → (75 + 180) ÷ 4 = 63.75 → 63.8 → C (50 to 65);
    /// Tendai 20/40 and 90/100 → (50 + 270) ÷ 4 = 80 → A; Chipo missed the test, 40/100 → 40 → D.
    /// Class average (63.75 + 80 + 40) ÷ 3 = 61.25 → 61.3; Rudo is 2nd of 3.
    /// English: only Rudo and Tendai, both 70/100 → both B, both 1st of 2.
    fn fixture() -> (Vec<LearnerId>, Vec<MarkRow>) {
        let (rudo, tendai, chipo) = (LearnerId::new(), LearnerId::new(), LearnerId::new());
        let rows = vec![
            row(rudo, "MAT", 30.0, 40.0, 1.0),
            row(rudo, "MAT", 60.0, 100.0, 3.0),
            row(tendai, "MAT", 20.0, 40.0, 1.0),
            row(tendai, "MAT", 90.0, 100.0, 3.0),
            row(chipo, "MAT", 40.0, 100.0, 3.0),
            row(rudo, "ENG", 70.0, 100.0, 1.0),
            row(tendai, "ENG", 70.0, 100.0, 1.0),
        ];
        (vec![rudo, tendai, chipo], rows)
    }

    #[test]
    fn card_lines_worked_by_hand() {
        let (ids, rows) = fixture();
        let names: HashMap<String, String> = [("MAT", "Mathematics"), ("ENG", "English Language")]
            .map(|(c, n)| (c.to_owned(), n.to_owned()))
            .into();
        let scale = o_level();
        let rudo = card_lines(ids[0], &rows, &names, Some(&scale));
        assert_eq!(
            rudo,
            vec![
                CardLine {
                    subject: "English Language".into(),
                    assessments: 1,
                    percent: Some(70.0),
                    grade: Some("B".into()),
                    class_average: Some(70.0),
                    position: Some(1),
                    of: 2,
                },
                CardLine {
                    subject: "Mathematics".into(),
                    assessments: 2,
                    percent: Some(63.8),
                    grade: Some("C".into()),
                    class_average: Some(61.3),
                    position: Some(2),
                    of: 3,
                },
            ]
        );
        let chipo = card_lines(ids[2], &rows, &names, Some(&scale));
        assert_eq!(chipo.len(), 1, "no line for a subject not sat");
        assert_eq!((chipo[0].grade.as_deref(), chipo[0].position), (Some("D"), Some(3)));
    }

    #[test]
    fn report_card_renders_as_reviewed() {
        let (ids, rows) = fixture();
        let names: HashMap<String, String> = [("MAT", "Mathematics"), ("ENG", "English Language")]
            .map(|(c, n)| (c.to_owned(), n.to_owned()))
            .into();
        let card = ReportCard {
            lang: Lang::En,
            school: "Chitungwiza High School".into(),
            emis_code: "041207".into(),
            learner: "Rudo Chiwenga-Ndlovu".into(),
            learner_number: "CHS-2023-0147".into(),
            class_name: "3 Msasa".into(),
            grade: "F3".into(),
            academic_year: 2026,
            term: 3,
            term_dates: "8 September 2026 – 8 December 2026".into(),
            scale: Lang::En.t(scale_key(Exam::OLevel)),
            lines: card_lines(ids[0], &rows, &names, Some(&o_level())),
            days_marked: 60,
            present: 52,
            late: 3,
            absent: 4,
            excused: 1,
        };
        insta::assert_snapshot!(card.render().expect("renders"));
    }
}
