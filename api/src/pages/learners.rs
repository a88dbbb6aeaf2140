//! Finding a learner, a learner's page (record, guardians, fees with a payment form, report
//! cards), and admitting a learner: the record, the enrolment in a class and the first guardian
//! in one transaction, all or nothing.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate, Utc};
use oneclass_core::ids::{ClassId, LearnerId};
use oneclass_core::types::{EntryType, Grade, Phone, Role, Sex};
use oneclass_i18n::Lang;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::{Staff, form_problem, non_empty, page_error, render};
use crate::academic::{self, Term};
use crate::auth::{AuthUser, begin_scoped};
use crate::error::{ApiError, FieldError};
use crate::extract::PageLang;
use crate::extract::{ValidJson, Validate};
use crate::fees::{self, Account, Currency, NewPayment};
use crate::guardians::{self, Guardian, NewGuardian, RELATIONSHIPS};
use crate::idempotency::IDEMPOTENCY_KEY;
use crate::learners::{self, Learner, LearnerQuery, NewEnrolment, NewLearner};
use crate::register::{self, Class};
use crate::state::{AppState, RequestId};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/app/learners", get(search_page))
        .route("/app/learners/new", get(admit_page).post(admit))
        .route("/app/learners/{id}", get(learner_page))
        .route("/app/learners/{id}/payments", post(pay))
}

/// Who may record payments (the API's keepers of the books).
const KEEPERS: &[Role] = &[Role::Bursar, Role::SchoolHead];
/// Who may open report cards.
const CARD_READERS: &[Role] = &[Role::SchoolHead, Role::Deputy, Role::Teacher, Role::Registrar];
const METHODS: [&str; 4] = ["cash", "ecocash", "bank", "beam"];

#[derive(Template)]
#[template(path = "page_learners.html")]
struct SearchPage {
    lang: Lang,
    q: String,
    learners: Vec<Learner>,
    more: bool,
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
}

async fn search_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    request_id: RequestId,
    Query(p): Query<SearchParams>,
) -> Response {
    let q = p.q.trim().to_owned();
    if q.is_empty() {
        return Redirect::to("/app/").into_response();
    }
    let query = LearnerQuery {
        limit: Some(50),
        after: None,
        school_id: None,
        q: Some(q.clone()),
        grade: None,
        class_id: None,
        sex: None,
        status: None,
    };
    match learners::list_learners(State(state), user, request_id, Query(query)).await {
        Ok(page) => {
            let more = page.0.next_after.is_some();
            render(StatusCode::OK, &SearchPage { lang, q, learners: page.0.items, more })
        }
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "page_learner.html")]
struct LearnerPage {
    lang: Lang,
    learner: Learner,
    guardians: Vec<Guardian>,
    /// None when the user may not see fees.
    account: Option<Account>,
    /// The report cards the user may open: the terms of this year that have begun.
    cards: Vec<Term>,
    can_pay: bool,
    /// Whether the user may write to the learner's guardians.
    can_message: bool,
    /// A fresh key for the payment form, so a second tap records nothing more.
    key: Uuid,
    methods: [&'static str; 4],
    receipt: Option<i64>,
    error: Option<String>,
}

impl LearnerPage {
    fn term_text(&self, t: &Term) -> String {
        let (term, year) = (t.term.to_string(), t.academic_year.to_string());
        self.lang.t_args("term-of-year", &[("term", term), ("year", year)])
    }

    /// The invoices a payment may go to, newest first, as (id, label).
    fn invoices(&self) -> Vec<(Uuid, String)> {
        let Some(account) = &self.account else { return Vec::new() };
        let mut out: Vec<(Uuid, String)> = account
            .entries
            .iter()
            .filter(|e| e.kind == "invoice")
            .map(|e| {
                let label =
                    format!("Term {} {}: {} {}", e.term, e.academic_year, e.currency, e.amount);
                (e.id, label)
            })
            .collect();
        out.reverse();
        out
    }
}

#[derive(Deserialize)]
struct LearnerParams {
    receipt: Option<i64>,
}

async fn learner_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    request_id: RequestId,
    Path(id): Path<LearnerId>,
    Query(p): Query<LearnerParams>,
) -> Response {
    show_learner(&state, lang, user, request_id, id, p.receipt, None).await
}

