//! The side panel. Each section is a plain function of the state it edits; `side_panel` fetches the state,
//! calls them, and turns their answers (add, remove, load ...) into commands.

use std::{path::PathBuf, sync::Arc};

use bevy::{ecs::system::SystemParam, prelude::*};
use bevy_egui::{EguiContexts, egui};

use super::{PANEL_WIDTH, plot, set_insets};
use crate::core::number::{num, point};
use crate::core::{
    Convention, Curvature, EtaLimit, Hyperparams, Landscape, LandscapeSpec, OptimizerKind,
    RunStatus, Schedule, Vec2d, diagnose, eta_limit,
    landscape::DEFAULT_FORMULA_DOMAIN,
    lessons,
    scene::{Colormap, OptimizerSpec, SurfaceStyle, ViewLayout, palette},
};
use crate::lessons::{LoadScene, snapshot_scene};
use crate::optimizers::{Optimizer, Playback, RestartRuns, SPEED_RANGE, optimizer};
use crate::paint::egui_color;
use crate::state::{
    ActiveLandscape, CurrentScene, FormulaDraft, PanelState, SurfaceSettings, UiPrefs,
};
use crate::views::{Layout, ViewportInsets};

/// What the panel asked for this frame.
#[derive(Default)]
pub struct PanelActions {
    pub load_preset: Option<String>,
    pub load_file: bool,
    pub save_file: bool,
    pub restart: bool,
    pub landscape: Option<LandscapeSpec>,
    pub add: Option<OptimizerKind>,
    pub remove: Vec<Entity>,
    pub duplicate: Vec<Entity>,
}

/// The resources the panel reads and edits.
#[derive(SystemParam)]
pub struct PanelParams<'w, 's> {
    commands: Commands<'w, 's>,
    contexts: EguiContexts<'w, 's>,
    panel: ResMut<'w, PanelState>,
    prefs: ResMut<'w, UiPrefs>,
    playback: ResMut<'w, Playback>,
    landscape: Res<'w, ActiveLandscape>,
    surface: ResMut<'w, SurfaceSettings>,
    layout: ResMut<'w, Layout>,
    insets: ResMut<'w, ViewportInsets>,
    current: ResMut<'w, CurrentScene>,
    ghost: Option<ResMut<'w, crate::interaction::GhostSettings>>,
    optimizers: Query<'w, 's, (Entity, &'static mut Optimizer)>,
    load: MessageWriter<'w, LoadScene>,
    restart: MessageWriter<'w, RestartRuns>,
    teaching: ResMut<'w, crate::teaching::TeachingAids>,
    // recording (src/recording): the "Record and export" section
    recorder: ResMut<'w, crate::recording::Recorder>,
    record: MessageWriter<'w, crate::recording::RecordRequest>,
    // maps (src/maps): the "Maps" section
    maps: (
        ResMut<'w, crate::maps::SweepWindow>,
        ResMut<'w, crate::maps::BasinsLayer>,
        ResMut<'w, crate::maps::EscapePanel>,
    ),
    // the classroom (src/classroom): "Predict, then reveal" and "Scoreboard"
    classroom: crate::classroom::ClassroomPanel<'w, 's>,
    // networks (src/networks): the "Network" section
    network: crate::networks::NetworkPanel<'w, 's>,
}

/// Draws the side panel and applies what it asked for.
pub fn side_panel(mut p: PanelParams) -> Result {
    let ctx = p.contexts.ctx_mut()?.clone();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "losscape-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let mut actions = PanelActions::default();
    let landscape = p.landscape.0.clone();
    let width = egui::Panel::left("controls")
        .resizable(true)
        .default_size(PANEL_WIDTH)
        .min_size(260.0)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                lesson_section(ui, &p.current, &mut actions);
                crate::classroom::watch_for(ui, &p.classroom);
                ui.separator();
                playback_controls(
                    ui,
                    &mut p.playback,
                    &p.optimizers
                        .iter()
                        .map(|(_, o)| o.steps())
                        .max()
                        .unwrap_or(0),
                    &mut actions,
                );
                if let Some(ghost) = p.ghost.as_deref_mut() {
                    egui::CollapsingHeader::new("Drag start points")
                        .default_open(true)
                        .show(ui, |ui| crate::interaction::drag_controls(ui, ghost));
                }
                ui.separator();
                egui::CollapsingHeader::new("Landscape and surface")
                    .default_open(false)
                    .show(ui, |ui| {
                        landscape_controls(ui, landscape.spec(), &mut p.panel.formula, &mut actions);
                        ui.add_space(4.0);
                        surface_controls(ui, &mut p.surface.0, &mut p.layout.0);
                    });
                ui.separator();
                ui.heading("Optimizers");
                let is_regression = matches!(landscape.spec(), LandscapeSpec::Regression(_));
                for (entity, mut opt) in &mut p.optimizers {
                    let mut spec = opt.spec.clone();
                    let card =
                        optimizer_card(ui, entity, &mut spec, &opt, &landscape, is_regression);
                    if card.remove {
                        actions.remove.push(entity);
                    }
                    if card.duplicate {
                        actions.duplicate.push(entity);
                    }
                    if let Some(k) = card.rewind {
                        // the class lowers η before playing on
                        p.playback.playing = false;
                        if let Err(e) = opt.branch_at(k) {
                            p.panel.message = Some((false, format!("not rewound: {e}")));
                        }
                    }
                    if spec != opt.spec
                        && let Err(e) = opt.apply_spec(spec)
                    {
                        p.panel.message = Some((false, format!("not applied: {e}")));
                    }
                }
                add_optimizer_row(ui, &mut p.panel.add_kind, &mut actions);
                if landscape.network().is_some() {
                    ui.separator();
                    egui::CollapsingHeader::new("Network")
                        .default_open(true)
                        .show(ui, |ui| {
                            let runs: Vec<_> = p.optimizers.iter().collect();
                            crate::networks::network_section(ui, &mut p.network, &runs)
                        });
                }
                ui.separator();
                egui::CollapsingHeader::new("Teaching aids")
                    .default_open(true)
                    .show(ui, |ui| {
                        crate::teaching::teaching_section(ui, &mut p.teaching)
                    });
                ui.separator();
                egui::CollapsingHeader::new("Maps").default_open(false).show(ui, |ui| {
                    if landscape.network().is_some() {
                        // each cell of a map would be a whole training run of every weight
                        ui.label(
                            "Maps run a 2-D optimizer once per cell; on a network every cell would be a \
                             whole training run of all its weights, minutes per map, so they are \
                             offered on the 2-D landscapes only.",
                        );
                        return;
                    }
                    let names: Vec<_> = p.optimizers.iter().map(|(e, o)| (e, o.spec.name.clone())).collect();
                    crate::maps::maps_section(ui, &mut p.maps.0, &mut p.maps.1, &mut p.maps.2, &names)
                });
                ui.separator();
                egui::CollapsingHeader::new("Loss per step")
                    .default_open(true)
                    .show(ui, |ui| {
                        ui.checkbox(&mut p.panel.log_plot, "log scale");
                        let runs: Vec<_> = p.optimizers.iter().map(|(_, o)| o).collect();
                        plot::loss_plot(ui, &runs, p.panel.log_plot);
                        plot::eta_plot(ui, &runs);
                    });
                ui.separator();
                crate::classroom::panel_sections(ui, &mut p.classroom, &p.current);
                egui::CollapsingHeader::new("Scene file")
                    .default_open(false)
                    .show(ui, |ui| scene_file_row(ui, &mut p.panel, &mut actions));
                egui::CollapsingHeader::new("Projector")
                    .default_open(false)
                    .show(ui, |ui| projector_controls(ui, &mut p.prefs));
                // recording (src/recording)
                egui::CollapsingHeader::new("Record and export")
                    .default_open(false)
                    .show(ui, |ui| {
                        for request in crate::recording::recording_controls(
                            ui,
                            &mut p.recorder,
                            p.playback.steps_per_second,
                        ) {
                            p.record.write(request);
                        }
                    });
                if let Some((ok, message)) = &p.panel.message {
                    let color = if *ok {
                        egui::Color32::LIGHT_GREEN
                    } else {
                        egui::Color32::from_rgb(255, 120, 100)
                    };
                    ui.colored_label(color, message);
                }
                ui.add_space(8.0);
                ui.small(
                    "Space play/pause · N step · R restart · [ ] speed · 1 2 3 layout · Home frame · G record · P still",
                );
            });
        })
        .response
        .rect
        .width();
    set_insets(&mut p.insets, width, p.prefs.ui_scale);
    apply_actions(&mut p, actions, &landscape);
    Ok(())
}

