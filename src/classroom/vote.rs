//! The class vote on the projector (issue 27): the whole class answers predict mode's question from
//! their phones. Off until the teacher turns it on (the panel, or `--class-vote ADDR:PORT`); then the
//! web server (`vote_server`, on its own thread) serves the phones' page, and this module
//!
//! - sends it the round on screen whenever it changes ([`publish_round`]: the question and its
//!   choices, open while the class guesses, closed at Reveal, the answer once revealed);
//! - takes the tally and each round's result back ([`take_updates`]), a few times a second, without
//!   ever waiting on the network;
//! - shows the address, its QR code and the join code, how many joined and voted, and the tally once
//!   the teacher chooses to show it ([`class_vote_window`]: bars for a choice, dots on the views for a
//!   "where" question, [`paint_class_points`]);
//! - keeps the class's results over the rounds for the scoreboard, with their CSV ([`record_section`]).

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::predict::{Phase, Round, scene_on_screen};
use crate::core::vote::{ClassRecord, JoinCode, RoundInfo, RoundResult, Solution, Tally, VoteKind};
use crate::geometry::{SurfaceFrame, ViewKind, ViewProjection, place};
use crate::optimizers::Optimizer;
use crate::paint::{ViewLayer, egui_color, view_painter};
use crate::schedule::KeepAwake;
use crate::state::{ActiveLandscape, CurrentScene, PredictMode, SurfaceSettings, UiPrefs};
use crate::views::ViewRects;
use crate::vote_server::{
    DEFAULT_PORT, MapSource, Update, VoteServer, join_url, reachable_addresses,
};

/// How often the app looks for news from the server while the vote is on (it sleeps otherwise).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A request to the class vote, from the panel and its window.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ClassVoteRequest {
    /// Start serving on every network of this computer (port 8642, or the next free one), with a new
    /// join code.
    Start,
    /// Stop serving (the phones' page says it lost the connection).
    Stop,
}

/// The class vote: the running server, the latest tally, the results so far.
#[derive(Resource, Default)]
pub struct ClassVote {
    server: Option<VoteServer>,
    /// The addresses to open on a phone, `http://HOST:PORT/#CODE`, best first.
    pub urls: Vec<String>,
    /// The latest tally.
    pub tally: Tally,
    /// The round the phones were last sent, and what it was made from (sent again when that changes).
    sent: Option<(u64, RoundInfo)>,
    /// The tally on the projector (bars, dots): hidden until the teacher shows it, so the class's
    /// guesses do not steer each other.
    pub show_tally: bool,
    /// The join box (address, QR code, join code) shown in the window.
    pub show_join: bool,
    /// Every revealed round's result.
    pub record: ClassRecord,
    /// Why the vote stopped or could not start, if it did.
    pub problem: Option<String>,
    /// Where "Export class CSV" writes; empty: `losscape-<scene>-class.csv`.
    pub csv_path: String,
    /// The last export's result: (ok, text).
    pub exported: Option<(bool, String)>,
}

impl ClassVote {
    /// The vote with `server` already running (`--class-vote`).
    pub fn running(server: VoteServer) -> Self {
        let mut vote = Self::default();
        vote.attach(server);
        vote
    }

    fn attach(&mut self, server: VoteServer) {
        let addr = server.local_addr();
        self.urls = reachable_addresses(addr)
            .into_iter()
            .map(|ip| join_url(ip, addr.port(), server.code()))
            .collect();
        self.server = Some(server);
        self.sent = None;
        self.tally = Tally::default();
        self.show_join = true;
        self.problem = None;
    }

    /// Whether the server runs.
    pub fn on(&self) -> bool {
        self.server.is_some()
    }

    /// The join code, while on.
    pub fn code(&self) -> Option<&str> {
        self.server.as_ref().map(|s| s.code().as_str())
    }

    /// The round the phones see now.
    pub fn round(&self) -> Option<&RoundInfo> {
        self.sent.as_ref().map(|(_, info)| info)
    }
}

/// Run condition: the class vote is on.
pub fn voting(vote: Option<Res<ClassVote>>) -> bool {
    vote.is_some_and(|v| v.on())
}

