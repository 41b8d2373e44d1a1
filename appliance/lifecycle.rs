//! Process lifecycle around `zonegate serve`: resource limits and the privilege drop when
//! started as root outside systemd, and the schema version of the state directory.
//!
//! Owns: `<state_dir>/VERSION` (a small JSON: `{"schema": N, "written_by": "x.y.z"}`) and the
//! state migrations from one schema to the next; the switch to `server.user`.
//! Must not: touch the files of other modules inside the state directory except through a
//! migration step listed in [`MIGRATIONS`], or run anything as root after [`harden`].

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The state layout this binary reads and writes. Raise it (and add a step to
/// [`MIGRATIONS`]) whenever a module changes what it keeps under `server.state_dir`.
pub const STATE_SCHEMA: u32 = 1;

/// Name of the version file inside the state directory.
pub const VERSION_FILE: &str = "VERSION";

/// One migration: converts the state directory from `from` to `from + 1`.
type Migration = fn(&Path) -> io::Result<()>;

/// Every step from schema 0 (state written before `VERSION` existed) to [`STATE_SCHEMA`].
const MIGRATIONS: &[(u32, Migration)] = &[(0, migrate_0_to_1)];

/// Schema 0 → 1: the layout did not change, 1 only adds the `VERSION` file itself.
fn migrate_0_to_1(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Errors of the lifecycle steps; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The state was written by a newer zonegate: refusing to touch it.
    #[error(
        "the state in {dir} was written by zonegate {written_by} (state schema {found}); this is zonegate {ours}, \
         which understands state schema {supported} and older. Refusing to start so the newer state is not \
         damaged: install zonegate {written_by} or newer again, or restore {dir} from the backup taken before \
         the update"
    )]
    NewerState {
        /// The state directory.
        dir: PathBuf,
        /// Schema found in `VERSION`.
        found: u32,
        /// Version that wrote it.
        written_by: String,
        /// This binary's version.
        ours: &'static str,
        /// This binary's schema.
        supported: u32,
    },
    /// `VERSION` exists but is not the expected JSON.
    #[error("{path} is not a zonegate state version file ({problem}); restore it from a backup, or remove it if the directory holds no state yet")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Reading or writing the state directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A migration step failed; the state stays at the last completed schema.
    #[error("migrating the state in {dir} from schema {from} to {to}: {source}")]
    Migration {
        /// The state directory.
        dir: PathBuf,
        /// Schema before the failed step.
        from: u32,
        /// Schema the step was to produce.
        to: u32,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `server.user` names no account on this system.
    #[error("server.user = {0:?}: no such user on this system (create it, e.g. with systemd-sysusers)")]
    NoSuchUser(String),
    /// A system call of the privilege drop failed.
    #[error("dropping privileges to server.user = {user:?}: {call} failed: {source}")]
    Drop {
        /// The target user.
        user: String,
        /// Which call failed.
        call: &'static str,
        /// The cause.
        #[source]
        source: nix::Error,
    },
}

/// Contents of `<state_dir>/VERSION`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateVersion {
    /// State layout version ([`STATE_SCHEMA`] of the binary that wrote it).
    pub schema: u32,
    /// `zonegate` version that wrote the file last.
    pub written_by: String,
}

/// What [`prepare_state`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateOutcome {
    /// The directory was empty or new; `VERSION` was written.
    Fresh,
    /// The state already had this binary's schema.
    Current,
    /// The state was migrated from the given schema to [`STATE_SCHEMA`].
    Migrated(u32),
}

/// Creates `dir` if needed, refuses state from a newer zonegate, migrates older state step by
/// step and (re)writes `VERSION` with this binary's schema and version.
///
/// A directory without `VERSION` counts as schema 0 when it holds anything, as fresh when
/// it is empty.
///
/// # Errors
/// [`LifecycleError::NewerState`] (nothing is changed), I/O and migration failures.
pub fn prepare_state(dir: &Path) -> Result<StateOutcome, LifecycleError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| LifecycleError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join(VERSION_FILE);
    let found = match std::fs::read_to_string(&path) {
        Ok(text) => Some(
            serde_json::from_str::<StateVersion>(&text)
                .map_err(|e| LifecycleError::Corrupt { path: path.clone(), problem: e.to_string() })?,
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&path)(e)),
    };
    let outcome = match found {
        Some(v) if v.schema > STATE_SCHEMA => {
            return Err(LifecycleError::NewerState {
                dir: dir.to_owned(),
                found: v.schema,
                written_by: v.written_by,
                ours: crate::VERSION,
                supported: STATE_SCHEMA,
            })
        }
        // Same schema: rewrite only to record a different `written_by`.
        Some(v) if v.schema == STATE_SCHEMA && v.written_by == crate::VERSION => return Ok(StateOutcome::Current),
        Some(v) if v.schema == STATE_SCHEMA => StateOutcome::Current,
        Some(v) => {
            migrate(dir, v.schema)?;
            StateOutcome::Migrated(v.schema)
        }
        None => {
            let empty = std::fs::read_dir(dir).map_err(io_err(dir))?.next().is_none();
            if empty {
                StateOutcome::Fresh
            } else {
                migrate(dir, 0)?;
                StateOutcome::Migrated(0)
            }
        }
    };
    write_version(dir, STATE_SCHEMA)?;
    Ok(outcome)
}