async fn show_learner(
    state: &AppState,
    lang: Lang,
    user: AuthUser,
    request_id: RequestId,
    id: LearnerId,
    receipt: Option<i64>,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    // The read of the record is audited by the API's own handler.
    let learner = match learners::get_learner(
        State(state.clone()),
        user.clone(),
        request_id.clone(),
        Path(id),
    )
    .await
    {
        Ok(l) => l.0,
        Err(e) => return page_error(e),
    };
    let guardians =
        match guardians::list_guardians(State(state.clone()), user.clone(), request_id, Path(id))
            .await
        {
            Ok(g) => g.0,
            Err(e) => return page_error(e),
        };
    let account = match fees::account(State(state.clone()), user.clone(), Path(id)).await {
        Ok(a) => Some(a.0),
        Err(ApiError::Forbidden) => None,
        Err(e) => return page_error(e),
    };
    let today = Utc::now().date_naive();
    let cards = if CARD_READERS.contains(&user.role) {
        let q = academic::TermQuery { year: Some(today.year()) };
        match academic::list_terms(State(state.clone()), user.clone(), Query(q)).await {
            Ok(terms) => terms.0.into_iter().filter(|t| t.start_date <= today).collect(),
            Err(e) => return page_error(e),
        }
    } else {
        Vec::new()
    };
    let page = LearnerPage {
        lang,
        learner,
        guardians,
        account,
        cards,
        can_pay: KEEPERS.contains(&user.role),
        can_message: crate::messages::STAFF.contains(&user.role),
        key: Uuid::new_v4(),
        methods: METHODS,
        receipt,
        error,
    };
    render(status, &page)
}

#[derive(Debug, Deserialize)]
struct PaymentForm {
    key: String,
    invoice_id: Uuid,
    currency: String,
    amount: String,
    #[serde(default)]
    exchange_rate: Option<String>,
    method: String,
    #[serde(default)]
    reference: Option<String>,
}

/// The form as the API's payment, or what is wrong with it.
fn payment_of(form: &PaymentForm) -> Result<NewPayment, Vec<FieldError>> {
    let mut errors = Vec::new();
    let currency = match form.currency.as_str() {
        "USD" => Some(Currency::Usd),
        "ZWG" => Some(Currency::Zwg),
        _ => {
            errors.push(FieldError::new("currency", "must be USD or ZWG"));
            None
        }
    };
    let amount = form.amount.trim().replace(',', "").parse::<Decimal>().ok();
    if amount.is_none() {
        errors.push(FieldError::new("amount", "must be an amount such as 45.50"));
    }
    let rate = match non_empty(&form.exchange_rate) {
        None => Some(None),
        Some(r) => r.replace(',', "").parse::<Decimal>().ok().map(Some),
    };
    if rate.is_none() {
        errors.push(FieldError::new("exchange_rate", "must be a number such as 26.8"));
    }
    match (currency, amount, rate) {
        (Some(currency), Some(amount), Some(exchange_rate)) if errors.is_empty() => {
            let payment = NewPayment {
                invoice_id: form.invoice_id,
                currency,
                amount,
                exchange_rate,
                method: form.method.clone(),
                paid_on: None,
                reference: non_empty(&form.reference).map(str::to_owned),
            };
            let errors = payment.validate();
            if errors.is_empty() { Ok(payment) } else { Err(errors) }
        }
        _ => Err(errors),
    }
}

/// Records a payment through the API's own handler (idempotent by the form's key: a second tap
/// answers with the first receipt), then shows the learner's page with the receipt number.
async fn pay(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    request_id: RequestId,
    Path(id): Path<LearnerId>,
    Form(form): Form<PaymentForm>,
) -> Response {
    let mut headers = HeaderMap::new();
    match HeaderValue::from_str(form.key.trim()) {
        Ok(key) => headers.insert(IDEMPOTENCY_KEY, key),
        Err(_) => return ApiError::field("key", "not a usable key").into_response(),
    };
    let recorded = match payment_of(&form) {
        Ok(payment) => {
            fees::record_payment(
                State(state.clone()),
                user.clone(),
                Path(id),
                headers,
                ValidJson(payment),
            )
            .await
        }
        Err(errors) => Err(ApiError::Validation(errors)),
    };
    let failed = match recorded {
        Ok(answer) if answer.status().is_success() => {
            let body = axum::body::to_bytes(answer.into_body(), 64 * 1024).await;
            let receipt = body
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["receipt_number"].as_i64());
            let to = match receipt {
                Some(n) => format!("/app/learners/{id}?receipt={n}"),
                None => format!("/app/learners/{id}"),
            };
            return Redirect::to(&to).into_response();
        }
        // A replayed failure, or the key used for another payment: the API's answer as it is.
        Ok(answer) => return answer,
        Err(e) => e,
    };
    match form_problem(&failed) {
        Some(msg) => show_learner(&state, lang, user, request_id, id, None, Some(msg)).await,
        None => page_error(failed),
    }
}

