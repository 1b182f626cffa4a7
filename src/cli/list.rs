//! `losscape list`: the landscapes (domain, start, minima, description), the formula language, the
//! optimizers (default hyperparameters) and, when the app passes them in, the lesson presets.

use std::io::{self, Write};
use std::process::ExitCode;

use super::EXIT_FAILURE;
use crate::core::number::{num, point};
use crate::core::{
    Convention, Hyperparams, Landscape, LandscapeSpec, LineSearch, OptimizerKind, Schedule,
};

/// `f(c)` of each of [`Schedule::FORMS`], in its order.
const SCHEDULE_RULES: [&str; 6] = [
    "f = 1 (the default)",
    "f = G^floor(c/K): times G every K steps",
    "f = G^c",
    "f = (1-A)(1 + cos(pi min(c, T)/T))/2 + A: from 1 down to A at step T (A default 0)",
    "f = c/W up to c = W, then the cosine from 1 down to A at c = T (T counts the warm-up)",
    "f = 1/sqrt(1 + c/W)",
];

/// How many minima a landscape line shows before summarising the rest.
const MINIMA_SHOWN: usize = 4;

/// `losscape list`; `lessons` are `(preset name, one-line description)` pairs, printed in their own
/// section when not empty.
pub fn run(lessons: &[(&str, &str)]) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match write_list(&mut out, lessons).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: writing the list failed: {err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Writes the whole listing.
pub fn write_list(out: &mut impl Write, lessons: &[(&str, &str)]) -> io::Result<()> {
    writeln!(out, "Landscapes (trace --surface NAME)")?;
    for spec in LandscapeSpec::all_defaults() {
        let landscape = match Landscape::new(spec.clone()) {
            Ok(landscape) => landscape,
            // Default specs always build; if one did not, say so rather than stop the listing.
            Err(err) => {
                writeln!(out, "  {:<16} ({err})", spec.name())?;
                continue;
            }
        };
        let d = landscape.domain();
        let minima = landscape.minima();
        let minima_text = match minima.len() {
            0 => "none (unbounded below)".to_owned(),
            n => {
                let shown: Vec<String> = minima
                    .iter()
                    .take(MINIMA_SHOWN)
                    .map(|&m| point(m))
                    .collect();
                let more = if n > MINIMA_SHOWN {
                    format!(" and {} more", n - MINIMA_SHOWN)
                } else {
                    String::new()
                };
                format!("{}{more}", shown.join(", "))
            }
        };
        writeln!(
            out,
            "  {:<16} x in [{}, {}], y in [{}, {}]; start {}",
            spec.name(),
            num(d.x[0]),
            num(d.x[1]),
            num(d.y[0]),
            num(d.y[1]),
            point(landscape.default_start()),
        )?;
        writeln!(out, "  {:<16} minima: {minima_text}", "")?;
        writeln!(out, "  {:<16} {}", "", landscape.description())?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "Formulas (trace --formula EXPR [--domain XMIN,XMAX,YMIN,YMAX], default -3,3,-3,3)"
    )?;
    writeln!(
        out,
        "  variables x, y; numbers such as 2, .5, 1e-3; + - * / and ^ or ** (right-associative, -x^2 = -(x^2))"
    )?;
    writeln!(
        out,
        "  functions {}; constants pi, e",
        crate::core::formula::FUNCTIONS.join(" ")
    )?;
    writeln!(
        out,
        "  example: --formula '0.5*x^2 + 2*y^2 + 0.3*sin(3*x)*cos(2*y)'"
    )?;

    writeln!(out)?;
    writeln!(
        out,
        "Optimizers (trace --optimizer NAME; default hyperparameters)"
    )?;
    for kind in OptimizerKind::ALL {
        let h = Hyperparams::defaults_for(kind);
        let mut line = format!(
            "  {:<19} {:<18} eta {}",
            kind.name(),
            kind.label(),
            num(h.lr)
        );
        if kind.uses_beta_m() {
            line += &format!("  beta_m {}", num(h.beta_m));
        }
        if kind.uses_beta_r() {
            line += &format!("  beta_r {}", num(h.beta_r));
        }
        if kind.uses_eps() {
            line += &format!("  eps {}", num(h.eps));
        }
        if kind.uses_weight_decay() {
            line += &format!("  weight decay {}", num(h.weight_decay));
        }
        if kind.uses_nu() {
            line += &format!("  nu {}", num(h.nu));
        }
        if kind.uses_nu2() {
            line += &format!("  nu2 {}", num(h.nu2));
        }
        if kind.uses_bias_correction() {
            line += "  bias correction on";
        }
        if kind == OptimizerKind::Lbfgs {
            line += &format!("  memory {}", h.memory);
        }
        if kind.always_searches() {
            line += "  line search armijo";
        } else if kind.offers_line_search() {
            line += "  line search off (--line-search armijo)";
        }
        writeln!(out, "{line}")?;
        let lecture = kind.update_rule(Convention::Lecture);
        let pytorch = kind.update_rule(Convention::PyTorch);
        if lecture == pytorch {
            writeln!(out, "  {:<19} {lecture}", "")?;
        } else {
            writeln!(out, "  {:<19} lecture: {lecture}", "")?;
            writeln!(out, "  {:<19} pytorch: {pytorch}", "")?;
        }
    }
    let search = LineSearch::default();
    writeln!(out)?;
    writeln!(
        out,
        "Line search (--line-search armijo with sgd, newton, saddle-free-newton; always with bfgs, lbfgs, cg)"
    )?;
    writeln!(
        out,
        "  backtracking (Armijo): alpha = eta, then alpha <- rho alpha until \
         L(theta + alpha p) <= L(theta) + c alpha g.p, at most K times (no such alpha stops the run)"
    )?;
    writeln!(
        out,
        "  --armijo-c C (default {}), --backtrack RHO (default {}), --max-backtracks K (default {}); \
         exact gradients only (no --noise, no --batch)",
        num(search.c),
        num(search.rho),
        search.max_backtracks
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Learning-rate schedules (trace --schedule SPEC; eta_t = eta f(c), c = t - 1 the steps taken)"
    )?;
    for (form, rule) in Schedule::FORMS.iter().zip(SCHEDULE_RULES) {
        writeln!(out, "  {form:<22} {rule}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Conventions (trace --convention NAME): {} (default), {}",
        Convention::Lecture.name(),
        Convention::PyTorch.name()
    )?;

    if !lessons.is_empty() {
        writeln!(out)?;
        writeln!(out, "Lessons (--preset NAME)")?;
        for (name, description) in lessons {
            writeln!(out, "  {name:<24} {description}")?;
        }
    }
    Ok(())
}
