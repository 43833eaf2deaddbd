//! WCAG contrast of every text colour in `ui/style.css`, in the light and the dark theme.
//!
//! The stylesheet is parsed (rules, `@media` blocks, custom properties), each theme's palette
//! is resolved (the dark one is the light one with the `prefers-color-scheme: dark` overrides
//! on top, as the browser applies them), and every rule that sets a text colour is checked
//! against the background it sits on: the rule's own `background`, plus the backgrounds named
//! in a `/* contrast-on: --surface --bg #ffffff */` note inside the rule, for text drawn on an
//! inherited background. A rule that sets a text colour and says nothing about its background
//! fails, so no new colour escapes the check. SVG text (`fill`) is checked where the rule
//! carries a note. Every pair must reach 4.5 : 1 (WCAG 2 AA for normal-size text).
//!
//! `cargo test -p herald --test ui_contrast -- --nocapture` prints the table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fmt::Write as _;

const AA: f64 = 4.5;
const NOTE: &str = "contrast-on:";

#[derive(Debug, Default)]
struct Rule {
    selector: String,
    /// The enclosing at-rule preludes, outermost first (`@media (...)`, `@container (...)`).
    within: Vec<String>,
    decls: Vec<(String, String)>,
    /// Backgrounds named by `contrast-on` notes.
    on: Vec<String>,
}

impl Rule {
    fn get(&self, prop: &str) -> Option<&str> {
        self.decls
            .iter()
            .rev()
            .find(|(p, _)| p == prop)
            .map(|(_, v)| v.as_str())
    }
}

