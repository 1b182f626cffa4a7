//! What the machine offers, checked before Bevy would panic on its absence: a display server to open a
//! window on ([`display`]) and a GPU adapter (any Vulkan driver, or Mesa's software one). The app asks
//! here and prints one clear line.

pub mod display;

/// The message for a machine without a usable GPU adapter.
const NO_ADAPTER: &str = "no usable GPU adapter (Vulkan): install your GPU driver, or Mesa's software \
                          Vulkan: apt install mesa-vulkan-drivers";

/// Runs `f`, turning a panic into its payload without printing it: for the few places where Bevy or
/// winit report a missing display or GPU by panicking.
pub fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, Box<dyn std::any::Any + Send>> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result
}

/// The text of a panic payload (empty when it is not text).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The one-line reason no GPU adapter is usable, or `None` when there is one.
pub fn missing_adapter() -> Option<String> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    let instance = wgpu::Instance::new(desc);
    let adapter = bevy::tasks::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
    }));
    match adapter {
        Ok(_) => None,
        Err(_) => Some(NO_ADAPTER.into()),
    }
}
