//! The Postgres server binaries of the machine: where they are, and how they are run (as the
//! `postgres` system user when this process is root, which initdb and postgres refuse to be).

use super::{SetupError, cluster_error, path_arg};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The server binaries, and whether they must run as the `postgres` system user.
pub(super) struct Tools {
    pub(super) initdb: PathBuf,
    pub(super) pg_ctl: PathBuf,
    as_postgres: bool,
}

impl Tools {
    /// Finds `initdb` and `pg_ctl` on `PATH`, then where packages put them; the error lists
    /// where it looked.
    pub(super) fn find() -> Result<Self, String> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        Self::find_in(std::env::split_paths(&path).chain(package_dirs()))
    }

    pub(super) fn find_in(dirs: impl IntoIterator<Item = PathBuf>) -> Result<Self, String> {
        let found = dirs.into_iter().find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file());
        match found {
            Some(dir) => Ok(Self { initdb: dir.join("initdb"), pg_ctl: dir.join("pg_ctl"), as_postgres: is_root() }),
            None => Err(PACKAGE_DIRS.join(", ")),
        }
    }

    /// Gives `dir` to the user the server runs as.
    pub(super) fn hand_over(&self, dir: &Path) -> Result<(), SetupError> {
        if !self.as_postgres {
            return Ok(());
        }
        let owned = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir).output();
        check("chown to the postgres user", owned)
    }

    pub(super) fn is_running(&self, data: &Path) -> Result<bool, SetupError> {
        // pg_ctl status: 0 running, 3 not running, 4 no accessible data folder.
        let status = self.command(&self.pg_ctl, &["status", "-D", &path_arg(data)]).output();
        let status = status.map_err(|e| cluster_error("pg_ctl status", e.to_string()))?;
        Ok(status.status.success())
    }

    pub(super) fn run(&self, step: &'static str, program: &Path, args: &[&str]) -> Result<(), SetupError> {
        check(step, self.command(program, args).output())
    }

    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = if self.as_postgres {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            Command::new(program)
        };
        command.args(args);
        command
    }
}

fn check(step: &'static str, output: std::io::Result<Output>) -> Result<(), SetupError> {
    let output = output.map_err(|e| cluster_error(step, e.to_string()))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    Err(cluster_error(step, format!("{}: {}", output.status, said.trim())))
}

/// Where packages put the server binaries, newest version first.
const PACKAGE_DIRS: [&str; 4] = [
    "/usr/lib/postgresql/<version>/bin",
    "/usr/pgsql-<version>/bin",
    "/opt/homebrew/opt/postgresql@<version>/bin",
    "/usr/local/opt/postgresql@<version>/bin",
];

pub(super) fn package_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for pattern in PACKAGE_DIRS {
        let (parent, rest) = pattern.split_once("<version>").expect("each pattern has a version");
        let (folder, prefix) = parent.rsplit_once('/').expect("absolute patterns");
        let Ok(entries) = fs::read_dir(folder) else { continue };
        let mut versions: Vec<(u32, PathBuf)> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let version = name.strip_prefix(prefix)?;
                let major = version.split('.').next()?.parse().ok()?;
                Some((major, PathBuf::from(format!("{folder}/{prefix}{version}{rest}"))))
            })
            .collect();
        versions.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
        dirs.extend(versions.into_iter().map(|(_, dir)| dir));
    }
    dirs
}

/// Whether this process runs as root (`id -u`), where initdb, postgres and pgbouncer will not.
pub(crate) fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
