//! The panel's "Record GIF" section and the red recording indicator. Plain functions of the recorder's
//! state; the panel system turns their requests into [`RecordRequest`] messages.

use bevy_egui::egui;

use super::{Capture, FPS_CHOICES, RecordRequest, RecordState, Recorder};

/// Size presets of the clip (pixels).
const SIZES: [(u32, u32); 4] = [(480, 360), (640, 480), (800, 600), (1280, 720)];

/// The record section: capture choice, frame rate, size, legend, path, start/stop. Returns what was asked.
pub fn recording_controls(ui: &mut egui::Ui, recorder: &mut Recorder) -> Vec<RecordRequest> {
    let mut requests = Vec::new();
    let idle = matches!(recorder.state, RecordState::Idle);
    let s = &mut recorder.settings;
    ui.add_enabled_ui(idle, |ui| {
        ui.horizontal(|ui| {
            ui.label("Capture");
            ui.selectable_value(&mut s.capture, Capture::ThreeD, "3D");
            ui.selectable_value(&mut s.capture, Capture::Top, "top");
            ui.selectable_value(&mut s.capture, Capture::Both, "both");
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
    ui.horizontal(|ui| match &recorder.state {
        RecordState::Idle => {
            if ui
                .button("⏺ Record")
                .on_hover_text("start recording (G)")
                .clicked()
            {
                requests.push(RecordRequest::Toggle);
            }
            if ui
                .button("PNG")
                .on_hover_text("save a still of the chosen view (P)")
                .clicked()
            {
                requests.push(RecordRequest::Still);
            }
        }
        RecordState::Recording { .. } => {
            if ui.button("⏹ Stop and save").on_hover_text("G").clicked() {
                requests.push(RecordRequest::Toggle);
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

/// The red indicator while recording: bottom-left, over the panel, so it is never in the frames.
pub fn recording_indicator(ctx: &egui::Context, recorder: &Recorder) {
    let Some((frames, seconds, dropped)) = recorder.progress() else {
        return;
    };
    egui::Area::new(egui::Id::new("recording-indicator"))
        .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -8.0))
        .order(egui::Order::Foreground)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style())
                .fill(egui::Color32::from_rgba_premultiplied(30, 8, 8, 235))
                .show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(progress_text(frames, seconds, dropped))
                            .color(egui::Color32::from_rgb(255, 70, 70))
                            .strong()
                            .size(16.0),
                    );
                });
        });
}