fn migrate(dir: &Path, from: u32) -> Result<(), LifecycleError> {
    for schema in from..STATE_SCHEMA {
        let step = MIGRATIONS.iter().find(|(f, _)| *f == schema).map(|(_, m)| *m);
        let Some(step) = step else {
            return Err(LifecycleError::Migration {
                dir: dir.to_owned(),
                from: schema,
                to: schema + 1,
                source: io::Error::other("no migration step for this schema"),
            });
        };
        log::info!("migrating the state in {} from schema {schema} to {}", dir.display(), schema + 1);
        step(dir).map_err(|source| LifecycleError::Migration { dir: dir.to_owned(), from: schema, to: schema + 1, source })?;
        // Record each completed step, so a failure later resumes from here.
        write_version(dir, schema + 1)?;
    }
    Ok(())
}

/// Writes `VERSION` atomically (temporary file, fsync, rename).
fn write_version(dir: &Path, schema: u32) -> Result<(), LifecycleError> {
    use std::io::Write as _;
    let path = dir.join(VERSION_FILE);
    let tmp = dir.join(format!(".{VERSION_FILE}.tmp"));
    let v = StateVersion { schema, written_by: crate::VERSION.to_owned() };
    let mut text = serde_json::to_string(&v).map_err(|e| LifecycleError::Corrupt { path: path.clone(), problem: e.to_string() })?;
    text.push('\n');
    let write = || -> io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|source| LifecycleError::Io { path, source })
}

/// Process hardening before anything is loaded: no core dumps (they would hold prompts),
/// the open-files limit raised to its hard limit (at most 65536), and — only when running
/// as root, i.e. not under the systemd unit, which sets `User=` — a switch to `user` with its
/// groups (the GPU group among them). Without `user` a root process keeps running as root
/// with a warning.
///
/// # Errors
/// [`LifecycleError::NoSuchUser`] or [`LifecycleError::Drop`]; limits that cannot be set
/// are logged and ignored (the unit's `LimitCORE=`/`LimitNOFILE=` and seccomp may forbid it).
pub fn harden(user: Option<&str>) -> Result<(), LifecycleError> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Err(e) = setrlimit(Resource::RLIMIT_CORE, 0, 0) {
        log::debug!("cannot disable core dumps: {e}");
    }
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let want = hard.min(65_536);
        if soft < want {
            if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, want, hard) {
                log::debug!("cannot raise RLIMIT_NOFILE to {want}: {e}");
            }
        }
    }
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    match user {
        Some(name) => drop_privileges(name),
        None => {
            log::warn!("running as root: set server.user (e.g. \"zonegate\") or start zonegate through its systemd unit");
            Ok(())
        }
    }
}

fn drop_privileges(name: &str) -> Result<(), LifecycleError> {
    use nix::unistd::{initgroups, setgid, setuid, Uid, User};
    let fail = |call: &'static str| move |source| LifecycleError::Drop { user: name.to_owned(), call, source };
    let user = User::from_name(name).map_err(fail("getpwnam"))?.ok_or_else(|| LifecycleError::NoSuchUser(name.to_owned()))?;
    if user.uid.is_root() {
        return Err(LifecycleError::Drop { user: name.to_owned(), call: "server.user check", source: nix::Error::EINVAL });
    }
    let cname = std::ffi::CString::new(name).map_err(|_| fail("initgroups")(nix::Error::EINVAL))?;
    initgroups(&cname, user.gid).map_err(fail("initgroups"))?;
    setgid(user.gid).map_err(fail("setgid"))?;
    setuid(user.uid).map_err(fail("setuid"))?;
    // The drop must be irreversible.
    if setuid(Uid::from_raw(0)).is_ok() {
        return Err(LifecycleError::Drop { user: name.to_owned(), call: "setuid(0) after the drop succeeded", source: nix::Error::EPERM });
    }
    log::info!("switched from root to user {name} (uid {}, gid {})", user.uid, user.gid);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn read(dir: &Path) -> StateVersion {
        serde_json::from_str(&std::fs::read_to_string(dir.join(VERSION_FILE)).unwrap()).unwrap()
    }

    #[test]
    fn empty_directory_is_fresh_and_gets_a_version() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("state");
        assert_eq!(prepare_state(&dir).unwrap(), StateOutcome::Fresh);
        assert_eq!(read(&dir), StateVersion { schema: STATE_SCHEMA, written_by: crate::VERSION.into() });
        assert_eq!(prepare_state(&dir).unwrap(), StateOutcome::Current);
    }

    #[test]
    fn unversioned_state_is_migrated_from_schema_0() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("ledger"), b"x").unwrap();
        assert_eq!(prepare_state(t.path()).unwrap(), StateOutcome::Migrated(0));
        assert_eq!(read(t.path()).schema, STATE_SCHEMA);
        assert_eq!(std::fs::read(t.path().join("ledger")).unwrap(), b"x", "migration keeps the data");
    }

    #[test]
    fn newer_state_is_refused_and_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let text = format!("{{\"schema\": {}, \"written_by\": \"9.9.9\"}}\n", STATE_SCHEMA + 1);
        std::fs::write(t.path().join(VERSION_FILE), &text).unwrap();
        let e = prepare_state(t.path()).unwrap_err();
        assert!(matches!(e, LifecycleError::NewerState { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("9.9.9") && msg.contains("Refusing to start"), "{msg}");
        assert_eq!(std::fs::read_to_string(t.path().join(VERSION_FILE)).unwrap(), text, "VERSION untouched");
    }

    #[test]
    fn garbage_version_file_is_an_error_not_a_reset() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(VERSION_FILE), b"not json").unwrap();
        assert!(matches!(prepare_state(t.path()), Err(LifecycleError::Corrupt { .. })));
    }

    #[test]
    fn every_schema_below_the_current_has_a_step() {
        for s in 0..STATE_SCHEMA {
            assert!(MIGRATIONS.iter().any(|(f, _)| *f == s), "no migration from schema {s}");
        }
    }
}
