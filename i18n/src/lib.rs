//! The words of the pages and messages in English, Shona and Ndebele. Each language is one
//! Fluent file under `i18n/locales/` (`en.ftl`, `sn.ftl`, `nd.ftl`) that a translator edits
//! without touching code; the files are compiled in. A test checks that every message exists in
//! every language and formats without error, and that every key the templates use exists.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    En,
    Sn,
    Nd,
}

/// The Fluent sources, as compiled in.
pub const SOURCES: [(Lang, &str); 3] = [
    (Lang::En, include_str!("../locales/en.ftl")),
    (Lang::Sn, include_str!("../locales/sn.ftl")),
    (Lang::Nd, include_str!("../locales/nd.ftl")),
];

/// The cookie that keeps a user's choice of language on their device.
pub const COOKIE: &str = "oneclass_lang";

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Sn, Lang::Nd];

    /// The BCP 47 code (`<html lang>`, the cookie, `?lang=`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sn => "sn",
            Lang::Nd => "nd",
        }
    }

    /// The language's own name, for the switcher.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Sn => "chiShona",
            Lang::Nd => "isiNdebele",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default();
        Lang::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The user's choice if they made one, else the first of their browser's languages
    /// (`Accept-Language`, by q-value) that we have, else English.
    pub fn negotiate(choice: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = choice.and_then(Lang::from_code) {
            return lang;
        }
        let mut offered: Vec<(f32, Lang)> = accept_language
            .unwrap_or_default()
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let lang = Lang::from_code(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable: of equal weights, the first named wins.
        offered.sort_by(|a, b| b.0.total_cmp(&a.0));
        offered.first().map_or(Lang::En, |(_, l)| *l)
    }

    /// The message `key` in this language (English where a translation is missing, which the
    /// tests forbid; the key itself if English lacks it too).
    pub fn t(self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with one argument (`{ $name }` in the message).
    pub fn t1(self, key: &str, name: &str, value: impl ToString) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), FluentValue::from(value.to_string()));
        self.format(key, Some(&args))
    }

    /// The message `key` with several arguments, as (name, value).
    pub fn t_args(self, key: &str, values: &[(&str, String)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set((*name).to_owned(), FluentValue::from(value.clone()));
        }
        self.format(key, Some(&args))
    }

    /// The message `key` with a number argument (plural forms choose by it).
    pub fn tn(self, key: &str, name: &str, value: f64) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), FluentValue::from(value));
        self.format(key, Some(&args))
    }

    /// The message `key` if the files have it (in English where this language lacks it).
    pub fn lookup(self, key: &str) -> Option<String> {
        self.try_format(key, None)
    }

    fn format(self, key: &str, args: Option<&FluentArgs>) -> String {
        self.try_format(key, args).unwrap_or_else(|| key.to_owned())
    }

    fn try_format(self, key: &str, args: Option<&FluentArgs>) -> Option<String> {
        [self, Lang::En].into_iter().find_map(|lang| {
            let bundle = bundle(lang);
            let pattern = bundle.get_message(key).and_then(|m| m.value())?;
            let mut errors = Vec::new();
            Some(bundle.format_pattern(pattern, args, &mut errors).into_owned())
        })
    }
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static BUNDLES: OnceLock<Vec<FluentBundle<FluentResource>>> = OnceLock::new();
    let all = BUNDLES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, source)| {
                let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // No Unicode isolation marks around arguments: the pages are plain HTML.
                bundle.set_use_isolating(false);
                let resource = match FluentResource::try_new((*source).to_owned()) {
                    Ok(r) => r,
                    // The tests parse every file; a broken file keeps what parsed.
                    Err((r, _)) => r,
                };
                let _ = bundle.add_resource(resource);
                bundle
            })
            .collect()
    });
    &all[Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0)]
}

/// The language a user chose, from the values of a request's `Cookie` headers (the
/// [`COOKIE`] cookie), if any.
pub fn choice_in_cookies<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<String> {
    headers
        .into_iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// The language of a request: the choice in its cookies (the values of its `Cookie` headers),
/// else its `Accept-Language`, else English.
pub fn of_request<'a>(cookies: impl IntoIterator<Item = &'a str>, accept: Option<&str>) -> Lang {
    Lang::negotiate(choice_in_cookies(cookies).as_deref(), accept)
}

/// The message ids of a Fluent source, in order.
pub fn message_ids(source: &str) -> Vec<String> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}
