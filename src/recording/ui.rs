//! The panel's "Record and export" section (clips, stills, figures, 3D models) and the red recording
//! indicator (and the clip's progress). Plain functions of the recorder's state; the panel system turns
//! their requests into [`RecordRequest`] messages.

use bevy_egui::egui;

use super::clip::{MAX_SECONDS, steps_per_frame};
use super::figure::FigureFormat;
use super::model::ModelFormat;
use super::{
    Capture, FPS_CHOICES, RecordMode, RecordRequest, RecordSettings, RecordState, Recorder,
};

/// Size presets of the clip (pixels).
const SIZES: [(u32, u32); 4] = [(480, 360), (640, 480), (800, 600), (1280, 720)];

/// The record section: how (a rendered clip or the window), what, how long and how fast, legend, axes,
/// title, path, start/stop, and the progress of a clip rendering. `steps_per_second` is the app's playback
/// speed (a clip plays as fast by default). Returns what was asked.
pub fn recording_controls(
    ui: &mut egui::Ui,
    recorder: &mut Recorder,
    steps_per_second: f64,
) -> Vec<RecordRequest> {
    let mut requests = Vec::new();
    let idle = matches!(recorder.state, RecordState::Idle);
    let s = &mut recorder.settings;
    ui.add_enabled_ui(idle, |ui| {
        ui.horizontal(|ui| {
            ui.label("Record");
            ui.selectable_value(&mut s.mode, RecordMode::Rendered, "rendered clip")
                .on_hover_text(
                    "the scene drawn offscreen, a fixed number of steps per frame: \
                     smooth and crisp however slowly the screen draws",
                );
            ui.selectable_value(&mut s.mode, RecordMode::Window, "window")
                .on_hover_text("the views as they are on screen, in real time, until you stop");
        });
        ui.horizontal(|ui| {
            ui.label("Views");
            ui.selectable_value(&mut s.capture, Capture::ThreeD, "3D");
            ui.selectable_value(&mut s.capture, Capture::Top, "top");
            ui.selectable_value(&mut s.capture, Capture::Both, "as on screen");
        });
        ui.horizontal(|ui| {
            ui.label("Frame rate");
            ui.add(egui::Slider::new(&mut s.fps, FPS_CHOICES.0..=FPS_CHOICES.1).suffix(" fps"));
        });
        ui.horizontal(|ui| {
            ui.label("Size");
            egui::ComboBox::from_id_salt("record-size")
                .selected_text(format!("{} x {}", s.width, s.height))
                .show_ui(ui, |ui| {
                    for (w, h) in SIZES {
                        if ui
                            .selectable_label((s.width, s.height) == (w, h), format!("{w} x {h}"))
                            .clicked()
                        {
                            (s.width, s.height) = (w, h);
                        }
                    }
                });
        });
        if s.mode == RecordMode::Rendered {
            rendered_clip_controls(ui, s, steps_per_second);
        }
        ui.checkbox(&mut s.legend, "legend (colours, names, η, β)");
        ui.checkbox(&mut s.step_counter, "step counter");
        ui.checkbox(
            &mut s.per_frame_palette,
            "palette per frame (moving camera)",
        );
    });
    ui.horizontal(|ui| {
        ui.label("File");
        ui.add(
            egui::TextEdit::singleline(&mut s.path)
                .hint_text("losscape-<scene>-<date-time>.gif")
                .desired_width(200.0),
        );
    });
    let rendered = s.mode == RecordMode::Rendered;
    ui.horizontal(|ui| match &recorder.state {
        RecordState::Idle => {
            let (label, hint) = if rendered {
                ("⏺ Render clip", "render the clip now (G)")
            } else {
                ("⏺ Record", "start recording the window (G)")
            };
            if ui.button(label).on_hover_text(hint).clicked() {
                requests.push(RecordRequest::Toggle);
            }
            if ui
                .button("PNG")
                .on_hover_text("save a still of the chosen view (P)")
                .clicked()
            {
                requests.push(RecordRequest::Still);
            }
            for (format, label) in [(FigureFormat::Svg, "SVG"), (FigureFormat::Pdf, "PDF")] {
                if ui
                    .button(label)
                    .on_hover_text(
                        "a vector figure of the chosen views as they are now: paths and real text, \
                         sharp at any size (the record size, legend, axes and title above)",
                    )
                    .clicked()
                {
                    requests.push(RecordRequest::Figure(format));
                }
            }
        }
        RecordState::Recording { .. } => {
            if ui.button("⏹ Stop and save").on_hover_text("G").clicked() {
                requests.push(RecordRequest::Toggle);
            }
        }
        RecordState::Rendering(_) => {
            let (done, total, cancelling) = recorder.rendering().unwrap_or_default();
            let text = if cancelling {
                "cancelling ...".to_owned()
            } else if done >= total {
                "writing the GIF ...".to_owned()
            } else {
                format!("frame {done} of {total}")
            };
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .desired_width(170.0)
                    .text(text),
            );
            if ui
                .add_enabled(!cancelling, egui::Button::new("Cancel"))
                .on_hover_text("stop rendering; nothing is written (G)")
                .clicked()
            {
                requests.push(RecordRequest::Cancel);
            }
        }
        RecordState::Saving { path, .. } => {
            ui.spinner();
            ui.label(format!("writing {}", path.display()));
        }
        RecordState::Failed { .. } => {
            if ui.button("Save again").clicked() {
                requests.push(RecordRequest::Retry);
            }
            if ui.button("Discard").clicked() {
                requests.push(RecordRequest::Discard);
            }
        }
    });
    ui.horizontal(|ui| {
        ui.label("3D model");
        for (format, label, hint) in [
            (
                ModelFormat::Glb,
                "glTF",
                "the surface in colour with the paths as tubes (.glb)",
            ),
            (
                ModelFormat::Stl,
                "STL",
                "the surface as a solid on a base, to 3D print (.stl)",
            ),
            (
                ModelFormat::Obj,
                "OBJ",
                "the surface in colour with the paths (.obj)",
            ),
        ] {
            if ui.button(label).on_hover_text(hint).clicked() {
                requests.push(RecordRequest::Model(format));
            }
        }
    });
    if let Some((frames, seconds, dropped)) = recorder.progress() {
        ui.colored_label(
            egui::Color32::from_rgb(230, 50, 50),
            progress_text(frames, seconds, dropped),
        );
    }
    if let Some((ok, text)) = &recorder.message {
        let color = if *ok {
            ui.visuals().text_color()
        } else {
            ui.visuals().error_fg_color
        };
        ui.colored_label(color, text);
    }
    requests
}

