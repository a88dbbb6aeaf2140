//! CSV answers: fields quoted as RFC 4180 says and never read as formulas, and the response
//! that carries a file (the exports and templates of the API).

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A CSV field, quoted when it must be (RFC 4180), and never read as a formula by a spreadsheet:
/// a value that starts like one gets a leading `'` (numbers and phones such as `+263…` are left
/// as they are; the importer drops such an `'` again).
pub fn csv_field(value: &str) -> String {
    let plain_number = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
    let formula = value.starts_with(['=', '@'])
        || (value.starts_with(['+', '-']) && !plain_number(&value[1..]));
    let guarded = if formula { format!("'{value}") } else { value.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A CSV file as an answer, offered for download as `filename`.
pub fn csv_response(body: String, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("Moyo"), "Moyo");
        assert_eq!(csv_field("O'Brien, Jr"), "\"O'Brien, Jr\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("+263771234567"), "+263771234567");
        assert_eq!(csv_field("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
    }
}