/// Starts or stops the server.
pub fn handle_vote_requests(
    mut requests: MessageReader<ClassVoteRequest>,
    mut vote: ResMut<ClassVote>,
) {
    for request in requests.read() {
        match request {
            ClassVoteRequest::Start if !vote.on() => {
                let started = VoteServer::start_on_free_port(
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    DEFAULT_PORT,
                    JoinCode::random(),
                );
                match started {
                    Ok(server) => {
                        info!("class vote: {}", server.local_addr());
                        vote.attach(server);
                    }
                    Err(e) => vote.problem = Some(e),
                }
            }
            ClassVoteRequest::Stop => {
                if let Some(server) = vote.server.take() {
                    server.stop();
                }
                vote.sent = None;
                vote.urls.clear();
            }
            ClassVoteRequest::Start => {}
        }
    }
}

/// A fingerprint of what the phones' round is made of: predict mode, the round, its phase, the
/// optimizers' names, starts and colours. Cheap to compute every frame; the round itself is built
/// only when it changes.
fn round_stamp(mode: &PredictMode, round: &Round, optimizers: &Query<&Optimizer>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    mode.on.hash(&mut hasher);
    round.number.hash(&mut hasher);
    let phase = match &round.phase {
        Phase::Guessing => 0u8,
        Phase::Revealing { .. } => 1,
        Phase::Revealed(Ok(_)) => 2,
        Phase::Revealed(Err(_)) => 3,
    };
    phase.hash(&mut hasher);
    for o in optimizers {
        o.spec.name.hash(&mut hasher);
        o.spec.start.map(f64::to_bits).hash(&mut hasher);
        o.spec.color.map(f32::to_bits).hash(&mut hasher);
    }
    hasher.finish()
}

/// The round as the phones see it, from the scene on screen and predict mode's round.
pub fn round_info(
    mode: &PredictMode,
    round: &Round,
    current: &CurrentScene,
    landscape: &ActiveLandscape,
    optimizers: &Query<&Optimizer>,
) -> RoundInfo {
    let scene = scene_on_screen(current, landscape, optimizers.iter());
    let question = match &scene.question {
        Some(q) if mode.on && q.validate(&scene).is_ok() => q,
        _ => return RoundInfo::waiting(round.number),
    };
    let reveal = round.reveal();
    let (choices, kind, solution) = if question.is_choice() {
        let solution = reveal.map(|r| Solution::Choices(r.truth.correct.clone()));
        (question.options(&scene), VoteKind::Choice, solution)
    } else {
        let asked = question.guessed_optimizers(&scene);
        let specs: Vec<_> = asked
            .iter()
            .filter_map(|&i| scene.optimizers.get(i))
            .collect();
        let domain = landscape.0.domain();
        let kind = VoteKind::Point {
            domain: [domain.x[0], domain.x[1], domain.y[0], domain.y[1]],
            starts: specs.iter().map(|s| s.start).collect(),
            colors: specs
                .iter()
                .map(|s| egui_color(s.color).to_array())
                .map(|[r, g, b, _]| [r, g, b])
                .collect(),
        };
        let solution = reveal.map(|r| {
            Solution::Points(
                asked
                    .iter()
                    .filter_map(|&i| r.truth.board.rows.get(i).map(|row| row.score.final_pos))
                    .collect(),
            )
        });
        let names = specs.iter().map(|s| s.name.clone()).collect();
        (names, kind, solution)
    };
    RoundInfo {
        round: round.number,
        question: question.prompt(),
        choices,
        kind,
        open: matches!(round.phase, Phase::Guessing),
        solution,
    }
}

/// Sends the round on screen to the phones when it changed (a new round, Reveal, the answer, a
/// renamed optimizer); a "where" question's top view is drawn from the landscape and style on screen.
pub fn publish_round(
    mut vote: ResMut<ClassVote>,
    mode: Res<PredictMode>,
    round: Res<Round>,
    current: Res<CurrentScene>,
    landscape: Res<ActiveLandscape>,
    // absent in headless tests, which draw no surface: the default style then
    surface: Option<Res<SurfaceSettings>>,
    optimizers: Query<&Optimizer>,
) {
    let stamp = round_stamp(&mode, &round, &optimizers);
    if vote.sent.as_ref().is_some_and(|(s, _)| *s == stamp) {
        return;
    }
    let info = round_info(&mode, &round, &current, &landscape, &optimizers);
    let map = matches!(info.kind, VoteKind::Point { .. }).then(|| MapSource {
        landscape: landscape.0.clone(),
        style: surface.map(|s| s.0.clone()).unwrap_or_default(),
    });
    if let Some(server) = &vote.server {
        server.set_round(info.clone(), map);
    }
    vote.sent = Some((stamp, info));
}

