//! Every word the dashboards show, from the same Fluent files as the staff pages
//! (`i18n/locales/*.ftl`, keys `dash-…`, `subject-…`, `ind-…`), so a translator edits one file per
//! language. Each language's words are read once into a [`Text`] that lives for the whole process.
//!
//! The language of a request is negotiated once by [`layer`] (the user's choice in the
//! `oneclass_lang` cookie, else `Accept-Language`) and kept for the handler's task, so every
//! page and error page a handler renders, [`text`] included, speaks it.

use std::sync::OnceLock;

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use oneclass_i18n::Lang;

/// The dashboards' user-facing text in one language.
#[derive(Debug)]
pub struct Text {
    /// BCP 47 code for `<html lang>`.
    pub lang: &'static str,
    pub site_name: &'static str,
    pub dashboards: &'static str,
    pub index_intro: &'static str,
    pub attendance: &'static str,
    pub attendance_summary: &'static str,
    pub national: &'static str,
    pub breadcrumb: &'static str,
    pub province: &'static str,
    pub district: &'static str,
    pub school: &'static str,
    /// A school page's groups: the learners' sex.
    pub sex: &'static str,
    pub female: &'static str,
    pub male: &'static str,
    pub learners: &'static str,
    pub marks: &'static str,
    pub rate: &'static str,
    pub by_province: &'static str,
    pub by_district: &'static str,
    pub by_school: &'static str,
    pub term: &'static str,
    pub term_dates_to: &'static str,
    pub no_term: &'static str,
    pub no_marks: &'static str,
    /// Shown instead of a count or bar for groups too small to publish.
    pub suppressed: &'static str,
    pub suppressed_note: &'static str,
    /// Shown for a hidden figure of a suppressed group.
    pub hidden: &'static str,
    pub bad_request: &'static str,
    pub forbidden: &'static str,
    /// Why a school's figures are not shown, and who may see them.
    pub schools_signed_in: &'static str,
    pub sign_in: &'static str,
    pub server_error: &'static str,
    pub server_error_detail: &'static str,
    pub back_to_dashboards: &'static str,
    pub invalid_parameter: &'static str,
    pub indicators: &'static str,
    pub indicators_summary: &'static str,
    pub year: &'static str,
    pub value: &'static str,
    pub no_figures: &'static str,
    pub how_computed: &'static str,
    pub download_csv: &'static str,
    pub unknown_indicator: &'static str,
    pub school_overview: &'static str,
    pub beside: &'static str,
    pub this_school: &'static str,
    pub enrolment_heading: &'static str,
    pub enrolment_by_grade: &'static str,
    pub grade: &'static str,
    pub total: &'static str,
    pub attendance_by_class: &'static str,
    pub attendance_weeks: &'static str,
    pub class: &'static str,
    pub subject: &'static str,
    pub mean_mark: &'static str,
    pub marks_by_subject: &'static str,
    pub need_attention: &'static str,
    pub need_attention_summary: &'static str,
    pub no_data: &'static str,
    /// Why an official sees none of a school's own tables.
    pub school_too_small: &'static str,
    /// Heading of the schools furthest from the area's figure.
    pub furthest: &'static str,
    pub difference: &'static str,
    /// The early-warning and projections page.
    pub outlook: &'static str,
    pub outlook_summary: &'static str,
    pub risk_heading: &'static str,
    pub risk_note: &'static str,
    pub risk_expected: &'static str,
    pub risk_high: &'static str,
    pub risk_scored: &'static str,
    pub no_scores: &'static str,
    pub projection_heading: &'static str,
    pub projection_note: &'static str,
    pub primary: &'static str,
    pub secondary: &'static str,
    pub interval: &'static str,
    pub teachers_needed: &'static str,
    pub actual: &'static str,
    pub projected: &'static str,
    pub no_projection: &'static str,
    /// Subject names by code (the Heritage-Based Curriculum's).
    pub subject_names: &'static [(&'static str, &'static str)],
    /// The gold indicators' names and formulas (INDICATORS.md), by code.
    pub indicator_texts: &'static [IndicatorText],
}

/// One indicator's words: its name, what its numerator and denominator count, and the formula.
#[derive(Debug)]
pub struct IndicatorText {
    pub code: &'static str,
    pub name: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub formula: &'static str,
}

/// The indicators the dashboards know, in the order of the index page (INDICATORS.md).
const INDICATOR_CODES: [&str; 23] = [
    "PTR",
    "PQTR",
    "ATTENDANCE_RATE",
    "CHRONIC_ABSENCE_RATE",
    "GER_PRIMARY",
    "NER_PRIMARY",
    "GER_LOWER_SECONDARY",
    "NER_LOWER_SECONDARY",
    "GER_UPPER_SECONDARY",
    "NER_UPPER_SECONDARY",
    "GIR",
    "REPETITION_RATE",
    "PROMOTION_RATE",
    "DROPOUT_RATE",
    "TRANSITION_RATE",
    "G7_PASS_RATE",
    "O_LEVEL_PASS_RATE",
    "BEAM_COVERAGE",
    "FEE_COLLECTION_RATE",
    "GPI_GER_PRIMARY",
    "GPI_GER_LOWER_SECONDARY",
    "GPI_GER_UPPER_SECONDARY",
    "SURVIVAL_G7",
];