fn apply_actions(p: &mut PanelParams, actions: PanelActions, landscape: &Arc<Landscape>) {
    if let Some(name) = actions.load_preset {
        match lessons::preset(&name) {
            Ok(scene) => {
                p.load.write(LoadScene::new(scene, None));
                p.panel.message = None;
            }
            Err(e) => p.panel.message = Some((false, e.to_string())),
        }
    }
    if actions.load_file {
        let path = PathBuf::from(p.panel.scene_path.trim());
        match LoadScene::from_file(&path) {
            Ok(request) => {
                p.load.write(request);
                p.panel.message = Some((true, format!("loaded {}", path.display())));
            }
            // the current scene stays
            Err(e) => p.panel.message = Some((false, e)),
        }
    }
    if actions.save_file {
        let path = PathBuf::from(p.panel.scene_path.trim());
        let scene = snapshot_scene(
            &p.current,
            &p.landscape,
            &p.surface,
            &p.layout,
            &p.playback,
            p.optimizers.iter().map(|(_, o)| o.spec.clone()),
        );
        p.panel.message = Some(match scene.write_file(&path) {
            Ok(()) => (true, format!("saved {}", path.display())),
            Err(e) => (false, e),
        });
    }
    if actions.restart {
        p.restart.write(RestartRuns);
    }
    if let Some(spec) = actions.landscape {
        let kind_changed =
            std::mem::discriminant(&spec) != std::mem::discriminant(landscape.spec());
        match Landscape::new(spec) {
            Ok(l) => {
                let l = Arc::new(l);
                let formula = matches!(l.spec(), LandscapeSpec::Formula { .. });
                if kind_changed || formula {
                    // suit the surface to the new landscape (each formula has its own scale)
                    let log = l.log_height_recommended();
                    p.surface.log_height = log;
                    p.surface.log_contours = log;
                }
                for (_, mut opt) in &mut p.optimizers {
                    // a new kind of landscape, or a start the new one leaves out: its suggested start
                    if kind_changed || !l.usable_start(opt.spec.start) {
                        opt.spec.start = l.default_start();
                    }
                }
                if let LandscapeSpec::Formula { expr, .. } = l.spec() {
                    // a typed formula is the scene's title until a lesson is loaded again
                    p.current.title = format!("f(x, y) = {expr}");
                }
                p.commands.insert_resource(ActiveLandscape(l));
                p.panel.message = None;
            }
            Err(e) => p.panel.message = Some((false, format!("landscape not changed: {e}"))),
        }
    }
    let count = p.optimizers.iter().count();
    if let Some(kind) = actions.add {
        let start = p
            .optimizers
            .iter()
            .next()
            .map_or_else(|| landscape.default_start(), |(_, o)| o.spec.start);
        let spec = OptimizerSpec::with_defaults(kind, count, start);
        match optimizer(spec, landscape.clone()) {
            Ok(bundle) => {
                p.commands.spawn(bundle);
            }
            Err(e) => p.panel.message = Some((false, format!("not added: {e}"))),
        }
    }
    for (i, entity) in actions.duplicate.iter().enumerate() {
        if let Ok((_, opt)) = p.optimizers.get(*entity) {
            let mut spec = opt.spec.clone();
            spec.name = format!("{} copy", spec.name);
            spec.color = palette(count + i);
            if let Ok(bundle) = optimizer(spec, landscape.clone()) {
                p.commands.spawn(bundle);
            }
        }
    }
    for entity in actions.remove {
        p.commands.entity(entity).despawn();
    }
}