#[derive(Template)]
#[template(path = "page_admit.html")]
struct AdmitPage {
    lang: Lang,
    classes: Vec<Class>,
    relationships: [&'static str; 8],
    form: AdmitForm,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AdmitForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    sex: String,
    date_of_birth: Option<NaiveDate>,
    #[serde(default)]
    learner_number: String,
    class_id: Option<ClassId>,
    /// Checkboxes: present when ticked.
    is_beam: Option<String>,
    is_ovc: Option<String>,
    guardian_name: Option<String>,
    guardian_phone: Option<String>,
    #[serde(default)]
    relationship: String,
}

async fn admit_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
) -> Response {
    show_admit(&state, lang, &user, AdmitForm::default(), None, StatusCode::OK).await
}

async fn show_admit(
    state: &AppState,
    lang: Lang,
    user: &AuthUser,
    form: AdmitForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    if let Err(e) = user.require(&[Role::Registrar, Role::SchoolHead, Role::Deputy]) {
        return page_error(e);
    }
    let year = Utc::now().date_naive().year();
    match register::visible_classes(state, user, Some(year)).await {
        Ok(classes) => {
            render(status, &AdmitPage { lang, classes, relationships: RELATIONSHIPS, form, error })
        }
        Err(e) => page_error(e),
    }
}

/// The form as the API's learner and guardian, or what is wrong with it.
fn admission_of(
    form: &AdmitForm,
) -> Result<(NewLearner, ClassId, Option<NewGuardian>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let sex = form.sex.parse::<Sex>().ok();
    if sex.is_none() {
        errors.push(FieldError::new("sex", "choose F or M"));
    }
    if form.date_of_birth.is_none() {
        errors.push(FieldError::new("date_of_birth", "required"));
    }
    if form.class_id.is_none() {
        errors.push(FieldError::new("class_id", "choose the class"));
    }
    let phone = match non_empty(&form.guardian_phone) {
        None => Ok(None),
        Some(p) => Phone::parse(p).map(Some),
    };
    if phone.is_err() {
        errors
            .push(FieldError::new("guardian_phone", "not a Zimbabwe phone number (077 123 4567)"));
    }
    let guardian_name = non_empty(&form.guardian_name);
    if guardian_name.is_none() && matches!(phone, Ok(Some(_))) {
        errors.push(FieldError::new("guardian_name", "required with a phone number"));
    }
    let (Some(sex), Some(date_of_birth), Some(class_id), Ok(phone)) =
        (sex, form.date_of_birth, form.class_id, phone)
    else {
        return Err(errors);
    };
    let learner = NewLearner {
        school_id: None,
        learner_number: form.learner_number.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        sex,
        date_of_birth,
        national_id: None,
        birth_entry_number: None,
        home_language: None,
        disability: None,
        is_ovc: form.is_ovc.is_some(),
        is_beam: form.is_beam.is_some(),
    };
    errors.extend(learner.validate());
    let guardian = guardian_name.map(|name| NewGuardian {
        guardian_id: None,
        full_name: Some(name.to_owned()),
        phone,
        email: None,
        national_id: None,
        relationship: form.relationship.clone(),
        may_collect: true,
        pays_fees: true,
        is_primary: true,
    });
    if let Some(g) = &guardian {
        errors.extend(g.validate().into_iter().map(|e| {
            FieldError::new(
                if e.field == "full_name" { "guardian_name".into() } else { e.field },
                e.reason,
            )
        }));
    }
    if errors.is_empty() { Ok((learner, class_id, guardian)) } else { Err(errors) }
}