/// Length, where the runs start, speed, axes and title of a rendered clip.
fn rendered_clip_controls(ui: &mut egui::Ui, s: &mut RecordSettings, steps_per_second: f64) {
    ui.horizontal(|ui| {
        ui.label("Length");
        ui.add(egui::Slider::new(&mut s.seconds, 1..=MAX_SECONDS).suffix(" s"));
    });
    ui.horizontal(|ui| {
        ui.label("Runs");
        ui.selectable_value(&mut s.from_start, false, "from now")
            .on_hover_text("go on from where the runs are, with the paths so far");
        ui.selectable_value(&mut s.from_start, true, "from their starts");
    });
    let playing = steps_per_frame(
        &RecordSettings {
            steps_per_frame: None,
            ..s.clone()
        },
        steps_per_second,
    );
    let mut as_playing = s.steps_per_frame.is_none();
    ui.horizontal(|ui| {
        if ui
            .checkbox(
                &mut as_playing,
                format!("as fast as playing ({playing} steps/frame)"),
            )
            .changed()
        {
            s.steps_per_frame = (!as_playing).then_some(playing);
        }
    });
    if let Some(steps) = &mut s.steps_per_frame {
        ui.horizontal(|ui| {
            ui.label("Steps per frame");
            ui.add(egui::Slider::new(steps, 1..=1000).logarithmic(true));
        });
    }
    ui.checkbox(&mut s.axes, "axes on the top view");
    ui.horizontal(|ui| {
        ui.label("Title");
        ui.add(
            egui::TextEdit::singleline(&mut s.title)
                .hint_text("none")
                .desired_width(200.0),
        );
    });
}

fn progress_text(frames: u32, seconds: f64, dropped: u32) -> String {
    let mut text = format!(
        "● REC  {frames} frames  {:02}:{:04.1}",
        (seconds / 60.0).floor() as u64,
        seconds % 60.0
    );
    if dropped > 0 {
        text.push_str(&format!("  ({dropped} dropped)"));
    }
    text
}

/// The red indicator while recording the window (bottom-left, over the panel, so it is never in the
/// frames), or the clip's progress while one renders (so that G with the panel closed shows something),
/// or else for a few seconds the last message (`message`: saved, cancelled, an error).
pub fn recording_indicator(
    ctx: &egui::Context,
    recorder: &Recorder,
    message: Option<&(bool, String)>,
) {
    let (text, color, fill) = if let Some((frames, seconds, dropped)) = recorder.progress() {
        (
            progress_text(frames, seconds, dropped),
            egui::Color32::from_rgb(255, 70, 70),
            egui::Color32::from_rgba_premultiplied(30, 8, 8, 235),
        )
    } else if let Some((done, total, cancelling)) = recorder.rendering() {
        let text = if cancelling {
            "cancelling the clip ...".to_owned()
        } else {
            format!(
                "rendering the clip: {}%  (G cancels)",
                done as u64 * 100 / total.max(1) as u64
            )
        };
        (
            text,
            egui::Color32::from_rgb(230, 230, 240),
            egui::Color32::from_rgba_premultiplied(12, 14, 30, 235),
        )
    } else if let Some((ok, text)) = message {
        let color = if *ok {
            egui::Color32::from_rgb(150, 230, 150)
        } else {
            egui::Color32::from_rgb(255, 120, 100)
        };
        (
            text.clone(),
            color,
            egui::Color32::from_rgba_premultiplied(12, 14, 18, 235),
        )
    } else {
        return;
    };
    egui::Area::new(egui::Id::new("recording-indicator"))
        .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -8.0))
        .order(egui::Order::Foreground)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).fill(fill).show(ui, |ui| {
                ui.add(
                    egui::Label::new(egui::RichText::new(text).color(color).strong().size(16.0))
                        .wrap_mode(egui::TextWrapMode::Extend),
                );
            });
        });
}