/// Lesson picker and the explanation of the scene on screen.
pub fn lesson_section(ui: &mut egui::Ui, current: &CurrentScene, actions: &mut PanelActions) {
    ui.horizontal(|ui| {
        ui.heading("losscape");
        egui::ComboBox::from_id_salt("lesson")
            .selected_text(current.preset.as_deref().unwrap_or("lessons…"))
            .show_ui(ui, |ui| {
                for preset in lessons::PRESETS {
                    if ui
                        .selectable_label(
                            current.preset.as_deref() == Some(preset.name),
                            preset.name,
                        )
                        .on_hover_text(preset.summary)
                        .clicked()
                    {
                        actions.load_preset = Some(preset.name.to_string());
                    }
                }
            });
    });
    ui.strong(&current.title);
    if !current.description.is_empty() {
        ui.label(&current.description);
    }
}

/// Play/pause, step, restart, speed and the step counter (mirrors the keys).
pub fn playback_controls(
    ui: &mut egui::Ui,
    playback: &mut Playback,
    steps: &u64,
    actions: &mut PanelActions,
) {
    ui.horizontal(|ui| {
        let label = if playback.playing {
            "⏸ Pause"
        } else {
            "▶ Play"
        };
        if ui.button(label).on_hover_text("Space").clicked() {
            playback.playing = !playback.playing;
        }
        if ui.button("Step").on_hover_text("N or →").clicked() {
            playback.playing = false;
            playback.queued_steps += 1;
        }
        if ui.button("⟲ Restart all").on_hover_text("R").clicked() {
            actions.restart = true;
        }
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::Slider::new(
                &mut playback.steps_per_second,
                SPEED_RANGE.0..=SPEED_RANGE.1,
            )
            .logarithmic(true)
            .text("steps/s"),
        );
    });
    if playback.playing
        && let Some(reached) = playback.held_back
    {
        ui.label(format!(
            "the networks run at about {} steps/s here: the most this computer keeps up with \
             while it draws smoothly",
            crate::core::num(reached.round())
        ))
        .on_hover_text(
            "Each step of a network is a pass over its data for every weight. When the speed asked does \
             not fit in the frames, the runs go slower instead of the picture freezing; no step is \
             skipped, and every run stands at the same step.",
        );
    }
    ui.label(format!("step {steps}"));
}

/// Landscape choice and its parameters. Sets `actions.landscape` when anything changed.
pub fn landscape_controls(
    ui: &mut egui::Ui,
    current: &LandscapeSpec,
    draft: &mut FormulaDraft,
    actions: &mut PanelActions,
) {
    let mut spec = current.clone();
    egui::ComboBox::from_id_salt("landscape")
        .selected_text(spec.name())
        .show_ui(ui, |ui| {
            for name in LandscapeSpec::NAMES {
                if ui.selectable_label(spec.name() == *name, *name).clicked()
                    && let Ok(s) = LandscapeSpec::from_name(name)
                {
                    spec = s;
                }
            }
            let is_formula = matches!(spec, LandscapeSpec::Formula { .. });
            if ui
                .selectable_label(is_formula, "formula: type your own f(x, y)")
                .clicked()
                && !is_formula
            {
                spec = draft_spec(draft).unwrap_or_else(|| {
                    LandscapeSpec::formula(FORMULA_EXAMPLES[0].1, DEFAULT_FORMULA_DOMAIN)
                });
            }
        });
    if matches!(current, LandscapeSpec::Formula { .. })
        && let Some(applied) = formula_editor(ui, current, draft)
    {
        spec = applied;
    }
    match &mut spec {
        LandscapeSpec::Bowl {
            kappa,
            rotation_deg,
        } => {
            ui.add(
                egui::Slider::new(kappa, 1.0..=100.0)
                    .logarithmic(true)
                    .text("condition number κ"),
            );
            ui.add(egui::Slider::new(rotation_deg, -90.0..=90.0).text("rotation °"));
        }
        LandscapeSpec::Rosenbrock { a, b } => {
            ui.add(egui::Slider::new(a, 0.1..=3.0).text("a"));
            ui.add(
                egui::Slider::new(b, 1.0..=200.0)
                    .logarithmic(true)
                    .text("b"),
            );
        }
        LandscapeSpec::Rastrigin { a } => {
            ui.add(egui::Slider::new(a, 0.0..=20.0).text("A"));
        }
        LandscapeSpec::Terrain(t) => {
            ui.add(egui::DragValue::new(&mut t.seed).prefix("seed "));
            ui.add(egui::Slider::new(&mut t.octaves, 1..=8).text("octaves"));
            ui.add(
                egui::Slider::new(&mut t.frequency, 0.05..=2.0)
                    .logarithmic(true)
                    .text("frequency"),
            );
            ui.add(egui::Slider::new(&mut t.amplitude, 0.0..=3.0).text("amplitude"));
        }
        LandscapeSpec::Regression(r) => {
            ui.add(
                egui::Slider::new(&mut r.samples, 2..=2000)
                    .logarithmic(true)
                    .text("dataset size"),
            );
            ui.add(egui::DragValue::new(&mut r.seed).prefix("data seed "));
        }
        _ => {}
    }
    if &spec != current {
        actions.landscape = Some(spec);
    }
}

