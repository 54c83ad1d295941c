//! Process and network-namespace guards shared by every test that runs real daemons.
//!
//! * [`Netns`] creates a network namespace and deletes it on drop (after killing whatever still
//!   runs in it), so a failing test leaves nothing behind.
//! * [`Daemon`] starts a process (optionally inside a namespace), remembers its PID and kills it
//!   on drop: SIGTERM, then SIGKILL after a grace period, then reaps it.
//! * [`wait_tcp`] waits until a port accepts connections inside a namespace.
//! * [`sweep_stale`] removes namespaces left by earlier runs that were killed with SIGKILL.

use anyhow::{Context, Result, bail};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every namespace this crate creates starts with this, followed by the owning PID.
pub const PREFIX: &str = "acl";

/// Run a command to completion; fail with its stderr.
pub fn run(cmd: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .with_context(|| format!("running {cmd}"))?;
    if !out.status.success() {
        bail!(
            "{cmd} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Run `ip netns exec <ns> <cmd> <args>` to completion.
pub fn run_in(ns: &str, cmd: &str, args: &[&str]) -> Result<String> {
    let mut all = vec!["netns", "exec", ns, cmd];
    all.extend_from_slice(args);
    run("ip", &all)
}

/// True when the process may create network namespaces (root).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A network namespace, deleted (with everything running in it) on drop.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// Create `acl-<pid>-<suffix>`; `suffix` must keep the name unique within this process.
    pub fn create(suffix: &str) -> Result<Netns> {
        let name = format!("{PREFIX}-{}-{suffix}", std::process::id());
        let _ = run("ip", &["netns", "del", &name]);
        run("ip", &["netns", "add", &name])?;
        let ns = Netns { name };
        run_in(&ns.name, "ip", &["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Write /etc/netns/<name>/resolv.conf, which `ip netns exec` bind-mounts over
    /// /etc/resolv.conf, so the system resolver inside the namespace uses `nameserver`.
    pub fn set_resolver(&self, nameserver: &str) -> Result<()> {
        let dir = format!("/etc/netns/{}", self.name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            format!("{dir}/resolv.conf"),
            format!("nameserver {nameserver}\noptions timeout:1 attempts:2\n"),
        )?;
        Ok(())
    }

    pub fn exec(&self, cmd: &str, args: &[&str]) -> Result<String> {
        run_in(&self.name, cmd, args)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        kill_namespace_processes(&self.name);
        let _ = run("ip", &["netns", "del", &self.name]);
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.name));
    }
}

fn kill_namespace_processes(ns: &str) {
    let Ok(pids) = run("ip", &["netns", "pids", ns]) else {
        return;
    };
    for pid in pids
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        // SAFETY: sending a signal to a PID has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Delete namespaces named `acl-<pid>-…` whose owning process is gone (a test run killed
/// with SIGKILL cannot run its Drop guards).
pub fn sweep_stale() {
    let Ok(list) = run("ip", &["netns", "list"]) else {
        return;
    };
    for line in list.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let mut parts = name.splitn(3, '-');
        if parts.next() != Some(PREFIX) {
            continue;
        }
        let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        kill_namespace_processes(name);
        let _ = run("ip", &["netns", "del", name]);
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{name}"));
    }
}

/// A running process, killed and reaped on drop.
#[derive(Debug)]
pub struct Daemon {
    pub name: String,
    child: Child,
}

impl Daemon {
    /// Start `cmd args` inside namespace `ns` (or in the current one when `ns` is None).
    pub fn start(name: &str, ns: Option<&str>, cmd: &str, args: &[&str]) -> Result<Daemon> {
        let mut c = match ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, cmd]).args(args);
                c
            }
            None => {
                let mut c = Command::new(cmd);
                c.args(args);
                c
            }
        };
        let child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {name} ({cmd})"))?;
        Ok(Daemon {
            name: name.to_owned(),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fail if the process already exited (e.g. a bad config), with what it printed.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            bail!("{} exited ({status}): {}", self.name, err.trim());
        }
        Ok(())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: signalling our own child by PID.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `f` on a thread that has entered namespace `ns` (sockets it creates live there).
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let path = format!("/var/run/netns/{ns}");
    let handle = std::thread::spawn(move || -> Result<T> {
        let file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
        use std::os::fd::AsRawFd;
        // SAFETY: setns on a valid namespace fd only changes this thread's network namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        if rc != 0 {
            bail!("setns({path}): {}", std::io::Error::last_os_error());
        }
        Ok(f())
    });
    handle
        .join()
        .map_err(|_| anyhow::anyhow!("thread in {ns} panicked"))?
}

/// Wait until `addr` (ip:port) accepts TCP connections from inside `ns`.
pub fn wait_tcp(ns: &str, addr: &str, timeout: Duration, daemon: &mut Daemon) -> Result<()> {
    let target: std::net::SocketAddr = addr
        .parse()
        .with_context(|| format!("bad address {addr}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        daemon.check_running()?;
        let ok = in_netns(ns, move || {
            std::net::TcpStream::connect_timeout(&target, Duration::from_millis(200)).is_ok()
        })?;
        if ok {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not listen on {addr} within {timeout:?}",
                daemon.name
            );
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Sample a process's peak resident set (VmHWM, kB) until it exits; join the handle for the value.
pub fn watch_peak_rss(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(v) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                peak = peak.max(v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    })
}