/// The learning areas whose names the dashboards show, by code.
const SUBJECT_CODES: [&str; 14] = [
    "ENG", "MAT", "SHO", "NDE", "SCI", "SOC", "AGR", "GEO", "HIS", "ACC", "PHY", "CHE", "BIO",
    "ECO",
];

/// A message of the language, kept for the life of the process (read once per language).
fn word(lang: Lang, key: &str) -> &'static str {
    lang.t(key).leak()
}

macro_rules! text_of {
    ($lang:expr; $($field:ident),* $(,)?) => {
        Text {
            lang: $lang.code(),
            site_name: "OneClass",
            suppressed: "<5",
            hidden: "–",
            $($field: word($lang, concat!("dash-", stringify!($field))),)*
            subject_names: SUBJECT_CODES
                .iter()
                .map(|c| (*c, word($lang, &format!("subject-{c}"))))
                .collect::<Vec<_>>()
                .leak(),
            indicator_texts: INDICATOR_CODES
                .iter()
                .map(|c| IndicatorText {
                    code: c,
                    name: word($lang, &format!("ind-{c}-name")),
                    numerator: word($lang, &format!("ind-{c}-numerator")),
                    denominator: word($lang, &format!("ind-{c}-denominator")),
                    formula: word($lang, &format!("ind-{c}-formula")),
                })
                .collect::<Vec<_>>()
                .leak(),
        }
    };
}

/// The dashboards' words in `lang`.
pub fn text_in(lang: Lang) -> &'static Text {
    static TEXTS: OnceLock<Vec<Text>> = OnceLock::new();
    let all = TEXTS.get_or_init(|| {
        Lang::ALL
            .iter()
            .map(|&lang| text_of!(lang; dashboards, index_intro, attendance, attendance_summary, national, breadcrumb, province, district, school, sex, female, male, learners, marks, rate, by_province, by_district, by_school, term, term_dates_to, no_term, no_marks, suppressed_note, bad_request, forbidden, schools_signed_in, sign_in, server_error, server_error_detail, back_to_dashboards, invalid_parameter, indicators, indicators_summary, year, value, no_figures, how_computed, download_csv, unknown_indicator, school_overview, beside, this_school, enrolment_heading, enrolment_by_grade, grade, total, attendance_by_class, attendance_weeks, class, subject, mean_mark, marks_by_subject, need_attention, need_attention_summary, no_data, school_too_small, furthest, difference, outlook, outlook_summary, risk_heading, risk_note, risk_expected, risk_high, risk_scored, no_scores, projection_heading, projection_note, primary, secondary, interval, teachers_needed, actual, projected, no_projection))
            .collect()
    });
    &all[Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0)]
}

tokio::task_local! {
    static LANG: Lang;
}

/// The words of the request being answered (English outside a request).
pub fn text() -> &'static Text {
    text_in(LANG.try_with(|l| *l).unwrap_or_default())
}

/// Middleware: negotiates the request's language and answers it in that language.
pub async fn layer(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = oneclass_i18n::of_request(cookies, accept);
    LANG.scope(lang, next.run(request)).await
}

#[cfg(test)]
mod tests {
    use oneclass_i18n::Lang;

    use super::*;

    /// Every indicator gold holds has its words, so each gets a dashboard page.
    #[test]
    fn every_gold_indicator_has_its_words() {
        let codes: Vec<&str> = oneclass_warehouse::indicator_codes().collect();
        let t = text_in(Lang::En);
        for code in &codes {
            assert!(t.indicator_texts.iter().any(|t| t.code == *code), "no text for {code}");
        }
        assert_eq!(t.indicator_texts.len(), codes.len());
    }

    /// Every word the dashboards ask for is in the files of every language: a missing key
    /// would show as the key itself.
    #[test]
    fn every_word_is_in_every_language() {
        for lang in Lang::ALL {
            let t = text_in(lang);
            let mut words: Vec<&str> =
                vec![t.dashboards, t.attendance, t.school_overview, t.furthest];
            words.extend(t.subject_names.iter().map(|(_, n)| *n));
            for i in t.indicator_texts {
                words.extend([i.name, i.numerator, i.denominator, i.formula]);
            }
            for w in words {
                assert!(
                    !(w.starts_with("dash-") || w.starts_with("ind-") || w.starts_with("subject-")),
                    "{}: the key {w} has no words",
                    lang.code()
                );
            }
        }
        assert_ne!(text_in(Lang::Sn).attendance, text_in(Lang::En).attendance);
    }

    #[tokio::test]
    async fn a_request_is_answered_in_its_language() {
        assert_eq!(text().lang, "en");
        let lang = LANG.scope(Lang::Nd, async { text().lang }).await;
        assert_eq!(lang, "nd");
    }
}