/// A few formulas to start from: (name, formula).
const FORMULA_EXAMPLES: [(&str, &str); 6] = [
    ("rippled bowl", "0.5*x^2 + 2*y^2 + 0.3*sin(3*x)*cos(2*y)"),
    ("Himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"),
    ("saddle", "x^2 - y^2"),
    ("Rosenbrock", "(1 - x)^2 + 100*(y - x^2)^2"),
    ("valley with a cliff", "0.1*x^2 + abs(y)"),
    ("undefined for x < -2", "x^2 + y^2 + ln(x + 2)"),
];

/// The draft as a formula spec, when it has text.
fn draft_spec(draft: &FormulaDraft) -> Option<LandscapeSpec> {
    let [x0, x1, y0, y1] = draft.domain;
    (!draft.expr.trim().is_empty()).then(|| LandscapeSpec::Formula {
        expr: draft.expr.clone(),
        x: (x0, x1),
        y: (y0, y1),
    })
}

/// The formula field, its domain and examples, with the problem under the field while there is one;
/// returns the spec to apply (Enter in the field, or Apply) once it is valid. The landscape on screen
/// stays until then.
fn formula_editor(
    ui: &mut egui::Ui,
    current: &LandscapeSpec,
    draft: &mut FormulaDraft,
) -> Option<LandscapeSpec> {
    if draft.synced_with.as_ref() != Some(current) {
        // a scene (or the menu) put another formula on screen: the draft follows it
        if let LandscapeSpec::Formula { expr, x, y } = current {
            draft.expr = expr.clone();
            draft.domain = [x.0, x.1, y.0, y.1];
            draft.error = None;
        }
        draft.synced_with = Some(current.clone());
    }
    let before = (draft.expr.clone(), draft.domain);
    ui.label("f(x, y) =");
    let field = ui.add(
        egui::TextEdit::singleline(&mut draft.expr)
            .font(egui::TextStyle::Monospace)
            .desired_width(f32::INFINITY)
            .hint_text("e.g. x^2 + 3*y^2"),
    );
    let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        ui.label("x");
        ui.add(egui::DragValue::new(&mut draft.domain[0]).speed(0.1));
        ui.add(egui::DragValue::new(&mut draft.domain[1]).speed(0.1));
        ui.label("y");
        ui.add(egui::DragValue::new(&mut draft.domain[2]).speed(0.1));
        ui.add(egui::DragValue::new(&mut draft.domain[3]).speed(0.1));
    });
    let mut apply = entered;
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("formula-examples")
            .selected_text("examples")
            .show_ui(ui, |ui| {
                for (name, expr) in FORMULA_EXAMPLES {
                    if ui
                        .selectable_label(false, name)
                        .on_hover_text(expr)
                        .clicked()
                    {
                        draft.expr = expr.to_owned();
                        apply = true;
                    }
                }
            });
        let pending = draft_spec(draft).as_ref() != Some(current);
        if ui
            .add_enabled(pending, egui::Button::new("Apply"))
            .on_hover_text("or press Enter in the field")
            .clicked()
        {
            apply = true;
        }
    });
    if (draft.expr.clone(), draft.domain) != before || draft.error.is_none() && apply {
        // checked as it is typed (building the landscape takes well under a millisecond)
        draft.error = match draft_spec(draft) {
            None => Some("type a formula in x and y".into()),
            Some(spec) => Landscape::new(spec).err().map(|e| e.with_caret("")),
        };
    }
    if let Some(error) = &draft.error {
        ui.label(
            egui::RichText::new(error)
                .monospace()
                .color(egui::Color32::from_rgb(255, 120, 100)),
        );
    }
    ui.label(
        egui::RichText::new(
            "x, y, numbers (1e-3); + - * / ^ (or **); sin cos tan asin acos atan sinh cosh tanh \
             exp log ln sqrt abs min max pow(a, b); pi, e",
        )
        .small()
        .weak(),
    );
    let spec = draft_spec(draft)?;
    (apply && draft.error.is_none() && &spec != current).then(|| {
        draft.synced_with = Some(spec.clone());
        spec
    })
}

