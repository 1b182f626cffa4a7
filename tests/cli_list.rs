//! `losscape list` end to end.

mod common;

use losscape::core::{Landscape, LandscapeSpec, OptimizerKind};

fn list() -> (i32, String, String) {
    let o = common::losscape(&["list"]);
    (
        o.status.code().unwrap_or(-1),
        common::stdout(&o),
        common::stderr(&o),
    )
}

#[test]
fn lists_every_landscape_with_domain_minima_and_description() {
    let (code, out, err) = list();
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    assert!(out.starts_with("Landscapes"));
    for name in LandscapeSpec::NAMES {
        let l = Landscape::new(LandscapeSpec::from_name(name).unwrap()).unwrap();
        let line = out
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}"));
        assert!(line.contains("x in ["), "{line}");
        assert!(out.contains(l.description()), "{name}'s description");
    }
    assert!(out.contains("minima: (1, 1)"), "rosenbrock's minimum");
    assert!(out.contains("minima: (3, 0.5)"), "beale's minimum");
    assert!(
        out.contains("x in [-4.5, 4.5], y in [-4.5, 4.5]"),
        "beale's domain"
    );
    assert!(out.contains("none (unbounded below)"), "saddle");
    assert!(
        out.contains("Formulas (trace --formula EXPR"),
        "the formula language"
    );
    assert!(
        out.contains("sin cos tan asin acos atan"),
        "the formula functions"
    );
}

#[test]
fn lists_every_optimizer_with_its_defaults() {
    let (_, out, _) = list();
    for kind in OptimizerKind::ALL {
        let line = out
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{} ", kind.name())))
            .unwrap_or_else(|| panic!("no line for {}", kind.name()));
        assert!(line.contains(kind.label()), "{line}");
    }
    assert!(
        out.contains(
            "adam                Adam               eta 0.01  beta_m 0.9  beta_r 0.999  eps 1e-8"
        ),
        "{out}"
    );
    assert!(
        out.contains("adagrad             AdaGrad            eta 0.1  eps 1e-8"),
        "{out}"
    );
    assert!(out.contains("lecture (default), pytorch"));
    // the formulas, in both conventions where they differ
    assert!(out.contains("θ <- θ - η |H|^-1 g"), "{out}");
    assert!(
        out.contains("lecture: Adam's V_hat, s_hat;  θ <- θ - η (V_hat / √(s_hat + ε) + λ θ)"),
        "{out}"
    );
    assert!(
        out.contains("pytorch: Adam's V_hat, s_hat;  θ <- θ - η (V_hat / (√s_hat + ε) + λ θ)"),
        "{out}"
    );
    assert!(
        out.contains("lion                Lion               eta 0.01  beta_m 0.9  beta_r 0.99  weight decay 0"),
        "{out}"
    );
    for form in losscape::core::Schedule::FORMS {
        assert!(out.contains(form), "schedule {form} listed");
    }
    assert!(out.contains("Lessons (--preset NAME)"), "{out}");
    for preset in losscape::core::lessons::PRESETS {
        assert!(out.contains(preset.name), "lesson {} listed", preset.name);
    }
}

#[test]
fn lessons_are_listed_when_given() {
    let mut buffer = Vec::new();
    losscape::cli::list::write_list(&mut buffer, &[("saddle", "escape a saddle point")]).unwrap();
    let text = String::from_utf8(buffer).unwrap();
    assert!(text.contains("Lessons (--preset NAME)"));
    assert!(text.contains("saddle                   escape a saddle point"));
}