/// Enough of CSS for a hand-written stylesheet: comments, rules, and nested at-rule blocks.
fn parse(css: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut within: Vec<String> = Vec::new();
    let mut prelude = String::new();
    let mut current: Option<(Rule, String)> = None;
    let mut rest = css;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("/*") {
            let end = after.find("*/").expect("comments are closed");
            let text = after[..end].trim();
            if let (Some((rule, _)), Some(names)) = (current.as_mut(), text.strip_prefix(NOTE)) {
                rule.on.extend(
                    names
                        .split([' ', ','])
                        .filter(|n| !n.is_empty())
                        .map(String::from),
                );
            }
            rest = &after[end + 2..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match (&mut current, c) {
            (Some(_), '}') => {
                let (mut rule, body) = current.take().expect("inside a rule");
                for decl in body.split(';') {
                    if let Some((p, v)) = decl.split_once(':') {
                        let v = v.trim().trim_end_matches("!important").trim();
                        rule.decls
                            .push((p.trim().to_ascii_lowercase(), v.to_string()));
                    }
                }
                rules.push(rule);
            }
            (Some((_, body)), c) => body.push(c),
            (None, '{') => {
                let head = prelude.trim().to_string();
                prelude.clear();
                if head.starts_with('@') {
                    within.push(head);
                } else {
                    let rule = Rule {
                        selector: head.split_whitespace().collect::<Vec<_>>().join(" "),
                        within: within.clone(),
                        ..Rule::default()
                    };
                    current = Some((rule, String::new()));
                }
            }
            (None, '}') => {
                within.pop();
                prelude.clear();
            }
            (None, c) => prelude.push(c),
        }
    }
    assert!(current.is_none() && within.is_empty(), "unbalanced braces");
    rules
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// Whether a rule inside these blocks applies in this theme.
    fn applies(self, within: &[String]) -> bool {
        within.iter().all(|w| {
            let w = w.replace(' ', "");
            match self {
                Theme::Light => !w.contains("prefers-color-scheme:dark"),
                Theme::Dark => !w.contains("prefers-color-scheme:light"),
            }
        })
    }
}

type Palette = HashMap<String, String>;

/// The custom properties on `:root` as they apply in `theme`.
fn palette(rules: &[Rule], theme: Theme) -> Palette {
    let mut p = Palette::new();
    // Document order is cascade order here: the overrides come after the defaults.
    for r in rules
        .iter()
        .filter(|r| r.selector == ":root" && theme.applies(&r.within))
    {
        for (k, v) in r.decls.iter().filter(|(k, _)| k.starts_with("--")) {
            p.insert(k.clone(), v.clone());
        }
    }
    p
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb(u8, u8, u8);

#[derive(Debug, PartialEq)]
enum Paint {
    Solid(Rgb),
    /// `transparent`, `inherit`, `currentColor`, `none`: what is below shows through.
    Clear,
}

/// A colour value: `#rgb`, `#rrggbb`, `white`, `black`, or `var(--name)` through the palette.
fn resolve(value: &str, palette: &Palette) -> Result<Paint, String> {
    let v = value.trim();
    if let Some(name) = v.strip_prefix("var(").and_then(|s| s.strip_suffix(')')) {
        let name = name.split(',').next().unwrap_or_default().trim();
        let inner = palette
            .get(name)
            .ok_or_else(|| format!("{name} is not defined"))?;
        return resolve(inner, palette);
    }
    if v.starts_with("--") {
        return resolve(&format!("var({v})"), palette);
    }
    match v.to_ascii_lowercase().as_str() {
        "transparent" | "inherit" | "currentcolor" | "none" => return Ok(Paint::Clear),
        "white" => return Ok(Paint::Solid(Rgb(255, 255, 255))),
        "black" => return Ok(Paint::Solid(Rgb(0, 0, 0))),
        _ => {}
    }
    let hex = v
        .strip_prefix('#')
        .ok_or_else(|| format!("cannot evaluate colour {v:?}"))?;
    let digit = |i: usize, len: usize| {
        u8::from_str_radix(&hex[i..i + len], 16).map_err(|_| format!("bad hex colour {v:?}"))
    };
    match hex.len() {
        3 => Ok(Paint::Solid(Rgb(
            digit(0, 1)? * 17,
            digit(1, 1)? * 17,
            digit(2, 1)? * 17,
        ))),
        6 => Ok(Paint::Solid(Rgb(digit(0, 2)?, digit(2, 2)?, digit(4, 2)?))),
        _ => Err(format!("unsupported colour {v:?}")),
    }
}

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance(c: Rgb) -> f64 {
    let channel = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.0) + 0.7152 * channel(c.1) + 0.0722 * channel(c.2)
}

/// WCAG 2 contrast ratio, from 1 to 21.
fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[derive(Debug, Clone)]
struct Pair {
    theme: Theme,
    selector: String,
    text: String,
    background: String,
    ratio: f64,
}

/// Every (text, background) pair the stylesheet draws, in `theme`; errors for rules whose
/// pairs cannot be known.
fn pairs(rules: &[Rule], theme: Theme) -> (Vec<Pair>, Vec<String>) {
    let palette = palette(rules, theme);
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for r in rules.iter().filter(|r| theme.applies(&r.within)) {
        let text = match (r.get("color"), r.get("fill")) {
            (Some(c), _) => c,
            (None, Some(f)) if !r.on.is_empty() => f,
            _ => continue,
        };
        let fg = match resolve(text, &palette) {
            Ok(Paint::Solid(c)) => c,
            Ok(Paint::Clear) => continue,
            Err(e) => {
                errors.push(format!("{}: text colour: {e}", r.selector));
                continue;
            }
        };
        let mut backgrounds: Vec<String> = Vec::new();
        if let Some(bg) = r.get("background-color").or_else(|| r.get("background")) {
            if let Ok(Paint::Solid(_)) = resolve(bg, &palette) {
                backgrounds.push(bg.to_string());
            }
        }
        backgrounds.extend(r.on.iter().cloned());
        if backgrounds.is_empty() {
            errors.push(format!(
                "{}: sets text colour {text} but not what it sits on; add /* {NOTE} --surface … */",
                r.selector
            ));
        }
        for bg in backgrounds {
            match resolve(&bg, &palette) {
                Ok(Paint::Solid(b)) => out.push(Pair {
                    theme,
                    selector: r.selector.clone(),
                    text: text.to_string(),
                    background: bg,
                    ratio: contrast(fg, b),
                }),
                Ok(Paint::Clear) => {
                    errors.push(format!("{}: background {bg} is clear", r.selector))
                }
                Err(e) => errors.push(format!("{}: background: {e}", r.selector)),
            }
        }
    }
    (out, errors)
}

fn table(pairs: &[Pair]) -> String {
    let mut s = String::from(
        "| Theme | Rule | Text | Background | Ratio | AA |\n|---|---|---|---|---|---|\n",
    );
    for p in pairs {
        let _ = writeln!(
            s,
            "| {:?} | `{}` | `{}` | `{}` | {:.2} : 1 | {} |",
            p.theme,
            p.selector,
            p.text,
            p.background,
            p.ratio,
            if p.ratio >= AA { "pass" } else { "FAIL" }
        );
    }
    s
}

#[test]
fn every_text_colour_meets_wcag_aa_in_both_themes() {
    let css = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/style.css"))
        .expect("ui/style.css");
    let rules = parse(&css);
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for theme in [Theme::Light, Theme::Dark] {
        let (p, e) = pairs(&rules, theme);
        all.extend(p);
        errors.extend(e);
    }
    println!("{}", table(&all));
    assert!(errors.is_empty(), "cannot check:\n{}", errors.join("\n"));

    // The status colours are in the table, in both themes: the check cannot pass by their
    // rules disappearing or being renamed.
    for theme in [Theme::Light, Theme::Dark] {
        for selector in [
            r#".pill[data-tone="ok"]"#,
            r#".pill[data-tone="warn"]"#,
            r#".pill[data-tone="bad"]"#,
            r#".pill[data-tone="off"]"#,
            ".badge",
            ".demo-panel h2",
            "button.ghost.danger",
            ".field-error",
            ".paired-title",
        ] {
            assert!(
                all.iter()
                    .any(|p| p.theme == theme && p.selector == selector),
                "{selector} is not checked in the {theme:?} theme"
            );
        }
    }
    let failing: Vec<&Pair> = all.iter().filter(|p| p.ratio < AA).collect();
    assert!(
        failing.is_empty(),
        "under {AA} : 1:\n{}",
        table(&failing.into_iter().cloned().collect::<Vec<_>>())
    );
}

#[test]
fn contrast_matches_known_values() {
    let white = Rgb(255, 255, 255);
    assert!((contrast(Rgb(0, 0, 0), white) - 21.0).abs() < 1e-9);
    assert!((contrast(white, white) - 1.0).abs() < 1e-9);
    // #767676 is the lightest grey that passes AA on white; #777777 is the first that fails.
    assert!(contrast(Rgb(0x76, 0x76, 0x76), white) >= AA);
    assert!(contrast(Rgb(0x77, 0x77, 0x77), white) < AA);
    // The light-theme warn pill before the fix, as the review measured it.
    let before = contrast(Rgb(0xc9, 0x85, 0x08), Rgb(0xfb, 0xf1, 0xdc));
    assert!((before - 2.74).abs() < 0.01, "{before}");
}

#[test]
fn the_parser_follows_themes_notes_and_fails_loudly() {
    let css = r#"
        :root { --fg: #777; --bg: #fff; }
        @media (prefers-color-scheme: dark) { :root { --fg: #eee; --bg: #000; } }
        .a { color: var(--fg); background: var(--bg); }
        .b { color: var(--fg); /* contrast-on: --bg, #000000 */ }
        .c { color: var(--fg); }
        .d { fill: var(--fg); }
        .e { color: color-mix(in srgb, red 50%, blue); background: #fff; }
    "#;
    let rules = parse(css);
    let (light, light_errors) = pairs(&rules, Theme::Light);
    let (dark, _) = pairs(&rules, Theme::Dark);
    let ratio = |ps: &[Pair], sel: &str, bg: &str| {
        ps.iter()
            .find(|p| p.selector == sel && p.background == bg)
            .map(|p| p.ratio)
            .unwrap_or_else(|| panic!("no pair {sel} on {bg}"))
    };
    assert!(ratio(&light, ".a", "var(--bg)") < AA, "#777 on white fails");
    assert!(
        ratio(&dark, ".a", "var(--bg)") > 15.0,
        "the dark overrides apply"
    );
    assert!(ratio(&light, ".b", "#000000") > 4.0);
    assert_eq!(light.iter().filter(|p| p.selector == ".b").count(), 2);
    assert!(
        light_errors.iter().any(|e| e.starts_with(".c:")),
        "a colour without a background is an error: {light_errors:?}"
    );
    assert!(
        !light.iter().any(|p| p.selector == ".d"),
        "shape fills are not text"
    );
    assert!(
        light_errors.iter().any(|e| e.starts_with(".e:")),
        "an unsupported colour is an error, not a pass"
    );
}