/// Grid resolution, heights, colormap, contours and layout.
pub fn surface_controls(ui: &mut egui::Ui, style: &mut SurfaceStyle, layout: &mut ViewLayout) {
    let mut s = style.clone();
    ui.add(
        egui::Slider::new(&mut s.resolution, 16..=1024)
            .logarithmic(true)
            .text("grid resolution"),
    );
    ui.add(egui::Slider::new(&mut s.height_scale, 0.05..=1.0).text("height scale"));
    ui.checkbox(&mut s.log_height, "log height");
    ui.horizontal(|ui| {
        ui.label("colormap");
        for c in Colormap::ALL {
            ui.radio_value(&mut s.colormap, c, c.label());
        }
    });
    ui.add(egui::Slider::new(&mut s.contour_count, 0..=80).text("contour lines"));
    ui.checkbox(&mut s.log_contours, "log-spaced contours");
    ui.horizontal(|ui| {
        ui.label("layout");
        for l in ViewLayout::ALL {
            ui.radio_value(layout, l, l.label());
        }
    });
    if &s != style {
        *style = s;
    }
}

/// What a card asked for besides edits to its spec.
#[derive(Default)]
pub struct CardActions {
    pub remove: bool,
    pub duplicate: bool,
    /// Rewind this run to the step (its last stable one) and go on from there.
    pub rewind: Option<u64>,
}

/// One optimizer: kind, name, colour, visibility, hyperparameters, noise, seed, and its live readout.
pub fn optimizer_card(
    ui: &mut egui::Ui,
    id: Entity,
    spec: &mut OptimizerSpec,
    run: &Optimizer,
    landscape: &Landscape,
    is_regression: bool,
) -> CardActions {
    let mut out = CardActions::default();
    // where the step becomes unstable along the sharpest direction, at the run's newest point
    // (on a 2-D landscape: a network's curvature is not computed)
    let limit = run
        .run
        .surface()
        .filter(|_| run.view_step.is_none())
        .and_then(|runner| {
            eta_limit(
                landscape,
                run.spec.kind,
                &runner.config().hyper,
                runner.state(),
                runner.position(),
            )
        });
    let header = egui::RichText::new(spec.name.clone())
        .color(egui_color(spec.color))
        .strong();
    egui::CollapsingHeader::new(header)
        .id_salt(("card", id))
        .default_open(false)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.color_edit_button_rgb(&mut spec.color);
                ui.add(egui::TextEdit::singleline(&mut spec.name).desired_width(120.0));
                ui.checkbox(&mut spec.visible, "visible");
            });
            ui.horizontal(|ui| {
                let before = spec.kind;
                egui::ComboBox::from_id_salt(("kind", id))
                    .selected_text(spec.kind.label())
                    .show_ui(ui, |ui| {
                        for kind in OptimizerKind::ALL {
                            ui.selectable_value(&mut spec.kind, kind, kind.label());
                        }
                    });
                if spec.kind != before {
                    take_kind_defaults(&mut spec.hyper, before, spec.kind);
                }
                ui.radio_value(&mut spec.hyper.convention, Convention::Lecture, "lecture");
                ui.radio_value(&mut spec.hyper.convention, Convention::PyTorch, "pytorch");
            });
            hyper_controls(ui, id, spec, limit.as_ref(), run.run.steps());
            if let Some(limit) = &limit {
                // what the red tick on the η slider means, in one sentence
                ui.label(egui::RichText::new(limit.explanation()).weak());
            }
            if is_regression {
                let mut batch = spec.noise.batch.unwrap_or(0);
                ui.add(
                    egui::Slider::new(&mut batch, 0..=512)
                        .logarithmic(true)
                        .text("batch size (0 = full)"),
                );
                spec.noise.batch = (batch > 0).then_some(batch);
            } else {
                ui.add(
                    egui::Slider::new(&mut spec.noise.sigma, 0.0..=5.0).text("gradient noise σ"),
                );
            }
            ui.add(egui::DragValue::new(&mut spec.seed).prefix("seed "));
            ui.horizontal(|ui| {
                if ui.button("duplicate").clicked() {
                    out.duplicate = true;
                }
                if ui.button("remove").clicked() {
                    out.remove = true;
                }
                if ui
                    .button("defaults")
                    .on_hover_text("this kind's default hyperparameters")
                    .clicked()
                {
                    spec.hyper = crate::core::Hyperparams::defaults_for(spec.kind);
                    spec.noise = Default::default();
                }
            });
        });
    out.rewind = readout(ui, id, run, landscape, limit.as_ref());
    out
}

/// The backtracking line search: a switch for SGD and Newton's methods (BFGS, L-BFGS and CG always
/// search), its `c` and `ρ` where it runs, and L-BFGS's memory `m`.
fn line_search_controls(ui: &mut egui::Ui, kind: OptimizerKind, h: &mut Hyperparams) {
    if kind.offers_line_search() && !kind.always_searches() {
        ui.checkbox(&mut h.line_search.armijo, "backtracking line search")
            .on_hover_text(
                "from α = η, halve α until L(θ + α p) <= L(θ) + c α g^T p (Armijo): every step \
                 lowers the loss, at the cost of loss evaluations; needs exact gradients",
            );
    }
    if h.searches(kind) {
        ui.add(
            egui::Slider::new(&mut h.line_search.c, 1e-6..=0.9)
                .logarithmic(true)
                .clamping(egui::SliderClamping::Always)
                .text("c (Armijo)"),
        )
        .on_hover_text("the share of the slope's promised decrease a step must deliver");
        ui.add(
            egui::Slider::new(&mut h.line_search.rho, 0.05..=0.95)
                .clamping(egui::SliderClamping::Always)
                .text("ρ (backtrack)"),
        )
        .on_hover_text("each rejected trial step is ρ times the one before");
    }
    if kind == OptimizerKind::Lbfgs {
        ui.add(
            egui::Slider::new(&mut h.memory, 1..=50)
                .clamping(egui::SliderClamping::Always)
                .text("m (pairs kept)"),
        )
        .on_hover_text("how many of the last steps' pairs (s, y) L-BFGS builds its H from");
    }
}

