//! Newsletter bodies: Markdown to sanitised HTML (for Matrix) and to plain text (for SMS).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// Bare `http(s)://` addresses (at the start or after a space) become Markdown autolinks, so that a
/// newsletter written as plain text gets clickable links on Matrix and in its archive. Trailing
/// punctuation stays outside the link; links written as `[text](url)` or `<url>` are left alone.
fn link_bare_urls(markdown: &str) -> std::borrow::Cow<'_, str> {
    static BARE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?m)(^|[ \t])(https?://[^\s<>]*[^\s<>.,;:!?)\]'"*_])"#).expect("the pattern is valid")
    });
    BARE.replace_all(markdown, "$1<$2>")
}

/// Sanitised HTML: the tags Matrix clients render, no scripts, no styles, no images from elsewhere.
pub fn to_html(markdown: &str) -> String {
    let markdown = link_bare_urls(markdown);
    let mut raw = String::new();
    html::push_html(&mut raw, Parser::new_ext(&markdown, Options::ENABLE_STRIKETHROUGH));
    ammonia::Builder::default()
        .tags(
            [
                "p",
                "br",
                "strong",
                "em",
                "del",
                "a",
                "ul",
                "ol",
                "li",
                "blockquote",
                "code",
                "pre",
                "h1",
                "h2",
                "h3",
                "h4",
                "hr",
            ]
            .into(),
        )
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["https", "http", "mailto", "tel", "sms"].into())
        .clean(&raw)
        .to_string()
}

/// Plain text: formatting dropped, links as `text (url)`, bullet items with `- `, numbered items with
/// their numbers (`1. Müller`, a list starting at 12 with `12.`), paragraphs apart.
pub fn to_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut link: Option<String> = None;
    // The open lists, innermost last: the next number of a numbered one, none for bullets.
    let mut lists: Vec<Option<u64>> = Vec::new();
    for ev in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match ev {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::List(start)) => lists.push(start),
            Event::Start(Tag::Item) => match lists.last_mut() {
                Some(Some(n)) => {
                    out.push_str(&format!("{n}. "));
                    *n += 1;
                }
                _ => out.push_str("- "),
            },
            Event::Start(Tag::Link { dest_url, .. }) => link = Some(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = link.take()
                    && !out.ends_with(url.as_str())
                {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::BlockQuote(_)) => {
                out.push_str("\n\n")
            }
            // An item that ends with a list inside it has its line end already.
            Event::End(TagEnd::Item) if !out.ends_with('\n') => out.push('\n'),
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Rule => out.push_str("\n---\n"),
            _ => {}
        }
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_sanitised() {
        let h = to_html(
            "**Sommerfest** am *Samstag*\n\n<script>alert(1)</script>\n\n[Anmeldung](https://example.org/a)\n\n<img src=x onerror=alert(1)>",
        );
        assert!(h.contains("<strong>Sommerfest</strong>") && h.contains("<em>Samstag</em>"));
        assert!(h.contains("href=\"https://example.org/a\""));
        assert!(!h.contains("<script") && !h.contains("onerror") && !h.contains("<img"));
        assert!(!to_html("[x](javascript:alert(1))").contains("javascript"));
    }

    #[test]
    fn bare_addresses_become_links_and_written_links_stay() {
        let h = to_html(
            "Anmeldung: https://verein.example/fest?tag=sa. Oder [hier](https://a.example/x) und <https://b.example/>.",
        );
        assert!(h.contains(r#"<a href="https://verein.example/fest?tag=sa""#), "{h}");
        assert!(h.contains(">https://verein.example/fest?tag=sa</a>."), "the full stop stays outside: {h}");
        assert_eq!(h.matches("<a ").count(), 3, "{h}");
        assert!(to_html("https://x.example/a").contains(r#"href="https://x.example/a""#));
    }

    #[test]
    fn text_keeps_words_and_links() {
        let t = to_text(
            "# Neues\n\n**Sommerfest** am *Samstag*.\n\n- Kuchen\n- Musik\n\nMehr: [hier](https://example.org/a)",
        );
        assert_eq!(t, "Neues\n\nSommerfest am Samstag.\n\n- Kuchen\n- Musik\n\nMehr: hier (https://example.org/a)");
    }

    #[test]
    fn numbered_lists_keep_their_numbers() {
        assert_eq!(
            to_text("Tabelle:\n\n1. Müller\n2. Schmidt\n3. Wagner"),
            "Tabelle:\n\n1. Müller\n2. Schmidt\n3. Wagner"
        );
        assert_eq!(to_text("12. Min: 1:0\n13. Min: 1:1"), "12. Min: 1:0\n13. Min: 1:1");
        assert_eq!(to_text("- 12. Min: 1:0\n- Halbzeit"), "- 12. Min: 1:0\n- Halbzeit");
    }
}
