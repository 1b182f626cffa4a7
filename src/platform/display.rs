//! Whether a window can be opened, checked before winit would panic: the display server the environment
//! names must accept connections. The backend is chosen as winit 0.30 chooses it (Wayland first when its
//! variables are set; empty variables count as unset). A reachability check with std sockets only: no
//! X11 handshake, so a rejected cookie passes here and is caught when the window opens.

use std::ffi::OsString;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// winit treats empty variables as unset (winit-0.30.13 src/platform_impl/linux/mod.rs:736-744).
fn env_nonempty(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// `Err(one line)` when no window can be opened. `wayland_built`: whether this build has Bevy's `wayland`
/// feature (it has not: X11, which Wayland desktops offer through XWayland).
pub fn check_display(wayland_built: bool) -> Result<(), String> {
    let wayland =
        env_nonempty("WAYLAND_DISPLAY").is_some() || env_nonempty("WAYLAND_SOCKET").is_some();
    if wayland && wayland_built {
        return check_wayland(); // winit picks Wayland first and never falls back to X11
    }
    match env_nonempty("DISPLAY") {
        Some(display) => check_x11(&display.to_string_lossy()),
        None if wayland => Err(
            "this Wayland session has no X11 (DISPLAY is unset) and losscape needs X11: enable XWayland"
                .into(),
        ),
        None => Err("no display (DISPLAY and WAYLAND_DISPLAY are unset)".into()),
    }
}

/// The compositor socket, found as wayland-client 0.31 `Connection::connect_to_env` finds it.
pub fn check_wayland() -> Result<(), String> {
    if let Some(fd) = env_nonempty("WAYLAND_SOCKET") {
        let fd = fd.to_string_lossy().into_owned();
        return match std::fs::metadata(format!("/proc/self/fd/{fd}")) {
            Ok(_) => Ok(()),
            Err(_) => Err(format!(
                "WAYLAND_SOCKET={fd} is not an open file descriptor"
            )),
        };
    }
    let name = PathBuf::from(env_nonempty("WAYLAND_DISPLAY").unwrap_or_default());
    let path = if name.is_absolute() {
        name
    } else {
        match env_nonempty("XDG_RUNTIME_DIR").map(PathBuf::from) {
            Some(dir) if dir.is_absolute() => dir.join(name),
            _ => return Err("WAYLAND_DISPLAY is set but XDG_RUNTIME_DIR is not".into()),
        }
    };
    UnixStream::connect(&path)
        .map(drop)
        .map_err(|e| format!("no Wayland compositor at {} ({e})", path.display()))
}

/// Where an X display string points, after libxcb: `[protocol/][host]:display[.screen]`.
#[derive(Debug, PartialEq)]
pub enum XTarget {
    /// `:n`, `unix:n`, `unix/…:n`: socket `/tmp/.X11-unix/X<n>` (abstract name first on Linux);
    /// a bare `:n` also falls back to TCP localhost:6000+n
    Local { display: u16, tcp_fallback: bool },
    /// `host:n`, `tcp/host:n`, `localhost:10.0` (ssh -X): TCP port 6000+n
    Tcp { host: String, display: u16 },
}

/// `None` for forms not handled here (socket paths, DECnet `host::n`, garbage): the caller lets
/// Xlib try them.
pub fn parse_x_display(s: &str) -> Option<XTarget> {
    if s.starts_with('/') || s.starts_with("unix:/") {
        return None;
    }
    let (protocol, rest) = match s.rfind('/') {
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
        None => (None, s),
    };
    let colon = rest.rfind(':')?;
    let (host, tail) = (&rest[..colon], &rest[colon + 1..]);
    if host.ends_with(':') {
        return None;
    }
    let number = match tail.split_once('.') {
        Some((d, screen)) => screen.parse::<u16>().ok().map(|_| d)?,
        None => tail,
    };
    let display = number.parse::<u16>().ok()?;
    if host.is_empty() || host == "unix" || protocol == Some("unix") {
        Some(XTarget::Local {
            display,
            tcp_fallback: host.is_empty() && protocol.is_none(),
        })
    } else {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Some(XTarget::Tcp { host, display })
    }
}

fn tcp_connect(host: &str, port: u16) -> std::io::Result<()> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address for host");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(target_os = "linux")]
fn abstract_connect(name: &str) -> bool {
    use std::os::linux::net::SocketAddrExt; // stable since Rust 1.70
    std::os::unix::net::SocketAddr::from_abstract_name(name)
        .and_then(|addr| UnixStream::connect_addr(&addr))
        .is_ok()
}
#[cfg(not(target_os = "linux"))]
fn abstract_connect(_: &str) -> bool {
    false
}

/// A reachability check (no X11 handshake, so no authentication).
pub fn check_x11(display: &str) -> Result<(), String> {
    let fail =
        |e: std::io::Error| format!("cannot connect to the X server at DISPLAY={display} ({e})");
    match parse_x_display(display) {
        None => Ok(()),
        Some(XTarget::Tcp { host, display: n }) => tcp_connect(&host, 6000 + n).map_err(fail),
        Some(XTarget::Local {
            display: n,
            tcp_fallback,
        }) => {
            let path = format!("/tmp/.X11-unix/X{n}");
            if abstract_connect(&path) {
                return Ok(());
            }
            match UnixStream::connect(&path) {
                Ok(_) => Ok(()),
                Err(_) if tcp_fallback && tcp_connect("localhost", 6000 + n).is_ok() => Ok(()),
                Err(e) => Err(fail(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_strings_parse_as_libxcb_reads_them() {
        let local = |display, tcp_fallback| {
            Some(XTarget::Local {
                display,
                tcp_fallback,
            })
        };
        let tcp = |host: &str, display| {
            Some(XTarget::Tcp {
                host: host.into(),
                display,
            })
        };
        assert_eq!(parse_x_display(":0"), local(0, true));
        assert_eq!(parse_x_display(":1.0"), local(1, true));
        assert_eq!(parse_x_display("unix:3"), local(3, false));
        assert_eq!(parse_x_display("localhost:10.0"), tcp("localhost", 10));
        assert_eq!(parse_x_display("tcp/host:1.2"), tcp("host", 1));
        assert_eq!(parse_x_display("[::1]:3"), tcp("::1", 3));
        for unhandled in ["/tmp/x", "h::0", ":x", ":1.x", "foo", ""] {
            assert_eq!(parse_x_display(unhandled), None, "{unhandled}");
        }
    }

    #[test]
    fn a_display_nobody_listens_on_is_refused_with_its_name() {
        // display 59999's socket does not exist and its TCP port (65999) is out of range for a server
        let err = check_x11(":59999").unwrap_err();
        assert!(err.contains("DISPLAY=:59999"), "{err}");
    }
}