/// The η slider's range.
const ETA_RANGE: std::ops::RangeInclusive<f64> = 1e-5..=10.0;

/// After the kind picker changed `from` → `to`: the settings the teacher had not touched (still
/// `from`'s defaults) become `to`'s defaults (Newton's η is 1, Adam's 0.01); edited ones stay. The
/// convention and the schedule are kept either way.
fn take_kind_defaults(hyper: &mut Hyperparams, from: OptimizerKind, to: OptimizerKind) {
    let untouched = Hyperparams {
        convention: hyper.convention,
        schedule: hyper.schedule,
        ..Hyperparams::defaults_for(from)
    };
    if *hyper == untouched {
        *hyper = Hyperparams {
            convention: hyper.convention,
            schedule: hyper.schedule,
            ..Hyperparams::defaults_for(to)
        };
    }
}

/// eta (log slider with a typed value), beta_m, beta_r, eps, λ, ν, ν2 where the kind uses them, and
/// the learning-rate schedule; `limit` marks on the η slider where a step becomes unstable along the
/// sharpest direction (for η_t: with a schedule the mark is where η_t of the next step, after `steps`
/// steps, reaches it).
pub fn hyper_controls(
    ui: &mut egui::Ui,
    id: Entity,
    spec: &mut OptimizerSpec,
    limit: Option<&EtaLimit>,
    steps: u64,
) {
    let kind = spec.kind;
    let h = &mut spec.hyper;
    let factor = h.schedule.factor(steps);
    ui.horizontal(|ui| {
        let slider = ui.add(
            egui::Slider::new(&mut h.lr, ETA_RANGE)
                .logarithmic(true)
                .text("η"),
        );
        if let Some(limit) = limit
            && let Some(eta_max) = limit.eta_max
            && factor > 0.0
        {
            mark_eta_limit(ui, &slider, eta_max / factor, limit);
        }
    });
    if kind.uses_beta_m() {
        let label = if kind == OptimizerKind::Lion {
            "β_m (β1)"
        } else {
            "β_m"
        };
        ui.add(egui::Slider::new(&mut h.beta_m, 0.0..=0.9999).text(label));
    }
    if kind.uses_beta_r() {
        let label = match kind {
            OptimizerKind::Lion => "β_r (β2)",
            OptimizerKind::AdaDelta => "β_r (ρ)",
            _ => "β_r",
        };
        ui.add(egui::Slider::new(&mut h.beta_r, 0.0..=0.9999).text(label));
    }
    if kind.uses_eps() {
        ui.add(
            egui::Slider::new(&mut h.eps, 1e-12..=1.0)
                .logarithmic(true)
                .text("ε"),
        );
    }
    if kind.uses_weight_decay() {
        ui.add(
            egui::Slider::new(&mut h.weight_decay, 0.0..=1.0)
                .text("λ weight decay")
                .clamping(egui::SliderClamping::Always),
        )
        .on_hover_text(
            "decoupled weight decay: each step also moves θ by −η λ θ, toward the origin",
        );
    }
    if kind.uses_nu() {
        let label = if kind == OptimizerKind::QhAdam {
            "ν1"
        } else {
            "ν"
        };
        ui.add(egui::Slider::new(&mut h.nu, 0.0..=1.0).text(label))
            .on_hover_text("the momentum's share of the step: 0 is plain SGD, 1 plain momentum");
    }
    if kind.uses_nu2() {
        ui.add(egui::Slider::new(&mut h.nu2, 0.0..=1.0).text("ν2"))
            .on_hover_text(
                "the averaged squared gradient's share of the denominator (1 is Adam's)",
            );
    }
    line_search_controls(ui, kind, h);
    if kind.uses_bias_correction() {
        ui.checkbox(&mut h.bias_correction, "bias correction");
    }
    schedule_controls(ui, id, &mut h.schedule);
    if h.schedule != Schedule::Constant {
        ui.label(
            egui::RichText::new(format!(
                "{}   now η_t = {}",
                h.schedule.formula(),
                num(h.lr * factor)
            ))
            .small()
            .weak(),
        );
    }
    // sliders can reach the ends of their ranges; keep the values valid for the core
    h.lr = h.lr.clamp(1e-12, 1e3);
    h.beta_m = h.beta_m.clamp(0.0, 0.9999);
    h.beta_r = h.beta_r.clamp(0.0, 0.9999);
    h.eps = h.eps.clamp(0.0, 1.0);
    h.weight_decay = h.weight_decay.clamp(0.0, 1.0);
    h.nu = h.nu.clamp(0.0, 1.0);
    h.nu2 = h.nu2.clamp(0.0, 1.0);
}