/// Takes what the server sent since the last frame: the tally, results, problems. While the vote is
/// on the app looks a few times a second even when nothing else moves.
pub fn take_updates(mut vote: ResMut<ClassVote>, mut awake: ResMut<KeepAwake>) {
    awake.within(POLL_INTERVAL);
    let vote = &mut *vote;
    let Some(server) = &vote.server else {
        return;
    };
    let mut results: Vec<RoundResult> = Vec::new();
    for update in server.updates() {
        match update {
            Update::Tally(tally) => vote.tally = tally,
            Update::Result(result) => results.push(result),
            Update::Problem(problem) => {
                warn!("{problem}");
                vote.problem = Some(problem);
            }
        }
    }
    if !results.is_empty() {
        awake.request();
    }
    for result in results {
        vote.record.push(result);
    }
    if !server.running() {
        vote.server = None;
        vote.urls.clear();
        vote.problem = Some("the class vote stopped: turn it on again in the panel".into());
    }
}

/// The panel's switch, under "Predict, then reveal".
pub fn panel_controls(
    ui: &mut egui::Ui,
    vote: &ClassVote,
    requests: &mut MessageWriter<ClassVoteRequest>,
) {
    let label = if vote.on() {
        "Stop the class vote"
    } else {
        "Class vote from phones"
    };
    if ui
        .selectable_label(vote.on(), label)
        .on_hover_text(
            "serves a page on this computer's network: students open it on their phones and vote \
             on predict mode's question",
        )
        .clicked()
    {
        requests.write(if vote.on() {
            ClassVoteRequest::Stop
        } else {
            ClassVoteRequest::Start
        });
    }
    if let Some(problem) = vote.problem.as_ref().filter(|_| !vote.on()) {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    }
}

/// The QR code of `text` as an image: black modules on white with the standard quiet zone of four
/// modules.
pub fn qr_image(text: &str) -> Option<egui::ColorImage> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let width = code.width();
    let quiet = 4;
    let side = width + 2 * quiet;
    let dark = code.to_colors();
    let pixels = (0..side * side)
        .map(|k| {
            let (x, y) = (k % side, k / side);
            let inside = (quiet..quiet + width).contains(&x) && (quiet..quiet + width).contains(&y);
            let on = inside && dark[(y - quiet) * width + (x - quiet)] == qrcode::Color::Dark;
            if on {
                egui::Color32::BLACK
            } else {
                egui::Color32::WHITE
            }
        })
        .collect();
    Some(egui::ColorImage::new([side, side], pixels))
}

/// What the window asks for.
#[derive(Default)]
struct WindowActions {
    stop: bool,
}

/// The window's contents: joining (address, QR code, code), who joined and voted, the tally when
/// shown, the round's result once revealed.
fn window_ui(
    ui: &mut egui::Ui,
    vote: &mut ClassVote,
    qr: Option<&egui::TextureHandle>,
    actions: &mut WindowActions,
) {
    let big = |text: &str, size: f32| egui::RichText::new(text).size(size).strong();
    if vote.show_join {
        let url = vote.urls.first().cloned().unwrap_or_default();
        let shown = url.split('#').next().unwrap_or_default().to_owned();
        ui.label("Open on a phone (same network):");
        ui.label(big(&shown, 20.0).monospace());
        if let Some(code) = vote.code() {
            ui.horizontal(|ui| {
                ui.label("join code");
                ui.label(big(code, 30.0).monospace());
            });
        }
        if let Some(texture) = qr {
            let side = 200.0;
            let (rect, _) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            ui.painter()
                .image(texture.id(), rect, uv, egui::Color32::WHITE);
        }
        if vote.urls.len() > 1 {
            ui.collapsing("other addresses of this computer", |ui| {
                for url in &vote.urls[1..] {
                    ui.small(url.split('#').next().unwrap_or_default());
                }
            });
        }
        if vote.urls.first().is_some_and(|u| u.contains("//127.")) {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "this computer is on no network: connect it to the classroom's Wi-Fi",
            );
        }
    }
    let tally = &vote.tally;
    let current = vote.round().cloned();
    let this_round = current.as_ref().is_some_and(|r| r.round == tally.round);
    let voted = if this_round { tally.voted } else { 0 };
    ui.label(big(
        &format!("{} joined · {voted} voted", tally.joined),
        18.0,
    ));
    ui.horizontal(|ui| {
        ui.toggle_value(&mut vote.show_tally, "Show the tally");
        let join = if vote.show_join {
            "Hide the address"
        } else {
            "Show the address"
        };
        if ui.button(join).clicked() {
            vote.show_join = !vote.show_join;
        }
        if ui.button("Stop").clicked() {
            actions.stop = true;
        }
    });
    match current.as_ref().map(|r| &r.kind) {
        None | Some(VoteKind::Waiting) => {
            ui.small("the phones wait for predict mode's question (Q)");
        }
        Some(_) if !vote.show_tally => {
            ui.small("the tally is hidden until you show it");
        }
        Some(kind) => {
            if let Some(round) = &current
                && this_round
            {
                tally_bars(ui, round, &vote.tally, kind);
            }
        }
    }
    if let Some(result) = vote
        .record
        .rounds
        .last()
        .filter(|r| current.as_ref().is_some_and(|c| c.round == r.round))
    {
        ui.separator();
        ui.label(big(&result_line(result), 18.0));
    }
    if let Some(problem) = &vote.problem {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    }
    if !tally.names.is_empty() {
        ui.collapsing(format!("who joined ({})", tally.names.len()), |ui| {
            ui.horizontal_wrapped(|ui| {
                for (name, voted) in &tally.names {
                    let text = egui::RichText::new(name);
                    // shown as text: initials are never interpreted
                    ui.label(if *voted && this_round {
                        text.strong()
                    } else {
                        text.weak()
                    });
                }
            });
        });
    }
}

