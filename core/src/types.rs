//! Value types of the domain, parsed once at the edge. Inside the system a value of one of these
//! types is valid; they travel as the text PostgreSQL and the lake store.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Defines a closed set of text codes: the enum, its serde form, its text form and parsing.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        // Written by hand: the derive does not see the renames through this macro, and the
        // document must show the codes that travel ("teacher", not "Teacher").
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownCode { kind: stringify!($name), value: s.to_string() }),
                }
            }
        }
    };
}

/// Text that is valid once parsed: serde reads it through `parse` (the error names the rule
/// broken) and writes it as the normalised text.
macro_rules! parsed_text {
    ($name:ident, $error:ident) => {
        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown {kind} code {value:?}")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub value: String,
}

text_enum!(
    /// Sex as recorded for statistics (`F`/`M`).
    Sex { F => "F", M => "M" }
);

text_enum!(
    /// A grade of the Zimbabwean system: ECD A/B, primary Grade 1–7, secondary Form 1–6.
    Grade {
        EcdA => "ECD_A", EcdB => "ECD_B",
        G1 => "G1", G2 => "G2", G3 => "G3", G4 => "G4", G5 => "G5", G6 => "G6", G7 => "G7",
        F1 => "F1", F2 => "F2", F3 => "F3", F4 => "F4", F5 => "F5", F6 => "F6",
    }
);

impl Grade {
    /// The official age (completed years on 1 January) of a learner in this grade.
    pub fn official_age(self) -> u32 {
        match self {
            Grade::EcdA => 4,
            Grade::EcdB => 5,
            Grade::G1 => 6,
            Grade::G2 => 7,
            Grade::G3 => 8,
            Grade::G4 => 9,
            Grade::G5 => 10,
            Grade::G6 => 11,
            Grade::G7 => 12,
            Grade::F1 => 13,
            Grade::F2 => 14,
            Grade::F3 => 15,
            Grade::F4 => 16,
            Grade::F5 => 17,
            Grade::F6 => 18,
        }
    }

    /// The grade a learner is promoted to; none after Form 6.
    pub fn next(self) -> Option<Grade> {
        let i = Grade::ALL.iter().position(|g| *g == self)?;
        Grade::ALL.get(i + 1).copied()
    }

    /// Early childhood development (ECD A and B): not assessed, no marks or report cards.
    pub fn is_ecd(self) -> bool {
        matches!(self, Grade::EcdA | Grade::EcdB)
    }

    pub fn is_primary(self) -> bool {
        matches!(self, Grade::EcdA | Grade::EcdB) || self.official_age() <= 12
    }
}

text_enum!(
    /// A day's attendance mark.
    AttendanceStatus { Present => "present", Absent => "absent", Late => "late", Excused => "excused" }
);

text_enum!(
    /// How a learner entered an enrolment.
    EntryType {
        New => "new", Repeater => "repeater", TransferIn => "transfer_in", ReEntry => "re_entry",
        Promoted => "promoted",
    }
);

text_enum!(
    /// A ZIMSEC examination, and the scale a class's marks are reported on (`grading`).
    Exam { G7 => "G7", OLevel => "O", ALevel => "A" }
);

text_enum!(
    /// Why an enrolment ended.
    ExitReason {
        Completed => "completed", TransferOut => "transfer_out", Dropout => "dropout",
        Deceased => "deceased", Other => "other",
    }
);

text_enum!(
    SchoolLevel { Primary => "primary", Secondary => "secondary", Combined => "combined" }
);

text_enum!(
    Ownership {
        Government => "government", Council => "council", Mission => "mission",
        Private => "private", Trust => "trust",
    }
);

text_enum!(
    Location { Urban => "urban", Rural => "rural" }
);

text_enum!(
    /// What a signed-in user is; with their scope it decides what they see (ARCHITECTURE.md).
    Role {
        PlatformAdmin => "platform_admin", Ministry => "ministry",
        ProvinceOfficer => "province_officer", DistrictOfficer => "district_officer",
        SchoolHead => "school_head", Deputy => "deputy", Teacher => "teacher", Bursar => "bursar",
        Registrar => "registrar", Parent => "parent", Analyst => "analyst",
    }
);

/// The ten provinces of Zimbabwe.
pub const PROVINCES: [&str; 10] = [
    "Bulawayo",
    "Harare",
    "Manicaland",
    "Mashonaland Central",
    "Mashonaland East",
    "Mashonaland West",
    "Masvingo",
    "Matabeleland North",
    "Matabeleland South",
    "Midlands",
];

/// A Zimbabwean phone number in E.164 form (`+263` and nine digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "+263771234567")]
pub struct Phone(String);

parsed_text!(Phone, InvalidPhone);

#[derive(Debug, Clone, thiserror::Error)]
#[error("not a Zimbabwean phone number: expected +263 and 9 digits, or 0 and 9 digits")]
pub struct InvalidPhone;

impl Phone {
    /// Accepts `+263 77 123 4567`, `0771234567`, `263771234567` (spaces and dashes ignored).
    pub fn parse(input: &str) -> Result<Self, InvalidPhone> {
        let digits: String =
            input.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        let national = if let Some(rest) = digits.strip_prefix("+263") {
            rest
        } else if let Some(rest) = digits.strip_prefix("263") {
            rest
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest
        } else {
            return Err(InvalidPhone);
        };
        if national.len() != 9 || !national.chars().all(|c| c.is_ascii_digit()) {
            return Err(InvalidPhone);
        }
        Ok(Phone(format!("+263{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn phone_normalises_local_and_international_forms() {
        assert_eq!(Phone::parse("077 123 4567").unwrap().as_str(), "+263771234567");
        assert_eq!(Phone::parse("+263 78-123-4567").unwrap().as_str(), "+263781234567");
        assert_eq!(Phone::parse("263711234567").unwrap().as_str(), "+263711234567");
        assert!(Phone::parse("+26377123456").is_err());
        assert!(Phone::parse("+27771234567").is_err());
        assert!(Phone::parse("07712345a7").is_err());
    }

    #[test]
    fn the_openapi_schema_of_a_code_lists_the_codes_that_travel() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Role::schema()).expect("json");
        assert_eq!(schema["type"], "string");
        assert!(schema["enum"].as_array().expect("enum").contains(&"platform_admin".into()));
        let schema = serde_json::to_value(Grade::schema()).expect("json");
        assert_eq!(schema["enum"][0], "ECD_A");
    }

    #[test]
    fn codes_round_trip_and_reject_unknown() {
        for g in Grade::ALL {
            assert_eq!(Grade::from_str(g.as_str()).unwrap(), *g);
        }
        assert!(Sex::from_str("X").is_err());
        assert_eq!(serde_json::to_string(&Grade::EcdA).unwrap(), "\"ECD_A\"");
        assert!(Grade::G7.is_primary());
        assert_eq!(Grade::EcdB.next(), Some(Grade::G1));
        assert_eq!(Grade::G7.next(), Some(Grade::F1));
        assert_eq!(Grade::F6.next(), None);
        assert!(!Grade::F1.is_primary());
    }
}

/// A Zimbabwean national ID, `NN-NNNNNN L NN` (district of registration, serial of 6 or 7
/// digits, check letter, district of origin). The check letter's algorithm is not yet verified
/// against a public description, so it is not enforced (ZIMBABWE.md: warn, don't reject).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "63-123456 A 42")]
pub struct NationalId(String);

parsed_text!(NationalId, InvalidNationalId);

#[derive(Debug, Clone, thiserror::Error)]
#[error("not a national ID: expected NN-NNNNNN L NN (e.g. 63-123456 A 42)")]
pub struct InvalidNationalId;

impl NationalId {
    pub fn parse(input: &str) -> Result<Self, InvalidNationalId> {
        let compact: String =
            input.chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>().to_uppercase();
        let letter_at = compact.find(|c: char| c.is_ascii_alphabetic()).ok_or(InvalidNationalId)?;
        let (digits, rest) = compact.split_at(letter_at);
        let mut rest = rest.chars();
        let letter = rest.next().ok_or(InvalidNationalId)?;
        let origin: String = rest.collect();
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if !(8..=9).contains(&digits.len())
            || !all_digits(digits)
            || origin.len() != 2
            || !all_digits(&origin)
        {
            return Err(InvalidNationalId);
        }
        let (district, serial) = digits.split_at(2);
        Ok(NationalId(format!("{district}-{serial} {letter} {origin}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod national_id_tests {
    use super::NationalId;

    #[test]
    fn accepts_common_spellings_and_rejects_junk() {
        assert_eq!(NationalId::parse("63-123456 A 42").unwrap().as_str(), "63-123456 A 42");
        assert_eq!(NationalId::parse("631234567a42").unwrap().as_str(), "63-1234567 A 42");
        assert!(NationalId::parse("63-12345 A 42").is_err());
        assert!(NationalId::parse("63-123456 42").is_err());
        assert!(NationalId::parse("AB-123456 A 42").is_err());
    }

    #[test]
    fn parsed_while_deserialising() {
        let id: NationalId = serde_json::from_str("\"631234567a42\"").expect("valid");
        assert_eq!(id.as_str(), "63-1234567 A 42");
        let err = serde_json::from_str::<NationalId>("\"12\"").expect_err("junk");
        assert!(err.to_string().contains("expected NN-NNNNNN L NN"), "{err}");
        let phone: super::Phone = serde_json::from_str("\"077 123 4567\"").expect("valid");
        assert_eq!(serde_json::to_string(&phone).expect("json"), "\"+263771234567\"");
        assert!(serde_json::from_str::<super::Phone>("\"+27771234567\"").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::{NationalId, Phone};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn phone_parsing_never_panics_and_is_idempotent(input in "\\PC{0,24}") {
            if let Ok(phone) = Phone::parse(&input) {
                prop_assert!(phone.as_str().starts_with("+263") && phone.as_str().len() == 13);
                prop_assert_eq!(Phone::parse(phone.as_str()).ok(), Some(phone));
            }
        }

        #[test]
        fn every_spelling_of_a_number_is_one_phone(
            digits in "[0-9]{9}",
            prefix in prop::sample::select(vec!["0", "+263", "263", "+263 ", "0 "]),
            dash in any::<bool>(),
        ) {
            let body = if dash { format!("{}-{}-{}", &digits[..2], &digits[2..5], &digits[5..]) } else { digits.clone() };
            let phone = Phone::parse(&format!("{prefix}{body}")).expect("a valid spelling");
            prop_assert_eq!(phone.as_str(), format!("+263{digits}"));
        }

        #[test]
        fn national_id_parsing_never_panics_and_is_idempotent(input in "\\PC{0,24}") {
            if let Ok(id) = NationalId::parse(&input) {
                prop_assert_eq!(NationalId::parse(id.as_str()).ok(), Some(id));
            }
        }

        #[test]
        fn every_spelling_of_an_id_is_one_id(
            district in "[0-9]{2}",
            serial in "[0-9]{6,7}",
            letter in "[A-Za-z]",
            origin in "[0-9]{2}",
            sep in prop::sample::select(vec!["", " ", "-"]),
        ) {
            let id = NationalId::parse(&format!("{district}{sep}{serial}{sep}{letter}{sep}{origin}"))
                .expect("a valid spelling");
            let canonical = format!("{district}-{serial} {} {origin}", letter.to_uppercase());
            prop_assert_eq!(id.as_str(), canonical);
        }
    }
}