/// The schedule picker and its parameters. The fields' ranges keep every value valid (`W < T`, `G` in
/// (0, 1], ...), so an edit never produces a schedule the core refuses.
fn schedule_controls(ui: &mut egui::Ui, id: Entity, schedule: &mut Schedule) {
    ui.horizontal(|ui| {
        ui.label("schedule");
        egui::ComboBox::from_id_salt(("schedule", id))
            .selected_text(schedule.name())
            .show_ui(ui, |ui| {
                for example in Schedule::examples() {
                    if ui
                        .selectable_label(schedule.name() == example.name(), example.name())
                        .clicked()
                        && schedule.name() != example.name()
                    {
                        *schedule = example;
                    }
                }
            });
    });
    fn steps<'a>(
        value: &'a mut u64,
        range: std::ops::RangeInclusive<u64>,
        prefix: &str,
    ) -> egui::DragValue<'a> {
        egui::DragValue::new(value)
            .range(range)
            .speed(1.0)
            .prefix(prefix.to_owned())
    }
    fn fraction<'a>(
        value: &'a mut f64,
        range: std::ops::RangeInclusive<f64>,
        prefix: &str,
    ) -> egui::DragValue<'a> {
        egui::DragValue::new(value)
            .range(range)
            .speed(0.001)
            .max_decimals(4)
            .prefix(prefix.to_owned())
    }
    ui.horizontal(|ui| match schedule {
        Schedule::Constant => {}
        Schedule::Step { every, gamma } => {
            ui.add(steps(every, 1..=1_000_000, "every K = "))
                .on_hover_text("steps between drops");
            ui.add(fraction(gamma, 0.001..=1.0, "× G = "));
        }
        Schedule::Exp { gamma } => {
            ui.add(
                egui::DragValue::new(gamma)
                    .range(0.5..=1.0)
                    .speed(0.0001)
                    .max_decimals(5)
                    .prefix("G = "),
            )
            .on_hover_text("η_t = η G^c");
        }
        Schedule::Cosine { steps: t, alpha } => {
            ui.add(steps(t, 1..=1_000_000, "T = "));
            ui.add(fraction(alpha, 0.0..=1.0, "A = "))
                .on_hover_text("η_t ends at A η");
        }
        Schedule::WarmupCosine {
            warmup,
            steps: t,
            alpha,
        } => {
            let w_max = t.saturating_sub(1).max(1);
            ui.add(steps(warmup, 1..=w_max, "W = "))
                .on_hover_text("warm-up steps: η_t rises from 0 to η");
            let t_min = *warmup + 1;
            ui.add(steps(t, t_min..=1_000_000, "T = "))
                .on_hover_text("the step where the cosine ends (the warm-up included)");
            ui.add(fraction(alpha, 0.0..=1.0, "A = "));
        }
        Schedule::InvSqrt { warmup } => {
            ui.add(
                egui::DragValue::new(warmup)
                    .range(0.1..=1e6)
                    .speed(1.0)
                    .prefix("W = "),
            )
            .on_hover_text("η_t = η / √(1 + c/W)");
        }
    });
}

/// A red tick on the η slider's rail at `eta_max` (the slider is logarithmic over [`ETA_RANGE`]), with
/// the rule on hover.
fn mark_eta_limit(ui: &egui::Ui, slider: &egui::Response, eta_max: f64, limit: &EtaLimit) {
    let (lo, hi) = (ETA_RANGE.start().ln(), ETA_RANGE.end().ln());
    if !(eta_max.is_finite() && eta_max > 0.0) {
        return;
    }
    let t = ((eta_max.ln() - lo) / (hi - lo)).clamp(0.0, 1.0) as f32;
    // the rail spans the slider's width less the handle's radius at each end
    let rail = egui::Rect::from_min_size(
        slider.rect.min,
        egui::vec2(ui.spacing().slider_width, slider.rect.height()),
    );
    let radius = rail.height() / 2.5;
    let x = rail.left() + radius + t * (rail.width() - 2.0 * radius);
    let color = egui::Color32::from_rgb(255, 80, 60);
    let painter = ui.painter();
    painter.line_segment(
        [egui::pos2(x, rail.top()), egui::pos2(x, rail.bottom())],
        egui::Stroke::new(2.0, color),
    );
    let tip = egui::Rect::from_center_size(
        egui::pos2(x, rail.center().y),
        egui::vec2(8.0, rail.height()),
    );
    ui.interact(tip, slider.id.with("eta-limit"), egui::Sense::hover())
        .on_hover_text(format!(
            "η limit here: {}. {}",
            num(eta_max),
            limit.explanation()
        ));
}

