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
use crate::state::{ActiveLandscape, CurrentScene, PredictMode, SurfaceSettings, UiPrefs};
use crate::system_order::KeepAwake;
use crate::views::ViewRects;
use crate::vote_server::{
    DEFAULT_PORT, MapSource, Update, VoteServer, join_url, reachable_addresses,
};

/// How often the app looks for news from the server while votes come in (it sleeps otherwise).
pub const POLL_BUSY: Duration = Duration::from_millis(250);
/// How often while none came for [`QUIET_AFTER`]: each look is a frame drawn (on a software
/// renderer tens of milliseconds), so a quiet class costs one frame a second.
pub const POLL_QUIET: Duration = Duration::from_secs(1);
/// How long after the last news the app looks more often.
pub const QUIET_AFTER: Duration = Duration::from_secs(5);

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
    /// Listening on every network, but this computer is on none (only its own address was found).
    pub offline: bool,
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
    /// When the last news came from the server (real time since start).
    last_news: Option<Duration>,
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
        let reachable = reachable_addresses(addr);
        self.offline = addr.ip().is_unspecified() && reachable.iter().all(IpAddr::is_loopback);
        self.urls = reachable
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
/// on the app looks four times a second while votes come in, once a second otherwise, even when
/// nothing else moves.
pub fn take_updates(
    mut vote: ResMut<ClassVote>,
    mut awake: ResMut<KeepAwake>,
    time: Res<Time<Real>>,
) {
    let vote = &mut *vote;
    let Some(server) = &vote.server else {
        return;
    };
    let updates = server.updates();
    let now = time.elapsed();
    if !updates.is_empty() {
        vote.last_news = Some(now);
    }
    let busy = vote
        .last_news
        .is_some_and(|at| now.saturating_sub(at) < QUIET_AFTER);
    awake.within(if busy { POLL_BUSY } else { POLL_QUIET });
    let mut results: Vec<RoundResult> = Vec::new();
    for update in updates {
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
        ui.add(egui::Label::new(big(&shown, 20.0).monospace()).extend());
        if let Some(code) = vote.code() {
            ui.horizontal(|ui| {
                ui.label("join code");
                ui.label(big(code, 30.0).monospace());
            });
        }
        if let Some(texture) = qr {
            let side = 180.0;
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
        if vote.offline {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "this computer is on no network: connect it to the classroom's Wi-Fi, then stop \
                 and start the vote again",
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

/// Where the window was put: it follows the views' corner (the panel's width is known only after the
/// first frames, and changes) until the teacher drags it somewhere else. Each new corner is a new egui
/// window id placed at its default position (egui keeps a movable window where it last was and
/// ignores a position given later).
#[derive(Default)]
pub struct Placement {
    /// Where it was last put.
    put: Option<egui::Pos2>,
    /// How many times it was put (part of the window's id).
    generation: u32,
    /// Dragged by hand: left where it was dropped.
    moved: bool,
}

impl Placement {
    /// Follows `corner` unless the window was moved by hand; returns the window's id and where it
    /// goes when new.
    fn follow(&mut self, corner: egui::Pos2) -> (egui::Id, egui::Pos2) {
        if !self.moved && self.put != Some(corner) {
            self.put = Some(corner);
            self.generation += 1;
        }
        let id = egui::Id::new("class-vote-window").with(self.generation);
        (id, self.put.unwrap_or(corner))
    }

    /// After the window was shown at `at`: moved by hand if it no longer stands where it was put.
    fn shown_at(&mut self, at: egui::Pos2) {
        if self.put.is_some_and(|put| put.distance(at) > 1.0) {
            self.moved = true;
        }
    }
}

/// The window over the views while the vote is on.
pub fn class_vote_window(
    mut contexts: EguiContexts,
    mut vote: ResMut<ClassVote>,
    rects: Res<ViewRects>,
    prefs: Res<UiPrefs>,
    mut requests: MessageWriter<ClassVoteRequest>,
    mut qr: Local<Option<(String, egui::TextureHandle)>>,
    mut placed: Local<Placement>,
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
    let Some(r) = rects.three_d.or(rects.top) else {
        return Ok(());
    };
    let scale = prefs.ui_scale.max(0.1);
    let corner = egui::pos2(r.min.x / scale + 12.0, r.min.y / scale + 12.0);
    // sized to what it shows ("Hide the address" makes it small once the class has joined), over the
    // views' top left corner
    let (id, at) = placed.follow(corner);
    let window = egui::Window::new("Class vote")
        .id(id)
        .pivot(egui::Align2::LEFT_TOP)
        .default_pos(at)
        .max_width(360.0)
        .auto_sized();
    let mut actions = WindowActions::default();
    let shown = window.show(&ctx, |ui| {
        window_ui(ui, &mut vote, qr.as_ref().map(|(_, t)| t), &mut actions)
    });
    if let Some(shown) = shown {
        placed.shown_at(shown.response.rect.min);
    }
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
        let rounds = vote.record.rounds.len();
        let plural = if rounds == 1 { "" } else { "s" };
        ui.small(format!(
            "{rounds} round{plural}; on the choice questions {right} of {votes} votes right"
        ));
    }
    egui::ScrollArea::horizontal()
        .id_salt("class-record-scroll")
        .show(ui, |ui| record_table(ui, &vote.record));
    let record = &vote.record;
    super::scoreboard::export_row(
        ui,
        "Export class CSV",
        &mut vote.csv_path,
        default_class_csv(current),
        &mut vote.exported,
        || record.to_csv(),
    );
}

/// One row per revealed round: its number, counts per choice (hover: the question and the choices) and
/// how the class did.
fn record_table(ui: &mut egui::Ui, record: &ClassRecord) {
    egui::Grid::new("class-record")
        .striped(true)
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            for heading in ["round", "votes per choice", "the class"] {
                ui.label(egui::RichText::new(heading).strong());
            }
            ui.end_row();
            for r in &record.rounds {
                ui.label(r.round.to_string()).on_hover_text(&r.question);
                let counts: Vec<String> = r.counts.iter().map(u32::to_string).collect();
                ui.label(counts.join(" · ")).on_hover_text(format!(
                    "{}\n{}",
                    r.question,
                    r.choices.join(" · ")
                ));
                let how = match (r.right, r.mean_distance) {
                    (Some(right), _) => format!("{right} of {} right", r.voters),
                    (None, Some(d)) => format!("{:.3} off on average", d),
                    (None, None) => "no votes".to_owned(),
                };
                ui.label(how);
                ui.end_row();
            }
        });
}

/// `losscape-<scene>-class.csv` beside the scores' default.
fn default_class_csv(current: &CurrentScene) -> std::path::PathBuf {
    let scores = super::scoreboard::default_csv_path(current);
    let name = scores
        .to_string_lossy()
        .replace("-scores.csv", "-class.csv");
    std::path::PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One egui frame of the window as `class_vote_window` shows it, with `events`; where it stands.
    fn frame(
        ctx: &egui::Context,
        placed: &mut Placement,
        corner: egui::Pos2,
        events: Vec<egui::Event>,
    ) -> egui::Pos2 {
        ctx.begin_pass(egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 800.0),
            )),
            events,
            ..Default::default()
        });
        let (id, at) = placed.follow(corner);
        let shown = egui::Window::new("Class vote")
            .id(id)
            .pivot(egui::Align2::LEFT_TOP)
            .default_pos(at)
            .max_width(360.0)
            .auto_sized()
            .show(ctx, |ui| ui.label("joined"))
            .expect("shown");
        placed.shown_at(shown.response.rect.min);
        ctx.end_pass().drop_without_applying_deltas();
        shown.response.rect.min
    }

    #[test]
    fn the_window_follows_the_views_until_dragged_by_hand() {
        let ctx = egui::Context::default();
        let mut placed = Placement::default();
        let a = egui::pos2(12.0, 12.0);
        let b = egui::pos2(382.0, 12.0);
        assert_eq!(frame(&ctx, &mut placed, a, vec![]), a);
        // the panel got its width: the views' corner moved, the window follows
        for _ in 0..3 {
            assert_eq!(frame(&ctx, &mut placed, b, vec![]), b);
        }
        // dragged by its title bar
        let title = b + egui::vec2(60.0, 12.0);
        let button = |pos, pressed| egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        };
        let moved = title + egui::vec2(200.0, 150.0);
        frame(&ctx, &mut placed, b, vec![egui::Event::PointerMoved(title)]);
        frame(&ctx, &mut placed, b, vec![button(title, true)]);
        for step in 1..=4 {
            let to = title + egui::vec2(50.0, 37.5) * step as f32;
            frame(&ctx, &mut placed, b, vec![egui::Event::PointerMoved(to)]);
        }
        frame(&ctx, &mut placed, b, vec![button(moved, false)]);
        let dropped = frame(&ctx, &mut placed, b, vec![]);
        assert!(dropped.distance(b) > 100.0, "dragged to {dropped:?}");
        // the views change again: it stays where it was dropped
        assert_eq!(frame(&ctx, &mut placed, a, vec![]), dropped);
    }

    #[test]
    fn the_qr_code_has_its_quiet_zone_and_the_result_reads_as_a_sentence() {
        let image = qr_image("http://192.168.1.20:8642/#ABCDE").expect("a code");
        let [w, h] = image.size;
        assert_eq!(w, h);
        assert!(
            w >= 21 + 8,
            "version 1 or more, with 4 modules of white around"
        );
        assert!(
            image.pixels[..w * 4]
                .iter()
                .all(|&p| p == egui::Color32::WHITE)
        );
        // the finder pattern's corner is dark
        assert_eq!(image.pixels[4 * w + 4], egui::Color32::BLACK);
        let result = RoundResult {
            round: 1,
            question: "?".into(),
            points: false,
            choices: vec!["a".into(), "b".into()],
            counts: vec![6, 15],
            voters: 21,
            right: Some(15),
            mean_distance: None,
        };
        assert_eq!(result_line(&result), "The class: 15 of 21 right (71 %)");
    }
}