/// "The class: 15 of 21 right (71 %)", or the mean distance of a "where" round.
pub fn result_line(result: &RoundResult) -> String {
    match (result.right, result.mean_distance) {
        (Some(right), _) => match result.share_right() {
            Some(share) => format!(
                "The class: {right} of {} right ({:.0} %)",
                result.voters,
                share * 100.0
            ),
            None => "The class: nobody voted".into(),
        },
        (None, Some(d)) => format!(
            "The class: {} voted, {:.3} from the truth on average",
            result.voters, d
        ),
        (None, None) => "The class: nobody voted".into(),
    }
}

/// One bar per choice, as long as its share of the votes; the right ones marked once revealed.
fn tally_bars(ui: &mut egui::Ui, round: &RoundInfo, tally: &Tally, kind: &VoteKind) {
    let total: u32 = tally.counts.iter().sum();
    let right: &[usize] = match &round.solution {
        Some(Solution::Choices(right)) => right,
        _ => &[],
    };
    let colors: Vec<egui::Color32> = match kind {
        VoteKind::Point { colors, .. } => colors
            .iter()
            .map(|&[r, g, b]| egui::Color32::from_rgb(r, g, b))
            .collect(),
        _ => Vec::new(),
    };
    if matches!(kind, VoteKind::Point { .. }) {
        ui.small("points on the views; placed per optimizer:");
    }
    egui::Grid::new("class-tally")
        .num_columns(3)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            for (i, choice) in round.choices.iter().enumerate() {
                let count = tally.counts.get(i).copied().unwrap_or(0);
                let mark = if right.contains(&i) { "  ✔" } else { "" };
                ui.label(egui::RichText::new(format!("{choice}{mark}")).size(16.0));
                let width = 160.0;
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(width, 18.0), egui::Sense::hover());
                let painter = ui.painter();
                painter.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
                let share = if total > 0 {
                    count as f32 / total as f32
                } else {
                    0.0
                };
                let mut bar = rect;
                bar.set_width(width * share);
                let color = colors.get(i).copied().unwrap_or(if right.contains(&i) {
                    egui::Color32::from_rgb(95, 212, 122)
                } else {
                    egui::Color32::from_rgb(255, 210, 74)
                });
                painter.rect_filled(bar, 3.0, color);
                ui.label(egui::RichText::new(count.to_string()).size(16.0).strong());
                ui.end_row();
            }
        });
}

/// The window over the views while the vote is on.
pub fn class_vote_window(
    mut contexts: EguiContexts,
    mut vote: ResMut<ClassVote>,
    rects: Res<ViewRects>,
    prefs: Res<UiPrefs>,
    mut requests: MessageWriter<ClassVoteRequest>,
    mut qr: Local<Option<(String, egui::TextureHandle)>>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    // the QR code's texture is made once per address
    let url = vote.urls.first().cloned().unwrap_or_default();
    if qr.as_ref().is_none_or(|(u, _)| *u != url)
        && let Some(image) = qr_image(&url)
    {
        let handle = ctx.load_texture("class-vote-qr", image, egui::TextureOptions::NEAREST);
        *qr = Some((url, handle));
    }
    let scale = prefs.ui_scale.max(0.1);
    let mut window = egui::Window::new("Class vote")
        .pivot(egui::Align2::LEFT_TOP)
        .default_width(260.0)
        .resizable(false)
        .vscroll(true);
    if let Some(r) = rects.three_d.or(rects.top) {
        window = window.default_pos(egui::pos2(r.min.x / scale + 12.0, r.min.y / scale + 12.0));
    }
    let mut actions = WindowActions::default();
    window.show(&ctx, |ui| {
        window_ui(ui, &mut vote, qr.as_ref().map(|(_, t)| t), &mut actions)
    });
    if actions.stop {
        requests.write(ClassVoteRequest::Stop);
    }
    Ok(())
}