/// Admits a learner: the record, the enrolment in the chosen class (its year and grade, from
/// today) and the first guardian, in one transaction.
async fn admit(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Staff(user): Staff,
    Form(form): Form<AdmitForm>,
) -> Response {
    let admitted = match admission_of(&form) {
        Ok((learner, class_id, guardian)) => {
            write_admission(&state, &user, &learner, class_id, guardian.as_ref()).await
        }
        Err(errors) => Err(ApiError::Validation(errors)),
    };
    match admitted {
        Ok(id) => Redirect::to(&format!("/app/learners/{id}")).into_response(),
        Err(e) => match form_problem(&e) {
            Some(msg) => {
                show_admit(&state, lang, &user, form, Some(msg), StatusCode::UNPROCESSABLE_ENTITY)
                    .await
            }
            None => page_error(e),
        },
    }
}

async fn write_admission(
    state: &AppState,
    user: &AuthUser,
    new: &NewLearner,
    class_id: ClassId,
    guardian: Option<&NewGuardian>,
) -> Result<LearnerId, ApiError> {
    user.require(&[Role::Registrar, Role::SchoolHead, Role::Deputy])?;
    let mut tx = begin_scoped(&state.pool, user).await?;
    let class = register::visible_class(&mut tx, user, class_id)
        .await
        .map_err(|_| ApiError::field("class_id", "not a class of your school"))?;
    let grade =
        class.grade.parse::<Grade>().map_err(|_| ApiError::Internal(class.grade.clone()))?;
    let school = user.school_for_write(Some(class.school_id))?;
    let learner = learners::insert_learner(&mut tx, school, new).await.map_err(|e| match e {
        ApiError::Database(db)
            if db.as_database_error().is_some_and(|d| d.is_unique_violation()) =>
        {
            ApiError::field("learner_number", "already used at this school")
        }
        other => other,
    })?;
    let enrolment = NewEnrolment {
        learner_id: learner.id,
        academic_year: class.academic_year,
        grade,
        class_id: Some(class_id),
        entry_type: EntryType::New,
        start_date: Utc::now().date_naive(),
    };
    learners::insert_enrolment(&mut tx, &enrolment).await?;
    if let Some(g) = guardian {
        guardians::insert_guardian(&mut tx, learner.id, g).await?;
    }
    tx.commit().await?;
    Ok(learner.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PaymentForm {
        PaymentForm {
            key: "k".into(),
            invoice_id: Uuid::nil(),
            currency: "USD".into(),
            amount: "1,045.50".into(),
            exchange_rate: Some(String::new()),
            method: "cash".into(),
            reference: Some(" ".into()),
        }
    }

    #[test]
    fn a_payment_form_reads_amounts_as_typed_and_names_bad_fields() {
        let p = payment_of(&form()).expect("valid");
        assert_eq!(p.amount, Decimal::new(104_550, 2));
        assert_eq!((p.exchange_rate, p.reference), (None, None));
        let bad = PaymentForm {
            currency: "EUR".into(),
            amount: "lots".into(),
            exchange_rate: Some("x".into()),
            ..form()
        };
        let mut fields: Vec<String> =
            payment_of(&bad).expect_err("invalid").into_iter().map(|e| e.field).collect();
        fields.sort();
        assert_eq!(fields, ["amount", "currency", "exchange_rate"]);
        let cheque = PaymentForm { method: "cheque".into(), ..form() };
        let fields: Vec<String> =
            payment_of(&cheque).expect_err("invalid").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["method"]);
    }

    #[test]
    fn an_admission_needs_its_class_and_a_guardian_with_a_phone() {
        let form = AdmitForm {
            first_name: "Tendai".into(),
            last_name: "Moyo".into(),
            sex: "F".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2015, 3, 2),
            learner_number: "L-1".into(),
            class_id: None,
            guardian_phone: Some("077 123".into()),
            relationship: "mother".into(),
            ..AdmitForm::default()
        };
        let mut fields: Vec<String> =
            admission_of(&form).expect_err("invalid").into_iter().map(|e| e.field).collect();
        fields.sort();
        assert_eq!(fields, ["class_id", "guardian_phone"]);
        let form = AdmitForm {
            class_id: Some(ClassId::new()),
            guardian_phone: Some("0771234567".into()),
            guardian_name: Some("Rudo Moyo".into()),
            ..form
        };
        let (learner, _, guardian) = admission_of(&form).expect("valid");
        assert_eq!(learner.first_name, "Tendai");
        assert_eq!(
            guardian.and_then(|g| g.phone).map(|p| p.as_str().to_owned()),
            Some("+263771234567".into())
        );
    }
}
