//! Bulk import and export of learners and their first guardian, as CSV in the layout a school
//! keeps in a spreadsheet (one learner per line; the template is downloadable). An import is
//! validated as a whole and written all or nothing, with one error per bad line and field; it
//! needs an `Idempotency-Key`, so that a retried upload is applied once.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, Utc};
use oneclass_core::ids::{ClassId, EnrolmentId, LearnerId, SchoolId};
use oneclass_core::types::{Grade, NationalId, Phone, Role, Sex};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AuthUser, begin_scoped};
use crate::csv_out::{csv_field, csv_response};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::guardians::RELATIONSHIPS;
use crate::idempotency::{self, Claim};
use crate::learners::{birth_entry_problem, language_problem, name_problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(template))
        .routes(routes!(import_learners))
        .routes(routes!(export_learners))
}

const OFFICE: &[Role] = &[Role::Registrar, Role::SchoolHead, Role::Deputy];
/// At most this many learners per file (a large secondary school has about 2,000).
pub const MAX_LINES: usize = 5_000;

/// The columns of the file, in order. The first five are required on every line.
pub const COLUMNS: [&str; 16] = [
    "learner_number",
    "first_name",
    "last_name",
    "sex",
    "date_of_birth",
    "national_id",
    "birth_entry_number",
    "home_language",
    "disability",
    "is_ovc",
    "is_beam",
    "grade",
    "class",
    "guardian_name",
    "guardian_phone",
    "guardian_relationship",
];

/// The template: the header and one example line.
#[utoipa::path(get, path = "/learners/import-template", tag = "learners",
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn template() -> Response {
    let body = format!(
        "{}\nCHS-2026-0001,Tendai,Moyo,F,2015-03-14,,BE/1234567-15,Shona,,no,yes,G5,5 Msasa,Rudo Moyo,0771234567,mother\n",
        COLUMNS.join(",")
    );
    csv_response(body, "learners-template.csv")
}

/// One line of the file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub line: usize,
    pub learner_number: String,
    pub first_name: String,
    pub last_name: String,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub national_id: Option<String>,
    pub birth_entry_number: Option<String>,
    pub home_language: Option<String>,
    pub disability: Option<String>,
    pub is_ovc: bool,
    pub is_beam: bool,
    pub grade: Option<Grade>,
    pub class: Option<String>,
    pub guardian: Option<(String, Option<String>, String)>,
}

fn err(errors: &mut Vec<FieldError>, line: usize, field: &str, reason: impl Into<String>) {
    errors.push(FieldError::new(format!("line {line}: {field}"), reason));
}

fn yes_no(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Some(false),
        "yes" | "y" | "true" | "1" => Some(true),
        _ => None,
    }
}

