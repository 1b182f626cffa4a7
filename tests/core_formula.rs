//! Typed formulas: the language (precedence, associativity, numbers, functions), exact derivatives
//! against hand-written closed forms and against finite differences (random formulas), every error with
//! its column, and no panic on any input.

use losscape::core::formula::{Formula, FormulaError, FormulaErrorKind, MAX_DEPTH};
use proptest::prelude::*;

fn parse(src: &str) -> Formula {
    Formula::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn v(src: &str, x: f64, y: f64) -> f64 {
    parse(src).value(x, y)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn precedence_and_associativity() {
    let cases: &[(&str, f64, f64, f64)] = &[
        ("-x^2", 3.0, 0.0, -9.0),
        ("-x**2", 3.0, 0.0, -9.0),
        ("(-x)^2", 3.0, 0.0, 9.0),
        ("2^3^2", 0.0, 0.0, 512.0),
        ("2**3**2", 0.0, 0.0, 512.0),
        ("(2^3)^2", 0.0, 0.0, 64.0),
        ("2^-1", 0.0, 0.0, 0.5),
        ("2^-x^2", 1.0, 0.0, 0.5),
        ("-2^2", 0.0, 0.0, -4.0),
        ("2-3-4", 0.0, 0.0, -5.0),
        ("8/4/2", 0.0, 0.0, 1.0),
        ("1+2*3", 0.0, 0.0, 7.0),
        ("(1+2)*3", 0.0, 0.0, 9.0),
        ("2*x^2", 3.0, 0.0, 18.0),
        ("6/2*3", 0.0, 0.0, 9.0),
        ("x - -y", 1.0, 2.0, 3.0),
        ("--x", 4.0, 0.0, 4.0),
        ("+x", 4.0, 0.0, 4.0),
        ("x*-y", 2.0, 3.0, -6.0),
        ("x^y", 2.0, 3.0, 8.0),
        ("(-2)^y", 0.0, 3.0, -8.0),
        ("x^0", f64::NAN, 0.0, 1.0),
        ("  x\t+\n y ", 1.0, 2.0, 3.0),
    ];
    for &(src, x, y, want) in cases {
        assert_eq!(v(src, x, y), want, "{src}");
    }
}

#[test]
fn numbers_and_constants() {
    assert_eq!(v("1e-3", 0.0, 0.0), 1e-3);
    assert_eq!(v("2.5E+2", 0.0, 0.0), 250.0);
    assert_eq!(v(".5", 0.0, 0.0), 0.5);
    assert_eq!(v("3.", 0.0, 0.0), 3.0);
    assert_eq!(v("pi", 0.0, 0.0), std::f64::consts::PI);
    assert_eq!(v("e", 0.0, 0.0), std::f64::consts::E);
    assert_eq!(v("e^x", 1.0, 0.0), std::f64::consts::E);
    assert_eq!(v("2*e", 0.0, 0.0), 2.0 * std::f64::consts::E);
    assert_eq!(v("1e3*x", 2.0, 0.0), 2000.0);
}

#[test]
fn function_values() {
    let (x, y): (f64, f64) = (0.3, -0.7);
    let cases: &[(&str, f64)] = &[
        ("sin(x)", x.sin()),
        ("cos(x)", x.cos()),
        ("tan(x)", x.tan()),
        ("asin(x)", x.asin()),
        ("acos(x)", x.acos()),
        ("atan(y)", y.atan()),
        ("sinh(y)", y.sinh()),
        ("cosh(y)", y.cosh()),
        ("tanh(y)", y.tanh()),
        ("exp(y)", y.exp()),
        ("log(x)", x.ln()),
        ("ln(x)", x.ln()),
        ("sqrt(x)", x.sqrt()),
        ("abs(y)", y.abs()),
        ("min(x, y)", y),
        ("max(x, y)", x),
        ("pow(x, y)", x.powf(y)),
        ("pow(x, 3)", x.powi(3)),
        ("max(min(x, y), -1)", -0.7),
        ("sin(cos(tan(x)))", x.tan().cos().sin()),
        (
            "0.5*x^2+2*y^2+0.3*sin(3*x)*cos(2*y)",
            0.5 * x * x + 2.0 * y * y + 0.3 * (3.0 * x).sin() * (2.0 * y).cos(),
        ),
    ];
    for (src, want) in cases {
        let got = v(src, x, y);
        assert!(close(got, *want, 1e-14), "{src}: got {got}, want {want}");
    }
    assert!(v("ln(x)", -1.0, 0.0).is_nan(), "undefined is NaN");
}

/// Gradient and Hessian of `g(u)` with `u = a x + b y`: `g'(u) (a, b)` and `g''(u) (a, b)(a, b)^T`.
fn check_composite(src: &str, p: [f64; 2], ab: [f64; 2], g: [f64; 3]) {
    let f = parse(src);
    let (value, grad, hess) = f.value_grad_hessian(p[0], p[1]);
    let (value1, grad1) = f.value_grad(p[0], p[1]);
    let [a, b] = ab;
    let want_grad = [g[1] * a, g[1] * b];
    let want_hess = [[g[2] * a * a, g[2] * a * b], [g[2] * a * b, g[2] * b * b]];
    let tol = 1e-13;
    assert!(
        close(value, g[0], tol) && close(value1, g[0], tol),
        "{src} value"
    );
    for i in 0..2 {
        assert!(
            close(grad[i], want_grad[i], tol),
            "{src} D2 grad {i}: {grad:?} vs {want_grad:?}"
        );
        assert!(
            close(grad1[i], want_grad[i], tol),
            "{src} D1 grad {i}: {grad1:?} vs {want_grad:?}"
        );
        for j in 0..2 {
            assert!(
                close(hess[i][j], want_hess[i][j], tol),
                "{src} hessian {i}{j}: {hess:?} vs {want_hess:?}"
            );
        }
    }
}

#[test]
fn every_function_has_its_closed_form_derivatives() {
    let ab = [0.5, -0.25];
    for p in [[0.3, 0.4], [-0.6, 0.2], [0.9, -1.1]] {
        let u: f64 = ab[0] * p[0] + ab[1] * p[1];
        let w = 1.0 - u * u;
        let cases: Vec<(&str, [f64; 3])> = vec![
            ("sin", [u.sin(), u.cos(), -u.sin()]),
            ("cos", [u.cos(), -u.sin(), -u.cos()]),
            (
                "tan",
                [
                    u.tan(),
                    1.0 / u.cos().powi(2),
                    2.0 * u.tan() / u.cos().powi(2),
                ],
            ),
            ("asin", [u.asin(), 1.0 / w.sqrt(), u / w.powf(1.5)]),
            ("acos", [u.acos(), -1.0 / w.sqrt(), -u / w.powf(1.5)]),
            (
                "atan",
                [
                    u.atan(),
                    1.0 / (1.0 + u * u),
                    -2.0 * u / (1.0 + u * u).powi(2),
                ],
            ),
            ("sinh", [u.sinh(), u.cosh(), u.sinh()]),
            ("cosh", [u.cosh(), u.sinh(), u.cosh()]),
            (
                "tanh",
                [
                    u.tanh(),
                    1.0 / u.cosh().powi(2),
                    -2.0 * u.tanh() / u.cosh().powi(2),
                ],
            ),
            ("exp", [u.exp(), u.exp(), u.exp()]),
            ("abs", [u.abs(), u.signum(), 0.0]),
        ];
        for (name, g) in cases {
            check_composite(&format!("{name}(0.5*x - 0.25*y)"), p, ab, g);
        }
        // ln and sqrt on a positive argument u + 2.
        let s = u + 2.0;
        check_composite(
            "ln(0.5*x - 0.25*y + 2)",
            p,
            ab,
            [s.ln(), 1.0 / s, -1.0 / (s * s)],
        );
        check_composite(
            "log(0.5*x - 0.25*y + 2)",
            p,
            ab,
            [s.ln(), 1.0 / s, -1.0 / (s * s)],
        );
        check_composite(
            "sqrt(0.5*x - 0.25*y + 2)",
            p,
            ab,
            [s.sqrt(), 0.5 / s.sqrt(), -0.25 / s.powf(1.5)],
        );
        // Powers: u^3, u^-2, s^2.5, 2^u, e^u, pow(s, 3).
        check_composite(
            "(0.5*x - 0.25*y)^3",
            p,
            ab,
            [u.powi(3), 3.0 * u * u, 6.0 * u],
        );
        check_composite(
            "(0.5*x - 0.25*y)^-2",
            p,
            ab,
            [u.powi(-2), -2.0 * u.powi(-3), 6.0 * u.powi(-4)],
        );
        check_composite(
            "(0.5*x - 0.25*y + 2)**2.5",
            p,
            ab,
            [s.powf(2.5), 2.5 * s.powf(1.5), 3.75 * s.sqrt()],
        );
        let ln2 = 2f64.ln();
        check_composite(
            "2^(0.5*x - 0.25*y)",
            p,
            ab,
            [2f64.powf(u), ln2 * 2f64.powf(u), ln2 * ln2 * 2f64.powf(u)],
        );
        check_composite(
            "pow(0.5*x - 0.25*y + 2, 3)",
            p,
            ab,
            [s.powi(3), 3.0 * s * s, 6.0 * s],
        );
    }
}

/// Products, quotients, `x^y` and min/max, with their two-variable closed forms.
#[test]
fn binary_operations_have_their_closed_form_derivatives() {
    for [x, y] in [[0.7, 1.3], [1.9, -0.4], [2.5, 0.8]] {
        let cases: Vec<(&str, f64, [f64; 2], [f64; 3])> = vec![
            ("x*y", x * y, [y, x], [0.0, 1.0, 0.0]),
            (
                "x/y",
                x / y,
                [1.0 / y, -x / (y * y)],
                [0.0, -1.0 / (y * y), 2.0 * x / (y * y * y)],
            ),
            (
                "x^y",
                x.powf(y),
                [y * x.powf(y - 1.0), x.powf(y) * x.ln()],
                [
                    y * (y - 1.0) * x.powf(y - 2.0),
                    x.powf(y - 1.0) * (1.0 + y * x.ln()),
                    x.powf(y) * x.ln() * x.ln(),
                ],
            ),
            (
                "pow(x, y)",
                x.powf(y),
                [y * x.powf(y - 1.0), x.powf(y) * x.ln()],
                [
                    y * (y - 1.0) * x.powf(y - 2.0),
                    x.powf(y - 1.0) * (1.0 + y * x.ln()),
                    x.powf(y) * x.ln() * x.ln(),
                ],
            ),
            (
                "min(x^2, y)",
                (x * x).min(y),
                if x * x < y {
                    [2.0 * x, 0.0]
                } else {
                    [0.0, 1.0]
                },
                if x * x < y { [2.0, 0.0, 0.0] } else { [0.0; 3] },
            ),
            (
                "max(x^2, y)",
                (x * x).max(y),
                if x * x > y {
                    [2.0 * x, 0.0]
                } else {
                    [0.0, 1.0]
                },
                if x * x > y { [2.0, 0.0, 0.0] } else { [0.0; 3] },
            ),
            (
                "sin(x)*exp(y)",
                x.sin() * y.exp(),
                [x.cos() * y.exp(), x.sin() * y.exp()],
                [-x.sin() * y.exp(), x.cos() * y.exp(), x.sin() * y.exp()],
            ),
            (
                "(x^2+y-11)^2+(x+y^2-7)^2",
                (x * x + y - 11.0).powi(2) + (x + y * y - 7.0).powi(2),
                [
                    4.0 * x * (x * x + y - 11.0) + 2.0 * (x + y * y - 7.0),
                    2.0 * (x * x + y - 11.0) + 4.0 * y * (x + y * y - 7.0),
                ],
                [
                    12.0 * x * x + 4.0 * y - 42.0,
                    4.0 * (x + y),
                    12.0 * y * y + 4.0 * x - 26.0,
                ],
            ),
        ];
        for (src, value, grad, h) in cases {
            let f = parse(src);
            let (v2, g2, h2) = f.value_grad_hessian(x, y);
            let (v1, g1) = f.value_grad(x, y);
            let tol = 1e-12;
            assert!(
                close(v1, value, tol) && close(v2, value, tol),
                "{src} value"
            );
            for i in 0..2 {
                assert!(close(g1[i], grad[i], tol), "{src} D1 {g1:?} vs {grad:?}");
                assert!(close(g2[i], grad[i], tol), "{src} D2 {g2:?} vs {grad:?}");
            }
            let want = [[h[0], h[1]], [h[1], h[2]]];
            for i in 0..2 {
                for j in 0..2 {
                    assert!(
                        close(h2[i][j], want[i][j], tol),
                        "{src} H {h2:?} vs {want:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn kinks_take_the_active_side() {
    let f = parse("abs(x) + max(x, y)");
    assert_eq!(
        f.value_grad(0.0, -1.0).1,
        [1.0, 0.0],
        "abs'(0) = 0, max picks x"
    );
    assert_eq!(f.value_grad(-2.0, 1.0).1, [-1.0, 1.0]);
}

fn err(src: &str) -> FormulaError {
    Formula::parse(src).expect_err(src)
}

#[test]
fn errors_say_what_and_at_which_column() {
    let cases: &[(&str, &str, usize)] = &[
        (
            "x + sinn(y)",
            "unknown function 'sinn' at column 5 (did you mean 'sin'?)",
            5,
        ),
        ("x + foo(y)", "unknown function 'foo' at column 5", 5),
        (
            "",
            "empty formula: type an expression in x and y, such as x^2 + 3*y^2",
            1,
        ),
        (
            "   ",
            "empty formula: type an expression in x and y, such as x^2 + 3*y^2",
            1,
        ),
        ("(x+1", "unclosed '(' at column 1", 1),
        ("x*(y+(1)", "unclosed '(' at column 3", 3),
        ("sin(x", "unclosed '(' at column 4", 4),
        ("x+1)", "')' at column 4 has no matching '('", 4),
        ("(x))", "')' at column 4 has no matching '('", 4),
        (
            "x +",
            "expected a number, x, y, a function or '(' at column 4 but found the end of the formula",
            4,
        ),
        (
            "x + * y",
            "expected a number, x, y, a function or '(' at column 5 but found '*'",
            5,
        ),
        (
            "2x",
            "expected an operator at column 2 but found 'x' (write 2*x, not 2x)",
            2,
        ),
        (
            "(x)(y)",
            "expected an operator at column 4 but found '(' (write 2*x, not 2x)",
            4,
        ),
        (
            "z + 1",
            "unknown name 'z' at column 1: the variables are x and y, the constants pi and e",
            1,
        ),
        (
            "x + sin",
            "function 'sin' at column 5 needs parentheses, as in sin(x)",
            5,
        ),
        (
            "pow(x)",
            "function 'pow' at column 1 takes 2 arguments but 1 was given",
            1,
        ),
        (
            "sin()",
            "function 'sin' at column 1 takes 1 argument but 0 were given",
            1,
        ),
        (
            "sin(x, y)",
            "function 'sin' at column 1 takes 1 argument but 2 were given",
            1,
        ),
        ("x $ y", "unexpected character '$' at column 3", 3),
        ("1.2.3", "invalid number '1.2.3' at column 1", 1),
        ("x, y", "unexpected ',' at column 2", 2),
        ("(x, y)", "unexpected ',' at column 3", 3),
        // Columns count characters, not bytes.
        ("x + π", "unexpected character 'π' at column 5", 5),
        ("ä", "unexpected character 'ä' at column 1", 1),
    ];
    for &(src, want, column) in cases {
        let e = err(src);
        assert_eq!(e.to_string(), want, "input {src:?}");
        assert_eq!(e.column, column, "input {src:?}");
    }
    let e = err("x + sinn(y)");
    assert!(matches!(e.kind, FormulaErrorKind::UnknownFunction { ref name, .. } if name == "sinn"));
    assert_eq!((e.column, e.len), (5, 4));
    assert_eq!(e.caret("x + sinn(y)"), "x + sinn(y)\n    ^^^^");
}

#[test]
fn hostile_input_is_refused_not_overflowed() {
    for s in [
        "(".repeat(10_000) + "x" + &")".repeat(10_000),
        "(".repeat(MAX_DEPTH + 1) + "x" + &")".repeat(MAX_DEPTH + 1),
        "-".repeat(900) + "x",
        "x^".repeat(400) + "x",
    ] {
        let e = err(&s);
        assert!(
            matches!(
                e.kind,
                FormulaErrorKind::TooDeep | FormulaErrorKind::TooLong { .. }
            ),
            "{e}"
        );
    }
    // A long flat sum is fine.
    let sum = vec!["x"; 400].join("+");
    assert_eq!(parse(&sum).value_grad(1.0, 0.0), (400.0, [400.0, 0.0]));
}

/// Fourth-order central differences of the value (gradient) and of the exact gradient (Hessian).
fn fd(f: &Formula, x: f64, y: f64, h: f64) -> ([f64; 2], [f64; 3]) {
    let d = |g: &dyn Fn(f64) -> f64| {
        (-g(2.0 * h) + 8.0 * g(h) - 8.0 * g(-h) + g(-2.0 * h)) / (12.0 * h)
    };
    let gx = |x: f64, y: f64| f.value_grad(x, y).1[0];
    let gy = |x: f64, y: f64| f.value_grad(x, y).1[1];
    (
        [d(&|t| f.value(x + t, y)), d(&|t| f.value(x, y + t))],
        [
            d(&|t| gx(x + t, y)),
            d(&|t| gx(x, y + t)),
            d(&|t| gy(x, y + t)),
        ],
    )
}

/// Random smooth formulas: leaves x, y and small constants; operations that stay smooth and bounded
/// on [-1, 1]^2.
fn smooth_formula() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_owned()),
        Just("y".to_owned()),
        (-3.0f64..3.0).prop_map(|c| format!("({c:.3})")),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} * {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} / (2 + sin({b}))")),
            inner.clone().prop_map(|a| format!("sin({a})")),
            inner.clone().prop_map(|a| format!("cos({a})")),
            inner.clone().prop_map(|a| format!("atan({a})")),
            inner.clone().prop_map(|a| format!("tanh({a})")),
            inner.clone().prop_map(|a| format!("exp(sin({a}))")),
            inner.clone().prop_map(|a| format!("ln(2 + cos({a}))")),
            // parenthesized: a leaf `-x^2` would otherwise give `sqrt(1 + -x^2^2)` = sqrt(1 - x^4),
            // which is not smooth near |x| = 1 (the differences' error grows without bound there)
            inner.clone().prop_map(|a| format!("sqrt(1 + ({a})^2)")),
            inner.clone().prop_map(|a| format!("-({a})^2")),
            inner.clone().prop_map(|a| format!("({a})^3")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("pow(2 + sin({a}), cos({b}))")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Exact gradients and Hessians of random formulas agree with central differences.
    #[test]
    fn random_formulas_match_finite_differences(
        src in smooth_formula(),
        x in -1.0f64..1.0,
        y in -1.0f64..1.0,
    ) {
        let f = Formula::parse(&src).unwrap();
        let (v, g, h) = f.value_grad_hessian(x, y);
        let (v1, g1) = f.value_grad(x, y);
        prop_assume!(v.is_finite() && v.abs() < 1e6);
        prop_assert!((v - v1).abs() <= 1e-12 * (1.0 + v.abs()));
        // the differences at h and h/2: the finer is the reference, and their gap bounds its own
        // error (about 1/15 of the gap for a fourth-order stencil), which a formula with huge higher
        // derivatives makes large (`ln(2 + cos((-(exp(sin(y)))^2)^3))` at y = 0.81: 0.14 %)
        let (fg_h, fh_h) = fd(&f, x, y, 1e-3);
        let (fg, fh) = fd(&f, x, y, 5e-4);
        // the stencil may reach past where a formula is defined
        prop_assume!(fg.iter().chain(fh.iter()).chain(fg_h.iter()).chain(fh_h.iter()).all(|d| d.is_finite()));
        let scale = 1.0 + g[0].abs() + g[1].abs() + h[0][0].abs() + h[0][1].abs() + h[1][1].abs();
        let tol = 1e-5 * scale + 1e-9 * v.abs();
        for i in 0..2 {
            let tol = tol + (fg_h[i] - fg[i]).abs();
            prop_assert!((g[i] - fg[i]).abs() <= tol, "{} grad {:?} vs {:?}", src, g, fg);
            prop_assert!((g1[i] - g[i]).abs() <= 1e-12 * scale, "{} D1 vs D2", src);
        }
        let hs = [h[0][0], h[0][1], h[1][1]];
        for i in 0..3 {
            let tol = tol + (fh_h[i] - fh[i]).abs();
            prop_assert!((hs[i] - fh[i]).abs() <= tol, "{} hessian {:?} vs {:?}", src, hs, fh);
        }
        prop_assert_eq!(h[0][1], h[1][0]);
    }

    /// No input makes the parser panic: random text from the language's characters and beyond.
    #[test]
    fn random_text_never_panics(
        src in prop_oneof![
            "[xy0-9eE.+*/^(),\\- a-z]{0,40}",
            any::<String>(),
            "(sin|cos|pow|min|max|x|y|pi|e|\\(|\\)|,|\\*\\*|\\^|-|\\+|1e-3|\\.){0,30}",
        ],
        x in prop_oneof![any::<f64>(), -10.0f64..10.0],
        y in prop_oneof![any::<f64>(), -10.0f64..10.0],
    ) {
        match Formula::parse(&src) {
            Ok(f) => {
                let _ = f.value(x, y);
                let _ = f.value_grad(x, y);
                let _ = f.value_grad_hessian(x, y);
            }
            Err(e) => {
                prop_assert!(e.column >= 1 && e.len >= 1);
                prop_assert!(!e.to_string().is_empty());
                let _ = e.caret(&src);
            }
        }
    }
}
