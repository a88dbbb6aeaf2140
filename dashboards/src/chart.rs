//! Server-side SVG charts: pure functions from rows to markup, so pages need no JavaScript, no
//! external assets, and render the same in every browser and in tests.

use std::fmt::Write as _;

/// One bar: a labelled value, or a suppressed cell that shows a note instead of a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct BarRow {
    pub label: String,
    pub value: f64,
    pub suppressed: bool,
}

/// What the chart is and how to print its values.
#[derive(Debug, Clone, Copy)]
pub struct BarChart<'a> {
    /// Read out by screen readers and shown as a tooltip.
    pub title: &'a str,
    /// The value of a full-width bar; percentages use 100 so charts compare across pages.
    pub max: f64,
    /// Appended to printed values, e.g. "%".
    pub unit: &'a str,
    /// Shown in place of a suppressed bar, e.g. "<5".
    pub suppressed_text: &'a str,
}

const WIDTH: f64 = 640.0;
const LABEL_WIDTH: f64 = 200.0;
const VALUE_WIDTH: f64 = 64.0;
const ROW_HEIGHT: f64 = 26.0;
const BAR_HEIGHT: f64 = 18.0;
const PADDING: f64 = 6.0;
/// Longer labels are cut (the full text stays in the row's tooltip).
const LABEL_CHARS: usize = 28;
const BAR_COLOUR: &str = "#2f6f4f";
const TEXT_COLOUR: &str = "#1d1d1d";
const MUTED_COLOUR: &str = "#6b6b6b";

impl BarChart<'_> {
    /// A horizontal bar chart with one bar per row, in the rows' order.
    pub fn render(&self, rows: &[BarRow]) -> String {
        let bar_space = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        let height = PADDING * 2.0 + ROW_HEIGHT * rows.len() as f64;
        let title = escape(self.title);
        let mut svg = String::with_capacity(256 + rows.len() * 320);
        // Writing to a String cannot fail, so the fmt::Result of each write! is ignored below.
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{title}" font-family="system-ui,sans-serif" font-size="13"><title>{title}</title>"#
        );
        for (i, row) in rows.iter().enumerate() {
            let top = PADDING + ROW_HEIGHT * i as f64;
            let text_y = top + ROW_HEIGHT / 2.0 + 4.5;
            let label = escape(&row.label);
            let short = escape(&shorten(&row.label, LABEL_CHARS));
            let value_text = if row.suppressed {
                escape(self.suppressed_text)
            } else {
                escape(&format!("{}{}", format_value(row.value), self.unit))
            };
            let _ = write!(
                svg,
                r#"<g><title>{label}: {value_text}</title><text x="{x}" y="{text_y}" text-anchor="end" fill="{TEXT_COLOUR}">{short}</text>"#,
                x = LABEL_WIDTH - 8.0,
            );
            let value_x = if row.suppressed {
                LABEL_WIDTH + 4.0
            } else {
                let width = bar_width(row.value, self.max, bar_space);
                let _ = write!(
                    svg,
                    r#"<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1}" height="{BAR_HEIGHT}" fill="{BAR_COLOUR}"/>"#,
                    y = top + (ROW_HEIGHT - BAR_HEIGHT) / 2.0,
                );
                LABEL_WIDTH + width + 4.0
            };
            let colour = if row.suppressed { MUTED_COLOUR } else { TEXT_COLOUR };
            let _ = write!(
                svg,
                r#"<text x="{value_x:.1}" y="{text_y}" fill="{colour}">{value_text}</text></g>"#
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

/// Bars never run past the chart or backwards, whatever the data says.
fn bar_width(value: f64, max: f64, space: f64) -> f64 {
    if !value.is_finite() || !max.is_finite() || max <= 0.0 {
        return 0.0;
    }
    (value / max).clamp(0.0, 1.0) * space
}

/// One decimal, as the dashboards print rates.
pub fn format_value(value: f64) -> String {
    if value.is_finite() { format!("{value:.1}") } else { "–".to_owned() }
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max_chars - 1).collect();
    short.push('…');
    short
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> BarChart<'static> {
        BarChart {
            title: "Attendance rate by province",
            max: 100.0,
            unit: "%",
            suppressed_text: "<5",
        }
    }

    fn row(label: &str, value: f64, suppressed: bool) -> BarRow {
        BarRow { label: label.to_owned(), value, suppressed }
    }

    #[test]
    fn one_bar_per_row_with_value_labels_and_title() {
        let svg = chart().render(&[row("Harare", 62.5, false), row("Bulawayo", 100.0, false)]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("<title>Attendance rate by province</title>"));
        assert!(svg.contains("role=\"img\""));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">62.5%</text>") && svg.contains(">100.0%</text>"));
        assert!(svg.contains("<title>Harare: 62.5%</title>"));
        // 62.5 % of the 376-unit bar area; a full bar spans all of it.
        assert!(svg.contains("width=\"235.0\""), "{svg}");
        assert!(svg.contains("width=\"376.0\""), "{svg}");
    }

    #[test]
    fn suppressed_rows_have_no_bar() {
        let svg = chart().render(&[row("Tiny School", 40.0, true), row("Big School", 80.0, false)]);
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains(">&lt;5</text>"));
        assert!(!svg.contains("40.0"), "a suppressed value must not leak: {svg}");
    }

    #[test]
    fn text_is_escaped() {
        let svg = BarChart { title: "A & B <script>", ..chart() }.render(&[row(
            "St Mary's \"Mission\" <b>",
            50.0,
            false,
        )]);
        assert!(svg.contains("A &amp; B &lt;script&gt;"));
        assert!(svg.contains("St Mary&#39;s &quot;Mission&quot; &lt;b&gt;"));
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
    }

    #[test]
    fn odd_values_stay_inside_the_chart() {
        assert_eq!(bar_width(150.0, 100.0, 376.0), 376.0);
        assert_eq!(bar_width(-3.0, 100.0, 376.0), 0.0);
        assert_eq!(bar_width(f64::NAN, 100.0, 376.0), 0.0);
        assert_eq!(bar_width(10.0, 0.0, 376.0), 0.0);
    }

    #[test]
    fn long_labels_are_shortened_but_kept_in_the_tooltip() {
        let long = "Chief Mangwende Memorial Secondary School of Excellence";
        let svg = chart().render(&[row(long, 90.0, false)]);
        assert!(svg.contains(&format!("<title>{long}: 90.0%</title>")));
        assert!(svg.contains("Chief Mangwende Memorial Se…"));
    }

    #[test]
    fn an_empty_chart_is_still_valid_svg() {
        let svg = chart().render(&[]);
        assert!(svg.contains("viewBox=\"0 0 640 12\"") && svg.ends_with("</svg>"));
    }
}
