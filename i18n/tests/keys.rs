//! Issue 17, acceptance 5: every message exists in every language, formats without error, and
//! every key a page template asks for exists.

use std::collections::BTreeSet;

use oneclass_i18n::{Lang, SOURCES, message_ids};

#[test]
fn every_message_is_in_every_language_and_formats() {
    let english: BTreeSet<String> = message_ids(SOURCES[0].1).into_iter().collect();
    assert!(english.len() > 50, "the English file holds the pages' words");
    for (lang, source) in SOURCES {
        let parsed = fluent_bundle::FluentResource::try_new(source.to_owned());
        assert!(
            parsed.is_ok(),
            "{}.ftl does not parse: {:?}",
            lang.code(),
            parsed.err().map(|e| e.1)
        );
        let ids: Vec<String> = message_ids(source);
        let keys: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), keys.len(), "{}.ftl names a key twice", lang.code());
        let missing: Vec<&String> = english.difference(&keys).collect();
        let extra: Vec<&String> = keys.difference(&english).collect();
        assert!(missing.is_empty(), "{}.ftl lacks {missing:?}", lang.code());
        assert!(extra.is_empty(), "{}.ftl has keys English lacks: {extra:?}", lang.code());
        for key in &english {
            let text = lang.t1(key, "x", "1");
            assert!(!text.is_empty() && text != *key, "{}: {key} is empty", lang.code());
        }
    }
    // Translations are translations: most messages differ from English.
    for lang in [Lang::Sn, Lang::Nd] {
        let same = english.iter().filter(|k| lang.t(k) == Lang::En.t(k)).count();
        assert!(same * 10 < english.len(), "{}: {same} messages are still English", lang.code());
    }
}

#[test]
fn every_key_the_templates_use_exists() {
    let english: BTreeSet<String> = message_ids(SOURCES[0].1).into_iter().collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/templates");
    let mut used = 0;
    for entry in std::fs::read_dir(&dir).expect("the templates") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("a template");
        // `lang.t("key")`, `lang.t1("key", …)`, `lang.tn("key", …)`.
        for (i, _) in text.match_indices(".t") {
            let rest = &text[i + 2..];
            let rest = rest.trim_start_matches(['1', 'n']);
            let Some(rest) = rest.strip_prefix("(\"") else { continue };
            let key = &rest[..rest.find('"').unwrap_or(0)];
            assert!(english.contains(key), "{}: no message {key}", path.display());
            used += 1;
        }
    }
    assert!(used > 50, "the templates ask for their words by key ({used} found)");
}

#[test]
fn the_language_is_the_users_choice_else_their_browsers_else_english() {
    assert_eq!(Lang::negotiate(Some("nd"), Some("sn,en;q=0.5")), Lang::Nd);
    assert_eq!(Lang::negotiate(None, Some("en-GB;q=0.4, sn-ZW;q=0.9, fr")), Lang::Sn);
    assert_eq!(Lang::negotiate(Some("xx"), Some("fr, de")), Lang::En);
    assert_eq!(Lang::negotiate(None, None), Lang::En);
    assert_eq!(Lang::negotiate(None, Some("nd;q=0, sn;q=0.1")), Lang::Sn);
    assert_eq!(Lang::Sn.t1("register-for", "date", "2026-12-04"), "Rejista ya2026-12-04");
}

#[test]
fn the_choice_is_read_from_any_cookie_header() {
    use oneclass_i18n::choice_in_cookies;
    assert_eq!(choice_in_cookies(["a=1; oneclass_lang=sn; b=2"]).as_deref(), Some("sn"));
    assert_eq!(choice_in_cookies(["a=1", "oneclass_lang=nd"]).as_deref(), Some("nd"));
    assert_eq!(choice_in_cookies(["xoneclass_lang=nd; a=1"]), None);
    assert_eq!(choice_in_cookies([]), None);
}