/// A "where" round's points, as small dots in each optimizer's colour on both views, while the tally
/// is shown.
pub fn paint_class_points(
    mut contexts: EguiContexts,
    vote: Res<ClassVote>,
    prefs: Res<UiPrefs>,
    rects: Res<ViewRects>,
    cameras: Query<(&ViewKind, &Camera, &GlobalTransform)>,
    frame: Res<SurfaceFrame>,
    landscape: Res<ActiveLandscape>,
) -> Result {
    let Some(round) = vote.round() else {
        return Ok(());
    };
    let VoteKind::Point { colors, .. } = &round.kind else {
        return Ok(());
    };
    if !vote.show_tally || vote.tally.round != round.round || vote.tally.points.is_empty() {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    for (view, camera, transform) in &cameras {
        let Some(rect) = rects.get(*view) else {
            continue;
        };
        let (painter, clip) = view_painter(ctx, *view, rect, prefs.ui_scale, ViewLayer::Readout);
        let projection = ViewProjection::of_camera(*view, camera, transform, clip);
        for (choice, at) in &vote.tally.points {
            let Some((px, _)) = projection.project(place(&frame, &landscape.0, *view, *at, 0.05))
            else {
                continue;
            };
            let [r, g, b] = colors.get(*choice).copied().unwrap_or([255, 255, 255]);
            let color = egui::Color32::from_rgba_unmultiplied(r, g, b, 200);
            painter.circle(px, 3.5, color, egui::Stroke::new(1.0, egui::Color32::BLACK));
        }
    }
    Ok(())
}

/// The scoreboard's "Class vote" part: each revealed round's counts and how the class did, and the
/// CSV (counts per round, never names).
pub fn record_section(ui: &mut egui::Ui, vote: &mut ClassVote, current: &CurrentScene) {
    if vote.record.rounds.is_empty() {
        return;
    }
    ui.label(egui::RichText::new("Class vote").strong());
    let (right, votes) = vote.record.right_of_votes();
    if votes > 0 {
        ui.small(format!(
            "{} rounds; on the choice questions {right} of {votes} votes right",
            vote.record.rounds.len()
        ));
    }
    egui::Grid::new("class-record")
        .striped(true)
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            for heading in ["round", "question", "votes", "how the class did"] {
                ui.label(egui::RichText::new(heading).strong());
            }
            ui.end_row();
            for r in &vote.record.rounds {
                ui.label(r.round.to_string());
                let short: String = r.question.chars().take(36).collect();
                ui.label(short).on_hover_text(&r.question);
                let counts: Vec<String> = r.counts.iter().map(u32::to_string).collect();
                ui.label(counts.join(" · "))
                    .on_hover_text(r.choices.join(" · "));
                ui.label(result_line(r).trim_start_matches("The class: ").to_owned());
                ui.end_row();
            }
        });
    ui.horizontal(|ui| {
        let default = default_class_csv(current);
        ui.add(
            egui::TextEdit::singleline(&mut vote.csv_path)
                .hint_text(default.display().to_string())
                .desired_width(180.0),
        );
        if ui.button("Export class CSV").clicked() {
            let typed = vote.csv_path.trim();
            let path = if typed.is_empty() {
                default
            } else {
                std::path::PathBuf::from(typed)
            };
            vote.exported = Some(match std::fs::write(&path, vote.record.to_csv()) {
                Ok(()) => (true, format!("saved {}", path.display())),
                Err(e) => (
                    false,
                    format!("could not write {}: {e}; pick another path", path.display()),
                ),
            });
        }
    });
    if let Some((ok, text)) = &vote.exported {
        let color = if *ok {
            ui.visuals().text_color()
        } else {
            ui.visuals().error_fg_color
        };
        ui.colored_label(color, text);
    }
}

/// `losscape-<scene>-class.csv` beside the scores' default.
fn default_class_csv(current: &CurrentScene) -> std::path::PathBuf {
    let scores = super::scoreboard::default_csv_path(current);
    let name = scores
        .to_string_lossy()
        .replace("-scores.csv", "-class.csv");
    std::path::PathBuf::from(name)
}
