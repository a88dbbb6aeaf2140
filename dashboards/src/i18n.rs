//! Every word the dashboards show, in one table per language, so Shona and Ndebele are added by
//! writing a new table rather than by touching templates or handlers.

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

pub static EN: Text = Text {
    lang: "en",
    site_name: "OneClass",
    dashboards: "Dashboards",
    index_intro: "Figures from the school records of the current term, updated as schools mark them.",
    attendance: "Attendance",
    attendance_summary: "Share of daily marks that are present or late, this term.",
    national: "Zimbabwe",
    breadcrumb: "Breadcrumb",
    province: "Province",
    district: "District",
    school: "School",
    sex: "Sex",
    female: "Girls",
    male: "Boys",
    learners: "Learners",
    marks: "Marks",
    rate: "Attendance rate",
    by_province: "Attendance rate by province",
    by_district: "Attendance rate by district",
    by_school: "Attendance rate by school",
    term: "Term",
    term_dates_to: "to",
    no_term: "No school term has started yet.",
    no_marks: "No attendance has been marked this term in this area yet.",
    suppressed: "<5",
    suppressed_note: "Groups with fewer than 5 learners are shown as <5 to protect their \
        privacy; where a total would give them away, one more group is hidden (–).",
    hidden: "–",
    bad_request: "That address is not valid",
    forbidden: "Not shown to you",
    schools_signed_in: "Schools' figures are shown to the officials of their area and to the schools' own staff, once signed in.",
    sign_in: "Sign in",
    school_overview: "School overview",
    beside: "Beside the district and the nation",
    this_school: "This school",
    enrolment_heading: "Enrolment by grade and sex",
    enrolment_by_grade: "Learners by grade",
    grade: "Grade",
    total: "Total",
    attendance_by_class: "Attendance by class",
    attendance_weeks: "Share of marks present or late, this term and in each of its latest weeks (by the week's Monday).",
    class: "Class",
    subject: "Subject",
    mean_mark: "Mean",
    marks_by_subject: "Term marks by subject: learners in each band of their mean mark",
    need_attention: "Learners who need attention",
    need_attention_summary: "By a rule anyone can check: chronic absence, falling marks, over-age for the grade, fees in arrears; each learner's reasons are shown.",
    no_data: "No figures yet.",
    school_too_small: "The area's pages do not show this school's figures (too few learners, or to protect a smaller school beside it), so its own tables are shown only to its staff.",
    furthest: "Schools furthest from this figure",
    difference: "Difference",
    subject_names: &[
        ("ENG", "English"),
        ("MAT", "Mathematics"),
        ("SHO", "Shona"),
        ("NDE", "Ndebele"),
        ("SCI", "Science and Technology"),
        ("SOC", "Heritage–Social Studies"),
        ("AGR", "Agriculture"),
        ("GEO", "Geography"),
        ("HIS", "History"),
        ("ACC", "Accounts"),
        ("PHY", "Physics"),
        ("CHE", "Chemistry"),
        ("BIO", "Biology"),
        ("ECO", "Economics"),
    ],
    server_error: "Something went wrong",
    server_error_detail: "The figures could not be loaded. Please try again in a moment.",
    back_to_dashboards: "Back to the dashboards",
    invalid_parameter: "The parameter is too long or contains characters that are not allowed",
    indicators: "Indicators",
    indicators_summary: "Pupil–teacher ratios, enrolment ratios, attendance and chronic absence \
        by year, with the counts behind every figure.",
    year: "Year",
    value: "Value",
    no_figures: "No figures for this indicator in this area yet.",
    how_computed: "How it is computed",
    download_csv: "Download the table (CSV)",
    unknown_indicator: "There is no indicator of that name",
    indicator_texts: &[
        IndicatorText {
            code: "PTR",
            name: "Pupil–teacher ratio",
            numerator: "Learners",
            denominator: "Teachers",
            formula: "Learners enrolled on the census date (the first Monday of March) ÷ \
                teachers in post that day.",
        },
        IndicatorText {
            code: "PQTR",
            name: "Pupil–trained-teacher ratio",
            numerator: "Learners",
            denominator: "Trained teachers",
            formula: "Learners enrolled on the census date (the first Monday of March) ÷ \
                trained teachers in post that day.",
        },
        IndicatorText {
            code: "ATTENDANCE_RATE",
            name: "Attendance rate",
            numerator: "Present or late",
            denominator: "Marks",
            formula: "Daily marks that are present or late ÷ all daily marks on school days of \
                the year × 100.",
        },
        IndicatorText {
            code: "CHRONIC_ABSENCE_RATE",
            name: "Chronic absence",
            numerator: "Chronically absent",
            denominator: "Learners with marks",
            formula: "Learners absent on at least 10 % of their marked school days ÷ learners \
                with marks × 100.",
        },
        IndicatorText {
            code: "GER_PRIMARY",
            name: "Gross enrolment ratio, primary",
            numerator: "Enrolled",
            denominator: "Population",
            formula: "Learners enrolled in G1–G7 on the census date, any age, ÷ the districts' projected population aged 6–12 × 100.",
        },
        IndicatorText {
            code: "NER_PRIMARY",
            name: "Net enrolment rate, primary",
            numerator: "Enrolled",
            denominator: "Population",
            formula: "Learners aged 6–12 enrolled in G1–G7 on the census date ÷ the districts' projected population aged 6–12 × 100.",
        },
        IndicatorText {
            code: "GER_LOWER_SECONDARY",
            name: "Gross enrolment ratio, lower secondary",
            numerator: "Enrolled",
            denominator: "Population",
            formula: "Learners enrolled in F1–F4 on the census date, any age, ÷ the districts' projected population aged 13–16 × 100.",
        },
        IndicatorText {
            code: "NER_LOWER_SECONDARY",
            name: "Net enrolment rate, lower secondary",
            numerator: "Enrolled",
            denominator: "Population",
            formula: "Learners aged 13–16 enrolled in F1–F4 on the census date ÷ the districts' projected population aged 13–16 × 100.",
        },
        IndicatorText {
            code: "GER_UPPER_SECONDARY",
            name: "Gross enrolment ratio, upper secondary",
            numerator: "Enrolled",
            denominator: "Population",
            formula: "Learners enrolled in F5–F6 on the census date, any age, ÷ the districts' projected population aged 17–18 × 100.",
        },
        IndicatorText {
            code: "NER_UPPER_SECONDARY",
            name: "Net enrolment rate, upper secondary",
            numerator: "Enrolled",
            denominator: "Population",
            formula: "Learners aged 17–18 enrolled in F5–F6 on the census date ÷ the districts' projected population aged 17–18 × 100.",
        },
        IndicatorText {
            code: "GIR",
            name: "Gross intake ratio, Grade 1",
            numerator: "New entrants",
            denominator: "Population aged 6",
            formula: "New entrants to G1 on the census date (new, or promoted from ECD B), any age \
                ÷ the districts' projected population aged 6 × 100.",
        },
        IndicatorText {
            code: "REPETITION_RATE",
            name: "Repetition rate",
            numerator: "Repeaters next year",
            denominator: "Enrolled",
            formula: "Learners repeating the grade the next year ÷ learners enrolled in the grade (census dates) × 100; all grades: the sums over grades.",
        },
        IndicatorText {
            code: "PROMOTION_RATE",
            name: "Promotion rate",
            numerator: "Promoted",
            denominator: "Enrolled",
            formula: "Learners in the next grade the next year, less its repeaters ÷ learners enrolled in the grade × 100.",
        },
        IndicatorText {
            code: "DROPOUT_RATE",
            name: "Dropout rate",
            numerator: "Left",
            denominator: "Enrolled",
            formula: "100 − promotion rate − repetition rate: learners neither promoted nor repeating the next year ÷ learners enrolled × 100.",
        },
        IndicatorText {
            code: "TRANSITION_RATE",
            name: "Transition to secondary",
            numerator: "F1 new entrants",
            denominator: "G7 leavers",
            formula: "New entrants to F1 the next year ÷ (G7 learners less those repeating G7 the next year) × 100.",
        },
        IndicatorText {
            code: "G7_PASS_RATE",
            name: "Grade 7 pass rate",
            numerator: "Passed",
            denominator: "Candidates",
            formula: "Candidates whose aggregate (the units of their best four subjects, 1 best to 9 fail, a missing subject counted as 9) is within the pass threshold (24 unless the deployment sets another) ÷ candidates × 100.",
        },
        IndicatorText {
            code: "O_LEVEL_PASS_RATE",
            name: "O-level pass rate",
            numerator: "Passed",
            denominator: "Candidates",
            formula: "Candidates with five or more subjects at C or better ÷ candidates × 100.",
        },
        IndicatorText {
            code: "BEAM_COVERAGE",
            name: "BEAM coverage",
            numerator: "Supported",
            denominator: "Enrolled",
            formula: "Learners enrolled on the census date with a BEAM payment that year ÷ learners enrolled × 100.",
        },
        IndicatorText {
            code: "FEE_COLLECTION_RATE",
            name: "Fee collection rate",
            numerator: "Paid (USD)",
            denominator: "Invoiced (USD)",
            formula: "Fees paid against the year's invoices, in US dollars (ZiG payments at the rate recorded with them, BEAM's included) ÷ fees invoiced × 100. Invoices in ZiG are left out.",
        },
        IndicatorText {
            code: "GPI_GER_PRIMARY",
            name: "Gender parity index, primary GER",
            numerator: "GER, girls",
            denominator: "GER, boys",
            formula: "r = GER of girls ÷ GER of boys; the index is r where r ≤ 1, else 2 − 1/r (1: parity; below 1: fewer girls).",
        },
        IndicatorText {
            code: "GPI_GER_LOWER_SECONDARY",
            name: "Gender parity index, lower secondary GER",
            numerator: "GER, girls",
            denominator: "GER, boys",
            formula: "r = GER of girls ÷ GER of boys; the index is r where r ≤ 1, else 2 − 1/r (1: parity; below 1: fewer girls).",
        },
        IndicatorText {
            code: "GPI_GER_UPPER_SECONDARY",
            name: "Gender parity index, upper secondary GER",
            numerator: "GER, girls",
            denominator: "GER, boys",
            formula: "r = GER of girls ÷ GER of boys; the index is r where r ≤ 1, else 2 − 1/r (1: parity; below 1: fewer girls).",
        },
        IndicatorText {
            code: "SURVIVAL_G7",
            name: "Survival to Grade 7",
            numerator: "Reaching G7",
            denominator: "G1 entrants",
            formula: "Of 1,000 pupils entering G1, those who reach G7 when each grade G1–G6 \
                promotes, holds back and loses pupils at the year's rates, repeaters trying \
                again at the same rates (the reconstructed cohort) × 100 ÷ 1,000.",
        },
    ],
};

/// The language of a request. Only English is written so far.
pub fn text() -> &'static Text {
    &EN
}

#[cfg(test)]
mod tests {
    /// Every indicator gold holds has its words, so each gets a dashboard page.
    #[test]
    fn every_gold_indicator_has_its_words() {
        let codes: Vec<&str> = oneclass_warehouse::indicator_codes().collect();
        for code in &codes {
            assert!(
                super::EN.indicator_texts.iter().any(|t| t.code == *code),
                "no text for {code}"
            );
        }
        assert_eq!(super::EN.indicator_texts.len(), codes.len());
    }
}