/// Reads and checks a whole file: the lines, or every error found (line numbers count the
/// header as line 1, as a spreadsheet shows them).
pub fn parse(bytes: &[u8], today: NaiveDate) -> Result<Vec<Line>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![FieldError::new("line 1", format!("not a CSV file: {e}"))]),
    };
    let position: HashMap<&str, usize> =
        header.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    for required in &COLUMNS[..5] {
        if !position.contains_key(required) {
            errors.push(FieldError::new("line 1", format!("the column {required} is missing")));
        }
    }
    for c in &header {
        if !COLUMNS.contains(&c.as_str()) {
            errors.push(FieldError::new("line 1", format!("unknown column {c:?}")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut lines = Vec::new();
    let mut numbers: HashMap<String, usize> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if lines.len() + 1 > MAX_LINES {
            errors.push(FieldError::new(
                format!("line {line}"),
                format!("at most {MAX_LINES} learners per file"),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                err(&mut errors, line, "line", format!("unreadable: {e}"));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        // A `'` that an export put before a value starting like a formula is dropped.
        let get = |c: &str| {
            let v = position.get(c).and_then(|i| record.get(*i)).unwrap_or("");
            match v.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_owned(),
                _ => v.to_owned(),
            }
        };
        let opt = |c: &str| Some(get(c)).filter(|v| !v.is_empty());
        let before = errors.len();
        let number = get("learner_number");
        if number.is_empty() || number.len() > 40 {
            err(&mut errors, line, "learner_number", "must be 1 to 40 characters");
        } else if let Some(first) = numbers.insert(number.clone(), line) {
            err(&mut errors, line, "learner_number", format!("also on line {first}"));
        }
        let (first_name, last_name) = (get("first_name"), get("last_name"));
        for (field, v) in [("first_name", &first_name), ("last_name", &last_name)] {
            if let Some(why) = name_problem(v) {
                err(&mut errors, line, field, why);
            }
        }
        let sex = get("sex").to_ascii_uppercase().parse::<Sex>();
        if sex.is_err() {
            err(&mut errors, line, "sex", "must be F or M");
        }
        let dob = NaiveDate::parse_from_str(&get("date_of_birth"), "%Y-%m-%d");
        match dob {
            Err(_) => err(&mut errors, line, "date_of_birth", "must be a date as YYYY-MM-DD"),
            Ok(d) if d > today || today.year() - d.year() > 30 || today.year() - d.year() < 2 => {
                err(&mut errors, line, "date_of_birth", "the learner must be 2 to 30 years old")
            }
            Ok(_) => {}
        }
        let national_id = match opt("national_id").map(|v| NationalId::parse(&v)) {
            Some(Err(e)) => {
                err(&mut errors, line, "national_id", e.to_string());
                None
            }
            Some(Ok(id)) => Some(id.as_str().to_owned()),
            None => None,
        };
        let birth_entry = opt("birth_entry_number");
        if let Some(why) = birth_entry.as_deref().and_then(birth_entry_problem) {
            err(&mut errors, line, "birth_entry_number", why);
        }
        let home_language = opt("home_language");
        if let Some(why) = home_language.as_deref().and_then(language_problem) {
            err(&mut errors, line, "home_language", why);
        }
        let disability = opt("disability");
        if disability.as_deref().is_some_and(|d| d.len() > 100) {
            err(&mut errors, line, "disability", "must be at most 100 characters");
        }
        let flags: Vec<Option<bool>> =
            ["is_ovc", "is_beam"].iter().map(|c| yes_no(&get(c))).collect();
        for (c, f) in ["is_ovc", "is_beam"].iter().zip(&flags) {
            if f.is_none() {
                err(&mut errors, line, c, "must be yes or no");
            }
        }
        let grade =
            match opt("grade").map(|g| g.to_ascii_uppercase().replace(' ', "_").parse::<Grade>()) {
                Some(Err(_)) => {
                    err(&mut errors, line, "grade", "must be ECD_A, ECD_B, G1 to G7 or F1 to F6");
                    None
                }
                Some(Ok(g)) => Some(g),
                None => None,
            };
        let class = opt("class");
        if class.is_some() && grade.is_none() {
            err(&mut errors, line, "grade", "required when a class is given");
        }
        let guardian_name = opt("guardian_name");
        let phone = match opt("guardian_phone").map(|p| Phone::parse(&p)) {
            Some(Err(e)) => {
                err(&mut errors, line, "guardian_phone", e.to_string());
                None
            }
            Some(Ok(p)) => Some(p.as_str().to_owned()),
            None => None,
        };
        let relationship = opt("guardian_relationship").map(|r| r.to_ascii_lowercase());
        let guardian = match (guardian_name, relationship) {
            (None, None) if phone.is_none() => None,
            (Some(n), Some(r)) if name_problem(&n).is_none() => {
                if !RELATIONSHIPS.contains(&r.as_str()) {
                    err(
                        &mut errors,
                        line,
                        "guardian_relationship",
                        "must be mother, father, grandparent, aunt, uncle, sibling, guardian or other",
                    );
                }
                Some((n, phone, r))
            }
            (None, _) => {
                err(&mut errors, line, "guardian_name", "required when a guardian is given");
                None
            }
            (Some(_), None) => {
                err(
                    &mut errors,
                    line,
                    "guardian_relationship",
                    "required when a guardian is given",
                );
                None
            }
            (Some(_), Some(_)) => {
                err(&mut errors, line, "guardian_name", "must be 1 to 100 letters");
                None
            }
        };
        if errors.len() > before {
            continue;
        }
        let (Ok(sex), Ok(date_of_birth)) = (sex, dob) else { continue };
        lines.push(Line {
            line,
            learner_number: number,
            first_name,
            last_name,
            sex,
            date_of_birth,
            national_id,
            birth_entry_number: birth_entry,
            home_language,
            disability,
            is_ovc: flags[0].unwrap_or(false),
            is_beam: flags[1].unwrap_or(false),
            grade,
            class,
            guardian,
        });
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("line 2", "the file has no learners"));
    }
    if errors.is_empty() { Ok(lines) } else { Err(errors) }
}

#[derive(Debug, Serialize, ToSchema, serde::Deserialize)]
pub struct Imported {
    pub learners: usize,
    pub enrolments: usize,
    pub guardians: usize,
}

/// Imports learners (and their enrolment in this year's class, and first guardian) from a CSV
/// file in the template's layout (`GET /learners/import-template`). All or nothing: any bad
/// line and the file writes nothing, and the answer lists every bad line and field. Needs an
/// `Idempotency-Key` header: the same key again (a retry) gets the first answer and imports
/// nothing more.
#[utoipa::path(post, path = "/schools/{id}/learners/import", tag = "learners",
    params(("id" = Uuid, Path, description = "school id"),
           ("Idempotency-Key" = String, Header, description = "a key unique to this upload")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Imported), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn import_learners(
    State(state): State<AppState>,
    user: AuthUser,
    Path(school): Path<SchoolId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    user.require(OFFICE)?;
    user.require_school(school)?;
    let key = idempotency::key_of(&headers, "upload")?;
    let print = idempotency::fingerprint(&[&body]);
    let mut tx = begin_scoped(&state.pool, &user).await?;
    if let Claim::Replay(answer) =
        idempotency::claim(&mut tx, school, &key, "learners/import", &print, "upload").await?
    {
        tx.commit().await?;
        return Ok(answer);
    }
    let lines = parse(&body, Utc::now().date_naive()).map_err(ApiError::Validation)?;
    let done = write(&mut tx, school, &lines).await?;
    idempotency::record(&mut tx, school, &key, StatusCode::CREATED, &done).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

/// Writes checked lines, after the checks that need the database (numbers already used, classes
/// that exist); any failure leaves the transaction to be rolled back.
async fn write(
    tx: &mut sqlx::PgConnection,
    school: SchoolId,
    lines: &[Line],
) -> ApiResult<Imported> {
    let numbers: Vec<String> = lines.iter().map(|l| l.learner_number.clone()).collect();
    let taken: HashSet<String> = sqlx::query_scalar!(
        "SELECT learner_number FROM sis.learners WHERE school_id = $1 AND learner_number = ANY ($2)",
        school as SchoolId,
        &numbers,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let today = Utc::now().date_naive();
    // The school year of the latest term that has started (the calendar year otherwise).
    let year = sqlx::query_scalar!(
        "SELECT academic_year FROM ref.terms WHERE start_date <= $1
         ORDER BY start_date DESC LIMIT 1",
        today,
    )
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or(today.year());
    let classes: HashMap<(String, String), ClassId> = sqlx::query!(
        r#"SELECT id AS "id: ClassId", grade, name FROM academic.classes
           WHERE school_id = $1 AND academic_year = $2"#,
        school as SchoolId,
        year,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|c| ((c.grade, c.name.to_lowercase()), c.id))
    .collect();
    let mut errors = Vec::new();
    for l in lines {
        if taken.contains(&l.learner_number) {
            err(&mut errors, l.line, "learner_number", "already a learner of this school");
        }
        if let (Some(g), Some(c)) = (l.grade, &l.class)
            && !classes.contains_key(&(g.as_str().to_owned(), c.to_lowercase()))
        {
            err(
                &mut errors,
                l.line,
                "class",
                format!("no class {c:?} in {} for {year}", g.as_str()),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // Enrolled from the day of the import.
    let start = today;
    let mut done = Imported { learners: 0, enrolments: 0, guardians: 0 };
    for l in lines {
        let id = LearnerId::new();
        sqlx::query!(
            "INSERT INTO sis.learners (id, school_id, learner_number, first_name, last_name, sex,
                 date_of_birth, national_id, birth_entry_number, home_language, disability, is_ovc,
                 is_beam)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            id as LearnerId,
            school as SchoolId,
            l.learner_number,
            l.first_name,
            l.last_name,
            l.sex.as_str(),
            l.date_of_birth,
            l.national_id,
            l.birth_entry_number,
            l.home_language,
            l.disability,
            l.is_ovc,
            l.is_beam,
        )
        .execute(&mut *tx)
        .await?;
        done.learners += 1;
        if let Some(g) = l.grade {
            let class = l
                .class
                .as_ref()
                .and_then(|c| classes.get(&(g.as_str().to_owned(), c.to_lowercase())));
            sqlx::query!(
                "INSERT INTO sis.enrolments (id, school_id, learner_id, academic_year, grade,
                     class_id, entry_type, start_date)
                 VALUES ($1, $2, $3, $4, $5, $6, 'new', $7)",
                EnrolmentId::new() as EnrolmentId,
                school as SchoolId,
                id as LearnerId,
                year,
                g.as_str(),
                class.copied() as Option<ClassId>,
                start,
            )
            .execute(&mut *tx)
            .await?;
            done.enrolments += 1;
        }
        if let Some((name, phone, relationship)) = &l.guardian {
            let guardian = Uuid::now_v7();
            sqlx::query!(
                "INSERT INTO sis.guardians (id, school_id, full_name, phone) VALUES ($1, $2, $3, $4)",
                guardian,
                school as SchoolId,
                name,
                phone.as_deref(),
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "INSERT INTO sis.learner_guardians (learner_id, guardian_id, school_id,
                     relationship, is_primary)
                 VALUES ($1, $2, $3, $4, true)",
                id as LearnerId,
                guardian,
                school as SchoolId,
                relationship,
            )
            .execute(&mut *tx)
            .await?;
            done.guardians += 1;
        }
    }
    Ok(done)
}

/// A school's learners with an open enrolment, and each one's first guardian, in the import's
/// layout (a file exported can be edited and imported into another system, or kept).
#[utoipa::path(get, path = "/schools/{id}/learners/export", tag = "learners",
    params(("id" = Uuid, Path, description = "school id")),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn export_learners(
    State(state): State<AppState>,
    user: AuthUser,
    request_id: crate::state::RequestId,
    Path(school): Path<SchoolId>,
) -> ApiResult<Response> {
    user.require(OFFICE)?;
    user.require_school(school)?;
    let mut tx = begin_scoped(&state.pool, &user).await?;
    let rows = sqlx::query!(
        r#"SELECT l.id, l.learner_number, l.first_name, l.last_name, l.sex, l.date_of_birth,
                  l.national_id, l.birth_entry_number, l.home_language, l.disability, l.is_ovc,
                  l.is_beam, e.grade AS "grade?", c.name AS "class?", g.full_name AS "guardian_name?",
                  g.phone AS "guardian_phone?", lg.relationship AS "relationship?"
           FROM sis.learners l
           LEFT JOIN sis.enrolments e ON e.learner_id = l.id AND e.end_date IS NULL
           LEFT JOIN academic.classes c ON c.id = e.class_id
           LEFT JOIN sis.learner_guardians lg ON lg.learner_id = l.id AND lg.is_primary
           LEFT JOIN sis.guardians g ON g.id = lg.guardian_id
           WHERE l.school_id = $1 AND l.status = 'active'
           ORDER BY l.learner_number LIMIT 20000"#,
        school as SchoolId,
    )
    .fetch_all(&mut *tx)
    .await?;
    let read: Vec<(Uuid, Uuid)> = rows.iter().map(|r| (r.id, school.as_uuid())).collect();
    crate::learners::audit_reads(&mut tx, &user, &request_id, "export", &read).await?;
    tx.commit().await?;
    let mut out = COLUMNS.join(",");
    out.push('\n');
    let flag = |b: bool| if b { "yes" } else { "no" };
    for r in &rows {
        let cells = [
            r.learner_number.as_str(),
            &r.first_name,
            &r.last_name,
            &r.sex,
            &r.date_of_birth.to_string(),
            r.national_id.as_deref().unwrap_or(""),
            r.birth_entry_number.as_deref().unwrap_or(""),
            r.home_language.as_deref().unwrap_or(""),
            r.disability.as_deref().unwrap_or(""),
            flag(r.is_ovc),
            flag(r.is_beam),
            r.grade.as_deref().unwrap_or(""),
            r.class.as_deref().unwrap_or(""),
            r.guardian_name.as_deref().unwrap_or(""),
            r.guardian_phone.as_deref().unwrap_or(""),
            r.relationship.as_deref().unwrap_or(""),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok(csv_response(out, "learners.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).expect("date")
    }

    #[test]
    fn a_good_file_parses_with_its_template_layout() {
        let file = format!(
            "\u{feff}{}\nA-1,Zoë,Mpofu-Ndlovu,f,2016-02-01,,,Ndebele,,yes,no,g3,3 Msasa,Nokuthula Mpofu,077 123 4567,Mother\nA-2,Tendai,Moyo,M,2015-05-05,,,,,,,,,,,\n",
            COLUMNS.join(",")
        );
        let lines = parse(file.as_bytes(), today()).expect("parses");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].first_name, "Zoë");
        assert_eq!(lines[0].grade, Some(Grade::G3));
        assert_eq!(
            lines[0].guardian,
            Some(("Nokuthula Mpofu".into(), Some("+263771234567".into()), "mother".into()))
        );
        assert!(lines[0].is_ovc && !lines[0].is_beam);
        assert_eq!((lines[1].grade, lines[1].guardian.clone()), (None, None));
    }

    #[test]
    fn every_bad_line_and_field_is_reported() {
        let file = "learner_number,first_name,last_name,sex,date_of_birth,guardian_phone,guardian_name,guardian_relationship\n\
                    A-1,Rudo,Moyo,F,2016-01-01,,,\n\
                    A-1,R2,Moyo,X,01/02/2016,,,\n\
                    A-3,Chipo,Dube,F,2030-01-01,12345,Someone,auntie\n";
        let errors = parse(file.as_bytes(), today()).expect_err("bad lines");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "line 3: learner_number",
                "line 3: first_name",
                "line 3: sex",
                "line 3: date_of_birth",
                "line 4: date_of_birth",
                "line 4: guardian_phone",
                "line 4: guardian_relationship",
            ]
        );
        assert!(errors[0].reason.contains("line 2"), "{}", errors[0].reason);
    }

    #[test]
    fn a_wrong_header_is_refused_before_any_line() {
        let errors = parse(b"number,name\n1,x\n", today()).expect_err("header");
        assert!(errors.iter().any(|e| e.reason.contains("learner_number is missing")));
        assert!(errors.iter().any(|e| e.reason.contains("unknown column \"name\"")));
        let empty = format!("{}\n", COLUMNS.join(","));
        assert_eq!(
            parse(empty.as_bytes(), today()).expect_err("empty")[0].reason,
            "the file has no learners"
        );
    }
}
