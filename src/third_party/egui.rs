//! bevy_egui: egui draws the whole window (the panel, the views' cached surfaces and everything over
//! them) through one camera. Also who owns the keyboard: the app's keys work
//! unless a text field is being typed in or a drop-down is open ([`keys_free`]).

use bevy::asset::AssetEventSystems;
use bevy::{
    camera::{CameraMainTextureUsages, visibility::RenderLayers},
    core_pipeline::tonemapping::Tonemapping,
    prelude::*,
    render::render_resource::TextureUsages,
};
use bevy_egui::{
    EguiContexts, EguiGlobalSettings, EguiPlugin, EguiPostUpdateSet, EguiPrimaryContextPass,
    EguiRenderOutput, PrimaryEguiContext, egui,
};

use crate::system_order::{AppSystems, KeepAwake};

/// Whether egui needs the keyboard this frame: a text field has the focus or a drop-down is open.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EguiKeyboard {
    pub typing: bool,
}

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(EguiPlugin::default())
        .init_resource::<EguiKeyboard>()
        .add_systems(Startup, spawn_egui_camera)
        .add_systems(
            EguiPrimaryContextPass,
            release_keyboard.in_set(AppSystems::UiFocus),
        )
        // Glyphs new to egui's font atlas reach the GPU in the frame that first draws them. bevy_egui
        // writes them into the atlas image in `PostProcessOutput`, which Bevy left unordered against
        // `AssetEventSystems`, where an image's changes are announced to the renderer: when it ran
        // after, the renderer drew that frame with last frame's atlas, and the new glyphs (egui keeps
        // one per character, size and sub-pixel offset) were blank: "Momentum: converged at step 1361"
        // read "Momentum   n e e t   p1 61" in both views, and stayed so when nothing moved after it.
        .configure_sets(
            PostUpdate,
            EguiPostUpdateSet::PostProcessOutput.before(AssetEventSystems),
        )
        .add_systems(
            PostUpdate,
            draw_again_after_new_glyphs
                .in_set(EguiPostUpdateSet::PostProcessOutput)
                .before(bevy_egui::update_egui_textures_system),
        );
}

/// A frame that changed egui's textures (new glyphs in the font atlas) is followed by one more, so that
/// a frame drawn before a texture reached the GPU never stays on screen while the app sleeps.
fn draw_again_after_new_glyphs(outputs: Query<&EguiRenderOutput>, mut awake: ResMut<KeepAwake>) {
    if outputs.iter().any(|o| !o.textures_delta.is_empty()) {
        awake.request();
    }
}

/// Run condition of every key binding: the keys belong to the app unless egui is taking text.
pub fn keys_free(keyboard: Res<EguiKeyboard>) -> bool {
    !keyboard.typing
}

/// After the panel is drawn: a widget that is not a text field (a slider, a button, a checkbox) gives
/// the keyboard back at once, so Space, N, R and the rest work right after a click in the panel; a
/// focused text field or an open drop-down keeps it.
fn release_keyboard(
    mut contexts: EguiContexts,
    mut keyboard: ResMut<EguiKeyboard>,
    mut quiet: Local<bool>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !*quiet {
        // bevy_egui wakes the event loop whenever egui asks for a repaint, and egui asks in every frame
        // (it is fed a modifier-keys event each frame): that would keep a paused app drawing forever.
        // Frames come from input and from whatever moves (system_order::KeepAwake) instead.
        ctx.set_request_repaint_callback(|_| {});
        *quiet = true;
    }
    let typing = release_focus(ctx);
    keyboard.set_if_neq(EguiKeyboard { typing });
    Ok(())
}

/// Drops the focus of any widget but a text field; returns whether egui still needs the keyboard.
pub fn release_focus(ctx: &egui::Context) -> bool {
    let text = ctx.text_edit_focused();
    if !text && let Some(id) = ctx.memory(|m| m.focused()) {
        ctx.memory_mut(|m| m.surrender_focus(id));
    }
    text || ctx.any_popup_open()
}

/// The one camera that draws to the window: it draws nothing but egui (the panel, the cached surface
/// images and everything over them), cleared to the views' background colour ([`ClearColor`]).
fn spawn_egui_camera(mut commands: Commands, mut settings: ResMut<EguiGlobalSettings>) {
    // the first camera would get the context otherwise
    settings.auto_create_primary_context = false;
    commands.spawn((
        Name::new("Window camera"),
        PrimaryEguiContext,
        Camera2d,
        RenderLayers::none(),
        Camera {
            order: 10,
            ..default()
        },
        // the views' cached surface images are copied into its picture (surface::cache)
        CameraMainTextureUsages(
            TextureUsages::RENDER_ATTACHMENT
                | TextureUsages::TEXTURE_BINDING
                | TextureUsages::COPY_DST,
        ),
        // every full-window pass costs on a software renderer: no multisampling, no tone mapping
        Msaa::Off,
        Tonemapping::None,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One egui frame with a slider and a text field; `focus` picks which one is focused.
    fn frame(ctx: &egui::Context, focus: Option<usize>) -> bool {
        let mut value = 0.5;
        let mut text = String::from("scene.ron");
        let mut typing = false;
        let _ = ctx.run_ui(egui::RawInput::default(), |ui| {
            let slider = ui.add(egui::Slider::new(&mut value, 0.0..=1.0));
            let field = ui.text_edit_singleline(&mut text);
            match focus {
                Some(0) => slider.request_focus(),
                Some(_) => field.request_focus(),
                None => {}
            }
            typing = release_focus(ui.ctx());
        });
        typing
    }

    #[test]
    fn only_a_text_field_keeps_the_keyboard() {
        let ctx = egui::Context::default();
        frame(&ctx, None);
        // a slider that took the focus (a click, or Tab) gives it back in the same frame
        assert!(!frame(&ctx, Some(0)));
        assert_eq!(ctx.memory(|m| m.focused()), None);
        // a text field keeps it, and the app's keys wait
        frame(&ctx, Some(1));
        assert!(frame(&ctx, None), "typing in the scene path");
        assert!(ctx.memory(|m| m.focused()).is_some());
    }
}