/// Step, position, loss, gradient norm, distance to the nearest known minimum, effective learning rate;
/// the curvature at the point and the η limit; why a diverged run diverged, with a button to rewind it
/// to its last stable step (the step returned when clicked).
pub fn readout(
    ui: &mut egui::Ui,
    id: Entity,
    run: &Optimizer,
    landscape: &Landscape,
    limit: Option<&EtaLimit>,
) -> Option<u64> {
    // the step on show: the newest, or the one the timeline is scrubbed to
    let last = run.displayed_record();
    let p = last.pos;
    let g = last.grad;
    let status = match run.run.status() {
        RunStatus::Running => String::new(),
        other => format!("  — {other}"),
    };
    if landscape.network().is_some() {
        // a network's run: where it projects on the plane, its true loss and accuracy, and the norm of
        // its whole gradient (every weight's), not only the part along the plane
        let now = run.view_step.is_none();
        let accuracy = (now.then(|| run.run.accuracy()).flatten())
            .map_or(String::new(), |a| format!("  acc={:.1}%", 100.0 * a));
        // scrubbed back, only the history's gradient along the plane is at hand
        let (g_name, grad) = if now {
            ("|g|", run.run.gradient_norm())
        } else {
            ("|g along plane|", (g[0] * g[0] + g[1] * g[1]).sqrt())
        };
        ui.monospace(format!(
            "t={:<6} α={}  β={}{status}\nL={}{accuracy}  {g_name}={}",
            last.step,
            num(p[0]),
            num(p[1]),
            num(last.loss),
            num(grad)
        ));
        return None;
    }
    ui.monospace(format!(
        "t={:<6} x={}  y={}{status}\nL={}  |g|={}",
        last.step,
        num(p[0]),
        num(p[1]),
        num(last.loss),
        num((g[0] * g[0] + g[1] * g[1]).sqrt())
    ));
    let mut extra = String::new();
    if let Some((m, d)) = landscape.nearest_minimum(p) {
        extra.push_str(&format!("to min {}: {}", point(m), num(d)));
    }
    if run.spec.kind.is_adaptive()
        && run.view_step.is_none()
        && let Some(detail) = run.run.surface().and_then(|r| r.last_detail())
    {
        let e: Vec2d = detail.effective_lr;
        if !extra.is_empty() {
            extra.push('\n');
        }
        extra.push_str(&format!("η_eff = {}", point(e)));
    }
    let hyper = *run.run.hyper();
    if hyper.schedule != Schedule::Constant && run.view_step.is_none() {
        if !extra.is_empty() {
            extra.push('\n');
        }
        let next = run.run.steps() + 1;
        extra.push_str(&format!(
            "η_t = {} at step {next} ({})",
            num(hyper.lr_at(next)),
            hyper.schedule
        ));
    }
    // the line search: the step length it chose, its cost in loss evaluations, and why η has no limit
    if hyper.searches(run.spec.kind)
        && run.view_step.is_none()
        && let Some(runner) = run.run.surface()
    {
        if !extra.is_empty() {
            extra.push('\n');
        }
        if let Some(detail) = runner.last_detail() {
            extra.push_str(&format!(
                "α = {} after {} trial(s);  ",
                num(detail.effective_lr[0]),
                detail.trials.len()
            ));
        }
        extra.push_str(&format!("{} loss evaluations", runner.evals()));
        if let Some(reason) =
            crate::core::curvature::StabilityRule::none_because(run.spec.kind, &hyper)
        {
            extra.push('\n');
            extra.push_str(reason);
        }
    }
    if !extra.is_empty() {
        ui.monospace(extra);
    }
    curvature_here(ui, id, Curvature::at(landscape, p).as_ref(), limit);
    let runner = run.run.surface()?;
    let diagnosis = diagnose(
        landscape,
        runner.config(),
        run.history.kept(),
        runner.status(),
        runner.state(),
    )?;
    ui.label(
        egui::RichText::new(format!("diverged: {}", diagnosis.text))
            .color(egui::Color32::from_rgb(255, 120, 100)),
    );
    ui.button(format!(
        "Rewind to step {} (the last stable one)",
        diagnosis.last_stable_step
    ))
    .on_hover_text("forget the steps after it; lower η, then play on")
    .clicked()
    .then_some(diagnosis.last_stable_step)
}

/// The curvature at a run's point and its η limit, collapsed to one short line (`curvature: saddle ·
/// κ 12.1 · η stable`) that opens on a click to the sentences, at the panel's own text size: several
/// runs at one point no longer repeat the same small-print sentence.
fn curvature_here(
    ui: &mut egui::Ui,
    id: Entity,
    curvature: Option<&Curvature>,
    limit: Option<&EtaLimit>,
) {
    let Some(curvature) = curvature else {
        return;
    };
    let verdict = match limit {
        Some(l) if l.stability > 1.0 => " · η too large",
        Some(_) => " · η stable",
        None => "",
    };
    egui::CollapsingHeader::new(format!(
        "curvature: {}{verdict}",
        super::curvature::label(curvature)
    ))
    .id_salt(("curvature", id))
    .default_open(false)
    .show(ui, |ui| {
        ui.label(curvature.text());
        if let Some(limit) = limit {
            ui.label(limit.inequality());
            ui.label(egui::RichText::new(limit.explanation()).weak());
        }
    });
}

/// Kind picker and the Add button.
pub fn add_optimizer_row(ui: &mut egui::Ui, kind: &mut OptimizerKind, actions: &mut PanelActions) {
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("add-kind")
            .selected_text(kind.label())
            .show_ui(ui, |ui| {
                for k in OptimizerKind::ALL {
                    ui.selectable_value(kind, k, k.label());
                }
            });
        if ui.button("+ Add").clicked() {
            actions.add = Some(*kind);
        }
    });
}

/// Path field with Load and Save.
pub fn scene_file_row(ui: &mut egui::Ui, panel: &mut PanelState, actions: &mut PanelActions) {
    ui.add(egui::TextEdit::singleline(&mut panel.scene_path).hint_text("path/to/scene.ron"));
    ui.horizontal(|ui| {
        if ui.button("Load").clicked() {
            actions.load_file = true;
        }
        if ui.button("Save").clicked() {
            actions.save_file = true;
        }
    });
}

/// UI scale and high contrast.
pub fn projector_controls(ui: &mut egui::Ui, prefs: &mut UiPrefs) {
    let mut p = prefs.clone();
    ui.add(egui::Slider::new(&mut p.ui_scale, 0.75..=2.5).text("UI scale"));
    ui.checkbox(&mut p.high_contrast, "high contrast");
    if p != *prefs {
        *prefs = p;
    }
}
